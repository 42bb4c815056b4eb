//! The vault: every operation the app and the CLI offer, in one place.
//! It joins the ports (keychain, catalog, providers, clipboard, clock) and
//! keeps local and remote in agreement. This file holds the types, opening
//! and the shared plumbing (catalog, audit, records); `api.rs` is the
//! facade: each of `Vault`'s operations hands the call to the part that
//! does the job: `connections` (services), `views` (listing, lookups,
//! sync), `keys` (create, reveal, copy, revoke, add existing), `details`,
//! `settings` (and the reminder), `activity`, `deploy`, `room`; rotations
//! are in `rotation::driver`, `.env` checks in `envs`, folder scans in `scan`.
//!
//! What it returns never holds a secret, except `reveal_key`, which is
//! audited. A created key reaches the keychain before anything else
//! happens to it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;

use crate::catalog::{
    Actor, AuditEntry, AuditVerification, Catalog, KeyRecord, PendingCreate, ProviderKind,
    ProviderRecord, AUDIT_HEAD_FILE,
};
use crate::clipboard::{ClearTimer, Clipboard, ClipboardGuard};
use crate::clock::{parse_rfc3339, rfc3339, Clock};
use crate::error::{Error, Result};
use crate::http::{check_base_url, HttpPolicy};
use crate::providers::keyservice::check_project;
use crate::providers::{Connector, KeySpec, RemoteKey, Verification};
use crate::reveal::{RevealGrant, RevealGrants};
use crate::rotation::driver::failpoint;
use crate::secret::{Fingerprint, Secret};
use crate::settings::Settings;
use crate::store::{key_account, provider_account, SecretStore};

mod activity;
mod api;
mod connections;
mod deploy;
mod details;
mod health;
mod keys;
mod room;
mod settings;
mod views;

pub use activity::{activity_csv, ActivityRow, ExportFormat};
pub use deploy::DeployedTarget;
pub use details::{KeyDetails, RotationSummary};
pub use health::{Health, UNUSED_DAYS};
pub(crate) use keys::ReadAhead;
pub use room::{describe_in_the_way, KeyInTheWay};
use views::record_from_remote;

/// Days before expiry at which a key gets a badge.
pub const EXPIRY_WARNING_DAYS: i64 = 14;
/// Days after which a key is due for rotation (the default policy).
pub const ROTATION_POLICY_DAYS: i64 = 90;
/// The Demo provider's fixed name and project.
pub const DEMO_NAME: &str = "Demo";
pub const DEMO_PROJECT: &str = "demo";

/// A key's state as shown in lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum KeyStatus {
    Active,
    Expired,
    Revoked,
    /// Known on the service, but its secret is not in this keychain.
    NoLocalSecret,
    /// A rotation's new key, not yet in use: the rotation is unfinished.
    Pending,
    /// Absent from the service's last listing and not confirmed gone (the
    /// service could not be asked about it): not called revoked.
    Missing,
}

/// Expiry badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ExpiryBadge {
    None,
    Soon,
    Expired,
}

/// A key as the UI and CLI list it. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub provider_id: String,
    pub provider_name: String,
    pub preview: String,
    pub scopes: Vec<String>,
    pub environment: String,
    pub env_var: String,
    pub created_at: Option<String>,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub status: KeyStatus,
    pub expiry: ExpiryBadge,
    pub has_secret: bool,
    /// The unfinished rotation this key belongs to (as old or new key).
    pub rotation_id: Option<String>,
    /// Older than the rotation policy, or expiring within 14 days.
    pub rotation_due: bool,
    /// False for a pasted key its service could not be asked about ("not
    /// verified"); every other key is as the service made or listed it.
    pub verified: bool,
    /// An older generation: the key (id) a rotation put in this one's
    /// place. Lists fold these into the newer key's history.
    pub superseded_by: Option<String>,
    /// Revoked, but the service may accept it a while longer (its cache):
    /// "Revoked — waiting for the service to confirm" until a later check
    /// (the next listing) finds it rejected.
    pub revoke_waiting: bool,
}

/// A provider as the UI and CLI list it. Its token stays in the keychain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ProviderView {
    pub id: String,
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: String,
    pub project: String,
    pub is_demo: bool,
    /// Manual providers: where keys are made and revoked by hand.
    pub dashboard_url: String,
}

/// A provider that could not be reached while listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ProviderWarning {
    pub provider_id: String,
    pub provider_name: String,
    pub code: crate::ErrorCode,
    pub message: String,
}

/// Every key, plus the providers that could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct KeyListing {
    pub keys: Vec<KeyView>,
    pub warnings: Vec<ProviderWarning>,
    /// Which keys need attention, by reason.
    pub health: Health,
}

/// A new connection to a catalogue service (`latchkey providers add
/// --service ID`, the app's "Add service").
#[derive(Debug, Default)]
pub struct NewServiceProvider {
    pub service: String,
    pub name: String,
    pub base_url: Option<String>,
    pub project: Option<String>,
    /// The service's management credential, where it needs one.
    pub credential: Option<Secret>,
    /// AWS: the region for regional calls (default `us-east-1`).
    pub region: Option<String>,
    /// AWS: the IAM user whose keys are managed (default the caller's own).
    pub user: Option<String>,
}

/// A new provider connection.
#[derive(Debug)]
pub struct NewProvider {
    pub name: String,
    pub base_url: String,
    pub admin_token: Secret,
    pub project: String,
}

/// A dashboard-only service.
#[derive(Debug, Clone)]
pub struct NewManualProvider {
    pub name: String,
    /// Where a person makes and revokes keys.
    pub dashboard_url: String,
    /// Answers 2xx for a working key (sent as a bearer token), 401/403 for
    /// a rejected one.
    pub verify_url: String,
}

/// The day's reminder of keys due for rotation. It counts as given only
/// once [`Vault::reminder_shown`] records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationReminder {
    pub count: usize,
    pub body: String,
    /// The calendar day (UTC) it is for.
    pub day: String,
}

/// A key to create on a provider.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub provider_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_in_days: Option<u32>,
    pub environment: String,
    pub env_var: String,
}

/// A key the user already holds.
#[derive(Debug)]
pub struct ExistingKey {
    pub provider_id: String,
    pub name: String,
    pub secret: Secret,
    pub environment: String,
    pub env_var: String,
    /// The person chose "Replace": the paste may take the place of the
    /// secret Latchkey already holds for the same key on the service.
    pub replace: bool,
}

/// A part of the vault: one job's operations (keys, connections, views,
/// rotations, …) over the vault's shared state, which it reaches through
/// `Deref`. `Vault`'s own methods (`api.rs`) hand each call to its part.
macro_rules! parts {
    ($($(#[$doc:meta])* $part:ident => $accessor:ident,)*) => {$(
        $(#[$doc])*
        pub(crate) struct $part<'v>(&'v Vault);

        impl std::ops::Deref for $part<'_> {
            type Target = Vault;
            fn deref(&self) -> &Vault {
                self.0
            }
        }

        impl Vault {
            pub(crate) fn $accessor(&self) -> $part<'_> {
                $part(self)
            }
        }
    )*};
}

parts! {
    /// Services: add, test, connect (`connections.rs`).
    ConnectionOps => connection_ops,
    /// Keys: create, reveal, copy, revoke, add existing (`keys.rs`).
    KeyOps => key_ops,
    /// The keys list, lookups and sync (`views.rs`).
    ViewOps => view_ops,
    /// A key's details (`details.rs`).
    DetailOps => detail_ops,
    /// Settings and the reminder (`settings.rs`).
    SettingOps => setting_ops,
    /// The audit log as Activity (`activity.rs`).
    ActivityOps => activity_ops,
    /// Deploying a key outside a rotation (`deploy.rs`).
    DeployOps => deploy_ops,
    /// Keys in the way of a new one (`room.rs`).
    RoomOps => room_ops,
    /// `.env` checks and imports (`envs.rs`).
    EnvOps => env_ops,
    /// Finding where keys are used (`scan.rs`).
    ScanOps => scan_ops,
    /// Rotations: plan, run, resume, roll back (`rotation::driver`).
    RotationOps => rotation_ops,
}

/// Latchkey's vault.
pub struct Vault {
    catalog: Mutex<Catalog>,
    /// Where the catalog, rotation locks and rotation backups live.
    data_dir: PathBuf,
    pub(crate) store: Arc<dyn SecretStore>,
    pub(crate) clipboard: ClipboardGuard,
    clock: Arc<dyn Clock>,
    http: HttpPolicy,
    /// Overrides the Settings' clipboard timeout (tests, the environment).
    clear_after_override: Option<Duration>,
    /// Rotations being run by this process.
    running: Mutex<HashSet<String>>,
    connections: Mutex<HashMap<String, Arc<dyn Connector>>>,
    /// Connection tokens read from the keychain, by provider id: a keychain
    /// read is a D-Bus round trip (12-20 ms under gnome-keyring), and a
    /// rotation with remote targets opens each one several times. Cleared
    /// with the connections (`forget_connections`).
    tokens: Mutex<HashMap<String, Secret>>,
    /// One-time reveal grants handed out by `create_key_revealable`.
    reveal_grants: RevealGrants,
}

/// A key just created, with the one grant that lets it be revealed.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CreatedKey {
    pub key: KeyView,
    /// Good for one `reveal_key` of this key within two minutes.
    pub reveal_grant: RevealGrant,
}

/// Checks a display name: 1 to 64 characters, no control characters.
pub fn check_name(field: &str, name: &str) -> Result<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 64 {
        return Err(Error::invalid(field, "Enter a name of 1 to 64 characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            "Names cannot contain control characters (tabs, newlines, escapes)",
        ));
    }
    Ok(trimmed.to_owned())
}

pub(crate) fn check_env_var(env_var: &str) -> Result<String> {
    let v = env_var.trim();
    let ok = v.is_empty()
        || (v.len() <= 128
            && !v.starts_with(|c: char| c.is_ascii_digit())
            && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    if ok {
        Ok(v.to_owned())
    } else {
        Err(Error::invalid(
            "env_var",
            "An environment variable name is letters, digits and '_', not starting with a digit",
        ))
    }
}

impl Vault {
    /// Opens the vault whose catalog lives in `data_dir`.
    pub fn open(
        data_dir: &Path,
        store: Arc<dyn SecretStore>,
        clipboard: Arc<dyn Clipboard>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| Error::Database(format!("cannot create {}: {e}", data_dir.display())))?;
        let mut catalog = Catalog::open(&data_dir.join("catalog.db"))?;
        // The fingerprint and audit keys are made on a folder's first open:
        // one process at a time, so two first opens agree on them.
        let held = crate::store::MakeOnceLock::take(data_dir)?;
        key_fingerprints(&catalog, store.as_ref(), &held)?;
        catalog.open_audit(
            store.as_ref(),
            &held,
            &data_dir.join(AUDIT_HEAD_FILE),
            &rfc3339(clock.now()),
        )?;
        drop(held);
        Ok(Self {
            catalog: Mutex::new(catalog),
            data_dir: data_dir.to_path_buf(),
            store,
            clipboard: ClipboardGuard::new(clipboard),
            clock,
            http: HttpPolicy::default(),
            clear_after_override: None,
            running: Mutex::new(HashSet::new()),
            connections: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            reveal_grants: RevealGrants::default(),
        })
    }

    /// Names who writes this vault's audit rows (the app, the CLI).
    pub fn set_actor(&mut self, actor: Actor) {
        self.catalog().set_audit_actor(actor);
    }

    /// Fixes how long a copied key stays on the clipboard, whatever the
    /// Settings say (`LATCHKEY_CLIPBOARD_CLEAR_SECS`, tests).
    pub fn set_clear_after(&mut self, after: Duration) {
        self.clear_after_override = Some(after);
    }

    pub fn set_http_policy(&mut self, policy: HttpPolicy) {
        self.http = policy;
    }

    /// The catalog; waiting for another thread's use of it (and SQLite's
    /// own busy wait behind it) does not hold up an async worker.
    pub(crate) fn catalog(&self) -> MutexGuard<'_, Catalog> {
        match self.catalog.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                crate::blocking::wait(|| self.catalog.lock().unwrap_or_else(|p| p.into_inner()))
            }
        }
    }

    pub(crate) fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub(crate) fn running(&self) -> MutexGuard<'_, HashSet<String>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A key's record, or "not found".
    pub(crate) fn key_record(&self, id: &str) -> Result<KeyRecord> {
        self.catalog()
            .key(id)?
            .ok_or_else(|| Error::NotFound("That key".into()))
    }

    /// A key's secret from the keychain.
    pub(crate) fn secret_of(&self, key_id: &str) -> Result<Secret> {
        self.store
            .get(&key_account(key_id))?
            .ok_or(Error::SecretMissing)
    }

    pub(crate) fn now(&self) -> String {
        rfc3339(self.clock.now())
    }

    pub(crate) fn audit(
        &self,
        action: &str,
        key_id: Option<&str>,
        provider_id: Option<&str>,
        detail: &str,
    ) -> Result<()> {
        let now = self.now();
        self.catalog()
            .append_audit(&now, action, key_id, provider_id, detail)
    }

    // ---- providers ----

    /// The audit log, newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        self.catalog().audit(limit)
    }

    /// Checks the audit log: every row's MAC, no row missing, and the log
    /// against its head file.
    pub fn verify_audit(&self) -> Result<AuditVerification> {
        self.catalog().verify_audit()
    }

    /// Direct catalog access for bulk inserts (benchmarks, imports).
    pub fn with_catalog<T>(&self, f: impl FnOnce(&mut Catalog) -> Result<T>) -> Result<T> {
        f(&mut self.catalog())
    }
}

/// The keychain entry holding the vault's fingerprint key.
const FINGERPRINT_KEY_ACCOUNT: &str = "vault:fingerprint-key";
/// The catalog setting saying its fingerprints are keyed.
const FINGERPRINT_SCHEME: (&str, &str) = ("fingerprint_scheme", "hmac-sha256");

/// Keys this process's fingerprints with the vault's key (made on first
/// use, kept in the keychain: the app and the CLI share it), and moves a
/// catalog written with plain SHA-256 fingerprints over, once: each key
/// whose secret is in the keychain gets its keyed fingerprint, the others
/// none (a plain hash of a key is never kept).
fn key_fingerprints(
    catalog: &Catalog,
    store: &dyn SecretStore,
    held: &crate::store::MakeOnceLock,
) -> Result<()> {
    let new_key = || Secret::new(hex::encode(rand::random::<[u8; 32]>()));
    // One key for every data folder: made under the user's lock, so two
    // folders opened for the first time at once agree on it too.
    let shared = crate::store::MakeOnceLock::take_shared();
    let lock = shared.as_ref().unwrap_or(held);
    let stored = crate::store::get_or_make(store, lock, FINGERPRINT_KEY_ACCOUNT, None, new_key)?;
    let key = hex::decode(stored.expose_secret().trim()).ok();
    let key: [u8; 32] = match key.and_then(|k| <[u8; 32]>::try_from(k).ok()) {
        Some(k) => k,
        None => {
            // An unreadable entry is replaced, as a missing one is made.
            let k: [u8; 32] = rand::random();
            store.put(FINGERPRINT_KEY_ACCOUNT, &Secret::new(hex::encode(k)))?;
            k
        }
    };
    drop(shared);
    crate::secret::set_fingerprint_key(key);
    let (name, scheme) = FINGERPRINT_SCHEME;
    if catalog.setting(name)?.as_deref() == Some(scheme) {
        return fill_secret_lengths(catalog, store);
    }
    for k in catalog
        .keys()?
        .into_iter()
        .filter(|k| k.fingerprint.is_some())
    {
        let secret = if k.has_secret {
            store.get(&key_account(&k.id))?
        } else {
            None
        };
        let keyed = secret.as_ref().map(Secret::fingerprint);
        catalog.set_fingerprint(&k.id, keyed.as_ref().map(Fingerprint::as_str))?;
        // Its length too, while the secret is read: the fill below then
        // reads no key a second time.
        if let Some(secret) = &secret {
            catalog.set_secret_len(&k.id, secret.stored_len())?;
        }
    }
    catalog.set_setting(name, scheme)?;
    fill_secret_lengths(catalog, store)
}

/// The catalog setting saying every key's secret length was filled in.
const SECRET_LENGTHS: (&str, &str) = ("secret_lengths", "filled");

/// Fills in, once, the secret length of each key from before schema 10
/// whose secret the keychain holds (the folder scan's length filter; a key
/// left without one only makes scans read every word).
fn fill_secret_lengths(catalog: &Catalog, store: &dyn SecretStore) -> Result<()> {
    let (name, done) = SECRET_LENGTHS;
    if catalog.setting(name)?.as_deref() == Some(done) {
        return Ok(());
    }
    for k in catalog
        .keys()?
        .into_iter()
        .filter(|k| k.has_secret && k.fingerprint.is_some() && k.secret_len.is_none())
    {
        if let Some(secret) = store.get(&key_account(&k.id))? {
            catalog.set_secret_len(&k.id, secret.stored_len())?;
        }
    }
    catalog.set_setting(name, done)
}
