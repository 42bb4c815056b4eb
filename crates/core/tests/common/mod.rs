//! Real parts for core tests: a key service on loopback, the real keychain
//! (scripts/with-keyring.sh), a SQLite catalog in a temporary directory.
#![allow(dead_code)]

// Not every test binary that includes this kit uses each of these.
#[allow(unused_imports)]
pub use latchkey_testkit::files::files_containing;
#[allow(unused_imports)]
pub use latchkey_testkit::{moto, process};

use std::path::Path;
use std::sync::Arc;

use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::clock::SystemClock;
use latchkey_core::store::{KeychainStore, SecretStore};
use latchkey_core::vault::{NewKey, NewProvider, ProviderView};
use latchkey_core::{Secret, Vault};
use serde_json::Value;

pub const ADMIN: &str = "core-test-admin";

/// The reference key service, its admin client from the test kit.
pub use latchkey_testkit::keyservice::Service;

pub async fn key_service(chaos: bool) -> Service {
    Service::start(ADMIN, chaos, None).await
}

/// The core tests' keys live in the project `demo`.
#[allow(async_fn_in_trait)]
pub trait DemoProject {
    async fn create_directly(&self, name: &str) -> Value;
    async fn revoke_directly(&self, remote_id: &str);
    async fn remote_keys(&self) -> Vec<Value>;
}

impl DemoProject for Service {
    async fn create_directly(&self, name: &str) -> Value {
        self.create_in("demo", name).await
    }

    async fn revoke_directly(&self, remote_id: &str) {
        self.revoke_in("demo", remote_id).await
    }

    async fn remote_keys(&self) -> Vec<Value> {
        self.keys_in("demo").await
    }
}

pub fn open_vault(dir: &Path, clipboard: Arc<MemoryClipboard>) -> Vault {
    let store = Arc::new(KeychainStore::open_service("latchkey-test").expect("real keychain"));
    let mut vault = Vault::open(dir, store, clipboard, Arc::new(SystemClock)).expect("vault");
    vault.set_clear_after(std::time::Duration::from_millis(200));
    vault
}

/// A key's secret as the keychain holds it (what a test reads to check a
/// key; the app only reveals with a grant).
pub fn stored_secret(key_id: &str) -> Secret {
    // One store for the process: opening one probes the keychain, which is
    // slower than a copied key's 200 ms on the clipboard.
    static STORE: std::sync::OnceLock<KeychainStore> = std::sync::OnceLock::new();
    STORE
        .get_or_init(|| KeychainStore::open_service("latchkey-test").expect("real keychain"))
        .get(&latchkey_core::store::key_account(key_id))
        .expect("keychain read")
        .expect("secret in keychain")
}

pub fn add_provider(vault: &Vault, service: &Service) -> ProviderView {
    vault
        .add_provider(NewProvider {
            name: "Test service".into(),
            base_url: service.base.clone(),
            admin_token: Secret::new(ADMIN),
            project: "demo".into(),
        })
        .expect("provider added")
}

/// A vault in a new temporary folder (its data in `data/` there),
/// connected to `service`, holding one key made there.
pub struct OneKey {
    pub dir: tempfile::TempDir,
    pub vault: Vault,
    pub provider: ProviderView,
    pub key: latchkey_core::vault::KeyView,
    /// The key's secret, read back from the keychain.
    pub secret: Secret,
}

pub async fn one_key_vault(service: &Service, name: &str) -> OneKey {
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(
        &dir.path().join("data"),
        Arc::new(latchkey_core::clipboard::MemoryClipboard::default()),
    );
    let provider = add_provider(&vault, service);
    let key = vault
        .create_key(new_key(&provider, name))
        .await
        .expect("key");
    let secret = stored_secret(&key.id);
    OneKey {
        dir,
        vault,
        provider,
        key,
        secret,
    }
}

/// Connects catalogue service `service` (its id, e.g. `"cloudflare"`) as
/// `name`, reached at `base_url` (a fake) and signed in with `credential`;
/// no project, region or user.
pub fn add_service(
    vault: &Vault,
    service: &str,
    name: &str,
    base_url: &str,
    credential: &str,
) -> ProviderView {
    vault
        .add_service_provider(latchkey_core::vault::NewServiceProvider {
            service: service.into(),
            name: name.into(),
            base_url: Some(base_url.into()),
            project: None,
            credential: Some(Secret::new(credential)),
            region: None,
            user: None,
        })
        .expect("provider")
}

pub fn new_key(provider: &ProviderView, name: &str) -> NewKey {
    NewKey {
        provider_id: provider.id.clone(),
        name: name.into(),
        scopes: vec!["read".into()],
        expires_in_days: Some(30),
        environment: "dev".into(),
        env_var: "DEMO_API_KEY".into(),
    }
}

/// The audit log's actions, newest first.
pub fn audit_actions(vault: &Vault) -> Vec<String> {
    vault
        .audit_log(100)
        .expect("audit log")
        .into_iter()
        .map(|e| e.action)
        .collect()
}
