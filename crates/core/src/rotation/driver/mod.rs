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
use super::{next, Event, State, Strategy, StrategyChoice};
use crate::catalog::ProviderKind;
use crate::catalog::{
    Catalog, JournalEntry, KeyRecord, RotationRecord, TargetSpec, TargetState, TargetStatus,
};
use crate::clipboard::ClearTimer;
use crate::deploy::{gitignore, Backup, OpenWith, Written};
use crate::error::{Error, Result, WireError};
use crate::providers::{Connector, KeySpec, Verification};
use crate::secret::{Fingerprint, Secret};
use crate::store::key_account;
use crate::vault::{RotationOps, Vault};

mod journal;
mod plan;
mod run;
mod steps;

use plan::expiry_days;
pub use steps::RunOptions;

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
    /// How this rotation swaps the keys.
    pub strategy: Strategy,
    /// Set while the service is given time for the new key to work (AWS):
    /// the attempt, the time waited and the longest wait.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<crate::providers::PropagationWait>,
}

/// Called after every journaled step.
pub type Progress<'a> = &'a (dyn Fn(&RotationView) + Send + Sync);

/// A progress callback that ignores progress.
pub fn no_progress(_: &RotationView) {}

fn step_of(state: State) -> RotationStep {
    match state {
        State::Planned | State::Created | State::Rolled => RotationStep::Create,
        State::Stored => RotationStep::Deploy,
        State::Deployed => RotationStep::Verify,
        State::Verified | State::OldRevoked | State::OldDeactivated => RotationStep::Revoke,
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
        State::OldDeactivated => "Old key deactivated: delete it, or reactivate it to undo.".into(),
        State::Rolled => "The key was rolled; saving the new key in the keychain.".into(),
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

/// A key's name as people see it: without the rotation tag its service
/// name carries (`web (rotation 6d19f834)` is shown as `web`), so a key
/// keeps its name through its rotations.
pub fn display_name(name: &str) -> &str {
    match name.rfind(" (rotation ") {
        Some(at) if name.ends_with(')') && name.len() - at == 20 => &name[..at],
        _ => name,
    }
}

/// The name the new key gets on the service: the old name plus the
/// rotation's id, at most 64 characters.
fn new_key_name(old: &str, rotation_id: &str) -> String {
    // A key that came from an earlier rotation drops that rotation's tag.
    let old = display_name(old);
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

impl RotationOps<'_> {
    /// How the driver opens a target: its confirmations, its note of what
    /// the deploy wrote (or, before the deploy's row, what the plan saw:
    /// a GitHub secret's `updated_at` before our write), and this vault's
    /// connections (a GitHub target's token).
    fn open_with<'a>(&'a self, confirmed: &'a [bool], deployed: Option<&'a str>) -> OpenWith<'a> {
        OpenWith {
            confirmed,
            deployed,
            connections: &**self,
        }
    }

    /// Opens a rotation's target as it stands: its confirmations, and the
    /// file as the deploy left it (else as the plan found it).
    fn open_target(&self, target: &TargetState) -> Box<dyn crate::deploy::DeployTarget> {
        target.spec.open(
            self.open_with(
                &target.confirmed,
                target
                    .deployed_digest
                    .as_deref()
                    .or(target.digest.as_deref()),
            ),
        )
    }

    fn rotation_record(&self, id: &str) -> Result<RotationRecord> {
        self.catalog()
            .rotation(id)?
            .ok_or_else(|| Error::NotFound(format!("Rotation {id}")))
    }

    fn rotation_view(&self, rec: &RotationRecord) -> Result<RotationView> {
        let old_name = self
            .catalog()
            .key(&rec.old_key_id)?
            .map(|k| display_name(&k.name).to_owned())
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
            strategy: rec.strategy,
            waiting: None,
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
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// A rotation in `state` with targets in `statuses`, as the journal
    /// holds it.
    fn record(state: State, statuses: &[TargetStatus], confirmed_by_hand: bool) -> RotationRecord {
        let targets = statuses
            .iter()
            .map(|&status| TargetState {
                spec: TargetSpec::Dotenv {
                    path: "/p/.env".into(),
                    var: "K".into(),
                    follow_symlink: false,
                },
                status,
                digest: None,
                confirmed: vec![],
                message: None,
                gitignore_warning: None,
                deployed_digest: None,
            })
            .collect();
        RotationRecord {
            id: "r".into(),
            old_key_id: "o".into(),
            provider_id: "p".into(),
            new_key_id: "n".into(),
            new_name: "web (rotation 01234567)".into(),
            new_remote_id: None,
            state,
            targets,
            orphans_revoked: 0,
            error: None,
            created_at: String::new(),
            updated_at: String::new(),
            confirmed_by_hand,
            stored_state: state,
            strategy: Strategy::Overlap,
        }
    }

    const STATES: [State; 12] = [
        State::Planned,
        State::Created,
        State::Rolled,
        State::Stored,
        State::Deployed,
        State::Verified,
        State::OldRevoked,
        State::OldDeactivated,
        State::Done,
        State::RollingBack,
        State::RolledBack,
        State::Failed,
    ];

    /// Each state says where it is in its own words (`summary_of` as an
    /// empty or fixed text); a deploy waits on the checklist only while a
    /// target awaits confirmation (`waiting`: `==` as `!=`, the guard as
    /// `true` or `false`).
    #[test]
    fn every_state_has_its_own_summary_and_the_checklist_is_named_only_while_waiting() {
        let summaries: std::collections::BTreeSet<String> = STATES
            .iter()
            .map(|&s| summary_of(&record(s, &[TargetStatus::Pending], false)))
            .collect();
        assert_eq!(summaries.len(), STATES.len(), "{summaries:?}");
        let stored = |status| summary_of(&record(State::Stored, &[status], false));
        assert_eq!(
            stored(TargetStatus::Pending),
            "The new key is in the keychain; deploying it."
        );
        assert!(stored(TargetStatus::AwaitingConfirmation).contains("confirm each item"));
        assert_eq!(
            summary_of(&record(
                State::Stored,
                &[TargetStatus::Deployed, TargetStatus::AwaitingConfirmation],
                false
            )),
            stored(TargetStatus::AwaitingConfirmation)
        );
    }

    /// A manual service's rotation asks the person for the new key when
    /// planned, and to revoke by hand until they confirmed it; others never
    /// ask (`needs_of`: each arm, guard and `!`).
    #[test]
    fn a_manual_rotation_asks_for_what_only_a_person_can_do() {
        use RotationNeed::*;
        let need = |state, confirmed, manual| needs_of(&record(state, &[], confirmed), manual);
        assert_eq!(need(State::Planned, false, true), Some(PasteNewKey));
        assert_eq!(need(State::Verified, false, true), Some(RevokeOldByHand));
        assert_eq!(need(State::Verified, true, true), None);
        assert_eq!(need(State::RollingBack, false, true), Some(RevokeNewByHand));
        assert_eq!(need(State::RollingBack, true, true), None);
        for state in STATES {
            assert_eq!(need(state, false, false), None, "{state:?} not manual");
        }
        assert_eq!(need(State::Deployed, false, true), None);
        assert_eq!(need(State::Stored, false, true), None);
    }

    /// Only a whole rotation tag (` (rotation ` + 8 characters + `)` at the
    /// end) is taken off a name (`display_name`: the guard as `true`, `&&`
    /// as `||`, `==` as `!=`).
    #[test]
    fn only_a_whole_rotation_tag_is_taken_off_a_name() {
        assert_eq!(display_name("web (rotation 6d19f834)"), "web");
        assert_eq!(display_name("web"), "web");
        assert_eq!(display_name("web (rotation x)"), "web (rotation x)");
        assert_eq!(
            display_name("web (rotation 6d19f83)"),
            "web (rotation 6d19f83)"
        );
        assert_eq!(
            display_name("web (rotation 6d19f834)!"),
            "web (rotation 6d19f834)!"
        );
    }
}
