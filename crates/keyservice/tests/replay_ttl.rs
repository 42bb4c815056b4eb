//! `Config::replay_key_ttl`: a create's full key is held for replays only
//! that long (the in-process Demo uses 10 s, so its client's memory does not
//! keep a copy); a later replay is 409 `IDEMPOTENCY_REPLAY_UNAVAILABLE`, as
//! after a restart, and still creates nothing.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

async fn create_idem(s: &TestServer, idem: &str) -> reqwest::Response {
    s.client
        .post(s.keys_url("demo"))
        .bearer_auth(ADMIN)
        .header("Idempotency-Key", idem)
        .json(&json!({ "name": "rot" }))
        .send()
        .await
        .expect("send")
}

#[tokio::test]
async fn a_replay_after_the_ttl_is_unavailable_and_creates_nothing() {
    let (mut config, clock) = config_with_clock();
    config.replay_key_ttl = Duration::from_secs(10);
    let s = start_with(config).await;
    let first = create_idem(&s, "r-1").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("json");

    clock.advance(time::Duration::seconds(9));
    let again: Value = create_idem(&s, "r-1").await.json().await.expect("json");
    assert_eq!(again["key"], first["key"], "replayed within the TTL");

    clock.advance(time::Duration::seconds(2));
    let late = create_idem(&s, "r-1").await;
    expect_error(late, 409, "IDEMPOTENCY_REPLAY_UNAVAILABLE").await;
    assert_eq!(s.list("demo").await.len(), 1, "a late replay created a key");
}

#[tokio::test]
async fn the_default_keeps_replays_for_the_whole_window() {
    let (config, clock) = config_with_clock();
    let s = start_with(config).await;
    let first: Value = create_idem(&s, "r-3").await.json().await.expect("json");
    clock.advance(time::Duration::hours(23));
    let again: Value = create_idem(&s, "r-3").await.json().await.expect("json");
    assert_eq!(again["key"], first["key"]);
}
