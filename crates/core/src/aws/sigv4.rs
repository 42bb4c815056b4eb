//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`) request signing, on the
//! `hmac`/`sha2` already in the tree. Checked against AWS's published
//! SigV4 test suite (the `tests` below). Only what Latchkey's AWS calls
//! need: a request's method, URL, headers and body in; the headers to add
//! out (`x-amz-date`, `authorization`, and `x-amz-security-token` for
//! temporary credentials). No normalisation of `..` path segments (our
//! paths never have them). The secret key is read only to derive the
//! signing key and never leaves this module.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// An access key pair (and a session token for temporary credentials).
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Where a request is signed for: `us-east-1` and `iam`, `sts`, `ssm`…
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub region: &'a str,
    pub service: &'a str,
}

/// A request to sign. `headers` are sent as given; `host` is taken from
/// the URL when it is not among them.
pub struct Request<'a> {
    pub method: &'a str,
    pub url: &'a url::Url,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The headers to add to `request` so AWS accepts it at `at`.
pub fn sign(
    request: &Request<'_>,
    credentials: &Credentials,
    scope: Scope<'_>,
    at: OffsetDateTime,
) -> Vec<(String, String)> {
    let amz_date = amz_date(at);
    let day = &amz_date[..8];
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), canonical_value(v)))
        .collect();
    if !headers.iter().any(|(k, _)| k == "host") {
        headers.push(("host".into(), host_of(request.url)));
    }
    let mut added = vec![("x-amz-date".to_owned(), amz_date.clone())];
    if let Some(token) = &credentials.session_token {
        added.push((
            "x-amz-security-token".to_owned(),
            token.expose_secret().to_owned(),
        ));
    }
    headers.extend(added.iter().cloned());
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    // Repeated headers are one line, their values joined by commas.
    let mut merged: Vec<(String, String)> = Vec::new();
    for (k, v) in headers {
        match merged.last_mut() {
            Some((last, values)) if *last == k => {
                values.push(',');
                values.push_str(&v);
            }
            _ => merged.push((k, v)),
        }
    }
    let signed_headers = merged
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = merged.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        canonical_uri(request.url.path()),
        canonical_query(request.url),
        canonical_headers,
        signed_headers,
        hex::encode(Sha256::digest(request.body)),
    );
    let credential_scope = format!("{day}/{}/{}/aws4_request", scope.region, scope.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{credential_scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let key = signing_key(&credentials.secret_access_key, day, scope);
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id
    );
    added.push(("authorization".to_owned(), authorization));
    added
}

/// `20150830T123600Z`.
pub fn amz_date(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

fn host_of(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Trimmed, with runs of blanks made one space.
fn canonical_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Each path segment percent-encoded once (the URL keeps them encoded, so
/// they are decoded first).
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    path.split('/')
        .map(|segment| {
            let raw: Vec<u8> = percent_decode(segment);
            encode(&raw)
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Parameters sorted by name then value, each part encoded as AWS wants.
fn canonical_query(url: &url::Url) -> String {
    let Some(query) = url.query() else {
        return String::new();
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                encode(&percent_decode(&k.replace('+', " "))),
                encode(&percent_decode(&v.replace('+', " "))),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_decode(s: &str) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // An HMAC takes a key of any length.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        unreachable!("HMAC-SHA256 accepts every key length")
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn signing_key(secret: &Secret, day: &str, scope: Scope<'_>) -> Vec<u8> {
    let k_secret = zeroize::Zeroizing::new(format!("AWS4{}", secret.expose_secret()));
    let k_date = hmac(k_secret.as_bytes(), day.as_bytes());
    let k_region = hmac(&k_date, scope.region.as_bytes());
    let k_service = hmac(&k_region, scope.service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The credentials, scope and time of AWS's published SigV4 test suite.
    fn suite() -> (Credentials, OffsetDateTime) {
        (
            Credentials {
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                session_token: None,
            },
            time::macros::datetime!(2015-08-30 12:36:00 UTC),
        )
    }

    fn authorization(
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
        service: &str,
    ) -> String {
        let (credentials, at) = suite();
        let url = url::Url::parse(url).expect("url");
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let added = sign(
            &Request {
                method,
                url: &url,
                headers: &headers,
                body: body.as_bytes(),
            },
            &credentials,
            Scope {
                region: "us-east-1",
                service,
            },
            at,
        );
        assert_eq!(
            added[0],
            ("x-amz-date".to_owned(), "20150830T123600Z".to_owned())
        );
        added
            .into_iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v)
            .expect("authorization")
    }

    fn expect(signed: &str, signature: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders={signed}, Signature={signature}"
        )
    }

    const HOST: &str = "https://example.amazonaws.com";

    #[test]
    fn the_published_test_suite_signs_alike() {
        // name, method + path/query, headers, body, signed headers, signature
        type Case<'a> = (
            &'a str,
            &'a str,
            &'a [(&'a str, &'a str)],
            &'a str,
            &'a str,
            &'a str,
        );
        let cases: &[Case] = &[
            ("get-vanilla", "GET /", &[], "", "host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
            ("post-vanilla", "POST /", &[], "", "host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
            ("post-vanilla-query", "POST /?Param1=value1", &[], "", "host;x-amz-date", "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
            ("get-vanilla-query-order-key-case", "GET /?Param2=value2&Param1=value1", &[], "", "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
            ("get-vanilla-query-unreserved", "GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", &[], "", "host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
            ("get-vanilla-utf8-query", "GET /?%E1%88%B4=bar", &[], "", "host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
            ("get-unreserved", "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", &[], "", "host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
            ("get-utf8", "GET /%E1%88%B4", &[], "", "host;x-amz-date", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
            ("get-header-value-trim", "GET /", &[("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")], "", "host;my-header1;my-header2;x-amz-date", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
            ("get-header-key-duplicate", "GET /", &[("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")], "", "host;my-header1;x-amz-date", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
            ("post-header-key-sort", "POST /", &[("My-Header1", "value1")], "", "host;my-header1;x-amz-date", "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
            ("post-header-value-case", "POST /", &[("My-Header1", "VALUE1")], "", "host;my-header1;x-amz-date", "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
            ("post-x-www-form-urlencoded", "POST /", &[("Content-Type", "application/x-www-form-urlencoded")], "Param1=value1", "content-type;host;x-amz-date", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
            ("post-x-www-form-urlencoded-parameters", "POST /", &[("Content-Type", "application/x-www-form-urlencoded; charset=utf8")], "Param1=value1", "content-type;host;x-amz-date", "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"),
        ];
        for (name, line, headers, body, signed, signature) in cases {
            let (method, target) = line.split_once(' ').expect("line");
            let got = authorization(method, &format!("{HOST}{target}"), headers, body, "service");
            assert_eq!(got, expect(signed, signature), "{name}");
        }
    }

    #[test]
    fn a_session_token_is_signed_like_the_suites_post_sts_header_before() {
        let (mut credentials, at) = suite();
        credentials.session_token = Some(Secret::new("AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="));
        let url = url::Url::parse(HOST).expect("url");
        let added = sign(
            &Request {
                method: "POST",
                url: &url,
                headers: &[],
                body: b"",
            },
            &credentials,
            Scope {
                region: "us-east-1",
                service: "service",
            },
            at,
        );
        let auth = &added
            .iter()
            .find(|(k, _)| k == "authorization")
            .expect("auth")
            .1;
        assert_eq!(
            auth,
            &expect(
                "host;x-amz-date;x-amz-security-token",
                "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
            )
        );
    }

    /// AWS's documented IAM example (ListUsers): its signing key and signature.
    #[test]
    fn the_documented_iam_example_signs_alike() {
        let (credentials, _) = suite();
        let key = signing_key(
            &credentials.secret_access_key,
            "20150830",
            Scope {
                region: "us-east-1",
                service: "iam",
            },
        );
        assert_eq!(
            hex::encode(key),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        let got = authorization(
            "GET",
            "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
            &[(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
            "",
            "iam",
        );
        assert_eq!(got, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let (credentials, _) = suite();
        let shown = format!("{credentials:?}");
        assert!(
            shown.contains("AKIDEXAMPLE") && !shown.contains("EXAMPLEKEY"),
            "{shown}"
        );
    }
}
