//! Absent is not revoked: a service whose listing leaves a key out (an
//! empty page, a partial answer) is asked about that key before Latchkey
//! calls it revoked. Played by a fake service on loopback whose listing and
//! get-one answers the test switches, with the real vault, keychain and
//! SQLite catalog.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use common::{open_vault, ADMIN};
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::vault::{KeyStatus, NewProvider};
use latchkey_core::Secret;
use serde_json::json;

/// What the fake answers: whether the listing shows the key, and what a
/// get-one of it says (200 live, 200 revoked, 404, 500).
#[derive(Clone, Copy, PartialEq)]
enum GetOne {
    Live,
    Revoked,
    Gone,
    Broken,
}

#[derive(Clone)]
struct Fake {
    listed: Arc<Mutex<bool>>,
    get_one: Arc<Mutex<GetOne>>,
}

fn key(revoked: bool) -> serde_json::Value {
    json!({
        "id": "key_0123456789abcdef",
        "name": "made elsewhere",
        "key_prefix": "lk_abcdefgh",
        "key_preview": "lk_abcdefgh_••••••••••••••••wxyz",
        "permissions": ["read"],
        "created_at": "2026-01-01T00:00:00Z",
        "expires_at": null,
        "last_used_at": null,
        "revoked_at": if revoked { json!("2026-02-01T00:00:00Z") } else { json!(null) },
        "request_count": 0
    })
}

async fn list(State(f): State<Fake>) -> impl IntoResponse {
    let listed = *f.listed.lock().expect("lock");
    Json(json!({ "keys": if listed { vec![key(false)] } else { vec![] } }))
}

async fn get_one(
    State(f): State<Fake>,
    Path((_, id)): Path<(String, String)>,
) -> impl IntoResponse {
    assert_eq!(id, "key_0123456789abcdef");
    match *f.get_one.lock().expect("lock") {
        GetOne::Live => (StatusCode::OK, Json(key(false))),
        GetOne::Revoked => (StatusCode::OK, Json(key(true))),
        GetOne::Gone => (
            StatusCode::NOT_FOUND,
            Json(
                json!({"success": false, "error": {"code": "NOT_FOUND", "message": "no such key"}}),
            ),
        ),
        GetOne::Broken => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"success": false, "error": {"code": "INTERNAL", "message": "down"}})),
        ),
    }
}

#[tokio::test]
async fn a_key_missing_from_a_listing_is_asked_about_before_it_is_called_revoked() {
    let fake = Fake {
        listed: Arc::new(Mutex::new(true)),
        get_one: Arc::new(Mutex::new(GetOne::Live)),
    };
    let app = Router::new()
        .route("/api/projects/{project}/api-keys", get(list))
        .route("/api/projects/{project}/api-keys/{id}", get(get_one))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    vault.set_http_policy(latchkey_core::http::HttpPolicy {
        max_attempts: 1,
        ..Default::default()
    });
    vault
        .add_provider(NewProvider {
            name: "Flaky listing".into(),
            base_url: base,
            admin_token: Secret::new(ADMIN),
            project: "demo".into(),
        })
        .expect("provider");
    let status = |listing: &latchkey_core::vault::KeyListing| {
        listing
            .keys
            .iter()
            .find(|k| k.name == "made elsewhere")
            .map(|k| k.status)
            .expect("listed key")
    };
    let first = vault.list_keys().await.expect("list");
    assert_eq!(status(&first), KeyStatus::NoLocalSecret);

    // An empty listing, but the service still has the key: nothing changes.
    *fake.listed.lock().expect("lock") = false;
    let listing = vault.list_keys().await.expect("list");
    assert_eq!(
        status(&listing),
        KeyStatus::NoLocalSecret,
        "an empty listing revoked it"
    );

    // The service cannot say: "missing on the service", not revoked.
    *fake.get_one.lock().expect("lock") = GetOne::Broken;
    let listing = vault.list_keys().await.expect("list");
    assert_eq!(status(&listing), KeyStatus::Missing);

    // The service says it does not exist: revoked, by inference.
    *fake.get_one.lock().expect("lock") = GetOne::Gone;
    let listing = vault.list_keys().await.expect("list");
    assert_eq!(status(&listing), KeyStatus::Revoked);

    // It reappears, live: the inferred mark goes.
    *fake.listed.lock().expect("lock") = true;
    let listing = vault.list_keys().await.expect("list");
    assert_eq!(
        status(&listing),
        KeyStatus::NoLocalSecret,
        "a reappearing key stays revoked"
    );

    // A key the service itself reports revoked stays revoked.
    *fake.listed.lock().expect("lock") = false;
    *fake.get_one.lock().expect("lock") = GetOne::Revoked;
    let listing = vault.list_keys().await.expect("list");
    assert_eq!(status(&listing), KeyStatus::Revoked);
    *fake.listed.lock().expect("lock") = true;
    let listing = vault.list_keys().await.expect("list");
    assert_eq!(
        status(&listing),
        KeyStatus::Revoked,
        "a revocation the service reported is not undone by a listing"
    );
}
