//! Authentication and permissions: every 401/403 code of the contract.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn a_missing_header_is_missing_api_key() {
    let s = start_default().await;
    let details = expect_error(
        s.client
            .get(s.url("/v1/verify"))
            .send()
            .await
            .expect("send"),
        401,
        "MISSING_API_KEY",
    )
    .await;
    assert_eq!(details["header"], "Authorization");
    let resp = s.client.get(s.keys_url("demo")).send().await.expect("send");
    expect_error(resp, 401, "MISSING_API_KEY").await;
    let resp = s
        .client
        .get(s.url("/v1/verify"))
        .header("Authorization", "Bearer ")
        .send()
        .await
        .expect("send");
    expect_error(resp, 401, "MISSING_API_KEY").await;
}

#[tokio::test]
async fn unknown_malformed_and_foreign_tokens_are_invalid() {
    let s = start_default().await;
    let real = key_of(&s.create_named("demo", "real").await);
    // Same prefix, wrong secret part.
    let forged = format!("{}_{}", &real[..11], "A".repeat(24));
    for token in [
        "lk_abcdefgh_abcdefghijklmnopqrstuvwx",
        "garbage",
        forged.as_str(),
    ] {
        expect_error(s.verify(token).await, 401, "INVALID_API_KEY").await;
    }
    let resp = s
        .client
        .get(s.url("/v1/verify"))
        .basic_auth("user", Some("pw"))
        .send()
        .await
        .expect("send");
    expect_error(resp, 401, "INVALID_API_KEY").await;
    let resp = s
        .client
        .get(s.keys_url("demo"))
        .bearer_auth("wrong-admin")
        .send()
        .await
        .expect("send");
    expect_error(resp, 401, "INVALID_API_KEY").await;
    // The admin token manages keys but is not itself an API key.
    expect_error(s.verify(ADMIN).await, 401, "INVALID_API_KEY").await;
}

#[tokio::test]
async fn management_needs_the_admin_permission_in_that_project() {
    let s = start_default().await;
    let reader = key_of(&s.create_named("demo", "reader").await);
    let admin_key = key_of(
        &s.create_ok("demo", json!({ "name": "admin", "permissions": ["admin"] }))
            .await,
    );

    let resp = s
        .client
        .get(s.keys_url("demo"))
        .bearer_auth(&reader)
        .send()
        .await
        .expect("send");
    let details = expect_error(resp, 403, "INSUFFICIENT_PERMISSIONS").await;
    assert_eq!(details["required"], "admin");

    let resp = s
        .client
        .get(s.keys_url("demo"))
        .bearer_auth(&admin_key)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    let resp = s
        .client
        .post(s.keys_url("demo"))
        .bearer_auth(&admin_key)
        .json(&json!({ "name": "made by a key" }))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 201);

    let resp = s
        .client
        .get(s.keys_url("other"))
        .bearer_auth(&admin_key)
        .send()
        .await
        .expect("send");
    expect_error(resp, 403, "INSUFFICIENT_PERMISSIONS").await;
}

#[tokio::test]
async fn generate_needs_the_read_permission() {
    let s = start_default().await;
    let writer = key_of(
        &s.create_ok(
            "demo",
            json!({ "name": "writer", "permissions": ["write"] }),
        )
        .await,
    );
    let resp = s
        .client
        .post(s.url("/v1/generate"))
        .bearer_auth(&writer)
        .json(&json!({ "prompt": "hello" }))
        .send()
        .await
        .expect("send");
    let details = expect_error(resp, 403, "INSUFFICIENT_PERMISSIONS").await;
    assert_eq!(details["required"], "read");
    // verify needs no particular permission.
    assert_eq!(s.verify(&writer).await.status(), 200);
}

#[tokio::test]
async fn an_expired_key_is_rejected_with_its_expiry() {
    let (config, clock) = config_with_clock();
    let s = start_with(config).await;
    let obj = s
        .create_ok("demo", json!({ "name": "short", "expires_in_days": 1 }))
        .await;
    let key = key_of(&obj);
    clock.advance(time::Duration::hours(23));
    assert_eq!(s.verify(&key).await.status(), 200);
    clock.advance(time::Duration::hours(2));
    let details = expect_error(s.verify(&key).await, 401, "EXPIRED_API_KEY").await;
    assert_eq!(details["expired_at"], obj["expires_at"]);
    assert_eq!(details["key_id"], obj["id"]);
}
