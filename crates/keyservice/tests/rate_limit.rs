//! Per-key token bucket: 429 RATE_LIMITED with `Retry-After`.

mod common;

use common::*;
use latchkey_keyservice::RateLimit;

#[tokio::test]
async fn a_key_over_its_bucket_is_told_when_to_retry() {
    let (mut config, clock) = config_with_clock();
    config.rate_limit = RateLimit {
        per_second: 0.5,
        burst: 3.0,
    };
    let s = start_with(config).await;
    let key = key_of(&s.create_named("demo", "busy").await);
    let other = key_of(&s.create_named("demo", "quiet").await);
    for _ in 0..3 {
        assert_eq!(s.verify(&key).await.status(), 200);
    }
    let resp = s.verify(&key).await;
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in whole seconds");
    assert_eq!(retry, 2, "one token at 0.5/s takes 2 s");
    expect_error(resp, 429, "RATE_LIMITED").await;
    // Buckets are per key.
    assert_eq!(s.verify(&other).await.status(), 200);
    clock.advance(time::Duration::seconds(2));
    assert_eq!(s.verify(&key).await.status(), 200);
    assert_eq!(s.verify(&key).await.status(), 429);
}

#[tokio::test]
async fn the_admin_token_is_not_rate_limited() {
    let (mut config, _clock) = config_with_clock();
    config.rate_limit = RateLimit {
        per_second: 1.0,
        burst: 1.0,
    };
    let s = start_with(config).await;
    for _ in 0..30 {
        s.list("demo").await;
    }
}

#[tokio::test]
async fn default_limits_allow_a_burst_of_40() {
    let (config, _clock) = config_with_clock();
    let s = start_with(config).await;
    let key = key_of(&s.create_named("demo", "burst").await);
    for _ in 0..40 {
        assert_eq!(s.verify(&key).await.status(), 200);
    }
    expect_error(s.verify(&key).await, 429, "RATE_LIMITED").await;
}
