//! A hostile or broken service, played by a fake HTTP server on loopback:
//! its strings arrive with ANSI/OSC escapes and echo keys and tokens back,
//! and its 503s ask for long waits. The connector's parsed values hold no
//! control character and no 8-character piece of a key or token, and only
//! a 429 counts as rate limiting.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use latchkey_core::http::HttpPolicy;
use latchkey_core::providers::keyservice::KeyserviceProvider;
use latchkey_core::providers::{KeySpec, Provider, Verification};
use latchkey_core::Secret;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const ADMIN: &str = "hostile-admin-token-0123456789";
/// The key the fake service creates, then echoes wherever it can.
const KEY: &str = "sk_fake_Q7wE9rT1yU3iO5pA7sD9fG1hJ3kL5z";
/// Another key the service names in a message (we never sent it).
const OTHER_KEY: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

fn provider(base: &str) -> KeyserviceProvider {
    let policy = HttpPolicy {
        max_attempts: 2,
        base_delay: std::time::Duration::from_millis(1),
        ..HttpPolicy::default()
    };
    KeyserviceProvider::new(base, "demo", Secret::new(ADMIN), policy).expect("provider")
}

fn hostile_key() -> serde_json::Value {
    json!({
        "id": "key_1\u{1b}[2J",
        "name": format!("\u{1b}]8;;https://evil.example\u{7}deploy\u{1b}]8;;\u{7}\u{9b}31m {ADMIN}"),
        "key": KEY,
        "key_preview": KEY,
        "permissions": ["read\u{1b}[0m"],
        "created_at": "2025-01-01T00:00:00Z\u{1b}[1A",
        "expires_at": null,
        "last_used_at": null,
        "revoked_at": null
    })
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(|c: char| c.is_control()), "{what}: {text:?}");
    for secret in [ADMIN, KEY, OTHER_KEY] {
        let chars: Vec<char> = secret.chars().collect();
        for piece in chars.windows(8) {
            let piece: String = piece.iter().collect();
            assert!(!text.contains(&piece), "{what} holds {piece:?}: {text:?}");
        }
    }
}

#[tokio::test]
async fn hostile_strings_are_cleaned_and_echoes_redacted() {
    let app = Router::new()
        .route(
            "/api/projects/demo/api-keys",
            get(|| async { Json(json!({ "keys": [hostile_key()] })) })
                .post(|| async { (StatusCode::CREATED, Json(hostile_key())) }),
        )
        .route(
            "/v1/verify",
            get(|| async {
                (
                    StatusCode::UNAUTHORIZED,
                    Json(
                        json!({"error": {"code": format!("BAD\u{1b}[2J {KEY}"), "message": "no"}}),
                    ),
                )
            }),
        );
    let p = provider(&serve(app).await);

    let listed = p.list().await.expect("list");
    let created = p
        .create(
            &KeySpec {
                name: "deploy".into(),
                scopes: vec![],
                expires_in_days: None,
            },
            "idem-1",
        )
        .await
        .expect("create");
    assert_eq!(
        created.1.expose_secret(),
        KEY,
        "the secret itself is intact"
    );
    for (what, key) in [("listed", &listed[0]), ("created", &created.0)] {
        assert_clean(what, &key.remote_id);
        assert_clean(what, &key.name);
        assert_clean(what, &key.preview);
        assert_clean(what, &key.scopes.join(","));
        assert_clean(what, key.created_at.as_deref().unwrap_or_default());
    }
    assert!(created.0.name.contains("deploy"), "{}", created.0.name);
    assert!(
        created.0.preview.ends_with(&KEY[KEY.len() - 4..]),
        "{}",
        created.0.preview
    );
    match p.verify(&created.1).await.expect("verify") {
        Verification::Rejected { code } => assert_clean("verify code", &code),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn error_messages_echoing_keys_are_redacted() {
    let app = Router::new().route(
        "/api/projects/demo/api-keys",
        get(|| async {
            (
                StatusCode::CONFLICT,
                Json(json!({"error": {"message": format!(
                    "token {ADMIN} may not; {OTHER_KEY} is in use\u{1b}]0;pwned\u{7}"
                )}})),
            )
        })
        .post(|| async {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"error": {"message": format!("bad \u{9b}2J{ADMIN}"),
                    "details": {"field": format!("name{ADMIN}\u{1b}[1m")}}})),
            )
        }),
    );
    let p = provider(&serve(app).await);
    let conflict = p.list().await.expect_err("409");
    assert_eq!(conflict.code(), "provider_conflict");
    assert_clean("409 message", &conflict.to_string());
    assert!(conflict.to_string().contains("in use"), "{conflict}");

    let spec = KeySpec {
        name: "x".into(),
        scopes: vec![],
        expires_in_days: None,
    };
    let invalid = p.create(&spec, "idem-2").await.expect_err("422");
    assert_eq!(invalid.code(), "invalid_input");
    assert_clean("422 message", &invalid.to_string());
    assert_clean("422 wire", &format!("{:?}", invalid.to_wire()));
    assert_clean("422 debug", &format!("{invalid:?}"));
}

async fn busy(status: u16) -> impl IntoResponse {
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", HeaderValue::from_static("120"));
    (
        StatusCode::from_u16(status).expect("status"),
        headers,
        Json(json!({"error": {"message": "busy"}})),
    )
}

#[tokio::test]
async fn only_a_429_is_rate_limiting() {
    let app = Router::new()
        .route("/api/projects/demo/api-keys", get(|| busy(503)))
        .route("/api/projects/other/api-keys", get(|| busy(429)));
    let base = serve(app).await;
    let unavailable = provider(&base).list().await.expect_err("503");
    assert_eq!(unavailable.code(), "provider_unavailable", "{unavailable}");
    let limited =
        KeyserviceProvider::new(&base, "other", Secret::new(ADMIN), HttpPolicy::default())
            .expect("provider")
            .list()
            .await
            .expect_err("429");
    assert_eq!(limited.code(), "rate_limited", "{limited}");
}

/// A service that takes the call and never answers: after the total
/// timeout (and the retries an idempotent call gets) it is `timeout`, not
/// a network error and not a hang.
#[tokio::test]
async fn a_service_that_never_answers_times_out() {
    let app = Router::new().route(
        "/api/projects/demo/api-keys",
        get(|| async {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            Json(json!({"keys": []}))
        }),
    );
    let base = serve(app).await;
    let policy = HttpPolicy {
        max_attempts: 2,
        base_delay: std::time::Duration::from_millis(1),
        total_timeout: std::time::Duration::from_millis(300),
        ..HttpPolicy::default()
    };
    let started = std::time::Instant::now();
    let err = KeyserviceProvider::new(&base, "demo", Secret::new(ADMIN), policy)
        .expect("provider")
        .list()
        .await
        .expect_err("no answer");
    assert_eq!(err.code(), "timeout", "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

/// A fake key list that answers `statuses` in turn (then 200), counting
/// calls; `retry_after` goes on every non-200 answer.
async fn answering(
    statuses: Vec<u16>,
    retry_after: Option<&'static str>,
) -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let app = Router::new().route(
        "/api/projects/demo/api-keys",
        get(move || {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let status = statuses.get(n).copied().unwrap_or(200);
            async move {
                let mut headers = HeaderMap::new();
                if let (Some(wait), true) = (retry_after, status != 200) {
                    headers.insert("retry-after", HeaderValue::from_static(wait));
                }
                let body = if status == 200 {
                    json!({"keys": []})
                } else {
                    json!({"error": {"message": "not now"}})
                };
                (
                    StatusCode::from_u16(status).expect("status"),
                    headers,
                    Json(body),
                )
            }
        }),
    );
    (serve(app).await, calls)
}

fn policy(attempts: u32, base_ms: u64) -> HttpPolicy {
    HttpPolicy {
        max_attempts: attempts,
        base_delay: std::time::Duration::from_millis(base_ms),
        max_retry_after: std::time::Duration::from_secs(1),
        ..HttpPolicy::default()
    }
}

fn at(base: &str, policy: HttpPolicy) -> KeyserviceProvider {
    KeyserviceProvider::new(base, "demo", Secret::new(ADMIN), policy).expect("provider")
}

/// The retry policy, call by call: 5xx and 429 are retried and the retry
/// succeeds; other errors are not retried; waits grow (full jitter, base ×
/// 2^n); a `Retry-After` equal to the longest allowed wait is waited out,
/// and a 429 that lasts is `rate_limited` with the service's wait.
#[tokio::test]
async fn the_retry_policy_retries_what_it_should_and_waits_as_told() {
    // 500, 503, then 200: retried, with growing waits (≥ 100 + 200 ms).
    let (base, calls) = answering(vec![500, 503], None).await;
    let started = std::time::Instant::now();
    at(&base, policy(4, 200))
        .list()
        .await
        .expect("the third call works");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(300),
        "backoff too short: {:?}",
        started.elapsed()
    );

    // A 404 is an answer, not an outage: one call.
    let (base, calls) = answering(vec![404], None).await;
    let err = at(&base, policy(4, 1)).list().await.expect_err("404");
    assert_eq!(err.code(), "not_found");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // Retry-After exactly the longest wait allowed (1 s): waited out.
    let (base, calls) = answering(vec![429], Some("1")).await;
    let started = std::time::Instant::now();
    at(&base, policy(2, 1))
        .list()
        .await
        .expect("after the wait");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));

    // A 429 on every attempt: rate_limited, carrying the service's wait.
    let (base, calls) = answering(vec![429, 429, 429], Some("1")).await;
    let err = at(&base, policy(2, 1)).list().await.expect_err("429");
    assert_eq!(
        format!("{:?}", err),
        format!(
            "{:?}",
            latchkey_core::Error::RateLimited {
                retry_after_secs: 1
            }
        )
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// Clients are shared per timeout pair: a short-timeout call made after a
/// default one still times out quickly (it is not handed the other client).
#[tokio::test]
async fn each_timeout_gets_its_own_client() {
    let (base, _) = answering(vec![], None).await;
    at(&base, HttpPolicy::default())
        .list()
        .await
        .expect("default client");
    let app = Router::new().route(
        "/api/projects/demo/api-keys",
        get(|| async {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            Json(json!({"keys": []}))
        }),
    );
    let slow = serve(app).await;
    let started = std::time::Instant::now();
    let quick = HttpPolicy {
        max_attempts: 1,
        total_timeout: std::time::Duration::from_millis(300),
        ..HttpPolicy::default()
    };
    let err = at(&slow, quick).list().await.expect_err("times out");
    assert_eq!(err.code(), "timeout");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
