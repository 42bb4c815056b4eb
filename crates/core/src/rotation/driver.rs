//! Runs a rotation's side effects, each journaled before it happens and
//! after: create the new key (its secret goes to the keychain, as the
//! pending key of this rotation, before anything else), deploy it to every
//! target, verify it, revoke the old key and confirm the service rejects it.
//!
//! Every step can be repeated: a run after a crash, a kill or a network
//! fault looks at what the journal, the keychain, the service and the files
//! say and carries on from there. The new key's name on the service carries
//! the rotation id, so a resume finds a key a crash left behind and adopts
//! it (the create is replayed under the same `Idempotency-Key`) or revokes
//! it when its secret cannot be had: never an orphan, never two live keys.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::lock::RotationLock;
use super::{next, Event, State};
use crate::catalog::ProviderKind;
use crate::catalog::{
    Catalog, JournalEntry, KeyRecord, RotationRecord, TargetSpec, TargetState, TargetStatus,
};
use crate::clipboard::ClearTimer;
use crate::deploy::dotenv_file::{sweep_temp_files, DotenvFile};
use crate::deploy::gitignore;
use crate::error::{Error, Result, WireError};
use crate::providers::{KeySpec, Provider, Verification};
use crate::secret::{Fingerprint, Secret};
use crate::store::key_account;
use crate::vault::{check_env_var, Vault};
use sha2::Digest as _;

/// A rotation to start.
#[derive(Debug, Clone)]
pub struct RotationRequest {
    pub key_id: String,
    pub targets: Vec<TargetSpec>,
}

/// The wizard's four steps, for the stepper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RotationStep {
    Create,
    Deploy,
    Verify,
    Revoke,
    Finished,
}

/// What a rotation waits for from a person (manual providers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RotationNeed {
    /// Create the new key in the dashboard and paste it.
    PasteNewKey,
    /// Revoke the old key in the dashboard, then confirm.
    RevokeOldByHand,
    /// Rolling back: revoke the new key in the dashboard, then confirm.
    RevokeNewByHand,
}

/// A rotation as the wizard, the banner and the CLI show it. No secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct RotationView {
    pub id: String,
    pub old_key_id: String,
    pub old_key_name: String,
    pub new_key_id: String,
    pub provider_id: String,
    pub provider_name: String,
    pub state: State,
    pub step: RotationStep,
    /// Not done and not rolled back: it holds its key's lock.
    pub unfinished: bool,
    /// Plain-language word on where the rotation is.
    pub summary: String,
    pub targets: Vec<TargetState>,
    pub error: Option<WireError>,
    pub created_at: String,
    pub updated_at: String,
    /// Set while the rotation waits for a person to act in the dashboard.
    pub needs: Option<RotationNeed>,
    /// The provider's dashboard (manual providers), for the wizard's link.
    pub dashboard_url: Option<String>,
    /// Another Latchkey window or terminal is running this rotation now:
    /// nothing here may resume or roll it back until it lets go.
    pub held_elsewhere: bool,
}

/// Called after every journaled step.
pub type Progress<'a> = &'a (dyn Fn(&RotationView) + Send + Sync);

/// A progress callback that ignores progress.
pub fn no_progress(_: &RotationView) {}

fn step_of(state: State) -> RotationStep {
    match state {
        State::Planned | State::Created => RotationStep::Create,
        State::Stored => RotationStep::Deploy,
        State::Deployed => RotationStep::Verify,
        State::Verified | State::OldRevoked => RotationStep::Revoke,
        State::Done | State::RollingBack | State::RolledBack | State::Failed => {
            RotationStep::Finished
        }
    }
}

fn summary_of(rec: &RotationRecord) -> String {
    let waiting = rec
        .targets
        .iter()
        .any(|t| t.status == TargetStatus::AwaitingConfirmation);
    match rec.state {
        State::Planned => "Ready to create the new key.".into(),
        State::Created => "The new key was created; saving it in the keychain.".into(),
        State::Stored if waiting => {
            "The new key is in the keychain. Paste it where the checklist says, then confirm each item.".into()
        }
        State::Stored => "The new key is in the keychain; deploying it.".into(),
        State::Deployed => "The new key is deployed; checking that it works.".into(),
        State::Verified => "The new key works; revoking the old key.".into(),
        State::OldRevoked => "The old key is revoked and rejected; finishing.".into(),
        State::Done => "Done: the new key is in use and the old key is revoked.".into(),
        State::RollingBack => "Rolling back: restoring the files and revoking the new key.".into(),
        State::RolledBack => "Rolled back: the old key is still in use; the new key was revoked.".into(),
        State::Failed => "The rollback could not finish. Fix the cause shown, then roll back again.".into(),
    }
}

fn needs_of(rec: &RotationRecord, manual: bool) -> Option<RotationNeed> {
    if !manual {
        return None;
    }
    match rec.state {
        State::Planned => Some(RotationNeed::PasteNewKey),
        State::Verified if !rec.confirmed_by_hand => Some(RotationNeed::RevokeOldByHand),
        State::RollingBack if !rec.confirmed_by_hand => Some(RotationNeed::RevokeNewByHand),
        _ => None,
    }
}

/// The name the new key gets on the service: the old name plus the
/// rotation's id, at most 64 characters.
fn new_key_name(old: &str, rotation_id: &str) -> String {
    // A key that came from an earlier rotation drops that rotation's tag.
    let old = match old.rfind(" (rotation ") {
        Some(at) if old.ends_with(')') && old.len() - at == 20 => &old[..at],
        _ => old,
    };
    let tag = format!(" (rotation {})", &rotation_id[..8]);
    let room = 64 - tag.chars().count();
    let base: String = old.chars().take(room).collect();
    format!("{base}{tag}")
}

#[cfg(feature = "failpoints")]
pub(crate) fn failpoint(name: &str) {
    // `return` in a test build's FAILPOINTS makes the process SIGKILL itself
    // here: the real thing, as a crash or an OOM kill would do it.
    fail::fail_point!(name, |_| {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &std::process::id().to_string()])
            .status();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    });
}

#[cfg(not(feature = "failpoints"))]
pub(crate) fn failpoint(_: &str) {}

/// Reads `FAILPOINTS` in test builds (feature `failpoints`); a no-op in
/// every other build. Call once at the start of a process.
pub fn setup_failpoints() {
    #[cfg(feature = "failpoints")]
    std::mem::forget(fail::FailScenario::setup());
}

/// Stops a run in this process, and in every other process on this data
/// directory, from racing another run of the same rotation.
struct RunGuard<'a> {
    vault: &'a Vault,
    id: String,
    _lock: RotationLock,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        self.vault.running().remove(&self.id);
    }
}

impl Vault {
    fn rotation_record(&self, id: &str) -> Result<RotationRecord> {
        self.catalog()
            .rotation(id)?
            .ok_or_else(|| Error::NotFound(format!("Rotation {id}")))
    }

    fn rotation_view(&self, rec: &RotationRecord) -> Result<RotationView> {
        let old_name = self
            .catalog()
            .key(&rec.old_key_id)?
            .map(|k| k.name)
            .unwrap_or_default();
        let provider = self.catalog().provider(&rec.provider_id)?;
        let manual = provider
            .as_ref()
            .is_some_and(|p| p.kind == ProviderKind::Manual);
        let needs = needs_of(rec, manual);
        let provider_name = provider
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default();
        let mut summary = summary_of(rec);
        if let Some(need) = needs {
            summary = match need {
                RotationNeed::PasteNewKey => "Create a new key in the service's dashboard and paste it here.".into(),
                RotationNeed::RevokeOldByHand => "The new key works. Revoke the old key in the service's dashboard, then confirm; Latchkey checks that it is rejected.".into(),
                RotationNeed::RevokeNewByHand => "The files are restored. Revoke the new key in the service's dashboard, then confirm; Latchkey checks that it is rejected.".into(),
            };
        }
        Ok(RotationView {
            id: rec.id.clone(),
            old_key_id: rec.old_key_id.clone(),
            old_key_name: old_name,
            new_key_id: rec.new_key_id.clone(),
            provider_id: rec.provider_id.clone(),
            provider_name,
            state: rec.state,
            step: step_of(rec.state),
            unfinished: !rec.state.is_terminal(),
            summary,
            targets: rec.targets.clone(),
            error: rec.error.clone(),
            created_at: rec.created_at.clone(),
            updated_at: rec.updated_at.clone(),
            needs,
            dashboard_url: provider
                .filter(|p| p.kind == ProviderKind::Manual)
                .map(|p| p.dashboard_url),
            held_elsewhere: !rec.state.is_terminal() && self.held_elsewhere(&rec.id),
        })
    }

    /// One rotation.
    pub fn rotation(&self, id: &str) -> Result<RotationView> {
        let rec = self.rotation_record(id)?;
        self.rotation_view(&rec)
    }

    /// Every rotation, newest first.
    pub fn rotations(&self) -> Result<Vec<RotationView>> {
        let records = self.catalog().rotations()?;
        records.iter().map(|r| self.rotation_view(r)).collect()
    }

    /// Rotations that still hold their key's lock.
    pub fn unfinished_rotations(&self) -> Result<Vec<RotationView>> {
        Ok(self
            .rotations()?
            .into_iter()
            .filter(|r| r.unfinished)
            .collect())
    }

    pub fn rotation_journal(&self, id: &str) -> Result<Vec<JournalEntry>> {
        self.rotation_record(id)?;
        self.catalog().journal_entries(id)
    }

    /// Writes a journal row; the record is saved with it.
    fn journal(
        &self,
        rec: &mut RotationRecord,
        step: &str,
        phase: &str,
        detail: &str,
    ) -> Result<()> {
        let now = self.now();
        self.catalog().journal(rec, &now, step, phase, detail)
    }

    /// Several journal rows, state changes, catalog writes and audit rows
    /// as one durable commit: `f` gets the catalog inside the batch and the
    /// time.
    fn commit(&self, f: impl FnOnce(&mut Catalog, &str) -> Result<()>) -> Result<()> {
        let now = self.now();
        self.catalog().batch(|c| f(c, &now))
    }

    /// Writes `step`'s intent unless the last journal row already is it
    /// (written ahead in the previous step's commit).
    fn intent(&self, rec: &mut RotationRecord, step: &str, detail: &str) -> Result<()> {
        let last = self.catalog().journal_entries(&rec.id)?.pop();
        if last.is_some_and(|e| e.step == step && e.phase == "intent") {
            return Ok(());
        }
        self.journal(rec, step, "intent", detail)
    }

    /// Moves the machine on in one commit: the transition's journal row, its
    /// audit row, and the next step's intent when it follows at once.
    fn advance_audited(
        &self,
        rec: &mut RotationRecord,
        event: Event,
        step: &str,
        detail: &str,
        audit: (&str, &str, String),
        next_intent: Option<(&str, &str)>,
    ) -> Result<()> {
        let mut after = rec.clone();
        after.state = next(after.state, event).map_err(Error::from)?;
        after.error = None;
        after.confirmed_by_hand = false;
        self.commit(|c, now| {
            c.journal(&mut after, now, step, "ok", detail)?;
            let (action, key_id, text) = &audit;
            c.append_audit(now, action, Some(key_id), Some(&after.provider_id), text)?;
            if let Some((s, d)) = next_intent {
                c.journal(&mut after, now, s, "intent", d)?;
            }
            Ok(())
        })?;
        *rec = after;
        Ok(())
    }

    /// Moves the machine on, journaling the transition.
    fn advance(
        &self,
        rec: &mut RotationRecord,
        event: Event,
        step: &str,
        detail: &str,
    ) -> Result<()> {
        rec.state = next(rec.state, event).map_err(Error::from)?;
        rec.error = None;
        rec.confirmed_by_hand = false;
        self.journal(rec, step, "ok", detail)
    }

    /// Records a failed step and hands the error back.
    fn step_failed(&self, rec: &mut RotationRecord, step: &str, e: Error) -> Error {
        rec.error = Some(e.to_wire());
        let _ = self.journal(rec, step, "failed", e.code().as_str());
        e
    }

    /// Plans a rotation of `key_id`: checks the targets, notes each `.env`
    /// file's digest, and takes the key's lock. Nothing remote happens yet.
    pub fn plan_rotation(&self, request: RotationRequest) -> Result<RotationView> {
        let old = self.key_record(&request.key_id)?;
        if old.revoked_at.is_some() {
            return Err(Error::invalid(
                "key",
                "This key is revoked; there is nothing to rotate",
            ));
        }
        if old.pending_rotation.is_some() {
            return Err(Error::RotationInProgress(
                old.pending_rotation.clone().unwrap_or_default(),
            ));
        }
        let manual = self.provider_record(&old.provider_id)?.kind == ProviderKind::Manual;
        if old.remote_id.is_none() && !manual {
            return Err(Error::invalid(
                "key",
                "This key is not linked to a key on the service, so Latchkey cannot create its successor",
            ));
        }
        if let Some(open) = self.catalog().open_rotation_for_key(&old.id)? {
            return Err(Error::RotationInProgress(open));
        }
        let mut targets = Vec::new();
        for spec in request.targets {
            targets.push(plan_target(spec)?);
        }
        if targets.is_empty() {
            return Err(Error::invalid(
                "targets",
                "Choose at least one place to deploy the new key (a .env file or a checklist)",
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let now = self.now();
        let rec = RotationRecord {
            new_name: new_key_name(&old.name, &id),
            id,
            old_key_id: old.id.clone(),
            provider_id: old.provider_id.clone(),
            new_key_id: uuid::Uuid::new_v4().to_string(),
            new_remote_id: None,
            state: State::Planned,
            targets,
            orphans_revoked: 0,
            confirmed_by_hand: false,
            error: None,
            created_at: now.clone(),
            updated_at: now.clone(),
            stored_state: State::Planned,
        };
        let detail = format!("rotate \"{}\" to {} target(s)", old.name, rec.targets.len());
        self.catalog().batch(|c| {
            c.insert_rotation(&rec, &now, &detail)?;
            c.append_audit(
                &now,
                "rotation_plan",
                Some(&old.id),
                Some(&old.provider_id),
                &detail,
            )
        })?;
        self.rotation_view(&rec)
    }

    /// Takes the rotation's run lock (this process and every other one on
    /// the data directory): every change to a rotation happens under it.
    fn claim_run(&self, id: &str) -> Result<RunGuard<'_>> {
        if !self.running().insert(id.to_owned()) {
            return Err(Error::RotationInProgress(id.to_owned()));
        }
        let lock = match RotationLock::acquire(self.data_dir(), id) {
            Ok(lock) => lock,
            Err(e) => {
                self.running().remove(id);
                return Err(e);
            }
        };
        Ok(RunGuard {
            vault: self,
            id: id.to_owned(),
            _lock: lock,
        })
    }

    /// Whether another process is running this rotation now.
    fn held_elsewhere(&self, id: &str) -> bool {
        !self.running().contains(id) && RotationLock::held_elsewhere(self.data_dir(), id)
    }

    /// A finished rotation leaves nothing behind: its backups (they hold
    /// the old key) and its lock file go.
    fn clean_up_finished(&self, rec: &RotationRecord) {
        if rec.state.is_terminal() {
            let _ = std::fs::remove_dir_all(self.backup_dir(&rec.id));
            RotationLock::remove(self.data_dir(), &rec.id);
        }
    }

    /// Where a rotation keeps its targets' backups: the data directory's
    /// `backups/<rotation>/`, 0700, never beside the target.
    fn backup_dir(&self, rotation_id: &str) -> PathBuf {
        self.data_dir().join("backups").join(rotation_id)
    }

    fn backup_path(&self, rotation_id: &str, target: usize, path: &Path) -> PathBuf {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.backup_dir(rotation_id)
            .join(format!("{target}-{name}.backup"))
    }

    /// Runs (or resumes) a rotation until it is done, waits for a person
    /// (a manual target's checklist), or a step fails. A failed verify
    /// rolls back and returns `verify_failed`.
    pub async fn run_rotation(&self, id: &str, progress: Progress<'_>) -> Result<RotationView> {
        let _guard = self.claim_run(id)?;
        let mut rec = self.rotation_record(id)?;
        let provider = self.provider_record(&rec.provider_id)?;
        let connection = self.connect(&provider)?;
        // The new key, once read or created, stays in memory for the run.
        let mut new_secret: Option<Secret> = None;
        // Whether this run has just checked the new key (else it is checked
        // again before the old key is revoked: a "verified" from an earlier
        // run may be stale).
        let mut checked_here = false;
        let by_hand = !connection.capabilities().create;
        loop {
            let view = self.rotation_view(&rec)?;
            progress(&view);
            if view.needs.is_some() {
                // A person acts in the dashboard; `provide_new_key` or
                // `confirm_done_by_hand`, then run again.
                return Ok(view);
            }
            match rec.state {
                State::Planned if by_hand => return Ok(view),
                State::Planned | State::Created => {
                    new_secret = Some(self.create_step(&mut rec, connection.as_ref()).await?)
                }
                State::Stored => {
                    let secret = self.new_secret(&rec, &mut new_secret)?;
                    if !self.deploy_step(&mut rec, &secret)? {
                        let view = self.rotation_view(&rec)?;
                        progress(&view);
                        return Ok(view);
                    }
                }
                State::Deployed => {
                    let secret = self.new_secret(&rec, &mut new_secret)?;
                    if let Err(reason) = self
                        .verify_step(&mut rec, connection.as_ref(), &secret)
                        .await?
                    {
                        self.rollback_steps(&mut rec, connection.as_ref(), progress)
                            .await?;
                        return Err(Error::VerifyFailed(reason));
                    }
                    checked_here = true;
                }
                State::Verified => {
                    if !checked_here {
                        let secret = self.new_secret(&rec, &mut new_secret)?;
                        if let Err(reason) = self
                            .reverify_step(&mut rec, connection.as_ref(), &secret)
                            .await?
                        {
                            self.rollback_steps(&mut rec, connection.as_ref(), progress)
                                .await?;
                            return Err(Error::VerifyFailed(reason));
                        }
                        checked_here = true;
                    }
                    self.revoke_old_step(&mut rec, connection.as_ref()).await?
                }
                State::OldRevoked => {
                    failpoint("rotation::finish::before");
                    // The finish is a catalog write only: its intent, the
                    // write and its result commit together.
                    let mut done = rec.clone();
                    done.state = next(done.state, Event::Finished).map_err(Error::from)?;
                    done.error = None;
                    self.commit(|c, now| {
                        c.journal(&mut rec, now, "finish", "intent", "commit the new key")?;
                        c.commit_rotation(&done, now)?;
                        c.journal(&mut done, now, "finish", "ok", "done")?;
                        c.append_audit(
                            now,
                            "rotate",
                            Some(&done.new_key_id),
                            Some(&done.provider_id),
                            &format!("rotation {} done; old key revoked", done.id),
                        )
                    })?;
                    rec = done;
                    self.clean_up_finished(&rec);
                }
                State::Done | State::RolledBack => {
                    self.clean_up_finished(&rec);
                    return self.rotation_view(&rec);
                }
                State::RollingBack | State::Failed => {
                    self.rollback_steps(&mut rec, connection.as_ref(), progress)
                        .await?;
                    return self.rotation_view(&rec);
                }
            }
        }
    }

    /// Rolls a rotation back: targets restored from their backups, the new
    /// key revoked (and confirmed rejected), the old key kept. Not possible
    /// once the old key is revoked.
    pub async fn rollback_rotation(
        &self,
        id: &str,
        progress: Progress<'_>,
    ) -> Result<RotationView> {
        let _guard = self.claim_run(id)?;
        let mut rec = self.rotation_record(id)?;
        if matches!(rec.state, State::OldRevoked | State::Done) {
            return Err(Error::invalid(
                "rotation",
                "The old key is already revoked, so this rotation can only be finished: resume it",
            ));
        }
        if rec.state == State::RolledBack {
            return self.rotation_view(&rec);
        }
        let provider = self.provider_record(&rec.provider_id)?;
        let connection = self.connect(&provider)?;
        if rec.state == State::Planned {
            // A create may have reached the service before a crash.
            self.revoke_orphans(&mut rec, connection.as_ref(), None)
                .await?;
        }
        if rec.state != State::RollingBack {
            self.advance(
                &mut rec,
                Event::RollbackRequested,
                "rollback",
                "rollback requested",
            )?;
        }
        if rec.state == State::RolledBack {
            // Nothing had been created: nothing to undo.
            self.clean_up_finished(&rec);
            self.audit(
                "rotation_rollback",
                Some(&rec.old_key_id),
                Some(&rec.provider_id),
                &format!("cancelled rotation {} before it created a key", rec.id),
            )?;
            return self.rotation_view(&rec);
        }
        self.rollback_steps(&mut rec, connection.as_ref(), progress)
            .await?;
        self.rotation_view(&rec)
    }

    /// A manual provider's new key, made in its dashboard and pasted: it goes
    /// to the keychain first, then the journal moves to Stored.
    pub fn provide_new_key(&self, id: &str, secret: Secret) -> Result<RotationView> {
        let _guard = self.claim_run(id)?;
        let mut rec = self.rotation_record(id)?;
        let manual = self.provider_record(&rec.provider_id)?.kind == ProviderKind::Manual;
        if !manual || rec.state != State::Planned {
            return Err(Error::invalid(
                "rotation",
                "This rotation is not waiting for a pasted key",
            ));
        }
        let secret = Secret::new(secret.expose_secret().trim());
        if secret.is_empty() || secret.expose_secret().chars().any(char::is_control) {
            return Err(Error::invalid(
                "secret",
                "Paste the key itself, without spaces or line breaks",
            ));
        }
        if let Some(dup) = self
            .catalog()
            .key_by_fingerprint(secret.fingerprint().as_str())?
        {
            return Err(Error::DuplicateKey(dup.name));
        }
        self.journal(
            &mut rec,
            "create",
            "intent",
            "new key pasted from the dashboard",
        )?;
        self.store.put(&key_account(&rec.new_key_id), &secret)?;
        let remote = crate::providers::RemoteKey {
            remote_id: String::new(),
            name: rec.new_name.clone(),
            preview: secret.masked(),
            scopes: vec![],
            created_at: Some(self.now()),
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
        };
        self.store_step(&mut rec, &secret, &remote, "pasted by hand")?;
        self.rotation_view(&rec)
    }

    /// The person says they did the dashboard step (revoked the old key, or
    /// the new one while rolling back). Latchkey checks it on the next run.
    pub fn confirm_done_by_hand(&self, id: &str) -> Result<RotationView> {
        let _guard = self.claim_run(id)?;
        let mut rec = self.rotation_record(id)?;
        rec.confirmed_by_hand = true;
        self.journal(
            &mut rec,
            "by_hand",
            "ok",
            "done in the dashboard, says the user",
        )?;
        self.rotation_view(&rec)
    }

    /// Confirms one item of a manual target's checklist.
    pub fn confirm_manual_item(
        &self,
        id: &str,
        target: usize,
        item: usize,
    ) -> Result<RotationView> {
        let _guard = self.claim_run(id)?;
        let mut rec = self.rotation_record(id)?;
        let t = rec
            .targets
            .get_mut(target)
            .ok_or_else(|| Error::invalid("target", "No such target"))?;
        let TargetSpec::Manual { items } = &t.spec else {
            return Err(Error::invalid(
                "target",
                "Only checklist items are confirmed by hand",
            ));
        };
        if item >= items.len() {
            return Err(Error::invalid("item", "No such checklist item"));
        }
        t.confirmed.resize(items.len(), false);
        t.confirmed[item] = true;
        let label = items[item].clone();
        self.journal(&mut rec, "confirm", "ok", &format!("confirmed \"{label}\""))?;
        self.rotation_view(&rec)
    }

    /// Copies a rotation's new key for its manual checklist (auto-cleared).
    pub fn copy_rotation_key(&self, id: &str) -> Result<ClearTimer> {
        let rec = self.rotation_record(id)?;
        if !matches!(rec.state, State::Stored | State::Deployed | State::Verified) {
            return Err(Error::invalid(
                "rotation",
                "The new key is not ready to copy",
            ));
        }
        let secret = self.secret_of(&rec.new_key_id)?;
        // Audited before the clipboard is set: no copy goes unrecorded.
        self.audit(
            "copy",
            Some(&rec.new_key_id),
            Some(&rec.provider_id),
            &format!("copied the new key of rotation {}", rec.id),
        )?;
        self.clipboard.copy(&secret, self.clear_after()?)
    }

    /// Adds a `.env` file to its work tree's `.gitignore`.
    pub fn add_to_gitignore(&self, path: &str) -> Result<()> {
        gitignore::add(Path::new(path))
    }

    // ---- steps ----

    /// Revokes live keys named after this rotation whose secret we do not
    /// hold (a crash between the service's answer and the keychain), except
    /// `keep`.
    async fn revoke_orphans(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Provider,
        keep: Option<&str>,
    ) -> Result<()> {
        let listed = connection.list().await;
        let remote = listed.map_err(|e| self.step_failed(rec, "revoke_orphan", e))?;
        let orphans: Vec<String> = remote
            .into_iter()
            .filter(|k| {
                k.name == rec.new_name
                    && k.revoked_at.is_none()
                    && Some(k.remote_id.as_str()) != keep
            })
            .map(|k| k.remote_id)
            .collect();
        for orphan in orphans {
            self.journal(rec, "revoke_orphan", "intent", &orphan)?;
            let revoked = connection.revoke(&orphan).await;
            revoked.map_err(|e| self.step_failed(rec, "revoke_orphan", e))?;
            rec.orphans_revoked += 1;
            self.journal(rec, "revoke_orphan", "ok", &orphan)?;
        }
        Ok(())
    }

    /// Creates (or adopts) the new key; returns its secret.
    async fn create_step(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Provider,
    ) -> Result<Secret> {
        // A crash after the keychain write but before the journal caught
        // up: the pending secret is here; adopt its key on the service.
        let account = key_account(&rec.new_key_id);
        let tried_before = self.catalog().intents(&rec.id, "create")? > 0;
        // A first attempt has nothing to adopt: skip the keychain and the list.
        let held = if tried_before || rec.state == State::Created {
            self.store.get(&account)?
        } else {
            None
        };
        if let Some(secret) = held {
            let listed = connection.list().await;
            let remote = listed.map_err(|e| self.step_failed(rec, "create", e))?;
            let masked = secret.masked();
            if let Some(found) = remote
                .iter()
                .find(|k| k.name == rec.new_name && k.revoked_at.is_none() && k.preview == masked)
            {
                rec.new_remote_id = Some(found.remote_id.clone());
                let detail = format!("adopted {}", found.remote_id);
                self.store_step(rec, &secret, found, &detail)?;
                return Ok(secret);
            }
            if rec.state == State::Created {
                // The keychain holds something else: the secret is lost.
                return Err(self.step_failed(rec, "store", Error::SecretMissing));
            }
        } else if rec.state == State::Created {
            return Err(self.step_failed(rec, "store", Error::SecretMissing));
        }

        let old = self.key_record(&rec.old_key_id)?;
        let spec = KeySpec {
            name: rec.new_name.clone(),
            scopes: old.scopes.clone(),
            expires_in_days: expiry_days(&old),
        };
        let idempotency_key = format!("latchkey-rotate-{}-{}", rec.id, rec.orphans_revoked);
        self.journal(
            rec,
            "create",
            "intent",
            &format!("create \"{}\"", rec.new_name),
        )?;
        failpoint("rotation::create::before");
        let first = connection.create(&spec, &idempotency_key).await;
        let created = match first {
            Ok(created) => created,
            Err(Error::ProviderConflict(_)) if tried_before => {
                // The service can no longer replay our earlier create (e.g.
                // it restarted): revoke what it made, then create afresh.
                self.revoke_orphans(rec, connection, None).await?;
                let idempotency_key = format!("latchkey-rotate-{}-{}", rec.id, rec.orphans_revoked);
                let again = connection.create(&spec, &idempotency_key).await;
                again.map_err(|e| self.step_failed(rec, "create", e))?
            }
            Err(e) => return Err(self.step_failed(rec, "create", e)),
        };
        let (remote, secret) = created;
        failpoint("rotation::create::after");
        if remote.revoked_at.is_some() {
            // A replay of a key revoked since: never a key to deploy. The
            // next attempt asks with a fresh idempotency key.
            rec.orphans_revoked += 1;
            let e = Error::ProviderConflict(
                "the service answered with a key that is already revoked; try again".into(),
            );
            return Err(self.step_failed(rec, "create", e));
        }
        // The secret goes to the keychain before anything else happens to it.
        if let Err(e) = self.store.put(&account, &secret) {
            let _ = connection.revoke(&remote.remote_id).await;
            // The retry must not replay this (now revoked) key.
            rec.orphans_revoked += 1;
            return Err(self.step_failed(rec, "store", e));
        }
        rec.new_remote_id = Some(remote.remote_id.clone());
        failpoint("rotation::store::before");
        if tried_before {
            // Anything else named after this rotation is a crash's leftover.
            self.revoke_orphans(rec, connection, Some(&remote.remote_id))
                .await?;
        }
        let detail = format!("created {}", remote.remote_id);
        self.store_step(rec, &secret, &remote, &detail)?;
        Ok(secret)
    }

    /// Records the new key (pending) in the catalog and moves to Stored.
    fn store_step(
        &self,
        rec: &mut RotationRecord,
        secret: &Secret,
        remote: &crate::providers::RemoteKey,
        created: &str,
    ) -> Result<()> {
        let old = self.key_record(&rec.old_key_id)?;
        let record = KeyRecord {
            id: rec.new_key_id.clone(),
            provider_id: rec.provider_id.clone(),
            // Manual providers have no id for it.
            remote_id: (!remote.remote_id.is_empty()).then(|| remote.remote_id.clone()),
            name: remote.name.clone(),
            preview: remote.preview.clone(),
            fingerprint: Some(secret.fingerprint().as_str().to_owned()),
            scopes: remote.scopes.clone(),
            environment: old.environment.clone(),
            env_var: String::new(),
            created_at: remote.created_at.clone(),
            expires_at: remote.expires_at.clone(),
            last_used_at: None,
            revoked_at: None,
            has_secret: true,
            pending_rotation: Some(rec.id.clone()),
        };
        // Created and Stored in one commit: the secret is already in the
        // keychain, so a crash before it leaves an adoptable key.
        let mut after = rec.clone();
        let created_first = after.state == State::Planned;
        if created_first {
            after.state = next(after.state, Event::NewKeyCreated).map_err(Error::from)?;
        }
        let mut stored = after.clone();
        stored.state = next(stored.state, Event::NewKeyStored).map_err(Error::from)?;
        stored.error = None;
        self.commit(|c, now| {
            if created_first {
                c.journal(&mut after, now, "create", "ok", created)?;
                stored.stored_state = after.stored_state;
            }
            c.upsert_pending_key(&record)?;
            c.journal(
                &mut stored,
                now,
                "store",
                "ok",
                "new key in the keychain (pending)",
            )?;
            c.append_audit(
                now,
                "create",
                Some(&stored.new_key_id),
                Some(&stored.provider_id),
                &format!("created \"{}\" for rotation {}", remote.name, stored.id),
            )
        })?;
        *rec = stored;
        Ok(())
    }

    /// Deploys to every target not yet done. `false`: waiting for a person.
    /// The new key: from memory, else from the keychain (a resumed run).
    fn new_secret(&self, rec: &RotationRecord, cached: &mut Option<Secret>) -> Result<Secret> {
        if let Some(s) = cached {
            return Ok(s.clone());
        }
        let s = self.secret_of(&rec.new_key_id)?;
        *cached = Some(s.clone());
        Ok(s)
    }

    fn deploy_step(&self, rec: &mut RotationRecord, secret: &Secret) -> Result<bool> {
        let new_fp = secret.fingerprint();
        self.sweep_beside_targets(rec);
        for i in 0..rec.targets.len() {
            let target = rec.targets[i].clone();
            if matches!(
                target.status,
                TargetStatus::Deployed | TargetStatus::Verified
            ) {
                continue;
            }
            match &target.spec {
                TargetSpec::Dotenv {
                    path,
                    var,
                    follow_symlink,
                } => {
                    let step = format!("deploy:{i}");
                    self.journal(rec, &step, "intent", &format!("{var} in {path}"))?;
                    failpoint("rotation::deploy::before");
                    let file = DotenvFile::open(Path::new(path), *follow_symlink)
                        .map_err(|e| self.target_failed(rec, i, &step, e))?;
                    let current = file
                        .fingerprint_of(var)
                        .map_err(|e| self.target_failed(rec, i, &step, e))?;
                    let deployed = if current.as_ref() != Some(&new_fp) {
                        // Not written yet (or a crash before the rename).
                        let digest = target.digest.clone().unwrap_or_default();
                        let backup = self.backup_path(&rec.id, i, file.path());
                        file.set_if_digest(&digest, var, secret, &backup)
                            .map_err(|e| self.target_failed(rec, i, &step, e))?
                    } else {
                        // Written before a crash: the file as it is now.
                        file.read()
                            .map_err(|e| self.target_failed(rec, i, &step, e))?
                            .digest_hex()
                    };
                    failpoint("rotation::deploy::after");
                    rec.targets[i].deployed_digest = Some(deployed);
                    rec.targets[i].status = TargetStatus::Deployed;
                    rec.targets[i].message = Some(format!("{var} now holds the new key"));
                    rec.error = None;
                    self.journal(rec, &step, "ok", &format!("{var} in {path}"))?;
                }
                TargetSpec::Manual { items } => {
                    let all = target.confirmed.len() == items.len()
                        && target.confirmed.iter().all(|c| *c);
                    if all {
                        rec.targets[i].status = TargetStatus::Deployed;
                        rec.targets[i].message = Some("every item confirmed".into());
                        self.journal(rec, &format!("deploy:{i}"), "ok", "checklist confirmed")?;
                    } else if target.status != TargetStatus::AwaitingConfirmation {
                        rec.targets[i].status = TargetStatus::AwaitingConfirmation;
                        rec.targets[i].message =
                            Some("Copy the new key, paste it in each place, then confirm".into());
                        self.journal(
                            rec,
                            &format!("deploy:{i}"),
                            "intent",
                            "waiting for the checklist",
                        )?;
                    }
                }
            }
        }
        if rec
            .targets
            .iter()
            .all(|t| t.status == TargetStatus::Deployed)
        {
            let text = format!(
                "deployed the new key of rotation {} to {} target(s)",
                rec.id,
                rec.targets.len()
            );
            let new_key_id = rec.new_key_id.clone();
            self.advance_audited(
                rec,
                Event::TargetsDeployed,
                "deploy",
                "every target holds the new key",
                ("deploy", &new_key_id, text),
                Some(("verify", "verify the new key")),
            )?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Temp files a kill left beside this rotation's files go.
    fn sweep_beside_targets(&self, rec: &RotationRecord) {
        for t in &rec.targets {
            if let TargetSpec::Dotenv { path, .. } = &t.spec {
                if let Some(dir) = std::fs::canonicalize(path)
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                {
                    sweep_temp_files(&dir);
                }
            }
        }
    }

    fn target_failed(&self, rec: &mut RotationRecord, i: usize, step: &str, e: Error) -> Error {
        rec.targets[i].message = Some(e.to_string());
        self.step_failed(rec, step, e)
    }

    /// Checks the new key: the service accepts it and every `.env` target
    /// holds it (by fingerprint). Marks each target. `Ok(Err(reason))`: it
    /// does not work; `Err`: the check itself could not run.
    async fn check_new_key(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Provider,
        secret: &Secret,
        step: &str,
    ) -> Result<std::result::Result<(), String>> {
        let new_fp = secret.fingerprint();
        let verdict = connection.verify(secret).await;
        let mut reason = match verdict.map_err(|e| self.step_failed(rec, step, e))? {
            Verification::Accepted => None,
            Verification::Rejected { code } => {
                Some(format!("the service rejects the new key ({code})"))
            }
        };
        for i in 0..rec.targets.len() {
            if let TargetSpec::Dotenv {
                path,
                var,
                follow_symlink,
            } = rec.targets[i].spec.clone()
            {
                let holds = DotenvFile::open(Path::new(&path), follow_symlink)
                    .and_then(|f| f.fingerprint_of(&var))
                    .ok()
                    .flatten();
                if holds.as_ref() == Some(&new_fp) {
                    rec.targets[i].status = TargetStatus::Verified;
                } else {
                    rec.targets[i].status = TargetStatus::Failed;
                    rec.targets[i].message =
                        Some(format!("{var} in {path} does not hold the new key"));
                    reason.get_or_insert(format!("{var} in {path} does not hold the new key"));
                }
            } else {
                rec.targets[i].status = TargetStatus::Verified;
            }
        }
        Ok(reason.map_or(Ok(()), Err))
    }

    /// The new key failed a check: journaled, and the rotation rolls back.
    fn verify_failed(&self, rec: &mut RotationRecord, step: &str, reason: &str) -> Result<()> {
        rec.state = next(rec.state, Event::VerifyFailed).map_err(Error::from)?;
        rec.error = Some(Error::VerifyFailed(reason.to_owned()).to_wire());
        self.journal(rec, step, "failed", reason)
    }

    /// `Ok(Err(reason))`: the new key does not work (roll back);
    /// `Err`: the check itself could not run (try again).
    async fn verify_step(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Provider,
        secret: &Secret,
    ) -> Result<std::result::Result<(), String>> {
        self.intent(rec, "verify", "verify the new key")?;
        failpoint("rotation::verify::before");
        if let Err(reason) = self
            .check_new_key(rec, connection, secret, "verify")
            .await?
        {
            self.verify_failed(rec, "verify", &reason)?;
            return Ok(Err(reason));
        }
        failpoint("rotation::verify::after");
        let text = format!("verified the new key of rotation {}", rec.id);
        let new_key_id = rec.new_key_id.clone();
        self.advance_audited(
            rec,
            Event::VerifyPassed,
            "verify",
            "the new key works and every target holds it",
            ("verify", &new_key_id, text),
            Some(("revoke_old", "revoke the old key")),
        )?;
        Ok(Ok(()))
    }

    /// Checks the new key again, under the run lock, right before the old
    /// key is revoked: a resume hours later must not trust a stale verify.
    async fn reverify_step(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Provider,
        secret: &Secret,
    ) -> Result<std::result::Result<(), String>> {
        self.journal(rec, "reverify", "intent", "check the new key again")?;
        if let Err(reason) = self
            .check_new_key(rec, connection, secret, "reverify")
            .await?
        {
            self.verify_failed(rec, "reverify", &reason)?;
            return Ok(Err(reason));
        }
        self.journal(rec, "reverify", "ok", "the new key still works")?;
        Ok(Ok(()))
    }

    async fn revoke_old_step(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Provider,
    ) -> Result<()> {
        let old = self.key_record(&rec.old_key_id)?;
        self.intent(rec, "revoke_old", "revoke the old key")?;
        failpoint("rotation::revoke_old::before");
        let revoked = self.revoke_confirmed(connection, &old).await;
        if revoked.is_err() {
            // By hand: the person confirms again after fixing it.
            rec.confirmed_by_hand = false;
        }
        revoked.map_err(|e| self.step_failed(rec, "revoke_old", e))?;
        failpoint("rotation::revoke_old::after");
        let text = format!(
            "revoked \"{}\" (rotation {}); the service now rejects it",
            old.name, rec.id
        );
        self.advance_audited(
            rec,
            Event::OldKeyRevoked,
            "revoke_old",
            "the service rejects the old key",
            ("revoke", &old.id, text),
            None,
        )
    }

    /// Sets one target's variable back to what it held before the deploy
    /// (from the private backup; the old key when there is none), only
    /// while the file is exactly as the deploy left it.
    fn restore_var(
        &self,
        rec: &RotationRecord,
        i: usize,
        file: &DotenvFile,
        var: &str,
        new_secret: Option<&Secret>,
    ) -> Result<()> {
        let backup = self.backup_path(&rec.id, i, file.path());
        let old = if backup.exists() {
            DotenvFile::value_in_backup(&backup, var)?
        } else {
            Some(self.secret_of(&rec.old_key_id)?)
        };
        // A crash between the write and its journal row: what the deploy
        // wrote is the backup with the new key set.
        let deployed = match (&rec.targets[i].deployed_digest, new_secret) {
            (Some(d), _) => d.clone(),
            (None, Some(new)) if backup.exists() => {
                let before = std::fs::read(&backup)
                    .map_err(|_| Error::DotenvChangedOnDisk(file.path().display().to_string()))?;
                crate::deploy::dotenv::set_value(&before, var, new.expose_secret())
                    .map(|b| hex::encode(sha2::Sha256::digest(&b)))
                    .map_err(|_| Error::DotenvChangedOnDisk(file.path().display().to_string()))?
            }
            _ => {
                return Err(Error::DotenvChangedOnDisk(
                    file.path().display().to_string(),
                ))
            }
        };
        file.rollback_var(&deployed, var, old.as_ref().map(Secret::expose_secret))
    }

    async fn rollback_steps(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Provider,
        progress: Progress<'_>,
    ) -> Result<()> {
        if rec.state == State::Failed {
            self.advance(
                rec,
                Event::RollbackRequested,
                "rollback",
                "rollback retried",
            )?;
        }
        progress(&self.rotation_view(rec)?);
        let secret = self.store.get(&key_account(&rec.new_key_id))?;
        // Without the keychain entry, the journaled fingerprint of the new
        // key still finds the targets that hold it.
        let new_fp = match &secret {
            Some(s) => Some(s.fingerprint()),
            None => self
                .catalog()
                .key(&rec.new_key_id)?
                .and_then(|k| k.fingerprint)
                .map(Fingerprint::from_hex),
        };
        let mut problems = Vec::new();
        for i in 0..rec.targets.len() {
            let TargetSpec::Dotenv {
                path,
                var,
                follow_symlink,
            } = rec.targets[i].spec.clone()
            else {
                if rec.targets[i].status != TargetStatus::Pending {
                    rec.targets[i].status = TargetStatus::RolledBack;
                    rec.targets[i].message =
                        Some("put the old key back in each place on the checklist".into());
                }
                continue;
            };
            let step = format!("restore:{i}");
            let file = match DotenvFile::open(Path::new(&path), follow_symlink) {
                Ok(f) => f,
                Err(e) => {
                    problems.push(format!("{path}: {e}"));
                    continue;
                }
            };
            let holds = file.fingerprint_of(&var).ok().flatten();
            if new_fp.is_some() && holds == new_fp {
                self.journal(rec, &step, "intent", &format!("set {var} back in {path}"))?;
                failpoint("rotation::restore::before");
                if let Err(e) = self.restore_var(rec, i, &file, &var, secret.as_ref()) {
                    rec.targets[i].status = TargetStatus::Failed;
                    rec.targets[i].message = Some(e.to_string());
                    self.journal(rec, &step, "failed", e.code().as_str())?;
                    problems.push(e.to_string());
                    continue;
                }
                rec.targets[i].status = TargetStatus::RolledBack;
                rec.targets[i].message = Some(format!("{var} holds the old key again"));
                self.journal(rec, &step, "ok", &format!("set {var} back in {path}"))?;
            } else if rec.targets[i].status != TargetStatus::Pending {
                rec.targets[i].status = TargetStatus::RolledBack;
                rec.targets[i].message =
                    Some(format!("{var} does not hold the new key; left as it is"));
            }
        }
        if problems.is_empty() {
            self.journal(rec, "revoke_new", "intent", "revoke the new key")?;
            failpoint("rotation::revoke_new::before");
            let by_hand = !connection.capabilities().revoke;
            let result = match &rec.new_remote_id {
                None if by_hand && rec.state != State::Planned => {
                    let new = self.catalog().key(&rec.new_key_id)?;
                    match new {
                        Some(record) if record.revoked_at.is_none() => {
                            if !rec.confirmed_by_hand {
                                // Wait for the person: needs RevokeNewByHand.
                                progress(&self.rotation_view(rec)?);
                                return Ok(());
                            }
                            let checked = self.revoke_confirmed(connection, &record).await;
                            if checked.is_err() {
                                rec.confirmed_by_hand = false;
                            }
                            checked
                        }
                        _ => Ok(()),
                    }
                }
                Some(remote_id) => {
                    let new = self.catalog().key(&rec.new_key_id)?;
                    match new {
                        Some(record) => self.revoke_confirmed(connection, &record).await,
                        None => connection.revoke(remote_id).await,
                    }
                }
                None => Ok(()),
            };
            let orphans = match result {
                Ok(()) => self.revoke_orphans(rec, connection, None).await,
                Err(e) => Err(e),
            };
            match orphans {
                Ok(()) => {
                    let now = self.now();
                    self.catalog().abandon_new_key(&rec.new_key_id, &now)?;
                    self.journal(rec, "revoke_new", "ok", "the new key is revoked")?;
                }
                Err(e) => problems.push(e.to_string()),
            }
        }
        if problems.is_empty() {
            let keep_error = rec.error.clone();
            self.advance(
                rec,
                Event::RollbackCompleted,
                "rollback",
                "rolled back; the old key is kept",
            )?;
            rec.error = keep_error;
            self.journal(rec, "rollback", "ok", "done")?;
            self.audit(
                "rotation_rollback",
                Some(&rec.old_key_id),
                Some(&rec.provider_id),
                &format!("rolled back rotation {}; the old key is kept", rec.id),
            )?;
            self.clean_up_finished(rec);
            progress(&self.rotation_view(rec)?);
            Ok(())
        } else {
            let reason = problems.join("; ");
            rec.state = next(rec.state, Event::RollbackFailed).map_err(Error::from)?;
            let e = Error::RollbackFailed(reason);
            rec.error = Some(e.to_wire());
            self.journal(rec, "rollback", "failed", "rollback_failed")?;
            progress(&self.rotation_view(rec)?);
            Err(e)
        }
    }
}

/// Checks a target and notes what it needs at plan time.
fn plan_target(spec: TargetSpec) -> Result<TargetState> {
    match spec {
        TargetSpec::Dotenv {
            path,
            var,
            follow_symlink,
        } => {
            let var = check_env_var(&var)?;
            if var.is_empty() {
                return Err(Error::invalid(
                    "env_var",
                    "Name the variable the key goes in",
                ));
            }
            let file = DotenvFile::open(Path::new(&path), follow_symlink)?;
            let digest = file.read()?.digest_hex();
            let absolute: PathBuf = file.path().to_path_buf();
            let warning = gitignore::warning(&absolute);
            Ok(TargetState {
                spec: TargetSpec::Dotenv {
                    path: if follow_symlink {
                        path
                    } else {
                        absolute.display().to_string()
                    },
                    var,
                    follow_symlink,
                },
                status: TargetStatus::Pending,
                digest: Some(digest),
                confirmed: vec![],
                message: None,
                gitignore_warning: warning,
                deployed_digest: None,
            })
        }
        TargetSpec::Manual { items } => {
            let items: Vec<String> = items
                .iter()
                .map(|i| crate::vault::check_name("item", i))
                .collect::<Result<_>>()?;
            if items.is_empty() {
                return Err(Error::invalid(
                    "items",
                    "Name at least one place the key goes",
                ));
            }
            Ok(TargetState {
                confirmed: vec![false; items.len()],
                spec: TargetSpec::Manual { items },
                status: TargetStatus::Pending,
                digest: None,
                message: None,
                gitignore_warning: None,
                deployed_digest: None,
            })
        }
    }
}

/// The new key lives as long as the old one was meant to: its lifetime in
/// days, when it had an expiry.
fn expiry_days(old: &KeyRecord) -> Option<u32> {
    let created = old
        .created_at
        .as_deref()
        .and_then(crate::clock::parse_rfc3339)?;
    let expires = old
        .expires_at
        .as_deref()
        .and_then(crate::clock::parse_rfc3339)?;
    let days = (expires - created).whole_days();
    u32::try_from(days.clamp(1, 3650)).ok()
}

#[cfg(test)]
mod tests {
    use super::new_key_name;

    #[test]
    fn new_names_carry_one_rotation_tag_within_64_characters() {
        let id = "0123456789abcdef";
        assert_eq!(new_key_name("backend", id), "backend (rotation 01234567)");
        assert_eq!(
            new_key_name("backend (rotation 89abcdef)", id),
            "backend (rotation 01234567)"
        );
        let long = "é".repeat(64);
        assert_eq!(new_key_name(&long, id).chars().count(), 64);
    }
}
