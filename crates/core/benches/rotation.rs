//! Benchmark: a full rotation (plan → create → store → deploy to one `.env`
//! file → verify → revoke the old key → confirm it is rejected → finish)
//! against the loopback key service, versus the sum of its irreducible parts
//! measured in the same run: the raw HTTP calls (create, verify the new key,
//! revoke the old, verify the old), one keychain write and one read, and one
//! fsync'd file replace. Target: ≤ 1.5×.
//!
//! Needs a Secret Service:
//! `xvfb-run -a scripts/with-keyring.sh cargo bench -p latchkey-core --bench rotation`

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_core::catalog::TargetSpec;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::clock::SystemClock;
use latchkey_core::rotation::driver::{no_progress, RotationRequest};
use latchkey_core::store::{KeychainStore, SecretStore};
use latchkey_core::vault::{NewKey, NewProvider};
use latchkey_core::{Secret, Vault};
use serde_json::{json, Value};

const ADMIN: &str = "bench-admin";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The file replace a deploy cannot do without: temp file, fsync, rename,
/// fsync of the directory.
fn replace_file(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("bench-tmp");
    let mut f = std::fs::File::create(&tmp).expect("tmp");
    f.write_all(bytes).expect("write");
    f.sync_all().expect("fsync");
    drop(f);
    std::fs::rename(&tmp, path).expect("rename");
    std::fs::File::open(path.parent().expect("dir"))
        .expect("dir")
        .sync_all()
        .expect("dir fsync");
}

async fn raw_parts(
    http: &reqwest::Client,
    base: &str,
    store: &KeychainStore,
    env: &Path,
    old_key: &str,
    old_id: &str,
    n: usize,
) -> Duration {
    let t = Instant::now();
    let created: Value = http
        .post(format!("{base}/api/projects/raw/api-keys"))
        .bearer_auth(ADMIN)
        .header("Idempotency-Key", format!("raw-{n}"))
        .json(&json!({"name": format!("raw {n}")}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let key = created["key"].as_str().expect("key").to_owned();
    store
        .put("bench:raw", &Secret::new(key.as_str()))
        .expect("keychain write");
    let back = store
        .get("bench:raw")
        .expect("keychain read")
        .expect("held");
    replace_file(
        env,
        format!("API_KEY={}\n", back.expose_secret()).as_bytes(),
    );
    let ok = http
        .get(format!("{base}/v1/verify"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("verify");
    assert_eq!(ok.status(), 200);
    let gone = http
        .delete(format!("{base}/api/projects/raw/api-keys/{old_id}"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("revoke");
    assert_eq!(gone.status(), 204);
    let rejected = http
        .get(format!("{base}/v1/verify"))
        .bearer_auth(old_key)
        .send()
        .await
        .expect("verify old");
    assert_eq!(rejected.status(), 401);
    let elapsed = t.elapsed();
    // Leave the next round an old key to revoke (not timed).
    let _ = created["id"].as_str().expect("id");
    elapsed
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize = std::env::var("LK_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let config = latchkey_keyservice::Config::new(ADMIN);
    let (addr, _service) = latchkey_keyservice::start(listener, config)
        .await
        .expect("key service");
    let base = format!("http://{addr}");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(KeychainStore::open_service("latchkey-bench").expect("keychain"));
    let vault = Vault::open(
        &dir.path().join("data"),
        store.clone(),
        Arc::new(MemoryClipboard::default()),
        Arc::new(SystemClock),
    )
    .expect("vault");
    let provider = vault
        .add_provider(NewProvider {
            name: "Bench".into(),
            base_url: base.clone(),
            admin_token: Secret::new(ADMIN),
            project: "bench".into(),
        })
        .expect("provider");
    let mut key = vault
        .create_key(NewKey {
            provider_id: provider.id.clone(),
            name: "bench".into(),
            scopes: vec![],
            expires_in_days: None,
            environment: String::new(),
            env_var: "API_KEY".into(),
        })
        .await
        .expect("key");
    let env = dir.path().join(".env");
    let first = store
        .get(&latchkey_core::store::key_account(&key.id))
        .expect("keychain")
        .expect("secret");
    std::fs::write(
        &env,
        format!("# bench\nAPI_KEY={}\nPORT=1\n", first.expose_secret()),
    )
    .expect("env");
    let raw_env = dir.path().join("raw.env");
    std::fs::write(&raw_env, "API_KEY=x\n").expect("raw env");
    let http = reqwest::Client::new();

    // The raw path's "old key": made once per round, outside the timing.
    let mut ours = Vec::new();
    let mut raw = Vec::new();
    for n in 0..rounds + 3 {
        let old: Value = http
            .post(format!("{base}/api/projects/raw/api-keys"))
            .bearer_auth(ADMIN)
            .json(&json!({"name": format!("old {n}")}))
            .send()
            .await
            .expect("old")
            .json()
            .await
            .expect("json");
        let raw_t = raw_parts(
            &http,
            &base,
            &store,
            &raw_env,
            old["key"].as_str().expect("key"),
            old["id"].as_str().expect("id"),
            n,
        )
        .await;
        // The new raw key stays live: revoke it so the project stays under
        // the service's active-key limit (not timed).
        for k in http
            .get(format!("{base}/api/projects/raw/api-keys"))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("list")
            .json::<Value>()
            .await
            .expect("json")["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter(|k| k["revoked_at"].is_null())
        {
            let id = k["id"].as_str().expect("id");
            http.delete(format!("{base}/api/projects/raw/api-keys/{id}"))
                .bearer_auth(ADMIN)
                .send()
                .await
                .expect("cleanup");
        }

        let t = Instant::now();
        let plan = vault
            .plan_rotation(RotationRequest {
                key_id: key.id.clone(),
                targets: vec![TargetSpec::Dotenv {
                    path: env.display().to_string(),
                    var: "API_KEY".into(),
                    follow_symlink: false,
                }],
            })
            .await
            .expect("plan");
        let plan_t = t.elapsed();
        let marks = std::sync::Mutex::new(Vec::new());
        let trace = |v: &latchkey_core::rotation::driver::RotationView| {
            marks.lock().expect("marks").push((v.state, t.elapsed()));
        };
        let done = if std::env::var_os("LK_BENCH_TRACE").is_some() {
            vault.run_rotation(&plan.id, &trace).await
        } else {
            vault.run_rotation(&plan.id, &no_progress).await
        }
        .expect("rotation");
        if std::env::var_os("LK_BENCH_TRACE").is_some() && n == rounds {
            println!("plan {:.1} ms", plan_t.as_secs_f64() * 1e3);
            for (st, at) in marks.lock().expect("marks").iter() {
                println!("  {:?} at {:.1} ms", st, at.as_secs_f64() * 1e3);
            }
        }
        let ours_t = t.elapsed();
        key = vault.key(&done.new_key_id).expect("new key");
        if n >= 3 {
            ours.push(ours_t);
            raw.push(raw_t);
        }
    }
    let _ = store.delete("bench:raw");
    let (o, r) = (median(ours), median(raw));
    println!(
        "full rotation (1 .env target, loopback key service, {rounds} rounds): median {:.2} ms",
        o.as_secs_f64() * 1e3
    );
    println!(
        "irreducible parts (4 HTTP calls + keychain write/read + fsync'd replace): median {:.2} ms",
        r.as_secs_f64() * 1e3
    );
    println!(
        "ratio: {:.2}x (target <= 1.50x)",
        o.as_secs_f64() / r.as_secs_f64()
    );
}
