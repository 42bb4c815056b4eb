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
    let obj = s.create_named("demo", "unused").await;
    // The key's own prefix (so the service finds the key) with a wrong
    // secret part: rejected, and not counted as the key's use.
    let key = key_of(&obj);
    let (head, last) = key.split_at(key.len() - 1);
    let wrong = format!("{head}{}", if last == "0" { "1" } else { "0" });
    assert_eq!(s.verify(&wrong).await.status(), 401);
    let other = s.create_named("demo", "other").await;
    assert_eq!(s.verify(&key_of(&other)).await.status(), 200);
    let after: Value = s
        .get("demo", &id_of(&obj))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(after["request_count"], 0);
    assert_eq!(after["last_used_at"], Value::Null);
}
