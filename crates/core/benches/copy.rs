//! Benchmark: "Copy" from command received to clipboard set (catalog read,
//! keychain read, clipboard write, audit append), against a bare keychain read
//! in the same run. Target: ≤ 1.5×.
//!
//! Needs a Secret Service and an X display:
//! `xvfb-run -a scripts/with-keyring.sh cargo bench -p latchkey-core --bench copy`

use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_core::catalog::{KeyRecord, ProviderKind, ProviderRecord};
use latchkey_core::clipboard::SystemClipboard;
use latchkey_core::clock::SystemClock;
use latchkey_core::store::{key_account, KeychainStore, SecretStore};
use latchkey_core::{Secret, Vault};

fn percentile(mut v: Vec<Duration>, q: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 * q) as usize).min(v.len() - 1)]
}

fn main() {
    let rounds: usize = std::env::var("LK_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(KeychainStore::open_service("latchkey-bench").expect("keychain"));
    let clipboard = Arc::new(SystemClipboard::new().expect("clipboard (needs DISPLAY)"));
    let vault =
        Vault::open(dir.path(), store.clone(), clipboard, Arc::new(SystemClock)).expect("vault");
    let key_id = "bench-key".to_owned();
    let secret = Secret::new("lk_BENCHBEN_abcdefghijklmnopqrstuvwx");
    vault
        .with_catalog(|c| {
            c.insert_provider(&ProviderRecord {
                id: "bench-provider".into(),
                kind: ProviderKind::Keyservice,
                name: "Bench".into(),
                base_url: "http://127.0.0.1:9".into(),
                project: "bench".into(),
                is_demo: false,
                created_at: "2026-01-01T00:00:00Z".into(),
                dashboard_url: String::new(),
            })?;
            c.insert_key(&KeyRecord {
                id: key_id.clone(),
                provider_id: "bench-provider".into(),
                remote_id: None,
                name: "bench".into(),
                preview: secret.masked(),
                fingerprint: Some(secret.fingerprint().to_string()),
                secret_len: secret.stored_len(),
                scopes: vec![],
                environment: String::new(),
                env_var: String::new(),
                created_at: None,
                expires_at: None,
                last_used_at: None,
                revoked_at: None,
                has_secret: true,
                pending_rotation: None,
            })
        })
        .expect("catalog rows");
    store
        .put(&key_account(&key_id), &secret)
        .expect("keychain write");

    let (mut bare, mut copy) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        let t = Instant::now();
        let read = store.get(&key_account(&key_id)).expect("read");
        bare.push(t.elapsed());
        assert!(read.is_some());
        let t = Instant::now();
        let _timer = vault.copy_key(&key_id).expect("copy");
        copy.push(t.elapsed());
    }
    store.delete(&key_account(&key_id)).expect("cleanup");
    let (b50, c50) = (percentile(bare.clone(), 0.5), percentile(copy.clone(), 0.5));
    let (b95, c95) = (percentile(bare, 0.95), percentile(copy, 0.95));
    println!("copy benchmark: {rounds} rounds");
    println!(
        "bare keychain read: p50 {:>8.3} ms  p95 {:>8.3} ms",
        b50.as_secs_f64() * 1e3,
        b95.as_secs_f64() * 1e3
    );
    println!(
        "copy_key:           p50 {:>8.3} ms  p95 {:>8.3} ms",
        c50.as_secs_f64() * 1e3,
        c95.as_secs_f64() * 1e3
    );
    println!(
        "ratio (copy / bare read), p50: {:.2}x (target <= 1.50x)",
        c50.as_secs_f64() / b50.as_secs_f64()
    );
}
