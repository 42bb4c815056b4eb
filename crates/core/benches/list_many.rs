//! Benchmark: the keys list across 10 providers against one provider alone,
//! in the same run. Each provider is a local server answering its key list
//! (100 keys, the reference service's shape) after 50 ms. The providers are
//! asked at once, so ten should cost little more than one. Target: ≤ 1.3×.
//! Rounds alternate which side goes first.
//!
//! Needs a Secret Service:
//! `xvfb-run -a scripts/with-keyring.sh cargo bench -p latchkey-core --bench list_many`

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::clock::SystemClock;
use latchkey_core::store::KeychainStore;
use latchkey_core::vault::NewProvider;
use latchkey_core::{Secret, Vault};
use serde_json::{json, Value};

const LATENCY: Duration = Duration::from_millis(50);
const KEYS: usize = 100;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A provider: its key list after 50 ms.
async fn slow_provider(n: usize) -> String {
    let keys: Vec<Value> = (0..KEYS)
        .map(|k| {
            json!({
                "id": format!("key-{n}-{k}"),
                "name": format!("service {n} key {k}"),
                "key_preview": format!("lk_{n:04}{k:04}…"),
                "permissions": ["read"],
                "created_at": "2026-11-01T00:00:00Z",
                "expires_at": null,
                "last_used_at": "2026-12-01T00:00:00Z",
                "revoked_at": null,
            })
        })
        .collect();
    // Serialized once: a real service spends its own CPU on its answer,
    // not ours (this bench's services share the client's two cores).
    let body = axum::body::Bytes::from(json!({ "keys": keys }).to_string());
    let app = Router::new().route(
        "/api/projects/{project}/api-keys",
        get(move || {
            let body = body.clone();
            async move {
                tokio::time::sleep(LATENCY).await;
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn vault_with(providers: usize, dir: &std::path::Path, store: Arc<KeychainStore>) -> Vault {
    let vault = Vault::open(
        dir,
        store,
        Arc::new(MemoryClipboard::default()),
        Arc::new(SystemClock),
    )
    .expect("vault");
    for n in 0..providers {
        let base = slow_provider(n).await;
        vault
            .add_provider(NewProvider {
                name: format!("Service {n}"),
                base_url: base,
                admin_token: Secret::new("bench-admin"),
                project: "bench".into(),
            })
            .expect("provider");
    }
    // The first listing fills the catalog; the timed ones find it in step.
    let first = vault.list_keys().await.expect("list");
    assert_eq!(first.keys.len(), providers * KEYS);
    assert!(first.warnings.is_empty(), "{:?}", first.warnings);
    vault
}

async fn timed(vault: &Vault, expect: usize) -> Duration {
    let t = Instant::now();
    let listing = vault.list_keys().await.expect("list");
    let elapsed = t.elapsed();
    assert_eq!(listing.keys.len(), expect);
    assert!(listing.warnings.is_empty(), "{:?}", listing.warnings);
    elapsed
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize = std::env::var("LK_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(KeychainStore::open_service("latchkey-bench").expect("keychain"));
    let one = vault_with(1, &dir.path().join("one"), store.clone()).await;
    let ten = vault_with(10, &dir.path().join("ten"), store).await;
    let (mut t1, mut t10) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            t1.push(timed(&one, KEYS).await);
            t10.push(timed(&ten, 10 * KEYS).await);
        } else {
            t10.push(timed(&ten, 10 * KEYS).await);
            t1.push(timed(&one, KEYS).await);
        }
    }
    let (m1, m10) = (median(t1), median(t10));
    let ratio = m10.as_secs_f64() / m1.as_secs_f64();
    println!(
        "keys list, {rounds} rounds (medians): 1 provider {:.1} ms, 10 providers {:.1} ms \
         (each answering 100 keys after 50 ms): {ratio:.2}x (target <= 1.3x)",
        m1.as_secs_f64() * 1e3,
        m10.as_secs_f64() * 1e3,
    );
}
