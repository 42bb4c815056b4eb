//! Failed authentications are throttled per client address: after a burst
//! of 401s the address gets 429 RATE_LIMITED with `Retry-After` until its
//! bucket refills; correct credentials never drain it.

mod common;

use common::*;
use latchkey_keyservice::AuthFailureLimit;
use serde_json::json;

async fn bad_verify(s: &TestServer, i: usize) -> reqwest::Response {
    s.verify(&format!("lk_guess{i:03}_{}", "x".repeat(24)))
        .await
}

fn retry_after(resp: &reqwest::Response) -> u64 {
    resp.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in whole seconds")
}

#[tokio::test]
async fn twenty_failures_then_the_address_must_wait() {
    let (config, clock) = config_with_clock();
    assert_eq!(
        config.auth_failure_limit,
        AuthFailureLimit {
            burst: 20.0,
            per_second: 5.0
        },
        "the documented defaults"
    );
    let s = start_with(config).await;
    let good = key_of(&s.create_named("demo", "good").await);
    for i in 0..20 {
        expect_error(bad_verify(&s, i).await, 401, "INVALID_API_KEY").await;
    }
    let locked = bad_verify(&s, 20).await;
    assert_eq!(retry_after(&locked), 1, "one failure at 5/s is under 1 s");
    let details = expect_error(locked, 429, "RATE_LIMITED").await;
    assert_eq!(details["reason"], json!("failed_authentications"));
    // Wrong admin tokens and missing headers are refused alike, and while
    // locked out the address gets no answer about its credentials at all.
    let resp = s
        .client
        .get(s.keys_url("demo"))
        .bearer_auth("wrong-admin")
        .send()
        .await
        .expect("send");
    expect_error(resp, 429, "RATE_LIMITED").await;
    expect_error(s.verify(&good).await, 429, "RATE_LIMITED").await;

    // One second refills five failures' worth.
    clock.advance(time::Duration::seconds(1));
    assert_eq!(
        s.verify(&good).await.status(),
        200,
        "correct key works again"
    );
    for i in 0..5 {
        expect_error(bad_verify(&s, 100 + i).await, 401, "INVALID_API_KEY").await;
    }
    expect_error(bad_verify(&s, 200).await, 429, "RATE_LIMITED").await;
}

#[tokio::test]
async fn correct_credentials_never_drain_the_budget() {
    let (mut config, _clock) = config_with_clock();
    config.auth_failure_limit = AuthFailureLimit {
        burst: 3.0,
        per_second: 0.5,
    };
    let s = start_with(config).await;
    let key = key_of(&s.create_named("demo", "busy").await);
    // Far more correct calls than the failure burst, with a clock that never
    // moves: neither the admin token nor a key locks itself out.
    for _ in 0..30 {
        assert_eq!(s.list("demo").await.len(), 1);
        assert_eq!(s.verify(&key).await.status(), 200);
    }
    // Other refusals that are not 401 (403, 404, 422) are not charged either.
    let read_only = key_of(&s.create_named("demo", "reader").await);
    for _ in 0..5 {
        let resp = s
            .client
            .get(s.keys_url("demo"))
            .bearer_auth(&read_only)
            .send()
            .await
            .expect("send");
        expect_error(resp, 403, "INSUFFICIENT_PERMISSIONS").await;
        expect_error(
            s.get("demo", "key_0000000000000000").await,
            404,
            "NOT_FOUND",
        )
        .await;
    }
    // The whole budget of failures is still there.
    for i in 0..3 {
        expect_error(bad_verify(&s, i).await, 401, "INVALID_API_KEY").await;
    }
    let locked = bad_verify(&s, 3).await;
    assert_eq!(retry_after(&locked), 2, "one failure at 0.5/s is 2 s");
    expect_error(locked, 429, "RATE_LIMITED").await;
}

#[tokio::test]
async fn the_lockout_belongs_to_one_service_and_ends() {
    let (mut config, clock) = config_with_clock();
    config.auth_failure_limit = AuthFailureLimit {
        burst: 2.0,
        per_second: 1.0,
    };
    let s = start_with(config).await;
    let other = start_default().await;
    for i in 0..2 {
        expect_error(bad_verify(&s, i).await, 401, "INVALID_API_KEY").await;
    }
    expect_error(bad_verify(&s, 2).await, 429, "RATE_LIMITED").await;
    // Another service keeps its own count.
    expect_error(bad_verify(&other, 0).await, 401, "INVALID_API_KEY").await;
    clock.advance(time::Duration::seconds(10));
    // Refilled to the burst, not beyond it.
    for i in 0..2 {
        expect_error(bad_verify(&s, 10 + i).await, 401, "INVALID_API_KEY").await;
    }
    expect_error(bad_verify(&s, 12).await, 429, "RATE_LIMITED").await;
}
