//! Undo: targets restored one variable at a time, the new key revoked, the old key kept.

use super::super::*;

impl Vault {
    /// Sets one target's variable back to what it held before the deploy
    /// (from the private backup; the old key when there is none), only
    /// while the file is exactly as the deploy left it.
    pub(in crate::rotation::driver) fn restore_var(
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

    pub(in crate::rotation::driver) async fn rollback_steps(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
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
            rec.state =
                next(Strategy::Overlap, rec.state, Event::RollbackFailed).map_err(Error::from)?;
            let e = Error::RollbackFailed(reason);
            rec.error = Some(e.to_wire());
            self.journal(rec, "rollback", "failed", "rollback_failed")?;
            progress(&self.rotation_view(rec)?);
            Err(e)
        }
    }
}
