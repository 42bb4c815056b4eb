//! `--data FILE`: state survives a restart (graceful or SIGKILL), and the
//! file never holds a full key.

mod common;

use std::path::Path;

use common::*;
use latchkey_keyservice::{start, Config};
use serde_json::Value;

fn config_for(path: &Path) -> Config {
    let mut config = Config::new(ADMIN);
    config.data_file = Some(path.to_path_buf());
    config
}

#[tokio::test]
async fn keys_survive_a_restart_and_the_file_holds_no_full_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys.json");
    let s = start_with(config_for(&path)).await;
    let kept = s.create_named("demo", "kept").await;
    let gone = s.create_named("demo", "gone").await;
    assert_eq!(s.revoke("demo", &id_of(&gone)).await.status(), 204);
    assert_eq!(s.verify(&key_of(&kept)).await.status(), 200);
    s.shutdown().await;

    let text = std::fs::read_to_string(&path).expect("data file");
    for obj in [&kept, &gone] {
        let key = key_of(obj);
        assert!(!text.contains(&key), "data file holds a full key");
        assert!(
            !text.contains(&key[12..]),
            "data file holds the secret part of a key"
        );
    }

    let s = start_with(config_for(&path)).await;
    assert_eq!(s.verify(&key_of(&kept)).await.status(), 200);
    expect_error(s.verify(&key_of(&gone)).await, 401, "INVALID_API_KEY").await;
    let listed = s.list("demo").await;
    assert_eq!(listed.len(), 2);
    let kept_now = listed
        .iter()
        .find(|k| k["id"] == kept["id"])
        .expect("kept listed");
    assert_eq!(
        kept_now["request_count"], 2,
        "usage counters are saved on shutdown"
    );
    assert_eq!(kept_now["created_at"], kept["created_at"]);
}

#[tokio::test]
async fn usage_counters_are_flushed_in_the_background() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys.json");
    let mut config = config_for(&path);
    config.flush_interval = std::time::Duration::from_millis(50);
    let s = start_with(config).await;
    let obj = s.create_named("demo", "counted").await;
    s.verify(&key_of(&obj)).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(&path).expect("data file");
        let snapshot: Value = serde_json::from_str(&text).expect("json");
        if snapshot["keys"][0]["request_count"] == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "counter never flushed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_corrupt_data_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys.json");
    std::fs::write(&path, b"{\"version\": 1, \"keys\": [oops").expect("write");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let err = start(listener, config_for(&path))
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("not a valid"), "{err}");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        b"{\"version\": 1, \"keys\": [oops"
    );
}

#[tokio::test]
async fn an_unwritable_data_file_fails_at_start() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let config = config_for(Path::new("/nonexistent-dir/for/sure/keys.json"));
    assert!(start(listener, config).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_limit_holds_under_parallel_creates_with_persistence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys.json");
    let s = start_with(config_for(&path)).await;
    let statuses = s.parallel_creates("race", 50).await;
    assert_eq!(
        statuses.iter().filter(|&&c| c == 201).count(),
        10,
        "{statuses:?}"
    );
    s.shutdown().await;
    let s = start_with(config_for(&path)).await;
    assert_eq!(s.list("race").await.len(), 10);
}
