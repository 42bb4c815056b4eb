//! Using a key: /v1/verify and /v1/generate, and the usage counters.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn verify_answers_who_the_key_is_and_counts_use() {
    let s = start_default().await;
    let obj = s
        .create_ok(
            "demo",
            json!({ "name": "v", "permissions": ["read", "webhook"], "expires_in_days": 7 }),
        )
        .await;
    let key = key_of(&obj);
    let resp = s.verify(&key).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(
        body,
        json!({ "key_id": obj["id"], "project": "demo", "permissions": ["read", "webhook"], "expires_at": obj["expires_at"] })
    );
    s.verify(&key).await;
    let after: Value = s
        .get("demo", &id_of(&obj))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(after["request_count"], 2);
    assert!(after["last_used_at"].is_string());
}

#[tokio::test]
async fn generate_answers_and_counts_use() {
    let s = start_default().await;
    let obj = s.create_named("demo", "g").await;
    let key = key_of(&obj);
    let resp = s
        .client
        .post(s.url("/v1/generate"))
        .bearer_auth(&key)
        .json(&json!({ "prompt": "write a haiku" }))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert!(body["id"].as_str().is_some_and(|id| id.starts_with("gen_")));
    assert!(body["output"]
        .as_str()
        .is_some_and(|o| o.contains("write a haiku")));
    let after: Value = s
        .get("demo", &id_of(&obj))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(after["request_count"], 1);
}

#[tokio::test]
async fn failed_calls_do_not_count_as_use() {
    let s = start_default().await;
    let obj = s.create_named("demo", "used").await;
    let key = key_of(&obj);
    let count = || async {
        let after: Value = s
            .get("demo", &id_of(&obj))
            .await
            .json()
            .await
            .expect("json");
        after
    };
    // The counter is this key's: one good call moves it.
    assert_eq!(s.verify(&key).await.status(), 200);
    let used = count().await;
    assert_eq!(used["request_count"], 1, "a good call was not counted");
    assert!(used["last_used_at"].is_string());

    // Failed calls aimed at this very key: its prefix with a wrong secret,
    // then the key itself once revoked. Neither is a use.
    let last = key.chars().last().expect("key");
    let wrong = format!(
        "{}{}",
        &key[..key.len() - 1],
        if last == 'a' { 'b' } else { 'a' }
    );
    assert_ne!(wrong, key);
    expect_error(s.verify(&wrong).await, 401, "INVALID_API_KEY").await;
    assert_eq!(s.revoke("demo", &id_of(&obj)).await.status(), 204);
    expect_error(s.verify(&key).await, 401, "INVALID_API_KEY").await;
    let after = count().await;
    assert_eq!(after["request_count"], 1, "a failed call counted as use");
    assert_eq!(after["last_used_at"], used["last_used_at"]);
}
