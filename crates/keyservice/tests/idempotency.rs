//! `Idempotency-Key`: a repeat within 24 h replays the first answer and
//! creates nothing.

mod common;

use common::*;
use serde_json::{json, Value};

async fn create_idem(s: &TestServer, project: &str, idem: &str, body: Value) -> reqwest::Response {
    s.client
        .post(s.keys_url(project))
        .bearer_auth(ADMIN)
        .header("Idempotency-Key", idem)
        .json(&body)
        .send()
        .await
        .expect("send")
}

#[tokio::test]
async fn a_repeat_returns_the_same_key_and_creates_nothing() {
    let s = start_default().await;
    let first = create_idem(&s, "demo", "rotation-42", json!({ "name": "rot" })).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("json");
    let again = create_idem(&s, "demo", "rotation-42", json!({ "name": "rot" })).await;
    assert_eq!(again.status(), 201);
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["key"], first["key"]);
    assert_eq!(s.list("demo").await.len(), 1);
    // The same idempotency key in another project is another request.
    let other = create_idem(&s, "other", "rotation-42", json!({ "name": "rot" })).await;
    assert_eq!(other.status(), 201);
    assert_ne!(
        other.json::<Value>().await.expect("json")["id"],
        first["id"]
    );
}

#[tokio::test]
async fn a_reused_key_with_another_body_is_refused() {
    let s = start_default().await;
    assert_eq!(
        create_idem(&s, "demo", "abc", json!({ "name": "one" }))
            .await
            .status(),
        201
    );
    let resp = create_idem(&s, "demo", "abc", json!({ "name": "two" })).await;
    let details = expect_error(resp, 422, "VALIDATION_FAILED").await;
    assert_eq!(details["field"], "Idempotency-Key");
    assert_eq!(s.list("demo").await.len(), 1);
}

#[tokio::test]
async fn a_replay_works_even_at_the_key_limit() {
    let s = start_default().await;
    let first: Value = create_idem(&s, "demo", "early", json!({ "name": "k0" }))
        .await
        .json()
        .await
        .expect("json");
    for i in 1..10 {
        s.create_named("demo", &format!("k{i}")).await;
    }
    let again = create_idem(&s, "demo", "early", json!({ "name": "k0" })).await;
    assert_eq!(again.status(), 201);
    assert_eq!(
        again.json::<Value>().await.expect("json")["id"],
        first["id"]
    );
}

#[tokio::test]
async fn after_24_hours_the_same_key_creates_again() {
    let (config, clock) = config_with_clock();
    let s = start_with(config).await;
    let first: Value = create_idem(&s, "demo", "daily", json!({ "name": "d" }))
        .await
        .json()
        .await
        .expect("json");
    clock.advance(time::Duration::hours(23));
    let same: Value = create_idem(&s, "demo", "daily", json!({ "name": "d" }))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(same["id"], first["id"]);
    clock.advance(time::Duration::hours(2));
    let fresh: Value = create_idem(&s, "demo", "daily", json!({ "name": "d" }))
        .await
        .json()
        .await
        .expect("json");
    assert_ne!(fresh["id"], first["id"]);
    assert_eq!(s.list("demo").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_repeats_create_one_key() {
    let s = start_default().await;
    let calls = (0..20).map(|_| {
        let client = s.client.clone();
        let url = s.keys_url("demo");
        tokio::spawn(async move {
            let resp = client
                .post(url)
                .bearer_auth(ADMIN)
                .header("Idempotency-Key", "same-for-all")
                .json(&json!({ "name": "once" }))
                .send()
                .await
                .expect("send");
            assert_eq!(resp.status(), 201);
            resp.json::<Value>().await.expect("json")["id"].clone()
        })
    });
    let ids: Vec<Value> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(s.list("demo").await.len(), 1);
}
