//! Bad input: every malformed request gets 422 VALIDATION_FAILED with the
//! field at fault, never a panic or a hang, and creates nothing.

mod common;

use common::*;
use serde_json::{json, Value};

async fn post_raw(s: &TestServer, content_type: Option<&str>, body: Vec<u8>) -> reqwest::Response {
    let mut req = s
        .client
        .post(s.keys_url("demo"))
        .bearer_auth(ADMIN)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    req.send().await.expect("send")
}

async fn expect_field(resp: reqwest::Response, field: &str) {
    let details = expect_error(resp, 422, "VALIDATION_FAILED").await;
    assert_eq!(details["field"], field);
}

#[tokio::test]
async fn bad_names_are_refused() {
    let s = start_default().await;
    let cases: Vec<Value> = vec![
        json!({}),
        json!({ "name": "" }),
        json!({ "name": "   " }),
        json!({ "name": "x".repeat(65) }),
        json!({ "name": "tab\there" }),
        json!({ "name": "new\nline" }),
        json!({ "name": "nul\u{0}byte" }),
        json!({ "name": "esc\u{1b}[31m" }),
        json!({ "name": "del\u{7f}" }),
        json!({ "name": 42 }),
        json!({ "name": ["a"] }),
    ];
    for body in cases {
        expect_field(s.create("demo", body).await, "name").await;
    }
    assert!(s.list("demo").await.is_empty(), "nothing was created");
}

#[tokio::test]
async fn bad_permissions_and_expiry_are_refused() {
    let s = start_default().await;
    for perms in [
        json!(["root"]),
        json!([]),
        json!("read"),
        json!([1]),
        json!(["read", null]),
    ] {
        expect_field(
            s.create("demo", json!({ "name": "k", "permissions": perms }))
                .await,
            "permissions",
        )
        .await;
    }
    for days in [
        json!(0),
        json!(3651),
        json!(-1),
        json!(1.5),
        json!("30"),
        json!(1e20),
        json!(u64::MAX),
        json!(true),
    ] {
        expect_field(
            s.create("demo", json!({ "name": "k", "expires_in_days": days }))
                .await,
            "expires_in_days",
        )
        .await;
    }
    let ok = s
        .create_ok("demo", json!({ "name": "k", "expires_in_days": 3650 }))
        .await;
    assert!(ok["expires_at"].is_string());
}

#[tokio::test]
async fn unknown_fields_are_refused() {
    let s = start_default().await;
    expect_field(
        s.create("demo", json!({ "name": "k", "scopes": ["read"] }))
            .await,
        "scopes",
    )
    .await;
}

#[tokio::test]
async fn bodies_that_are_not_a_json_object_are_refused() {
    let s = start_default().await;
    expect_field(
        post_raw(&s, Some("text/plain"), br#"{"name":"k"}"#.to_vec()).await,
        "content-type",
    )
    .await;
    expect_field(
        post_raw(&s, None, br#"{"name":"k"}"#.to_vec()).await,
        "content-type",
    )
    .await;
    expect_field(
        post_raw(
            &s,
            Some("application/json"),
            b"{\"name\":\"\xff\xfe\"}".to_vec(),
        )
        .await,
        "body",
    )
    .await;
    expect_field(
        post_raw(&s, Some("application/json"), b"{\"name\":".to_vec()).await,
        "body",
    )
    .await;
    expect_field(
        post_raw(&s, Some("application/json"), b"<html>oops</html>".to_vec()).await,
        "body",
    )
    .await;
    expect_field(
        post_raw(&s, Some("application/json"), b"[1,2]".to_vec()).await,
        "body",
    )
    .await;
    expect_field(
        post_raw(&s, Some("application/json"), Vec::new()).await,
        "body",
    )
    .await;
    let ok = post_raw(
        &s,
        Some("application/json; charset=utf-8"),
        br#"{"name":"k"}"#.to_vec(),
    )
    .await;
    assert_eq!(ok.status(), 201);
}

#[tokio::test]
async fn oversized_bodies_are_capped_and_the_service_keeps_serving() {
    let s = start_default().await;
    let huge = json!({ "name": "k", "pad": "x".repeat(4 * 1024 * 1024) })
        .to_string()
        .into_bytes();
    let resp = post_raw(&s, Some("application/json"), huge).await;
    expect_field(resp, "body").await;
    assert_eq!(
        s.create("demo", json!({ "name": "after" })).await.status(),
        201
    );
}

#[tokio::test]
async fn bad_idempotency_keys_and_projects_are_refused() {
    let s = start_default().await;
    let resp = s
        .client
        .post(s.keys_url("demo"))
        .bearer_auth(ADMIN)
        .header("Idempotency-Key", "x".repeat(129))
        .json(&json!({ "name": "k" }))
        .send()
        .await
        .expect("send");
    expect_field(resp, "Idempotency-Key").await;
    let resp = s
        .client
        .get(s.keys_url(&"p".repeat(65)))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("send");
    expect_field(resp, "project").await;
    let resp = s
        .client
        .get(s.url("/api/projects/a%20b/api-keys"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("send");
    expect_field(resp, "project").await;
}

#[tokio::test]
async fn malformed_generate_bodies_are_refused() {
    let s = start_default().await;
    let key = key_of(&s.create_named("demo", "gen").await);
    for body in [
        json!({}),
        json!({ "prompt": 5 }),
        json!({ "prompt": "" }),
        json!({ "prompt": "x", "temperature": 1 }),
    ] {
        let resp = s
            .client
            .post(s.url("/v1/generate"))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .expect("send");
        expect_error(resp, 422, "VALIDATION_FAILED").await;
    }
}
