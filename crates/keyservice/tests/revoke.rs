//! DELETE: immediate, idempotent revocation.

mod common;

use common::*;

#[tokio::test]
async fn a_revoked_key_is_rejected_at_once_and_repeat_revokes_are_fine() {
    let s = start_default().await;
    let obj = s.create_named("demo", "to revoke").await;
    let (id, key) = (id_of(&obj), key_of(&obj));
    assert_eq!(s.verify(&key).await.status(), 200);
    assert_eq!(s.revoke("demo", &id).await.status(), 204);
    let details = expect_error(s.verify(&key).await, 401, "INVALID_API_KEY").await;
    assert_eq!(details["key_id"], id.as_str());
    let first_revoked_at = s
        .get("demo", &id)
        .await
        .json::<serde_json::Value>()
        .await
        .expect("json")["revoked_at"]
        .clone();
    assert!(first_revoked_at.is_string());
    let again = s.revoke("demo", &id).await;
    assert_eq!(again.status(), 204);
    assert!(again.bytes().await.expect("body").is_empty());
    let later = s
        .get("demo", &id)
        .await
        .json::<serde_json::Value>()
        .await
        .expect("json")["revoked_at"]
        .clone();
    assert_eq!(
        later, first_revoked_at,
        "a repeat revoke keeps the first time"
    );
}

#[tokio::test]
async fn revoking_an_unknown_key_is_not_found() {
    let s = start_default().await;
    expect_error(
        s.revoke("demo", "key_ffffffffffffffff").await,
        404,
        "NOT_FOUND",
    )
    .await;
}
