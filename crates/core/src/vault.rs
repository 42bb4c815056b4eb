//! The vault: every operation the app and the CLI offer, in one place.
//! It joins the ports (keychain, catalog, providers, clipboard, clock) and
//! keeps local and remote in agreement.
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
use crate::providers::keyservice::{check_project, KeyserviceProvider};
use crate::providers::manual::ManualProvider;
use crate::providers::{KeySpec, Provider, RemoteKey, Verification};
use crate::reveal::{RevealGrant, RevealGrants};
use crate::rotation::driver::failpoint;
use crate::secret::{Fingerprint, Secret};
use crate::settings::Settings;
use crate::store::{key_account, provider_account, SecretStore};

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

/// The day's reminder of keys due for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationReminder {
    pub count: usize,
    pub body: String,
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
    connections: Mutex<HashMap<String, Arc<dyn Provider>>>,
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
        key_fingerprints(&catalog, store.as_ref())?;
        catalog.open_audit(
            store.as_ref(),
            &data_dir.join(AUDIT_HEAD_FILE),
            &rfc3339(clock.now()),
        )?;
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

    /// How long a copied key stays on the clipboard: the override, else the
    /// Settings.
    pub fn clear_after(&self) -> Result<Duration> {
        match self.clear_after_override {
            Some(after) => Ok(after),
            None => Ok(Duration::from_secs(u64::from(
                self.settings()?.clipboard_clear_secs,
            ))),
        }
    }

    /// Whether the clipboard timeout is fixed by the environment, so the
    /// Settings' value does not apply.
    pub fn clear_after_overridden(&self) -> bool {
        self.clear_after_override.is_some()
    }

    /// The user's settings (defaults for anything never set).
    pub fn settings(&self) -> Result<Settings> {
        Settings::load(&self.catalog())
    }

    /// Checks and stores the settings, and audits the change.
    pub fn update_settings(&self, settings: Settings) -> Result<Settings> {
        let before = self.settings()?;
        self.catalog().batch(|catalog| settings.save(catalog))?;
        if before != settings {
            self.audit(
                "settings",
                None,
                None,
                &format!(
                    "settings: clipboard clears after {} s, keys due for rotation after {} days, reminders {}",
                    settings.clipboard_clear_secs,
                    settings.rotation_policy_days,
                    settings.reminders_word()
                ),
            )?;
        }
        Ok(settings)
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

    pub(crate) fn provider_record(&self, id: &str) -> Result<ProviderRecord> {
        self.catalog()
            .provider(id)?
            .ok_or_else(|| Error::NotFound("That provider".into()))
    }

    /// A connection to a provider. Connections are kept for the vault's
    /// life (a keychain read costs milliseconds), keyed by provider id and
    /// URL; a changed token or URL makes a new one.
    pub(crate) fn connect(&self, record: &ProviderRecord) -> Result<Arc<dyn Provider>> {
        let cache_key = format!("{}|{}|{}", record.id, record.base_url, record.project);
        if let Some(c) = self.connections().get(&cache_key) {
            return Ok(c.clone());
        }
        let token = match record.kind {
            ProviderKind::Manual => Secret::new(""),
            ProviderKind::Keyservice => self
                .store
                .get(&provider_account(&record.id))?
                .ok_or(Error::SecretMissing)?,
        };
        let connection: Arc<dyn Provider> = match record.kind {
            ProviderKind::Keyservice => Arc::new(KeyserviceProvider::new(
                &record.base_url,
                &record.project,
                token,
                self.http.clone(),
            )?),
            ProviderKind::Manual => Arc::new(ManualProvider::new(
                &record.base_url,
                &record.dashboard_url,
                self.http.clone(),
            )?),
        };
        self.connections().insert(cache_key, connection.clone());
        Ok(connection)
    }

    fn connections(&self) -> MutexGuard<'_, HashMap<String, Arc<dyn Provider>>> {
        self.connections.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets cached connections (a provider's token changed).
    fn forget_connections(&self) {
        self.connections().clear();
    }

    /// Adds a reference key service connection; the token goes to the keychain.
    pub fn add_provider(&self, new: NewProvider) -> Result<ProviderView> {
        let name = check_name("name", &new.name)?;
        check_base_url(&new.base_url)?;
        check_project(new.project.trim())?;
        if new.admin_token.expose_secret().trim().is_empty() {
            return Err(Error::invalid(
                "admin_token",
                "Enter the service's admin token",
            ));
        }
        let record = ProviderRecord {
            id: uuid::Uuid::new_v4().to_string(),
            kind: ProviderKind::Keyservice,
            name,
            base_url: new.base_url.trim().trim_end_matches('/').to_owned(),
            project: new.project.trim().to_owned(),
            is_demo: false,
            created_at: self.now(),
            dashboard_url: String::new(),
        };
        self.store.put(
            &provider_account(&record.id),
            &Secret::new(new.admin_token.expose_secret().trim()),
        )?;
        if let Err(e) = self.catalog().insert_provider(&record) {
            let _ = self.store.delete(&provider_account(&record.id));
            return Err(e);
        }
        self.audit(
            "provider_add",
            None,
            Some(&record.id),
            &format!("added provider \"{}\"", record.name),
        )?;
        Ok(provider_view(&record))
    }

    /// Adds a dashboard-only service: Latchkey keeps and deploys its keys and
    /// checks them against `verify_url`; creating and revoking are by hand.
    pub fn add_manual_provider(&self, new: NewManualProvider) -> Result<ProviderView> {
        let name = check_name("name", &new.name)?;
        let verify_url = check_base_url(new.verify_url.trim())
            .map_err(|_| Error::invalid("verify_url", "Enter the https URL that checks a key"))?;
        let dashboard_url = check_base_url(new.dashboard_url.trim()).map_err(|_| {
            Error::invalid(
                "dashboard_url",
                "Enter the https URL of the service's dashboard",
            )
        })?;
        let record = ProviderRecord {
            id: uuid::Uuid::new_v4().to_string(),
            kind: ProviderKind::Manual,
            name,
            base_url: verify_url.to_string(),
            project: String::new(),
            is_demo: false,
            created_at: self.now(),
            dashboard_url: dashboard_url.to_string(),
        };
        self.catalog().insert_provider(&record)?;
        self.audit(
            "provider_add",
            None,
            Some(&record.id),
            &format!("added manual provider \"{}\"", record.name),
        )?;
        Ok(provider_view(&record))
    }

    /// Registers (or re-points) the built-in Demo provider at `base_url`.
    pub fn ensure_demo_provider(
        &self,
        base_url: &str,
        admin_token: &Secret,
    ) -> Result<ProviderView> {
        let existing = self.catalog().demo_provider()?;
        let record = match existing {
            Some(record) => {
                self.catalog().update_provider_url(&record.id, base_url)?;
                ProviderRecord {
                    base_url: base_url.to_owned(),
                    ..record
                }
            }
            None => {
                let record = ProviderRecord {
                    id: uuid::Uuid::new_v4().to_string(),
                    kind: ProviderKind::Keyservice,
                    name: DEMO_NAME.into(),
                    base_url: base_url.to_owned(),
                    project: DEMO_PROJECT.into(),
                    is_demo: true,
                    created_at: self.now(),
                    dashboard_url: String::new(),
                };
                self.catalog().insert_provider(&record)?;
                record
            }
        };
        self.store.put(&provider_account(&record.id), admin_token)?;
        self.forget_connections();
        Ok(provider_view(&record))
    }

    /// The Demo provider's admin token, generated and kept in the keychain.
    pub fn demo_admin_token(&self) -> Result<Secret> {
        let account = "demo:admin-token";
        if let Some(token) = self.store.get(account)? {
            return Ok(token);
        }
        let token = Secret::new(format!("lkdemo_{}", uuid::Uuid::new_v4().simple()));
        self.store.put(account, &token)?;
        Ok(token)
    }

    pub fn providers(&self) -> Result<Vec<ProviderView>> {
        Ok(self
            .catalog()
            .providers()?
            .iter()
            .map(provider_view)
            .collect())
    }

    /// Tests a provider's connection with an authenticated call.
    pub async fn test_provider(&self, provider_id: &str) -> Result<()> {
        let record = self.provider_record(provider_id)?;
        self.connect(&record)?.test().await
    }

    // ---- keys ----

    fn view(&self, record: &KeyRecord, providers: &[ProviderRecord], policy_days: u32) -> KeyView {
        let now = self.clock.now();
        let expires = record.expires_at.as_deref().and_then(parse_rfc3339);
        let expiry = match expires {
            Some(at) if at <= now => ExpiryBadge::Expired,
            Some(at) if at - now <= time::Duration::days(EXPIRY_WARNING_DAYS) => ExpiryBadge::Soon,
            _ => ExpiryBadge::None,
        };
        let status = if record.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if record.pending_rotation.is_some() {
            KeyStatus::Pending
        } else if expiry == ExpiryBadge::Expired {
            KeyStatus::Expired
        } else if !record.has_secret {
            KeyStatus::NoLocalSecret
        } else {
            KeyStatus::Active
        };
        KeyView {
            id: record.id.clone(),
            name: record.name.clone(),
            provider_id: record.provider_id.clone(),
            provider_name: providers
                .iter()
                .find(|p| p.id == record.provider_id)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            preview: record.preview.clone(),
            scopes: record.scopes.clone(),
            environment: record.environment.clone(),
            env_var: record.env_var.clone(),
            created_at: record.created_at.clone(),
            expires_at: record.expires_at.clone(),
            last_used_at: record.last_used_at.clone(),
            revoked_at: record.revoked_at.clone(),
            status,
            expiry: if record.revoked_at.is_some() {
                ExpiryBadge::None
            } else {
                expiry
            },
            has_secret: record.has_secret,
            rotation_id: record.pending_rotation.clone(),
            rotation_due: record.revoked_at.is_none()
                && record.pending_rotation.is_none()
                && (expiry != ExpiryBadge::None
                    || record
                        .created_at
                        .as_deref()
                        .and_then(parse_rfc3339)
                        .is_some_and(|at| now - at > time::Duration::days(i64::from(policy_days)))),
            verified: true,
        }
    }

    /// Marks keys held by an unfinished rotation (as its old key).
    fn attach_rotations(&self, views: &mut [KeyView]) -> Result<()> {
        let open: Vec<(String, String)> = self
            .catalog()
            .rotations()?
            .into_iter()
            .filter(|r| !r.state.is_terminal())
            .map(|r| (r.old_key_id, r.id))
            .collect();
        for v in views.iter_mut() {
            if let Some((_, id)) = open.iter().find(|(k, _)| *k == v.id) {
                v.rotation_id = Some(id.clone());
            }
        }
        Ok(())
    }

    pub(crate) fn key_record(&self, id: &str) -> Result<KeyRecord> {
        self.catalog()
            .key(id)?
            .ok_or_else(|| Error::NotFound("That key".into()))
    }

    /// One key, as listed.
    pub fn key(&self, id: &str) -> Result<KeyView> {
        let record = self.key_record(id)?;
        let providers = self.catalog().providers()?;
        let policy = self.settings()?.rotation_policy_days;
        let mut views = [self.view(&record, &providers, policy)];
        self.attach_rotations(&mut views)?;
        self.attach_marks(&mut views)?;
        let [view] = views;
        Ok(view)
    }

    /// The key a person means by `name`: an unrevoked key of that name, else
    /// the key a finished rotation made for it (`name (rotation …)`), else a
    /// revoked one; the newest when one provider has several. A name found
    /// on several providers needs `provider` (a provider's name).
    pub fn find_key(&self, name: &str, provider: Option<&str>) -> Result<KeyView> {
        let keys: Vec<KeyView> = self
            .local_keys()?
            .into_iter()
            .filter(|k| provider.is_none_or(|p| k.provider_name == p))
            .collect();
        let rotated = format!("{name} (rotation ");
        let tiers: [&dyn Fn(&KeyView) -> bool; 3] = [
            &|k| k.name == name && !matches!(k.status, KeyStatus::Revoked | KeyStatus::Pending),
            &|k| {
                k.name.starts_with(&rotated)
                    && !matches!(k.status, KeyStatus::Revoked | KeyStatus::Pending)
            },
            &|k| k.name == name,
        ];
        for tier in tiers {
            let mut found: Vec<&KeyView> = keys.iter().filter(|k| tier(k)).collect();
            if found.is_empty() {
                continue;
            }
            let mut providers: Vec<&str> = found.iter().map(|k| k.provider_name.as_str()).collect();
            providers.sort_unstable();
            providers.dedup();
            if providers.len() > 1 {
                return Err(Error::invalid(
                    "name",
                    format!(
                        "\"{name}\" names keys on several providers ({}); add --provider NAME",
                        providers.join(", ")
                    ),
                ));
            }
            found.sort_by(|a, b| b.created_at.cmp(&a.created_at));
            return Ok(found[0].clone());
        }
        Err(Error::NotFound(format!("A key named \"{name}\"")))
    }

    /// A provider by its name.
    pub fn find_provider(&self, name: &str) -> Result<ProviderView> {
        self.providers()?
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| Error::NotFound(format!("A provider named \"{name}\"")))
    }

    /// Keys from the catalog only (no network).
    pub fn local_keys(&self) -> Result<Vec<KeyView>> {
        let catalog = self.catalog();
        let providers = catalog.providers()?;
        let keys = catalog.keys()?;
        let policy = Settings::load(&catalog)?.rotation_policy_days;
        drop(catalog);
        let mut views: Vec<KeyView> = keys
            .iter()
            .map(|k| self.view(k, &providers, policy))
            .collect();
        self.attach_rotations(&mut views)?;
        self.attach_marks(&mut views)?;
        Ok(views)
    }

    /// Marks keys missing from their service's last listing, and pasted
    /// keys the service could not be asked about.
    fn attach_marks(&self, views: &mut [KeyView]) -> Result<()> {
        let marks = self.catalog().key_marks()?;
        for (id, missing, unverified) in marks {
            let Some(v) = views.iter_mut().find(|v| v.id == id) else {
                continue;
            };
            if missing && matches!(v.status, KeyStatus::Active | KeyStatus::NoLocalSecret) {
                v.status = KeyStatus::Missing;
            }
            v.verified = !unverified;
        }
        Ok(())
    }

    /// Brings the catalog in line with every provider, then lists all keys.
    /// A provider that cannot be reached is reported, not fatal.
    pub async fn list_keys(&self) -> Result<KeyListing> {
        // Creates a crash cut short are settled first; what cannot be
        // settled now (a service down) waits for the next sync.
        let _ = self.recover_creates().await;
        let providers = self.catalog().providers()?;
        let mut warnings = Vec::new();
        for provider in &providers {
            if let Err(e) = self.sync_provider(provider).await {
                warnings.push(ProviderWarning {
                    provider_id: provider.id.clone(),
                    provider_name: provider.name.clone(),
                    code: e.code(),
                    message: e.to_string(),
                });
            }
        }
        Ok(KeyListing {
            keys: self.local_keys()?,
            warnings,
        })
    }

    async fn sync_provider(&self, provider: &ProviderRecord) -> Result<()> {
        let connection = self.connect(provider)?;
        let remote = connection.list().await?;
        let now = self.now();
        let absent: Vec<KeyRecord> = {
            let catalog = self.catalog();
            for r in &remote {
                match catalog.key_by_remote(&provider.id, &r.remote_id)? {
                    Some(local) => {
                        let merged = merge_remote(local.clone(), r);
                        if merged != local {
                            catalog.update_remote_fields(&merged)?;
                        }
                        if r.revoked_at.is_none() {
                            // Listed and live: a mark we only inferred goes.
                            catalog.clear_inferred(&local.id)?;
                        }
                    }
                    None => catalog.insert_key(&record_from_remote(&provider.id, r, None))?,
                }
            }
            catalog
                .keys()?
                .into_iter()
                .filter(|k| k.provider_id == provider.id && k.revoked_at.is_none())
                .filter(|k| {
                    k.remote_id
                        .as_ref()
                        .is_some_and(|id| !remote.iter().any(|r| &r.remote_id == id))
                })
                .collect()
        };
        // Absent is not revoked: ask the service about each one.
        for local in absent {
            let remote_id = local.remote_id.clone().unwrap_or_default();
            match connection.get(&remote_id).await {
                Ok(None) => self.catalog().set_revoked_inferred(&local.id, &now)?,
                Ok(Some(r)) => {
                    let merged = merge_remote(local.clone(), &r);
                    let catalog = self.catalog();
                    catalog.update_remote_fields(&merged)?;
                    if r.revoked_at.is_none() {
                        catalog.clear_inferred(&local.id)?;
                    }
                }
                Err(_) => self.catalog().set_missing(&local.id, &now)?,
            }
        }
        Ok(())
    }

    /// Creates a key on its provider and stores it in the keychain at once.
    pub async fn create_key(&self, new: NewKey) -> Result<KeyView> {
        let name = check_name("name", &new.name)?;
        let env_var = check_env_var(&new.env_var)?;
        if let Some(days) = new.expires_in_days {
            if !(1..=3650).contains(&days) {
                return Err(Error::invalid(
                    "expires_in_days",
                    "Expiry is 1 to 3650 days",
                ));
            }
        }
        let provider = self.provider_record(&new.provider_id)?;
        let connection = self.connect(&provider)?;
        let pending = PendingCreate {
            id: uuid::Uuid::new_v4().to_string(),
            provider_id: provider.id.clone(),
            name,
            scopes: new.scopes.clone(),
            expires_in_days: new.expires_in_days,
            environment: new.environment.trim().to_owned(),
            env_var,
            started_at: self.now(),
        };
        // Journaled before the service hears of it: a crash between the
        // service's answer and the keychain leaves a row the next sync
        // settles (adopt or revoke), never a live key nobody holds.
        self.catalog().begin_create(&pending)?;
        let created = connection
            .create(
                &pending_spec(&pending),
                &create_idempotency_key(&pending.id),
            )
            .await;
        let (remote, secret) = match created {
            Ok(created) => created,
            Err(e) => {
                // Refused: nothing was made. Anything else (a lost answer)
                // stays journaled for the next sync to settle.
                if refused(&e) {
                    self.catalog().drop_create(&pending.id)?;
                }
                return Err(e);
            }
        };
        failpoint("create_key::after_create");
        let record = self
            .keep_created(connection.as_ref(), &provider, &pending, &remote, &secret)
            .await?;
        let providers = self.catalog().providers()?;
        let policy = self.settings()?.rotation_policy_days;
        Ok(self.view(&record, &providers, policy))
    }

    /// Keeps a key the service made for `pending`: secret to the keychain,
    /// then the record and the create's close in one commit. A key already
    /// revoked, or one the keychain refuses, is taken back on the service.
    async fn keep_created(
        &self,
        connection: &dyn Provider,
        provider: &ProviderRecord,
        pending: &PendingCreate,
        remote: &RemoteKey,
        secret: &Secret,
    ) -> Result<KeyRecord> {
        if remote.revoked_at.is_some() {
            self.catalog().drop_create(&pending.id)?;
            return Err(Error::ProviderConflict(
                "the service answered with a key that is already revoked; create it again".into(),
            ));
        }
        if let Err(e) = self.store.put(&key_account(&pending.id), secret) {
            // Nobody could ever use a key we cannot keep: take it back.
            if connection.revoke(&remote.remote_id).await.is_ok() {
                self.catalog().drop_create(&pending.id)?;
            }
            return Err(e);
        }
        let mut record = record_from_remote(&provider.id, remote, Some(secret));
        record.id = pending.id.clone();
        record.environment = pending.environment.clone();
        record.env_var = pending.env_var.clone();
        self.catalog().finish_create(&record)?;
        self.audit(
            "create",
            Some(&record.id),
            Some(&provider.id),
            &format!("created \"{}\" on {}", record.name, provider.name),
        )?;
        Ok(record)
    }

    /// Settles creates a crash cut short: each is replayed under its own
    /// idempotency key and kept (the secret was never stored), or, when
    /// the service can no longer replay it, the keys it may have made are
    /// revoked. Failures are left for the next sync.
    pub async fn recover_creates(&self) -> Result<()> {
        let pending = self.catalog().pending_creates()?;
        for create in pending {
            if self.catalog().key(&create.id)?.is_some() {
                self.catalog().drop_create(&create.id)?;
                continue;
            }
            let provider = self.provider_record(&create.provider_id)?;
            let connection = self.connect(&provider)?;
            let replay = connection
                .create(&pending_spec(&create), &create_idempotency_key(&create.id))
                .await;
            match replay {
                Ok((remote, secret)) => {
                    self.keep_created(connection.as_ref(), &provider, &create, &remote, &secret)
                        .await?;
                    self.audit(
                        "recover",
                        Some(&create.id),
                        Some(&provider.id),
                        &format!("kept \"{}\", created before Latchkey stopped", create.name),
                    )?;
                }
                Err(Error::ProviderConflict(_)) => {
                    // Made, but not replayable: revoke what this create may
                    // have left (its name, made since it started, unknown here).
                    let listed = connection.list().await?;
                    for r in listed.iter().filter(|r| {
                        r.name == create.name
                            && r.revoked_at.is_none()
                            && r.created_at.as_deref() >= Some(create.started_at.as_str())
                    }) {
                        if self
                            .catalog()
                            .key_by_remote(&provider.id, &r.remote_id)?
                            .is_some_and(|k| k.has_secret)
                        {
                            continue;
                        }
                        connection.revoke(&r.remote_id).await?;
                        self.audit(
                            "revoke",
                            None,
                            Some(&provider.id),
                            &format!("revoked \"{}\" ({}), created before Latchkey stopped and never stored", r.name, r.remote_id),
                        )?;
                    }
                    self.catalog().drop_create(&create.id)?;
                }
                Err(e) if refused(&e) => self.catalog().drop_create(&create.id)?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    pub(crate) fn secret_of(&self, key_id: &str) -> Result<Secret> {
        self.store
            .get(&key_account(key_id))?
            .ok_or(Error::SecretMissing)
    }

    /// Creates a key (as [`create_key`](Self::create_key)) and hands out the
    /// one grant that lets the show-once panel reveal it.
    pub async fn create_key_revealable(&self, new: NewKey) -> Result<CreatedKey> {
        let key = self.create_key(new).await?;
        let reveal_grant = self.reveal_grants.issue(&key.id, self.clock.now());
        Ok(CreatedKey { key, reveal_grant })
    }

    /// The one audited way a key leaves Rust for display: only with the
    /// unused, unexpired grant its creation handed out. A refusal is
    /// audited too.
    pub fn reveal_key(&self, key_id: &str, grant: &RevealGrant) -> Result<Secret> {
        let record = self.key_record(key_id)?;
        if !self.reveal_grants.redeem(grant, key_id, self.clock.now()) {
            self.audit(
                "reveal_refused",
                Some(key_id),
                Some(&record.provider_id),
                &format!(
                    "refused to reveal \"{}\" without a valid grant",
                    record.name
                ),
            )?;
            return Err(Error::RevealNotAllowed);
        }
        let secret = self.secret_of(key_id)?;
        self.audit(
            "reveal",
            Some(key_id),
            Some(&record.provider_id),
            &format!("revealed \"{}\"", record.name),
        )?;
        Ok(secret)
    }

    /// Copies a key to the clipboard; it is cleared after the timeout. The
    /// copy is audited before the clipboard is set (a failed one after).
    pub fn copy_key(&self, key_id: &str) -> Result<ClearTimer> {
        let record = self.key_record(key_id)?;
        let secret = self.secret_of(key_id)?;
        let after = self.clear_after()?;
        self.audit(
            "copy",
            Some(key_id),
            Some(&record.provider_id),
            &format!(
                "copied \"{}\" (clears in {} s)",
                record.name,
                after.as_secs()
            ),
        )?;
        match self.clipboard.copy(&secret, after) {
            Ok(timer) => Ok(timer),
            Err(e) => {
                let _ = self.audit(
                    "copy_failed",
                    Some(key_id),
                    Some(&record.provider_id),
                    &format!("could not copy \"{}\" ({})", record.name, e.code()),
                );
                Err(e)
            }
        }
    }

    /// Revokes a key on the service and confirms the service rejects it
    /// (with its secret when we hold it, else by the service's list).
    pub(crate) async fn revoke_confirmed(
        &self,
        connection: &dyn Provider,
        record: &KeyRecord,
    ) -> Result<()> {
        if !connection.capabilities().revoke {
            // Revoked by hand in the dashboard: confirm the service agrees.
            let secret = self.store.get(&key_account(&record.id))?;
            let rejected = match secret {
                Some(secret) => matches!(
                    connection.verify(&secret).await?,
                    Verification::Rejected { .. }
                ),
                None => false,
            };
            if !rejected {
                let url = self.provider_record(&record.provider_id)?.dashboard_url;
                return Err(Error::ByHand(format!(
                    "Revoke \"{}\" in the service's dashboard ({url})",
                    record.name
                )));
            }
            return self.catalog().set_revoked(&record.id, &self.now());
        }
        let remote_id = record.remote_id.clone().ok_or_else(|| {
            Error::invalid("key", "This key is not linked to a key on the service")
        })?;
        connection.revoke(&remote_id).await?;
        let confirmed = match self.store.get(&key_account(&record.id))? {
            Some(secret) => matches!(
                connection.verify(&secret).await?,
                Verification::Rejected { .. }
            ),
            None => connection
                .list()
                .await?
                .iter()
                .any(|r| r.remote_id == remote_id && r.revoked_at.is_some()),
        };
        if !confirmed {
            self.audit(
                "revoke_unconfirmed",
                Some(&record.id),
                Some(&record.provider_id),
                &format!("\"{}\" still accepted", record.name),
            )?;
            return Err(Error::RevokeNotConfirmed);
        }
        self.catalog().set_revoked(&record.id, &self.now())
    }

    /// Revokes a key on its service, then confirms the service rejects it.
    pub async fn revoke_key(&self, key_id: &str) -> Result<KeyView> {
        let record = self.key_record(key_id)?;
        if let Some(open) = self.catalog().open_rotation_for_key(key_id)? {
            return Err(Error::RotationInProgress(open));
        }
        let provider = self.provider_record(&record.provider_id)?;
        let connection = self.connect(&provider)?;
        self.revoke_confirmed(connection.as_ref(), &record).await?;
        self.audit(
            "revoke",
            Some(key_id),
            Some(&provider.id),
            &format!("revoked \"{}\"; the service now rejects it", record.name),
        )?;
        self.key(key_id)
    }

    /// Brings a key the user already holds under management, deduplicated by
    /// fingerprint and linked to its key on the service when it is found.
    pub async fn add_existing_key(&self, existing: ExistingKey) -> Result<KeyView> {
        let name = check_name("name", &existing.name)?;
        let env_var = check_env_var(&existing.env_var)?;
        let secret = Secret::new(existing.secret.expose_secret().trim());
        if secret.is_empty() || secret.expose_secret().chars().any(char::is_control) {
            return Err(Error::invalid(
                "secret",
                "Paste the key itself, without spaces or line breaks",
            ));
        }
        let fingerprint = secret.fingerprint();
        if let Some(dup) = self.catalog().key_by_fingerprint(fingerprint.as_str())? {
            return Err(Error::DuplicateKey(dup.name));
        }
        let provider = self.provider_record(&existing.provider_id)?;
        let connection = self.connect(&provider)?;
        // Which key on the service is it? Match by preview (prefix + last four).
        let remote = connection.list().await.ok().and_then(|keys| {
            let masked = secret.masked();
            keys.into_iter().find(|k| k.preview == masked)
        });
        let known = match &remote {
            Some(r) => self.catalog().key_by_remote(&provider.id, &r.remote_id)?,
            None => None,
        };
        // A paste never silently replaces a secret we hold: a near copy of
        // a held key (same preview) would overwrite the working one.
        if let Some(k) = known.as_ref().filter(|k| k.has_secret) {
            if !existing.replace {
                return Err(Error::KeyAlreadyHeld(k.name.clone()));
            }
        }
        // Checked with the service first wherever it can be. A paste that
        // claims to be one of the service's keys (its preview matches) and
        // is rejected is a bad copy: refused, nothing stored. A key the
        // service does not confirm (it could not be asked, or the key is
        // not one of its own) is kept as "not verified".
        let verified = if connection.capabilities().verify {
            match connection.verify(&secret).await {
                Ok(Verification::Accepted) => true,
                Ok(Verification::Rejected { code }) if remote.is_some() => {
                    return Err(Error::invalid(
                        "secret",
                        format!("The service rejects this key ({code}) although it looks like \"{}\". Check that you pasted all of it; nothing was stored.", remote.as_ref().map(|r| r.name.as_str()).unwrap_or_default()),
                    ))
                }
                Ok(Verification::Rejected { .. }) | Err(_) => false,
            }
        } else {
            false
        };
        if known.as_ref().is_some_and(|k| k.has_secret) && !verified {
            return Err(Error::invalid(
                "secret",
                "Latchkey could not check the pasted key with the service, so it will not replace the secret it holds. Try again when the service can be reached.",
            ));
        }
        let id = known
            .as_ref()
            .map(|k| k.id.clone())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        self.store.put(&key_account(&id), &secret)?;
        {
            let catalog = self.catalog();
            match &known {
                Some(_) => catalog.attach_secret(&id, fingerprint.as_str())?,
                None => {
                    let mut record = match &remote {
                        Some(r) => record_from_remote(&provider.id, r, Some(&secret)),
                        None => KeyRecord {
                            id: String::new(),
                            provider_id: provider.id.clone(),
                            remote_id: None,
                            name: name.clone(),
                            preview: secret.masked(),
                            fingerprint: Some(fingerprint.as_str().to_owned()),
                            scopes: vec![],
                            environment: String::new(),
                            env_var: String::new(),
                            created_at: Some(self.now()),
                            expires_at: None,
                            last_used_at: None,
                            revoked_at: None,
                            has_secret: true,
                            pending_rotation: None,
                        },
                    };
                    record.id = id.clone();
                    record.name = name.clone();
                    record.environment = existing.environment.trim().to_owned();
                    record.env_var = env_var;
                    catalog.insert_key(&record)?;
                }
            }
            catalog.set_unverified(&id, !verified)?;
        }
        let replaced = known.as_ref().is_some_and(|k| k.has_secret);
        self.audit(
            "import",
            Some(&id),
            Some(&provider.id),
            &if replaced {
                format!("replaced the secret of \"{name}\" with a pasted key the service accepts")
            } else {
                format!(
                    "added existing key \"{name}\"{}",
                    if verified { "" } else { " (not verified)" }
                )
            },
        )?;
        self.key(&id)
    }

    /// The keys due for rotation (older than the policy or expiring within
    /// 14 days), at most once per calendar day (UTC): `None` when there are
    /// none or the day's reminder was already given. Records the reminder.
    pub fn rotation_reminder(&self) -> Result<Option<RotationReminder>> {
        const KEY: &str = "rotation_reminder_day";
        let today = self.clock.now().date().to_string();
        if !self.settings()?.rotation_reminders {
            return Ok(None);
        }
        if self.catalog().setting(KEY)?.as_deref() == Some(today.as_str()) {
            return Ok(None);
        }
        let due: Vec<String> = self
            .local_keys()?
            .into_iter()
            .filter(|k| k.rotation_due && k.has_secret)
            .map(|k| k.name)
            .collect();
        if due.is_empty() {
            return Ok(None);
        }
        self.catalog().set_setting(KEY, &today)?;
        let shown: Vec<String> = due.iter().take(3).map(|n| format!("“{n}”")).collect();
        let more = due.len().saturating_sub(3);
        let body = format!(
            "{} {} due for rotation: {}{}. Open Latchkey and choose Rotate.",
            due.len(),
            if due.len() == 1 { "key is" } else { "keys are" },
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        Ok(Some(RotationReminder {
            count: due.len(),
            body,
        }))
    }

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
fn key_fingerprints(catalog: &Catalog, store: &dyn SecretStore) -> Result<()> {
    let key = match store.get(FINGERPRINT_KEY_ACCOUNT)? {
        Some(held) => hex::decode(held.expose_secret().trim()).ok(),
        None => None,
    };
    let key: [u8; 32] = match key.and_then(|k| <[u8; 32]>::try_from(k).ok()) {
        Some(k) => k,
        None => {
            let k: [u8; 32] = rand::random();
            store.put(FINGERPRINT_KEY_ACCOUNT, &Secret::new(hex::encode(k)))?;
            k
        }
    };
    crate::secret::set_fingerprint_key(key);
    let (name, scheme) = FINGERPRINT_SCHEME;
    if catalog.setting(name)?.as_deref() == Some(scheme) {
        return Ok(());
    }
    for k in catalog
        .keys()?
        .into_iter()
        .filter(|k| k.fingerprint.is_some())
    {
        let keyed = if k.has_secret {
            store.get(&key_account(&k.id))?.map(|s| s.fingerprint())
        } else {
            None
        };
        catalog.set_fingerprint(&k.id, keyed.as_ref().map(Fingerprint::as_str))?;
    }
    catalog.set_setting(name, scheme)
}

/// The idempotency key of a create: its local id, so a replay after a
/// crash asks for the very same key.
fn create_idempotency_key(id: &str) -> String {
    format!("latchkey-create-{id}")
}

fn pending_spec(p: &PendingCreate) -> KeySpec {
    KeySpec {
        name: p.name.clone(),
        scopes: p.scopes.clone(),
        expires_in_days: p.expires_in_days,
    }
}

/// The service said no (the request was not carried out), as opposed to a
/// lost answer, a timeout or an outage, after which it may have been.
fn refused(e: &Error) -> bool {
    matches!(
        e,
        Error::InvalidInput { .. }
            | Error::ProviderUnauthorized
            | Error::ProviderForbidden
            | Error::NotFound(_)
            | Error::InsecureUrl(_)
    )
}

fn provider_view(r: &ProviderRecord) -> ProviderView {
    ProviderView {
        id: r.id.clone(),
        name: r.name.clone(),
        kind: r.kind,
        base_url: r.base_url.clone(),
        project: r.project.clone(),
        is_demo: r.is_demo,
        dashboard_url: r.dashboard_url.clone(),
    }
}

fn record_from_remote(provider_id: &str, r: &RemoteKey, secret: Option<&Secret>) -> KeyRecord {
    KeyRecord {
        id: uuid::Uuid::new_v4().to_string(),
        provider_id: provider_id.to_owned(),
        remote_id: Some(r.remote_id.clone()),
        name: r.name.clone(),
        preview: r.preview.clone(),
        fingerprint: secret.map(|s| s.fingerprint().as_str().to_owned()),
        scopes: r.scopes.clone(),
        environment: String::new(),
        env_var: String::new(),
        created_at: r.created_at.clone(),
        expires_at: r.expires_at.clone(),
        last_used_at: r.last_used_at.clone(),
        revoked_at: r.revoked_at.clone(),
        has_secret: secret.is_some(),
        pending_rotation: None,
    }
}

fn merge_remote(local: KeyRecord, r: &RemoteKey) -> KeyRecord {
    KeyRecord {
        name: r.name.clone(),
        preview: r.preview.clone(),
        scopes: r.scopes.clone(),
        created_at: r.created_at.clone().or(local.created_at.clone()),
        expires_at: r.expires_at.clone(),
        last_used_at: r.last_used_at.clone(),
        revoked_at: r.revoked_at.clone().or(local.revoked_at.clone()),
        ..local
    }
}
