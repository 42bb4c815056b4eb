//! The vault's API: every method hands the call to the part that does
//! the job (`KeyOps`, `ConnectionOps`, `ViewOps`, `RotationOps`, …); the
//! parts share the vault's state (catalog, keychain, connections, clock).

use super::*;
use crate::catalog::{JournalEntry, TargetSpec};
use crate::envs::{EnvCheck, ImportOutcome};
use crate::rotation::driver::*;
use crate::rotation::{Strategy, StrategyChoice};
use crate::scan::ScanReport;

impl Vault {
    // ---- envs.rs ----

    /// For each variable the vault's keys are tagged with: set, not set, or
    /// set to a revoked or unknown key — from `env` first (the process
    /// environment), then the `.env` files of `dir`.
    pub fn check_env(&self, dir: &Path, env: &[(String, String)]) -> Result<Vec<EnvCheck>> {
        self.env_ops().check_env(dir, env)
    }

    /// The keys to inject into a child process: every active key with an
    /// environment variable and a local secret (the newest wins a variable).
    /// Audited.
    pub fn secrets_for_env(&self) -> Result<Vec<(String, Secret)>> {
        self.env_ops().secrets_for_env()
    }

    /// Brings a `.env` file's keys under management, each named and tagged
    /// after its variable. `vars` picks variables; empty picks those that
    /// look like keys (the name says KEY, TOKEN or SECRET, or the value is a
    /// reference service key). Duplicates (by fingerprint) are skipped.
    pub async fn import_dotenv(
        &self,
        path: &Path,
        provider_id: &str,
        vars: &[String],
        replace: bool,
    ) -> Result<Vec<ImportOutcome>> {
        self.env_ops()
            .import_dotenv(path, provider_id, vars, replace)
            .await
    }

    // ---- scan.rs ----

    /// Searches `dir` (recursively) for the vault's keys.
    pub fn scan_folder(&self, dir: &Path) -> Result<ScanReport> {
        self.scan_ops().scan_folder(dir)
    }

    // ---- rotation/driver/mod.rs ----

    /// One rotation.
    pub fn rotation(&self, id: &str) -> Result<RotationView> {
        self.rotation_ops().rotation(id)
    }

    /// Every rotation, newest first.
    pub fn rotations(&self) -> Result<Vec<RotationView>> {
        self.rotation_ops().rotations()
    }

    /// Rotations that still hold their key's lock.
    pub fn unfinished_rotations(&self) -> Result<Vec<RotationView>> {
        self.rotation_ops().unfinished_rotations()
    }

    pub fn rotation_journal(&self, id: &str) -> Result<Vec<JournalEntry>> {
        self.rotation_ops().rotation_journal(id)
    }

    // ---- rotation/driver/plan.rs ----

    /// Plans a rotation of `key_id`: checks the targets, notes each `.env`
    /// file's digest, and takes the key's lock. Nothing remote happens yet.
    pub async fn plan_rotation(&self, request: RotationRequest) -> Result<RotationView> {
        self.rotation_ops().plan_rotation(request).await
    }

    /// The strategies a rotation of `key_id` can take, the one Latchkey
    /// picks first (see `Strategy::available`).
    pub fn rotation_strategies(&self, key_id: &str) -> Result<Vec<StrategyChoice>> {
        self.rotation_ops().rotation_strategies(key_id)
    }

    /// As `plan_rotation`, with the person's choice of strategy (`None`:
    /// the first the service can do). A strategy the service cannot do is
    /// refused before anything is written.
    pub async fn plan_rotation_with(
        &self,
        request: RotationRequest,
        strategy: Option<Strategy>,
    ) -> Result<RotationView> {
        self.rotation_ops()
            .plan_rotation_with(request, strategy)
            .await
    }

    // ---- rotation/driver/run.rs ----

    /// Runs (or resumes) a rotation until it is done, waits for a person
    /// (a manual target's checklist), or a step fails. A failed verify
    /// rolls back and returns `verify_failed`.
    pub async fn run_rotation(&self, id: &str, progress: Progress<'_>) -> Result<RotationView> {
        self.rotation_ops().run_rotation(id, progress).await
    }

    /// As `run_rotation`, past the holds the person chose to pass
    /// (`force_revoke`: "Revoke anyway"). Deactivate first stops once the
    /// old key is switched off; the next run deletes it.
    pub async fn run_rotation_with(
        &self,
        id: &str,
        options: RunOptions,
        progress: Progress<'_>,
    ) -> Result<RotationView> {
        self.rotation_ops()
            .run_rotation_with(id, options, progress)
            .await
    }

    /// Rolls a rotation back: targets restored from their backups, the new
    /// key revoked (and confirmed rejected), the old key kept. Not possible
    /// once the old key is revoked.
    pub async fn rollback_rotation(
        &self,
        id: &str,
        progress: Progress<'_>,
    ) -> Result<RotationView> {
        self.rotation_ops().rollback_rotation(id, progress).await
    }

    /// A manual provider's new key, made in its dashboard and pasted: it goes
    /// to the keychain first, then the journal moves to Stored.
    pub fn provide_new_key(&self, id: &str, secret: Secret) -> Result<RotationView> {
        self.rotation_ops().provide_new_key(id, secret)
    }

    /// The person says they did the dashboard step (revoked the old key, or
    /// the new one while rolling back). Latchkey checks it on the next run.
    pub fn confirm_done_by_hand(&self, id: &str) -> Result<RotationView> {
        self.rotation_ops().confirm_done_by_hand(id)
    }

    /// Confirms one item of a manual target's checklist.
    pub fn confirm_manual_item(
        &self,
        id: &str,
        target: usize,
        item: usize,
    ) -> Result<RotationView> {
        self.rotation_ops().confirm_manual_item(id, target, item)
    }

    /// Copies a rotation's new key for its manual checklist (auto-cleared).
    pub fn copy_rotation_key(&self, id: &str) -> Result<ClearTimer> {
        self.rotation_ops().copy_rotation_key(id)
    }

    /// Adds a `.env` file to its work tree's `.gitignore`.
    pub fn add_to_gitignore(&self, path: &str) -> Result<()> {
        self.rotation_ops().add_to_gitignore(path)
    }

    // ---- rotation/driver/steps/strategies.rs ----

    /// Switches a deactivated old key on again and rolls the rotation back
    /// (targets restored, the new key revoked). Only from "Old key
    /// deactivated".
    pub async fn reactivate_rotation(
        &self,
        id: &str,
        progress: Progress<'_>,
    ) -> Result<RotationView> {
        self.rotation_ops().reactivate_rotation(id, progress).await
    }

    // ---- vault/activity.rs ----

    /// The newest `limit` audit rows, named.
    pub fn activity(&self, limit: usize) -> Result<Vec<ActivityRow>> {
        self.activity_ops().activity(limit)
    }

    /// The keys copied most recently (newest first, each once) that can
    /// still be copied: the tray's "Copy …" entries.
    pub fn recent_copies(&self, limit: usize) -> Result<Vec<super::KeyView>> {
        self.activity_ops().recent_copies(limit)
    }

    /// Writes the whole audit log (named) to a new file in `dir`:
    /// `latchkey-activity-<time>.csv|json`. Returns its path. An existing
    /// file is never overwritten.
    pub fn export_activity(&self, format: ExportFormat, dir: &Path) -> Result<PathBuf> {
        self.activity_ops().export_activity(format, dir)
    }

    // ---- vault/connections.rs ----

    /// Adds a reference key service connection; the token goes to the keychain.
    pub fn add_provider(&self, new: NewProvider) -> Result<ProviderView> {
        self.connection_ops().add_provider(new)
    }

    /// Adds a dashboard-only service: Latchkey keeps and deploys its keys and
    /// checks them against `verify_url`; creating and revoking are by hand.
    pub fn add_manual_provider(&self, new: NewManualProvider) -> Result<ProviderView> {
        self.connection_ops().add_manual_provider(new)
    }

    /// Adds a connection to a catalogue service. The reference key service
    /// is an API connection (base URL, project and admin token needed);
    /// Dakora and Open Animate are API connections; Cloudflare, OpenRouter,
    /// OpenAI, SendGrid and Twilio are when given their management
    /// credential; every other service, or one of those five given no
    /// credential, is a manual one:
    /// keys are made and revoked in its dashboard and checked the
    /// catalogue's way, at its own address or `base_url` (self-hosted, an
    /// emulator). A service that publishes no check needs `base_url`: the
    /// URL that answers 2xx for a working key.
    pub fn add_service_provider(&self, new: NewServiceProvider) -> Result<ProviderView> {
        self.connection_ops().add_service_provider(new)
    }

    /// Registers (or re-points) the built-in Demo provider at `base_url`.
    pub fn ensure_demo_provider(
        &self,
        base_url: &str,
        admin_token: &Secret,
    ) -> Result<ProviderView> {
        self.connection_ops()
            .ensure_demo_provider(base_url, admin_token)
    }

    /// The Demo provider's admin token, generated and kept in the keychain.
    pub fn demo_admin_token(&self) -> Result<Secret> {
        self.connection_ops().demo_admin_token()
    }

    pub fn providers(&self) -> Result<Vec<ProviderView>> {
        self.connection_ops().providers()
    }

    /// Tests a provider's connection with an authenticated call.
    pub async fn test_provider(&self, provider_id: &str) -> Result<()> {
        self.connection_ops().test_provider(provider_id).await
    }

    /// Removes a connection that holds no keys, and its credential.
    pub fn remove_provider(&self, provider_id: &str) -> Result<()> {
        self.connection_ops().remove_provider(provider_id)
    }

    /// Removes a connection and forgets its `expected` keys (their secrets
    /// leave the keychain; nothing changes on the service).
    pub fn remove_provider_and_keys(&self, provider_id: &str, expected: usize) -> Result<usize> {
        self.connection_ops()
            .remove_provider_and_keys(provider_id, expected)
    }

    /// Replaces a connection's credential once the service accepts it.
    pub async fn set_provider_credential(
        &self,
        provider_id: &str,
        credential: Secret,
    ) -> Result<ProviderView> {
        self.connection_ops()
            .set_provider_credential(provider_id, credential)
            .await
    }

    // ---- vault/deploy.rs ----

    /// Puts the current key `key_id` into every target, all or nothing.
    pub async fn deploy_key(
        &self,
        key_id: &str,
        targets: Vec<TargetSpec>,
    ) -> Result<Vec<DeployedTarget>> {
        self.deploy_ops().deploy_key(key_id, targets).await
    }

    // ---- vault/details.rs ----

    /// The details of one key (by id).
    pub fn key_details(&self, id: &str) -> Result<KeyDetails> {
        self.detail_ops().key_details(id)
    }

    // ---- vault/keys.rs ----

    /// Creates a key on its provider and stores it in the keychain at once.
    pub async fn create_key(&self, new: NewKey) -> Result<KeyView> {
        self.key_ops().create_key(new).await
    }

    /// Settles creates a crash cut short: each is replayed under its own
    /// idempotency key and kept (the secret was never stored), or, when
    /// the service can no longer replay it, the keys it may have made are
    /// revoked. Failures are left for the next sync.
    pub async fn recover_creates(&self) -> Result<()> {
        self.key_ops().recover_creates().await
    }

    /// Creates a key (as [`create_key`](Self::create_key)) and hands out the
    /// one grant that lets the show-once panel reveal it.
    pub async fn create_key_revealable(&self, new: NewKey) -> Result<CreatedKey> {
        self.key_ops().create_key_revealable(new).await
    }

    /// The one audited way a key leaves Rust for display: only with the
    /// unused, unexpired grant its creation handed out. A refusal is
    /// audited too.
    pub fn reveal_key(&self, key_id: &str, grant: &RevealGrant) -> Result<Secret> {
        self.key_ops().reveal_key(key_id, grant)
    }

    /// Copies a key to the clipboard; it is cleared after the timeout. The
    /// copy is audited before the clipboard is set (a failed one after).
    pub fn copy_key(&self, key_id: &str) -> Result<ClearTimer> {
        self.key_ops().copy_key(key_id)
    }

    /// Revokes a key on its service, then confirms the service rejects it.
    pub async fn revoke_key(&self, key_id: &str) -> Result<KeyView> {
        self.key_ops().revoke_key(key_id).await
    }

    /// Brings a key the user already holds under management, deduplicated by
    /// fingerprint and linked to its key on the service when it is found.
    pub async fn add_existing_key(&self, existing: ExistingKey) -> Result<KeyView> {
        self.key_ops().add_existing_key(existing).await
    }

    // ---- vault/room.rs ----

    /// The other keys on `key_id`'s account when it has no room for one
    /// more (empty when there is room or the service has no limit).
    pub async fn keys_in_the_way(&self, key_id: &str) -> Result<Vec<KeyInTheWay>> {
        self.room_ops().keys_in_the_way(key_id).await
    }

    /// Deletes `remote_id`, one of the keys in the way of rotating
    /// `key_id`, on the person's explicit choice. Refused for the key being
    /// rotated and for a key that is not in the way.
    pub async fn delete_key_in_the_way(&self, key_id: &str, remote_id: &str) -> Result<()> {
        self.room_ops()
            .delete_key_in_the_way(key_id, remote_id)
            .await
    }

    // ---- vault/settings.rs ----

    /// How long a copied key stays on the clipboard: the override, else the
    /// Settings.
    pub fn clear_after(&self) -> Result<Duration> {
        self.setting_ops().clear_after()
    }

    /// Whether the clipboard timeout is fixed by the environment, so the
    /// Settings' value does not apply.
    pub fn clear_after_overridden(&self) -> bool {
        self.setting_ops().clear_after_overridden()
    }

    /// The user's settings (defaults for anything never set).
    pub fn settings(&self) -> Result<Settings> {
        self.setting_ops().settings()
    }

    /// Checks and stores the settings, and audits the change.
    pub fn update_settings(&self, settings: Settings) -> Result<Settings> {
        self.setting_ops().update_settings(settings)
    }

    /// The keys due for rotation (older than the policy or expiring within
    /// 14 days), at most once per calendar day (UTC): `None` when there are
    /// none or the day's reminder was already shown. Records nothing: call
    /// [`Vault::reminder_shown`] once the person has seen it.
    pub fn rotation_reminder(&self) -> Result<Option<RotationReminder>> {
        self.setting_ops().rotation_reminder()
    }

    /// Records that the day's reminder was shown.
    pub fn reminder_shown(&self, reminder: &RotationReminder) -> Result<()> {
        self.setting_ops().reminder_shown(reminder)
    }

    // ---- vault/views.rs ----

    /// One key, as listed.
    pub fn key(&self, id: &str) -> Result<KeyView> {
        self.view_ops().key(id)
    }

    /// The key a person means by `name`: an unrevoked key of that name, else
    /// the key a finished rotation made for it (`name (rotation …)`), else a
    /// revoked one; the newest when one provider has several. A name found
    /// on several providers needs `provider` (a provider's name).
    pub fn find_key(&self, name: &str, provider: Option<&str>) -> Result<KeyView> {
        self.view_ops().find_key(name, provider)
    }

    /// A provider by its name.
    pub fn find_provider(&self, name: &str) -> Result<ProviderView> {
        self.view_ops().find_provider(name)
    }

    /// Keys from the catalog only (no network).
    pub fn local_keys(&self) -> Result<Vec<KeyView>> {
        self.view_ops().local_keys()
    }

    /// Brings the catalog in line with every provider, then lists all keys.
    /// A provider that cannot be reached is reported, not fatal.
    pub async fn list_keys(&self) -> Result<KeyListing> {
        self.view_ops().list_keys().await
    }
}
