//! A hostile service, played by a fake HTTP server on loopback: key names
//! with ANSI/OSC escapes, a preview and error messages that echo the key it
//! created. The CLI's stdout and stderr hold no raw control character, and
//! neither they (apart from the one-time reveal on `create`'s stdout) nor
//! the data directory hold any 8-character piece of the key.

use crate::common::*;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::json;

/// The key the fake service creates and then echoes wherever it can.
const KEY: &str = "sk_fake_Q7wE9rT1yU3iO5pA7sD9fG1hJ3kL5z";

fn hostile(id: &str, name: &str) -> serde_json::Value {
    json!({
        "id": id,
        "name": format!("\u{1b}]8;;https://evil.example\u{7}{name}\u{1b}]8;;\u{7}\u{1b}[2J\u{9b}31m"),
        "key": KEY,
        "key_preview": KEY,
        "permissions": ["read\u{1b}[0m"],
        "created_at": "2025-01-01T00:00:00Z",
        "expires_at": null,
        "last_used_at": null,
        "revoked_at": null
    })
}

async fn fake_service() -> String {
    let app = Router::new()
        .route(
            "/api/projects/web/api-keys",
            get(|| async { Json(json!({ "keys": [hostile("key_old", "old")] })) })
                .post(|| async { (StatusCode::CREATED, Json(hostile("key_new", "deploy"))) }),
        )
        .route(
            "/api/projects/web/api-keys/{id}",
            delete(|| async {
                (
                    StatusCode::CONFLICT,
                    Json(json!({"error": {"message": format!(
                        "\u{1b}]0;pwned\u{7}{KEY} is still in use\u{1b}[31m"
                    )}})),
                )
            }),
        )
        .route(
            "/v1/verify",
            get(|| async {
                (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({"error": {"code": format!("\u{1b}[2J{KEY}"), "message": KEY}})),
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

fn no_control(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| c.is_control() && c != '\n')
        .collect();
    assert!(bad.is_empty(), "{what} holds {bad:?}: {text:?}");
}

fn pieces(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    chars.windows(8).map(|w| w.iter().collect()).collect()
}

fn no_piece_of_key(what: &str, text: &str) {
    for piece in pieces(KEY) {
        assert!(!text.contains(&piece), "{what} holds {piece:?}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_service_cannot_reach_the_terminal_or_the_catalog() {
    let base = fake_service().await;
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    cli.add_keyservice(&base, "fake", "web", "fake-admin-token")
        .ok();

    let mut runs = Vec::new();
    let created = cli.run(&["create", "--provider", "fake", "--name", "deploy"]);
    created.ok();
    assert_eq!(created.stdout.trim(), KEY, "the one-time reveal");
    no_control("create stdout", &created.stdout);
    runs.push(("create stderr", created.stderr.clone()));
    // The service renamed the key (escapes and all); find what we stored.
    let listing = cli.run(&["list", "--json"]);
    listing.ok();
    let stored = listing.json()["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["name"].as_str().is_some_and(|n| n.contains("deploy")))
        .and_then(|k| k["name"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no deploy key: {listing:#?}"));
    no_control("stored name", &stored);
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["revoke", &stored],
        &["providers", "list"],
        &["check", "--json"],
    ] {
        let run = cli.run(args);
        runs.push(("stdout", run.stdout.clone()));
        runs.push(("stderr", run.stderr.clone()));
        if args[0] == "revoke" {
            assert_eq!(run.code, Some(1), "{run:#?}");
            assert!(run.stderr.contains("[provider_conflict]"), "{run:#?}");
            assert!(run.stderr.contains("is still in use"), "{run:#?}");
        }
        if args == ["list"] {
            assert!(run.stdout.contains("deploy"), "{run:#?}");
            assert!(run.stdout.contains("old"), "{run:#?}");
        }
    }
    for (what, text) in &runs {
        no_control(what, text);
        no_piece_of_key(what, text);
    }
    let hits: Vec<String> = pieces(KEY)
        .iter()
        .flat_map(|piece| files_containing(&cli.data, piece))
        .collect();
    assert!(
        hits.is_empty(),
        "the data directory holds the key: {hits:?}"
    );
}

/// A service that says a key is revoked but keeps accepting it (a cache, as
/// some real services have), and one that answers a web page instead of
/// JSON: the CLI reports each with its own code and exit code, and never
/// marks the key revoked on the service's word alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_the_service_does_not_honour_and_a_web_page_are_named() {
    let key = json!({
        "id": "key_cached", "name": "cached", "key": KEY,
        "key_prefix": "sk_fake_", "key_preview": "sk_fake_••••5z",
        "permissions": ["read"], "created_at": "2025-01-01T00:00:00Z",
        "expires_at": null, "last_used_at": null, "revoked_at": null
    });
    let listed = key.clone();
    let app = Router::new()
        .route(
            "/api/projects/web/api-keys",
            get(move || {
                let k = listed.clone();
                async move { Json(json!({ "keys": [k] })) }
            })
            .post(move || {
                let k = key.clone();
                async move { (StatusCode::CREATED, Json(k)) }
            }),
        )
        .route(
            "/api/projects/web/api-keys/{id}",
            delete(|| async { StatusCode::NO_CONTENT }),
        )
        .route(
            "/v1/verify",
            get(|| async { Json(json!({"key_id": "key_cached", "project": "web"})) }),
        )
        .route(
            "/api/projects/page/api-keys",
            get(|| async {
                (
                    [("content-type", "text/html")],
                    "<html><body>Sign in to continue</body></html>",
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    for (name, project) in [("cache", "web"), ("page", "page")] {
        cli.add_keyservice(&base, name, project, "fake-admin-token");
    }
    let page = cli.run(&["providers", "test", "page"]);
    assert_eq!(page.code, Some(4), "{page:#?}");
    assert!(page.stderr.contains("[bad_response]"), "{page:#?}");

    let created = cli.run(&["create", "--provider", "cache", "--name", "cached"]);
    created.ok();
    let revoke = cli.run(&["revoke", "cached"]);
    assert_eq!(revoke.code, Some(1), "{revoke:#?}");
    assert!(
        revoke.stderr.contains("[revoke_not_confirmed]"),
        "{revoke:#?}"
    );
    no_piece_of_key("revoke stderr", &revoke.stderr);
    let listing = cli.run(&["list", "--json"]);
    listing.ok();
    assert_eq!(
        listing.json()["keys"][0]["status"],
        "active",
        "{listing:#?}"
    );
}
