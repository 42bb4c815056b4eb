//! Running a rotation to its end, rolling it back, and the steps a person takes by hand
//! (a pasted key, a dashboard step, checklist items, copying the new key).

use super::*;

impl RotationOps<'_> {
    /// Runs (or resumes) a rotation until it is done, waits for a person
    /// (a manual target's checklist), or a step fails. A failed verify
    /// rolls back and returns `verify_failed`.
    pub async fn run_rotation(&self, id: &str, progress: Progress<'_>) -> Result<RotationView> {
        self.run_rotation_with(id, RunOptions::default(), progress)
            .await
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
        let by_hand = !connection.capabilities().create && rec.strategy != Strategy::RollInPlace;
        let rolls = rec.strategy == Strategy::RollInPlace;
        // The old key is read from the keychain while the targets are
        // written and checked, for the check that the service rejects it
        // once revoked (the read's D-Bus round trip costs as much as the
        // deploy's calls).
        let mut old_read = None;
        loop {
            if old_read.is_none()
                && rec.strategy == Strategy::Overlap
                && connection.capabilities().revoke
                && matches!(rec.state, State::Stored | State::Deployed)
            {
                old_read = Some(self.key_ops().read_ahead(&rec.old_key_id));
            }
            let view = self.rotation_view(&rec)?;
            progress(&view);
            if view.needs.is_some() {
                // A person acts in the dashboard; `provide_new_key` or
                // `confirm_done_by_hand`, then run again.
                return Ok(view);
            }
            match rec.state {
                State::Planned if by_hand => return Ok(view),
                State::Planned | State::Rolled if rolls => {
                    new_secret = Some(self.roll_step(&mut rec, connection.as_ref()).await?)
                }
                State::Planned | State::Created => {
                    new_secret = Some(self.create_step(&mut rec, connection.as_ref()).await?)
                }
                State::Stored => {
                    let secret = self.new_secret(&rec, &mut new_secret)?;
                    if !self.deploy_step(&mut rec, &secret).await? {
                        let view = self.rotation_view(&rec)?;
                        progress(&view);
                        return Ok(view);
                    }
                }
                State::Deployed => {
                    let secret = self.new_secret(&rec, &mut new_secret)?;
                    if let Err(reason) = self
                        .verify_step(&mut rec, connection.as_ref(), &secret, progress)
                        .await?
                    {
                        if rolls {
                            // No old key to go back to: deploy and check again.
                            return Err(Error::RolledNotVerified(reason));
                        }
                        self.rollback_steps(&mut rec, connection.as_ref(), progress)
                            .await?;
                        return Err(Error::VerifyFailed(reason));
                    }
                    checked_here = true;
                }
                State::Verified if rolls => self.finish_step(&mut rec)?,
                State::Verified => {
                    if !checked_here {
                        let secret = self.new_secret(&rec, &mut new_secret)?;
                        if let Err(reason) = self
                            .reverify_step(&mut rec, connection.as_ref(), &secret, progress)
                            .await?
                        {
                            self.rollback_steps(&mut rec, connection.as_ref(), progress)
                                .await?;
                            return Err(Error::VerifyFailed(reason));
                        }
                        checked_here = true;
                    }
                    let old = self.key_record(&rec.old_key_id)?;
                    let step = match rec.strategy {
                        Strategy::DeactivateFirst => "deactivate_old",
                        _ => "revoke_old",
                    };
                    self.last_used_guard(&mut rec, connection.as_ref(), &old, options, step)
                        .await?;
                    if rec.strategy == Strategy::DeactivateFirst {
                        self.deactivate_old_step(&mut rec, connection.as_ref())
                            .await?;
                        // The person deletes it or switches it on again.
                        let view = self.rotation_view(&rec)?;
                        progress(&view);
                        return Ok(view);
                    }
                    self.revoke_old_step(&mut rec, connection.as_ref(), old_read.take())
                        .await?
                }
                State::OldDeactivated => {
                    // The connection may have moved to the new key.
                    let provider = self.provider_record(&rec.provider_id)?;
                    let now_connection = self.connect(&provider)?;
                    self.delete_deactivated_step(&mut rec, now_connection.as_ref())
                        .await?
                }
                State::OldRevoked => self.finish_step(&mut rec)?,
                State::Done | State::RolledBack => {
                    self.clean_up_finished(&rec);
                    return self.rotation_view(&rec);
                }
                State::Rolled => {
                    return Err(Error::Refused(format!(
                        "a {} rotation cannot be in {:?}",
                        rec.strategy, rec.state
                    )))
                }
                State::RollingBack | State::Failed => {
                    self.rollback_steps(&mut rec, connection.as_ref(), progress)
                        .await?;
                    return self.rotation_view(&rec);
                }
            }
        }
    }

    /// The finish is a catalog write only: its intent, the write and its
    /// result commit together.
    fn finish_step(&self, rec: &mut RotationRecord) -> Result<()> {
        failpoint("rotation::finish::before");
        let mut done = rec.clone();
        done.state = next(done.strategy, done.state, Event::Finished).map_err(Error::from)?;
        done.error = None;
        let text = match done.strategy {
            Strategy::RollInPlace => format!(
                "rotation {} done; the service replaced the old key",
                done.id
            ),
            _ => format!("rotation {} done; old key revoked", done.id),
        };
        self.commit(|c, now| {
            c.journal(rec, now, "finish", "intent", "commit the new key")?;
            c.commit_rotation(&done, now)?;
            c.journal(&mut done, now, "finish", "ok", "done")?;
            c.append_audit(
                now,
                "rotate",
                Some(&done.new_key_id),
                Some(&done.provider_id),
                &text,
            )
        })?;
        *rec = done;
        self.clean_up_finished(rec);
        Ok(())
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
        if rec.strategy == Strategy::RollInPlace && rec.state != State::Planned {
            return Err(Error::invalid(
                "rotation",
                "The service replaced the key in one step, so there is no old key to go back to: resume the rotation to deploy the new key",
            ));
        }
        let provider = self.provider_record(&rec.provider_id)?;
        let connection = self.connect(&provider)?;
        if rec.state == State::OldDeactivated {
            // Undoing a deactivate-first rotation starts by switching the
            // old key on again.
            self.reactivate_steps(&mut rec, connection.as_ref(), progress)
                .await?;
            return self.rotation_view(&rec);
        }
        if rec.strategy == Strategy::DeactivateFirst
            && rec.state != State::RollingBack
            && self.catalog().intents(&rec.id, "deactivate_old")? > 0
        {
            // Killed while switching the old key off: it may be off. It
            // goes back on before anything else is undone.
            self.switch_old_back_on(&mut rec, connection.as_ref())
                .await?;
        }
        if rec.state == State::Planned && rec.strategy != Strategy::RollInPlace {
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
        let secret = secret.trimmed();
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
            request_count: None,
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
}
