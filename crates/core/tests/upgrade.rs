//! Upgrades lose nothing. `fixtures/catalog-vN/` is a data directory as the
//! code of schema N wrote it (made by `make_fixture`, then committed):
//! providers, keys, a finished and an unfinished rotation, settings and
//! audit entries, plus the fixture's own keychain entries (test-only keys
//! made for it, in `keychain.json`) and what it holds (`manifest.json`).
//! Every later schema must open each fixture and find every row and a
//! verifying audit chain. A catalog from a newer Latchkey is refused, not
//! rewritten. Each schema change adds the fixture made by the code before
//! it: `cargo test -p latchkey-core --test upgrade -- --ignored make_fixture`
//! (needs a free loopback port; no keychain).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use latchkey_core::catalog::TargetSpec;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::clock::SystemClock;
use latchkey_core::rotation::driver::{no_progress, RotationRequest};
use latchkey_core::settings::Settings;
use latchkey_core::store::SecretStore;
use latchkey_core::vault::{NewKey, NewManualProvider, NewProvider};
use latchkey_core::{Result, Secret, Vault};
use serde_json::{json, Value};

const ADMIN: &str = "fixture-admin-token";

/// The fixture's keychain: a JSON file of test-only entries, counting the
/// reads of each entry.
#[derive(Default)]
struct JsonStore(
    Mutex<BTreeMap<String, String>>,
    Mutex<BTreeMap<String, usize>>,
);

impl JsonStore {
    fn load(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).expect("keychain.json");
        Self(
            Mutex::new(serde_json::from_str(&text).expect("json")),
            Mutex::default(),
        )
    }
    fn save(&self, path: &Path) {
        let map = self.0.lock().unwrap().clone();
        std::fs::write(path, serde_json::to_string_pretty(&map).expect("json")).expect("write");
    }
}

impl SecretStore for JsonStore {
    fn put(&self, account: &str, secret: &Secret) -> Result<()> {
        self.0
            .lock()
            .unwrap()
            .insert(account.into(), secret.expose_secret().into());
        Ok(())
    }
    fn get(&self, account: &str) -> Result<Option<Secret>> {
        *self.1.lock().unwrap().entry(account.into()).or_default() += 1;
        Ok(self
            .0
            .lock()
            .unwrap()
            .get(account)
            .map(|s| Secret::new(s.as_str())))
    }
    fn delete(&self, account: &str) -> Result<()> {
        self.0.lock().unwrap().remove(account);
        Ok(())
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn open(dir: &Path, store: Arc<JsonStore>) -> Result<Vault> {
    Vault::open(
        dir,
        store,
        Arc::new(MemoryClipboard::default()),
        Arc::new(SystemClock),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
}

/// Writes `fixtures/catalog-v<current schema>/` with today's code.
#[tokio::test]
#[ignore = "makes the fixture of the current schema; run once per schema change"]
async fn make_fixture() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let (addr, _service) =
        latchkey_keyservice::start(listener, latchkey_keyservice::Config::new(ADMIN))
            .await
            .expect("key service");
    let work = tempfile::tempdir().expect("tmp");
    let data = work.path().join("data");
    let store = Arc::new(JsonStore::default());
    let vault = open(&data, store.clone()).expect("vault");
    let schema = vault.with_catalog(|c| c.schema_version()).expect("schema");
    let provider = vault
        .add_provider(NewProvider {
            name: "Fixture service".into(),
            base_url: format!("http://{addr}"),
            admin_token: Secret::new(ADMIN),
            project: "fixture".into(),
        })
        .expect("provider");
    vault
        .add_manual_provider(NewManualProvider {
            name: "Fixture dashboard".into(),
            dashboard_url: "https://dashboard.example.com/keys".into(),
            verify_url: "https://api.example.com/v1/me".into(),
        })
        .expect("manual provider");
    let key = |name: &str, var: &str| NewKey {
        provider_id: provider.id.clone(),
        name: name.into(),
        scopes: vec!["read".into()],
        expires_in_days: None,
        environment: "prod".into(),
        env_var: var.into(),
    };
    let rotated = vault
        .create_key(key("rotated key", "ROTATED_KEY"))
        .await
        .expect("key");
    let pending = vault
        .create_key(key("pending key", "PENDING_KEY"))
        .await
        .expect("key");
    vault
        .create_key(key("plain key", "PLAIN_KEY"))
        .await
        .expect("key");
    let env = work.path().join(".env");
    std::fs::write(&env, "ROTATED_KEY=x\nPENDING_KEY=y\n").expect("env");
    let target = |var: &str| TargetSpec::Dotenv {
        path: env.display().to_string(),
        var: var.into(),
        follow_symlink: false,
    };
    let plan = vault
        .plan_rotation(RotationRequest {
            key_id: rotated.id.clone(),
            targets: vec![target("ROTATED_KEY")],
        })
        .await
        .expect("plan");
    vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("rotated");
    vault
        .plan_rotation(RotationRequest {
            key_id: pending.id.clone(),
            targets: vec![target("PENDING_KEY")],
        })
        .await
        .expect("plan");
    let settings = Settings {
        clipboard_clear_secs: 45,
        rotation_policy_days: 60,
        ..vault.settings().expect("settings")
    };
    vault.update_settings(settings).expect("settings");
    let keys = vault.local_keys().expect("keys");
    let manifest = json!({
        "schema": schema,
        "providers": vault.providers().expect("providers").iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
        "keys": keys.iter().map(|k| json!({"id": k.id, "name": k.name, "status": k.status})).collect::<Vec<_>>(),
        "rotations": vault.rotations().expect("rotations").iter().map(|r| json!({"id": r.id, "state": r.state, "unfinished": r.unfinished})).collect::<Vec<_>>(),
        "settings": {"clipboard_clear_secs": 45, "rotation_policy_days": 60},
        "audit_entries": vault.audit_log(10_000).expect("audit").len(),
    });
    drop(vault);
    let out = fixtures().join(format!("catalog-v{schema}"));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("mkdir");
    for name in ["catalog.db", latchkey_core::catalog::AUDIT_HEAD_FILE] {
        std::fs::copy(data.join(name), out.join(name)).expect("copy");
    }
    store.save(&out.join("keychain.json"));
    std::fs::write(
        out.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).expect("json"),
    )
    .expect("manifest");
}

fn every_fixture() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("catalog-v"))
        })
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no catalog fixture");
    dirs
}

#[test]
fn every_fixture_opens_with_every_row_and_a_verifying_audit_chain() {
    for fixture in every_fixture() {
        let manifest: Value = serde_json::from_str(
            &std::fs::read_to_string(fixture.join("manifest.json")).expect("manifest"),
        )
        .expect("json");
        let work = tempfile::tempdir().expect("tmp");
        copy_dir(&fixture, work.path());
        let store = Arc::new(JsonStore::load(&work.path().join("keychain.json")));
        let vault = open(work.path(), store).expect("today's code opens the fixture");
        let what = fixture.display().to_string();

        let providers: Vec<String> = vault
            .providers()
            .expect("providers")
            .into_iter()
            .map(|p| p.name)
            .collect();
        for p in manifest["providers"].as_array().expect("providers") {
            assert!(
                providers.iter().any(|n| n == p.as_str().unwrap()),
                "{what}: provider {p} lost"
            );
        }
        let keys = vault.local_keys().expect("keys");
        for k in manifest["keys"].as_array().expect("keys") {
            let found = keys.iter().find(|v| v.id == k["id"].as_str().unwrap());
            let found = found.unwrap_or_else(|| panic!("{what}: key {k} lost"));
            assert_eq!(found.name, k["name"].as_str().unwrap(), "{what}");
            assert_eq!(json!(found.status), k["status"], "{what}");
        }
        let rotations = vault.rotations().expect("rotations");
        for r in manifest["rotations"].as_array().expect("rotations") {
            let found = rotations.iter().find(|v| v.id == r["id"].as_str().unwrap());
            let found = found.unwrap_or_else(|| panic!("{what}: rotation {r} lost"));
            assert_eq!(json!(found.state), r["state"], "{what}");
            assert_eq!(json!(found.unfinished), r["unfinished"], "{what}");
        }
        assert!(
            rotations.iter().any(|r| r.unfinished),
            "{what}: the unfinished rotation"
        );
        assert!(
            rotations.iter().any(|r| !r.unfinished),
            "{what}: the finished rotation"
        );
        let settings = vault.settings().expect("settings");
        assert_eq!(
            json!(settings.clipboard_clear_secs),
            manifest["settings"]["clipboard_clear_secs"]
        );
        assert_eq!(
            json!(settings.rotation_policy_days),
            manifest["settings"]["rotation_policy_days"]
        );
        let entries = vault.audit_log(10_000).expect("audit").len();
        assert!(
            json!(entries).as_u64() >= manifest["audit_entries"].as_u64(),
            "{what}: audit entries lost"
        );
        let check = vault.verify_audit().expect("verify");
        assert!(check.is_verified(), "{what}: {}", check.message());
        // Schema 10: each key whose secret the keychain holds has its
        // secret's length (the folder scan's filter), and only that.
        let held = JsonStore::load(&work.path().join("keychain.json"));
        let records = vault.with_catalog(|c| c.keys()).expect("records");
        assert!(
            records.iter().any(|k| k.has_secret),
            "{what}: a key with a secret"
        );
        for k in records {
            let secret = held
                .get(&latchkey_core::store::key_account(&k.id))
                .expect("read");
            let want = secret
                .filter(|_| k.has_secret && k.fingerprint.is_some())
                .map(|s| s.len() as u32);
            assert_eq!(k.secret_len, want, "{what}: {}'s secret length", k.name);
        }
    }
}

/// A catalog from before keyed fingerprints (and before schema 10's
/// secret lengths) gets both at its first open, reading each key's secret
/// from the keychain once, not once per migration.
#[test]
fn a_catalog_from_before_keyed_fingerprints_reads_each_secret_once() {
    let fixture = every_fixture()
        .into_iter()
        .find(|f| f.ends_with("catalog-v9"))
        .expect("the schema 9 fixture (no secret lengths yet)");
    let work = tempfile::tempdir().expect("tmp");
    copy_dir(&fixture, work.path());
    {
        let conn = rusqlite::Connection::open(work.path().join("catalog.db")).expect("sqlite");
        conn.execute("DELETE FROM settings WHERE key = 'fingerprint_scheme'", [])
            .expect("as before keyed fingerprints");
    }
    let store = Arc::new(JsonStore::load(&work.path().join("keychain.json")));
    let vault = open(work.path(), store.clone()).expect("opens");
    let records = vault.with_catalog(|c| c.keys()).expect("records");
    let reads = store.1.lock().unwrap().clone();
    let mut filled = 0;
    for k in records
        .iter()
        .filter(|k| k.has_secret && k.secret_len.is_some())
    {
        let account = latchkey_core::store::key_account(&k.id);
        assert_eq!(
            reads.get(&account),
            Some(&1),
            "{}: reads of {account}",
            k.name
        );
        filled += 1;
    }
    assert!(filled > 0, "a key got its length and keyed fingerprint");
}

#[test]
fn a_catalog_from_a_newer_latchkey_is_refused_and_left_as_it_was() {
    let fixture = every_fixture().pop().expect("a fixture");
    let work = tempfile::tempdir().expect("tmp");
    copy_dir(&fixture, work.path());
    let db = work.path().join("catalog.db");
    // One schema past what this code knows (a fresh catalog's version),
    // whatever the newest fixture's is.
    let newest = {
        let fresh = tempfile::tempdir().expect("tmp");
        latchkey_core::catalog::Catalog::open(&fresh.path().join("catalog.db"))
            .and_then(|c| c.schema_version())
            .expect("a fresh catalog")
    };
    {
        let conn = rusqlite::Connection::open(&db).expect("sqlite");
        conn.pragma_update(None, "user_version", newest + 1)
            .expect("bump");
    }
    let before = std::fs::read(&db).expect("bytes");
    let store = Arc::new(JsonStore::load(&work.path().join("keychain.json")));
    let err = open(work.path(), store).err().expect("refused");
    assert_eq!(err.code(), "database");
    assert!(err.to_string().contains("newer Latchkey"), "{err}");
    assert_eq!(
        std::fs::read(&db).expect("bytes"),
        before,
        "the newer catalog was rewritten"
    );
}
