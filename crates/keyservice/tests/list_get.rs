//! GET list and GET one: newest first, revoked included, project scoping.

mod common;

use common::*;
use serde_json::Value;

#[tokio::test]
async fn list_is_newest_first_and_includes_revoked_keys() {
    let s = start_default().await;
    let names = ["first", "second", "third"];
    let mut ids = Vec::new();
    for name in names {
        ids.push(id_of(&s.create_named("demo", name).await));
    }
    assert_eq!(s.revoke("demo", &ids[1]).await.status(), 204);
    let listed = s.list("demo").await;
    let listed_names: Vec<&str> = listed
        .iter()
        .map(|k| k["name"].as_str().expect("name"))
        .collect();
    assert_eq!(listed_names, ["third", "second", "first"]);
    assert!(listed[1]["revoked_at"].is_string());
    assert_eq!(listed[0]["revoked_at"], Value::Null);
}

#[tokio::test]
async fn projects_are_created_implicitly_and_kept_apart() {
    let s = start_default().await;
    assert!(s.list("fresh-project").await.is_empty());
    let a = s.create_named("alpha", "a-key").await;
    s.create_named("beta", "b-key").await;
    assert_eq!(s.list("alpha").await.len(), 1);
    assert_eq!(s.list("beta").await.len(), 1);
    let resp = s.get("beta", &id_of(&a)).await;
    expect_error(resp, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn get_returns_the_key_object_or_not_found() {
    let s = start_default().await;
    let created = s.create_named("demo", "one").await;
    let resp = s.get("demo", &id_of(&created)).await;
    assert_eq!(resp.status(), 200);
    let obj: Value = resp.json().await.expect("json");
    for field in [
        "id",
        "name",
        "key_prefix",
        "key_preview",
        "permissions",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "request_count",
    ] {
        assert_eq!(obj[field], created[field], "{field}");
    }
    expect_error(
        s.get("demo", "key_0000000000000000").await,
        404,
        "NOT_FOUND",
    )
    .await;
    expect_error(s.get("demo", "not-an-id").await, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn unknown_paths_and_methods_get_the_error_body() {
    let s = start_default().await;
    let resp = s.client.get(s.url("/nope")).send().await.expect("send");
    expect_error(resp, 404, "NOT_FOUND").await;
    let resp = s
        .client
        .put(s.url("/v1/verify"))
        .send()
        .await
        .expect("send");
    expect_error(resp, 405, "METHOD_NOT_ALLOWED").await;
    let resp = s
        .client
        .get(s.url("/__chaos"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("send");
    expect_error(resp, 404, "NOT_FOUND").await;
}
