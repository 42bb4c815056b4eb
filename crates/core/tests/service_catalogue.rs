//! The service catalogue: every entry loads, covers the shared sheet, its
//! key formats match their own examples and nobody else's, paste
//! recognition picks the right service, and every verify request is sent
//! exactly as the entry says (replayed against a local server that records
//! it) and read as the entry says.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use latchkey_core::http::HttpPolicy;
use latchkey_core::services::{self, catalogue, recognise, VerifyOutcome};
use latchkey_core::Secret;
use regex::Regex;

/// The services of `../shared/services/README.md`, plus the reference one.
const SHEET: [&str; 22] = [
    "keyservice",
    "dakora",
    "open-animate",
    "oaktis",
    "ppt-video",
    "openai",
    "anthropic",
    "gemini",
    "openrouter",
    "cloudflare",
    "gitlab",
    "github",
    "sendgrid",
    "twilio",
    "vercel",
    "stripe",
    "mailgun",
    "resend",
    "supabase",
    "huggingface",
    "aws",
    "netlify",
];

#[test]
fn every_entry_loads_and_the_sheet_is_covered() {
    assert_eq!(
        catalogue().len(),
        services::sources(),
        "an entry failed to load"
    );
    let ids: BTreeSet<&str> = catalogue().iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), catalogue().len(), "ids are unique");
    for id in SHEET {
        assert!(ids.contains(id), "{id} is missing from the catalogue");
    }
    for s in catalogue() {
        assert!(
            !s.name.is_empty() && !s.credential.is_empty() && !s.rotation.is_empty(),
            "{}",
            s.id
        );
        for f in &s.formats {
            assert!(
                !f.examples.is_empty(),
                "{}: a format without examples",
                s.id
            );
        }
        for url in [Some(&s.dashboard), s.create_url.as_ref(), Some(&s.docs)]
            .into_iter()
            .flatten()
            .filter(|u| !u.is_empty())
        {
            assert!(url.starts_with("https://"), "{}: {url}", s.id);
        }
    }
    assert_eq!(
        services::by_id("keyservice").map(|s| s.name.as_str()),
        Some("Latchkey key service")
    );
    assert!(services::by_id("github")
        .and_then(|s| s.create_url.as_deref())
        .is_some_and(|u| u.starts_with("https://github.com/settings/personal-access-tokens/new")));
}

#[test]
fn every_format_matches_its_examples_and_no_other_services() {
    let mut checked = 0;
    for s in catalogue() {
        for f in &s.formats {
            let re = Regex::new(&f.regex).expect("regex");
            for ex in &f.examples {
                assert!(re.is_match(ex), "{}: {} does not match {ex}", s.id, f.regex);
                checked += 1;
            }
            for other in catalogue().iter().filter(|o| o.id != s.id) {
                for ex in other.formats.iter().flat_map(|f| &f.examples) {
                    assert!(
                        !re.is_match(ex),
                        "{}'s {} matches {}'s {ex}",
                        s.id,
                        f.regex,
                        other.id
                    );
                }
            }
        }
    }
    assert!(checked >= 25, "only {checked} examples");
}

#[test]
fn a_pasted_key_is_recognised_by_its_format() {
    for s in catalogue() {
        for ex in s.formats.iter().flat_map(|f| &f.examples) {
            let found = recognise(&format!("  {ex}\n"));
            assert_eq!(found.len(), 1, "{ex}: {found:?}");
            assert_eq!(found[0].service_id, s.id);
            assert_eq!(
                found[0].env_var,
                s.env_vars.first().cloned().unwrap_or_default()
            );
        }
    }
    // Near misses are nobody's.
    for key in [
        "sk-ant-api03-short",
        "ghp_tooShort",
        "AKIA0000",
        "dkr_0OIl",
        "hello world",
        "",
    ] {
        assert!(recognise(key).is_empty(), "{key}: {:?}", recognise(key));
    }
    let vars = services::known_env_vars();
    for var in [
        "OPENAI_API_KEY",
        "DAKORA_API_KEY",
        "ANIMATE_API_KEY",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "AWS_ACCESS_KEY_ID",
    ] {
        assert!(vars.contains_key(var), "{var}");
    }
}

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    uri: String,
    headers: HashMap<String, String>,
}

/// A server that records each request and answers with the next status.
async fn recorder() -> (String, Arc<Mutex<Vec<Seen>>>, Arc<Mutex<u16>>) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let status = Arc::new(Mutex::new(200u16));
    let (s2, st2) = (seen.clone(), status.clone());
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
        let (seen, status) = (s2.clone(), st2.clone());
        async move {
            seen.lock().unwrap().push(Seen {
                method: method.to_string(),
                uri: uri.to_string(),
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                    .collect(),
            });
            let code = *status.lock().unwrap();
            (StatusCode::from_u16(code).unwrap(), "{}")
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen, status)
}

#[tokio::test]
async fn every_verify_request_is_sent_and_read_as_its_entry_says() {
    let (base, seen, status) = recorder().await;
    let policy = HttpPolicy {
        max_attempts: 1,
        ..HttpPolicy::default()
    };
    let key = Secret::new("canary-verify-key-0123456789");
    let mut exercised = 0;
    for s in catalogue() {
        let Some(v) = &s.verify else { continue };
        if v.auth == services::verify::AuthScheme::AwsSigv4 {
            let err = v
                .run(&key, Some(&base), None, policy.clone())
                .await
                .expect_err("sigv4");
            assert_eq!(err.code(), "not_supported", "{}", s.id);
            continue;
        }
        let paired = Some("SK0123");
        for (code, want) in [
            (200u16, Some(v.read(200))),
            (401, Some(v.read(401))),
            (403, Some(v.read(403))),
            (418, Some(VerifyOutcome::Unknown)),
        ] {
            seen.lock().unwrap().clear();
            *status.lock().unwrap() = code;
            let got = v.run(&key, Some(&base), paired, policy.clone()).await;
            assert_eq!(got.ok(), want, "{} answered {code}", s.id);
            let requests = seen.lock().unwrap().clone();
            assert_eq!(requests.len(), 1, "{}: {requests:?}", s.id);
            let r = &requests[0];
            assert_eq!(r.method, v.method, "{}", s.id);
            let expected = url::Url::parse(&v.url.replace("{base}", "http://x")).expect("url");
            let path_query = match expected.query() {
                Some(q) => format!("{}?{q}", expected.path()),
                None => expected.path().to_owned(),
            };
            assert_eq!(r.uri, path_query, "{}", s.id);
            let auth = match v.auth {
                services::verify::AuthScheme::Bearer => (
                    String::from("authorization"),
                    format!("Bearer {}", key.expose_secret()),
                ),
                services::verify::AuthScheme::Header => (
                    v.header.clone().expect("header").to_ascii_lowercase(),
                    key.expose_secret().to_owned(),
                ),
                services::verify::AuthScheme::Basic => {
                    let user = match v.basic_user.as_deref() {
                        Some("{paired}") => "SK0123",
                        Some(u) => u,
                        None => "",
                    };
                    (
                        String::from("authorization"),
                        basic(user, key.expose_secret()),
                    )
                }
                services::verify::AuthScheme::AwsSigv4 => unreachable!(),
            };
            assert_eq!(r.headers.get(&auth.0), Some(&auth.1), "{}: {r:?}", s.id);
            for (k, val) in &v.headers {
                assert_eq!(
                    r.headers.get(&k.to_ascii_lowercase()),
                    Some(val),
                    "{}",
                    s.id
                );
            }
            exercised += 1;
        }
        // The accepted status reads as accepted, a rejected one as rejected.
        assert_eq!(v.read(v.accepted[0]), VerifyOutcome::Accepted, "{}", s.id);
        if let Some(r) = v.rejected.first() {
            assert_eq!(v.read(*r), VerifyOutcome::Rejected, "{}", s.id);
        }
        // A 5xx is the service's trouble, never an answer about the key.
        *status.lock().unwrap() = 503;
        let err = v
            .run(&key, Some(&base), paired, policy.clone())
            .await
            .expect_err("5xx");
        assert_eq!(err.code(), "provider_unavailable", "{}", s.id);
        assert!(!err.to_string().contains(key.expose_secret()));
    }
    assert!(exercised >= 4 * 17, "only {exercised} requests");
}

fn basic(user: &str, password: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}").into_bytes();
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}
