//! Usage samples for the key details' sparkline: each sync records a key's
//! request count when its service reports one and it changed; a service
//! that reports no count records nothing.

mod common;

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use common::*;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::vault::NewProvider;
use latchkey_core::Secret;
use serde_json::json;

#[tokio::test]
async fn each_sync_records_the_request_count_the_service_reports_when_it_changed() {
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let provider = add_provider(&vault, &service);
    let key = vault
        .create_key(new_key(&provider, "used"))
        .await
        .expect("created");
    let counts = |vault: &latchkey_core::Vault| -> Vec<u64> {
        vault
            .key_details(&key.id)
            .expect("details")
            .usage
            .iter()
            .map(|p| p.count)
            .collect()
    };

    vault.list_keys().await.expect("first sync");
    assert_eq!(counts(&vault), [0]);
    // Nothing used, nothing new.
    vault.list_keys().await.expect("sync");
    assert_eq!(counts(&vault), [0]);

    let secret = stored_secret(&key.id);
    for _ in 0..3 {
        assert_eq!(service.verify_status(secret.expose_secret()).await, 200);
    }
    vault.list_keys().await.expect("second sync");
    let details = vault.key_details(&key.id).expect("details");
    let remote = service
        .remote_keys()
        .await
        .into_iter()
        .find(|k| k["name"] == "used")
        .expect("remote key");
    assert_eq!(remote["request_count"], 3);
    assert_eq!(
        details.usage.iter().map(|p| p.count).collect::<Vec<_>>(),
        [0, 3]
    );
    assert!(details.usage[0].at <= details.usage[1].at);
    assert!(details.usage[1].at <= details.now);
    // The details' JSON (what the app is sent) carries the points.
    let sent = serde_json::to_value(&details).expect("json");
    assert_eq!(sent["usage"][1]["count"], 3);
}

#[tokio::test]
async fn a_service_that_reports_no_count_gets_no_usage() {
    // The reference service's listing without `request_count`.
    let app = Router::new().route(
        "/api/projects/{project}/api-keys",
        get(|| async {
            Json(json!({ "keys": [{
                "id": "key_00000000000000aa",
                "name": "uncounted",
                "key_prefix": "lk_aaaaaaaa",
                "key_preview": "lk_aaaaaaaa_••••••••••••••••aaaa",
                "permissions": ["read"],
                "created_at": "2026-11-01T00:00:00Z",
                "expires_at": null,
                "last_used_at": "2026-12-01T00:00:00Z",
                "revoked_at": null,
            }]}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    vault
        .add_provider(NewProvider {
            name: "Uncounted".into(),
            base_url: format!("http://{addr}"),
            admin_token: Secret::new(ADMIN),
            project: "demo".into(),
        })
        .expect("provider");
    for _ in 0..2 {
        let listing = vault.list_keys().await.expect("sync");
        assert!(listing.warnings.is_empty(), "{:?}", listing.warnings);
    }
    let key = vault.find_key("uncounted", None).expect("listed");
    assert_eq!(vault.key_details(&key.id).expect("details").usage, []);
}
