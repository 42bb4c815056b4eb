//! The HTTP engine's limits and retry policy at their edges, against a raw
//! HTTP server on loopback that answers exactly as scripted (a length-framed
//! or chunked body of a given size, 429s, dropped connections, slow
//! answers). Written to kill the mutants `scripts/mutants.sh http` left.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_core::http::{Auth, Call, HttpEngine, HttpPolicy};
use latchkey_core::{Error, Secret};
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server does with each connection.
#[derive(Clone)]
enum Script {
    /// `200` with a body of `n` bytes, framed by Content-Length.
    Sized(usize),
    /// `200` with a body of `n` bytes in chunks of `chunk` (no length).
    Chunked(usize, usize),
    /// `429` with this `Retry-After` header (or none).
    TooMany(Option<&'static str>),
    /// Reads the request, then closes without an answer.
    Drop,
    /// `200 {}` after a delay.
    Slow(Duration),
}

/// Serves `script` on loopback; the counter counts requests read.
async fn serve(script: Script) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let script = script.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let head =
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n";
                let out: Vec<u8> = match script {
                    Script::Sized(n) => {
                        let mut out = format!("{head}content-length: {n}\r\n\r\n").into_bytes();
                        out.extend(std::iter::repeat_n(b'a', n));
                        out
                    }
                    Script::Chunked(n, chunk) => {
                        let _ = conn
                            .write_all(
                                format!("{head}transfer-encoding: chunked\r\n\r\n").as_bytes(),
                            )
                            .await;
                        let mut left = n;
                        while left > 0 {
                            let k = left.min(chunk);
                            let mut piece = format!("{k:x}\r\n").into_bytes();
                            piece.extend(std::iter::repeat_n(b'a', k));
                            piece.extend_from_slice(b"\r\n");
                            if conn.write_all(&piece).await.is_err() {
                                return;
                            }
                            let _ = conn.flush().await;
                            left -= k;
                        }
                        b"0\r\n\r\n".to_vec()
                    }
                    Script::TooMany(after) => {
                        let after = after
                            .map(|a| format!("retry-after: {a}\r\n"))
                            .unwrap_or_default();
                        format!("HTTP/1.1 429 Too Many Requests\r\n{after}content-length: 2\r\nconnection: close\r\n\r\n{{}}")
                            .into_bytes()
                    }
                    Script::Drop => return,
                    Script::Slow(delay) => {
                        tokio::time::sleep(delay).await;
                        format!("{head}content-length: 2\r\n\r\n{{}}").into_bytes()
                    }
                };
                let _ = conn.write_all(&out).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn policy(cap: usize) -> HttpPolicy {
    HttpPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_response_bytes: cap,
        ..HttpPolicy::default()
    }
}

async fn get(base: &str, policy: HttpPolicy) -> Result<latchkey_core::http::Answer, Error> {
    let token = Secret::new("test-token-0123456789");
    let engine = HttpEngine::new(base, policy).expect("engine");
    tokio::time::timeout(
        Duration::from_secs(30),
        engine.send(Call {
            method: Method::GET,
            path: "/x",
            auth: Auth::Bearer(&token),
            headers: &[],
            body: None,
            idempotency_key: None,
        }),
    )
    .await
    .expect("the call ended within 30 s")
}

const CAP: usize = 1000;

#[tokio::test]
async fn an_answer_of_exactly_the_cap_is_read_whole_with_or_without_a_length() {
    for script in [
        Script::Sized(CAP),
        Script::Chunked(CAP, 100),
        Script::Chunked(CAP, 7),
    ] {
        let (base, _) = serve(script).await;
        let answer = get(&base, policy(CAP)).await.expect("an answer at the cap");
        assert_eq!(answer.body.len(), CAP);
        assert!(answer.body.iter().all(|b| *b == b'a'));
    }
}

#[tokio::test]
async fn one_byte_over_the_cap_is_a_bad_response_with_or_without_a_length() {
    for script in [Script::Sized(CAP + 1), Script::Chunked(CAP + 1, 100)] {
        let (base, _) = serve(script).await;
        let err = get(&base, policy(CAP)).await.expect_err("over the cap");
        assert_eq!(err.code().as_str(), "bad_response", "{err}");
    }
}

#[tokio::test]
async fn a_lasting_429_without_retry_after_is_rate_limited_after_every_attempt() {
    let (base, seen) = serve(Script::TooMany(None)).await;
    let err = get(&base, policy(CAP)).await.expect_err("rate limited");
    assert_eq!(err.code().as_str(), "rate_limited", "{err}");
    assert_eq!(seen.load(Ordering::SeqCst), 3, "attempts");
    let (base, seen) = serve(Script::TooMany(Some("0"))).await;
    let err = get(&base, policy(CAP)).await.expect_err("rate limited");
    assert_eq!(err.code().as_str(), "rate_limited", "{err}");
    assert_eq!(seen.load(Ordering::SeqCst), 3, "attempts");
}

#[tokio::test]
async fn a_retry_after_past_the_limit_is_returned_at_once_not_retried() {
    let (base, seen) = serve(Script::TooMany(Some("11"))).await;
    let started = Instant::now();
    let err = get(&base, policy(CAP)).await.expect_err("rate limited");
    match err {
        Error::RateLimited { retry_after_secs } => assert_eq!(retry_after_secs, 11),
        other => panic!("expected rate_limited, got {other}"),
    }
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "retried a 429 asking for 11 s"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_service_that_always_drops_the_connection_fails_after_the_last_attempt() {
    let (base, seen) = serve(Script::Drop).await;
    let err = get(&base, policy(CAP)).await.expect_err("network error");
    assert_eq!(err.code().as_str(), "network", "{err}");
    assert_eq!(seen.load(Ordering::SeqCst), 3, "attempts");
}

#[tokio::test]
async fn engines_with_other_timeouts_do_not_share_a_client() {
    let (base, _) = serve(Script::Slow(Duration::from_millis(1500))).await;
    let patient = HttpPolicy {
        max_attempts: 1,
        total_timeout: Duration::from_secs(10),
        ..policy(CAP)
    };
    let hasty = HttpPolicy {
        max_attempts: 1,
        total_timeout: Duration::from_millis(300),
        ..policy(CAP)
    };
    get(&base, patient.clone())
        .await
        .expect("the patient engine waits");
    let err = get(&base, hasty)
        .await
        .expect_err("the hasty engine times out");
    assert_eq!(err.code().as_str(), "timeout", "{err}");
    get(&base, patient).await.expect("still patient");
}
