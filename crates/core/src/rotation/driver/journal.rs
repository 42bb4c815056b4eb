//! The rotation journal: every step's intent before its side effect and its result after,
//! state changes through the machine (compare-and-set), the run lock, backups and clean-up.

use super::*;

impl RotationOps<'_> {
    /// Writes a journal row; the record is saved with it.
    pub(in crate::rotation::driver) fn journal(
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
    pub(in crate::rotation::driver) fn commit(
        &self,
        f: impl FnOnce(&mut Catalog, &str) -> Result<()>,
    ) -> Result<()> {
        let now = self.now();
        self.catalog().batch(|c| f(c, &now))
    }

    /// Writes `step`'s intent unless the last journal row already is it
    /// (written ahead in the previous step's commit).
    pub(in crate::rotation::driver) fn intent(
        &self,
        rec: &mut RotationRecord,
        step: &str,
        detail: &str,
    ) -> Result<()> {
        let last = self.catalog().journal_entries(&rec.id)?.pop();
        if last.is_some_and(|e| e.step == step && e.phase == "intent") {
            return Ok(());
        }
        self.journal(rec, step, "intent", detail)
    }

    /// Moves the machine on in one commit: the transition's journal row, its
    /// audit row, and the next step's intent when it follows at once.
    pub(in crate::rotation::driver) fn advance_audited(
        &self,
        rec: &mut RotationRecord,
        event: Event,
        step: &str,
        detail: &str,
        audit: (&str, &str, String),
        next_intent: Option<(&str, &str)>,
    ) -> Result<()> {
        let mut after = rec.clone();
        after.state = next(after.strategy, after.state, event).map_err(Error::from)?;
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
    pub(in crate::rotation::driver) fn advance(
        &self,
        rec: &mut RotationRecord,
        event: Event,
        step: &str,
        detail: &str,
    ) -> Result<()> {
        rec.state = next(rec.strategy, rec.state, event).map_err(Error::from)?;
        rec.error = None;
        rec.confirmed_by_hand = false;
        self.journal(rec, step, "ok", detail)
    }

    /// Records a failed step and hands the error back.
    pub(in crate::rotation::driver) fn step_failed(
        &self,
        rec: &mut RotationRecord,
        step: &str,
        e: Error,
    ) -> Error {
        rec.error = Some(e.to_wire());
        let _ = self.journal(rec, step, "failed", e.code().as_str());
        e
    }

    /// Takes the rotation's run lock (this process and every other one on
    /// the data directory): every change to a rotation happens under it.
    pub(in crate::rotation::driver) fn claim_run(&self, id: &str) -> Result<RunGuard<'_>> {
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
    pub(in crate::rotation::driver) fn held_elsewhere(&self, id: &str) -> bool {
        !self.running().contains(id) && RotationLock::held_elsewhere(self.data_dir(), id)
    }

    /// A finished rotation leaves nothing behind: its backups (they hold
    /// the old key) and its lock file go.
    pub(in crate::rotation::driver) fn clean_up_finished(&self, rec: &RotationRecord) {
        if rec.state.is_terminal() {
            let _ = std::fs::remove_dir_all(self.backup_dir(&rec.id));
            RotationLock::remove(self.data_dir(), &rec.id);
        }
    }

    /// Where a rotation keeps its targets' backups: the data directory's
    /// `backups/<rotation>/`, 0700, never beside the target.
    pub(in crate::rotation::driver) fn backup_dir(&self, rotation_id: &str) -> PathBuf {
        self.data_dir().join("backups").join(rotation_id)
    }
}
