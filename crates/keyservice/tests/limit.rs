//! The 10-active-keys limit, including under concurrent creates.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn the_eleventh_active_key_is_refused_until_one_is_revoked() {
    let s = start_default().await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(id_of(&s.create_named("demo", &format!("k{i}")).await));
    }
    let details = expect_error(
        s.create("demo", json!({ "name": "eleventh" })).await,
        409,
        "KEY_LIMIT_REACHED",
    )
    .await;
    assert_eq!(details["limit"], 10);
    // Other projects have their own limit.
    s.create_named("other", "fine").await;
    assert_eq!(s.revoke("demo", &ids[0]).await.status(), 204);
    s.create_named("demo", "replacement").await;
    expect_error(
        s.create("demo", json!({ "name": "twelfth" })).await,
        409,
        "KEY_LIMIT_REACHED",
    )
    .await;
}

#[tokio::test]
async fn expired_keys_do_not_count() {
    let (config, clock) = config_with_clock();
    let s = start_with(config).await;
    for i in 0..10 {
        s.create_ok(
            "demo",
            json!({ "name": format!("k{i}"), "expires_in_days": 1 }),
        )
        .await;
    }
    expect_error(
        s.create("demo", json!({ "name": "more" })).await,
        409,
        "KEY_LIMIT_REACHED",
    )
    .await;
    clock.advance(time::Duration::days(2));
    s.create_named("demo", "more").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_creates_make_exactly_ten_keys() {
    let s = start_default().await;
    let statuses = s.parallel_creates("race", 50).await;
    assert_eq!(
        statuses.iter().filter(|&&c| c == 201).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&c| c == 409).count(),
        40,
        "{statuses:?}"
    );
    assert_eq!(s.list("race").await.len(), 10);
}
