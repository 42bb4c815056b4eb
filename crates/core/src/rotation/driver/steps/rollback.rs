//! Undo: targets restored one variable at a time, the new key revoked, the old key kept.

use super::super::*;

impl RotationOps<'_> {
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
        // Without a new key to look for, a target must still be reachable.
        let looked_for = new_fp
            .clone()
            .unwrap_or_else(|| Fingerprint::from_hex(String::new()));
        let backup_dir = self.backup_dir(&rec.id);
        let old_key_id = rec.old_key_id.clone();
        let old_key = || self.secret_of(&old_key_id);
        // Newest first: a file two targets wrote is undone in reverse, each
        // restore finding the file as the one after it left it.
        for i in (0..rec.targets.len()).rev() {
            let target = rec.targets[i].clone();
            let t = self.open_target(&target);
            let backup = Backup {
                dir: &backup_dir,
                index: i,
            };
            if t.by_hand() {
                // The person puts the old key back; nothing to journal.
                if target.status != TargetStatus::Pending {
                    let message = t.restore(&backup, None, None, &old_key).await?;
                    rec.targets[i].status = TargetStatus::RolledBack;
                    rec.targets[i].message = Some(message);
                }
                continue;
            }
            let what = t.describe();
            let step = format!("restore:{i}");
            let holds = match t.holds(&looked_for).await {
                Ok(holds) => new_fp.is_some() && holds,
                Err(e) => {
                    problems.push(format!("{what}: {e}"));
                    continue;
                }
            };
            if holds {
                self.journal(rec, &step, "intent", &format!("restore {what}"))?;
                failpoint("rotation::restore::before");
                let restored = t
                    .restore(
                        &backup,
                        target.deployed_digest.as_deref(),
                        secret.as_ref(),
                        &old_key,
                    )
                    .await;
                match restored {
                    Ok(message) => {
                        rec.targets[i].status = TargetStatus::RolledBack;
                        rec.targets[i].message = Some(message);
                        self.journal(rec, &step, "ok", &format!("restore {what}"))?;
                    }
                    Err(e) => {
                        rec.targets[i].status = TargetStatus::Failed;
                        rec.targets[i].message = Some(e.to_string());
                        self.journal(rec, &step, "failed", e.code().as_str())?;
                        problems.push(e.to_string());
                    }
                }
            } else if target.status != TargetStatus::Pending {
                rec.targets[i].status = TargetStatus::RolledBack;
                rec.targets[i].message =
                    Some(format!("{what} does not hold the new key; left as it is"));
            }
        }
        if problems.is_empty() {
            // A connection already moved to the new key goes back first.
            let (leaving, staying) = (rec.new_key_id.clone(), rec.old_key_id.clone());
            let switched = self
                .move_connection_off(rec, connection, &leaving, &staying)
                .await?;
            let connection: &dyn Connector = switched.as_deref().unwrap_or(connection);
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
                            let checked =
                                self.key_ops().revoke_confirmed(connection, &record).await;
                            if checked.is_err() {
                                rec.confirmed_by_hand = false;
                            }
                            checked.map(|_| ())
                        }
                        _ => Ok(()),
                    }
                }
                Some(remote_id) => {
                    let new = self.catalog().key(&rec.new_key_id)?;
                    match new {
                        Some(record) => self
                            .key_ops()
                            .revoke_confirmed(connection, &record)
                            .await
                            .map(|_| ()),
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
                next(rec.strategy, rec.state, Event::RollbackFailed).map_err(Error::from)?;
            let e = Error::RollbackFailed(reason);
            rec.error = Some(e.to_wire());
            self.journal(rec, "rollback", "failed", "rollback_failed")?;
            progress(&self.rotation_view(rec)?);
            Err(e)
        }
    }
}
