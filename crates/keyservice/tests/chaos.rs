//! `--chaos`: POST /__chaos makes the next N calls fail as asked.

mod common;

use std::time::{Duration, Instant};

use common::*;
use latchkey_keyservice::Config;
use serde_json::{json, Value};

async fn chaos_server() -> TestServer {
    let mut config = Config::new(ADMIN);
    config.chaos = true;
    start_with(config).await
}

async fn arm(s: &TestServer, body: Value) -> reqwest::Response {
    s.client
        .post(s.url("/__chaos"))
        .bearer_auth(ADMIN)
        .json(&body)
        .send()
        .await
        .expect("arm")
}

#[tokio::test]
async fn without_chaos_the_route_does_not_exist() {
    let s = start_default().await;
    expect_error(
        arm(&s, json!({ "fail_next": 1, "status": 500 })).await,
        404,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn the_next_n_calls_fail_with_the_status_asked_for() {
    let s = chaos_server().await;
    let key = key_of(&s.create_named("demo", "k").await);
    assert_eq!(
        arm(&s, json!({ "fail_next": 2, "status": 503 }))
            .await
            .status(),
        200
    );
    expect_error(s.verify(&key).await, 503, "INTERNAL").await;
    let resp = s
        .client
        .get(s.keys_url("demo"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("list");
    expect_error(resp, 503, "INTERNAL").await;
    assert_eq!(s.verify(&key).await.status(), 200);

    arm(&s, json!({ "fail_next": 1, "status": 500 })).await;
    expect_error(
        s.create("demo", json!({ "name": "x" })).await,
        500,
        "INTERNAL",
    )
    .await;
    assert_eq!(
        s.list("demo").await.len(),
        1,
        "the failed create made nothing"
    );

    arm(&s, json!({ "fail_next": 1, "status": 429 })).await;
    let resp = s.verify(&key).await;
    assert!(resp.headers().get("retry-after").is_some());
    expect_error(resp, 429, "RATE_LIMITED").await;
    assert_eq!(s.verify(&key).await.status(), 200);
}

#[tokio::test]
async fn a_dropped_connection_gets_no_answer() {
    let s = chaos_server().await;
    let key = key_of(&s.create_named("demo", "k").await);
    arm(&s, json!({ "fail_next": 1, "drop_connection": true })).await;
    let fresh = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let err = fresh
        .get(s.url("/v1/verify"))
        .bearer_auth(&key)
        .send()
        .await
        .expect_err("no answer");
    assert!(!err.is_status() && !err.is_timeout(), "{err}");
    assert_eq!(s.verify(&key).await.status(), 200);
}

#[tokio::test]
async fn a_delay_slows_calls_down() {
    let s = chaos_server().await;
    let key = key_of(&s.create_named("demo", "k").await);
    arm(&s, json!({ "fail_next": 1, "delay_ms": 300 })).await;
    let started = Instant::now();
    assert_eq!(s.verify(&key).await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    arm(
        &s,
        json!({ "fail_next": 1, "delay_ms": 200, "status": 500 }),
    )
    .await;
    let started = Instant::now();
    expect_error(s.verify(&key).await, 500, "INTERNAL").await;
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn arming_needs_the_admin_token_and_a_valid_body() {
    let s = chaos_server().await;
    let key = key_of(
        &s.create_ok("demo", json!({ "name": "adm", "permissions": ["admin"] }))
            .await,
    );
    let resp = s
        .client
        .post(s.url("/__chaos"))
        .bearer_auth(&key)
        .json(&json!({ "fail_next": 1 }))
        .send()
        .await
        .expect("send");
    expect_error(resp, 403, "INSUFFICIENT_PERMISSIONS").await;
    let resp = s
        .client
        .post(s.url("/__chaos"))
        .json(&json!({ "fail_next": 1 }))
        .send()
        .await
        .expect("send");
    expect_error(resp, 401, "MISSING_API_KEY").await;
    expect_error(
        arm(&s, json!({ "fail_next": 1, "status": 418 })).await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    expect_error(
        arm(&s, json!({ "status": 500 })).await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    // Nothing was armed by the refused calls.
    assert_eq!(s.verify(&key).await.status(), 200);
}

/// A create sent with an `Idempotency-Key`, on a fresh connection.
async fn create_with_idem(
    s: &TestServer,
    idem: &str,
    name: &str,
) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .post(s.keys_url("demo"))
        .bearer_auth(ADMIN)
        .header("Idempotency-Key", idem)
        .json(&json!({ "name": name }))
        .send()
        .await
}

#[tokio::test]
async fn phase_after_creates_the_key_and_only_loses_the_answer() {
    let s = chaos_server().await;
    let armed: Value = arm(
        &s,
        json!({ "fail_next": 1, "status": 500, "phase": "after" }),
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(armed["armed"]["phase"], json!("after"), "{armed}");
    let lost = create_with_idem(&s, "idem-after-500", "lost answer")
        .await
        .expect("an answer");
    expect_error(lost, 500, "INTERNAL").await;
    let keys = s.list("demo").await;
    assert_eq!(keys.len(), 1, "the create was carried out: {keys:?}");
    assert_eq!(keys[0]["name"], json!("lost answer"));

    // The idempotency entry was recorded: the retry replays, creates nothing.
    let replay = create_with_idem(&s, "idem-after-500", "lost answer")
        .await
        .expect("an answer");
    assert_eq!(replay.status(), 201);
    let replay: Value = replay.json().await.expect("key object");
    assert_eq!(replay["id"], keys[0]["id"]);
    assert_eq!(s.verify(&key_of(&replay)).await.status(), 200);
    assert_eq!(s.list("demo").await.len(), 1, "still one key");
}

#[tokio::test]
async fn phase_before_is_the_default_and_changes_nothing() {
    let s = chaos_server().await;
    arm(
        &s,
        json!({ "fail_next": 1, "status": 503, "phase": "before" }),
    )
    .await;
    let refused = create_with_idem(&s, "idem-before", "never made")
        .await
        .expect("an answer");
    expect_error(refused, 503, "INTERNAL").await;
    assert!(s.list("demo").await.is_empty());
    // Nothing was recorded under the idempotency key: the retry creates.
    let created = create_with_idem(&s, "idem-before", "never made")
        .await
        .expect("an answer");
    assert_eq!(created.status(), 201);
    assert_eq!(s.list("demo").await.len(), 1);
}

#[tokio::test]
async fn phase_after_revokes_the_key_and_only_loses_the_answer() {
    let s = chaos_server().await;
    let object = s.create_named("demo", "to revoke").await;
    let (id, key) = (id_of(&object), key_of(&object));
    arm(
        &s,
        json!({ "fail_next": 1, "status": 429, "phase": "after" }),
    )
    .await;
    let lost = s.revoke("demo", &id).await;
    assert!(lost.headers().get("retry-after").is_some());
    expect_error(lost, 429, "RATE_LIMITED").await;
    let keys = s.list("demo").await;
    assert!(keys[0]["revoked_at"].is_string(), "revoked: {keys:?}");
    expect_error(s.verify(&key).await, 401, "INVALID_API_KEY").await;
    // The retry is the idempotent repeat.
    assert_eq!(s.revoke("demo", &id).await.status(), 204);
}

#[tokio::test]
async fn phase_after_with_a_dropped_connection_still_carries_the_call_out() {
    let s = chaos_server().await;
    arm(
        &s,
        json!({ "fail_next": 1, "drop_connection": true, "phase": "after" }),
    )
    .await;
    let err = create_with_idem(&s, "idem-after-drop", "dropped")
        .await
        .expect_err("no answer");
    assert!(!err.is_status() && !err.is_timeout(), "{err}");
    let keys = s.list("demo").await;
    assert_eq!(keys.len(), 1, "the create was carried out: {keys:?}");
    let replay = create_with_idem(&s, "idem-after-drop", "dropped")
        .await
        .expect("an answer");
    assert_eq!(replay.status(), 201);
    let replay: Value = replay.json().await.expect("key object");
    assert_eq!(replay["id"], keys[0]["id"]);
    assert_eq!(s.list("demo").await.len(), 1);
}

#[tokio::test]
async fn phase_after_with_only_a_delay_answers_late_but_truly() {
    let s = chaos_server().await;
    arm(
        &s,
        json!({ "fail_next": 1, "delay_ms": 200, "phase": "after" }),
    )
    .await;
    let started = Instant::now();
    let created = s.create("demo", json!({ "name": "slow" })).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(created.status(), 201);
}

#[tokio::test]
async fn an_unknown_phase_is_refused() {
    let s = chaos_server().await;
    let key = key_of(&s.create_named("demo", "k").await);
    for phase in [json!("during"), json!(1), json!("AFTER")] {
        let details = expect_error(
            arm(&s, json!({ "fail_next": 1, "status": 500, "phase": phase })).await,
            422,
            "VALIDATION_FAILED",
        )
        .await;
        assert_eq!(details["field"], json!("phase"), "{phase}");
    }
    // Nothing was armed.
    assert_eq!(s.verify(&key).await.status(), 200);
}
