//! The steps only some strategies take: the last-used guard before the old
//! key goes; deactivate first (switch the old key off, then delete it on
//! resume or switch it on again to undo); roll in place (one call replaces
//! the key; the new key goes to the keychain before anything else).

use super::super::*;

/// How a run may go past a hold the person already saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// "Revoke anyway": the old key goes even though the service says it
    /// was used after the new key was deployed.
    pub force_revoke: bool,
}

impl RotationOps<'_> {
    /// When the deploy step finished (its journal row), if it did.
    fn deployed_at(&self, rec: &RotationRecord) -> Result<Option<String>> {
        Ok(self
            .catalog()
            .journal_entries(&rec.id)?
            .into_iter()
            .rev()
            .find(|e| e.step == "deploy" && e.phase == "ok")
            .map(|e| e.at))
    }

    /// The last-used guard: where the service says when a key was last
    /// used, an old key used after the new one was deployed is still read
    /// by something, and revoking it would break that. Held with
    /// `still_in_use` unless the person said "Revoke anyway". A connection
    /// that signs in with the old key itself uses it (its own calls), so
    /// its use says nothing: the guard says so in the journal and lets go.
    pub(in crate::rotation::driver) async fn last_used_guard(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
        old: &KeyRecord,
        options: RunOptions,
        step: &str,
    ) -> Result<()> {
        if !connection.capabilities().last_used {
            return Ok(());
        }
        let Some(remote_id) = old.remote_id.as_deref() else {
            return Ok(());
        };
        let Some(deployed) = self.deployed_at(rec)? else {
            return Ok(());
        };
        let provider = self.provider_record(&rec.provider_id)?;
        if self
            .connection_token_if_key(&provider, connection, &old.id)
            .await?
            .is_some()
        {
            return self.journal(
                rec,
                "last_used",
                "ok",
                "not checked: the connection itself signs in with the old key",
            );
        }
        let last = match connection.last_used(remote_id).await {
            Ok(last) => last,
            // The service could not say: nothing to hold on.
            Err(e) => {
                let detail = format!(
                    "could not ask when the old key was last used ({})",
                    e.code()
                );
                return self.journal(rec, "last_used", "ok", &detail);
            }
        };
        let used_after = last.as_deref().is_some_and(|at| {
            match (
                crate::clock::parse_rfc3339(at),
                crate::clock::parse_rfc3339(&deployed),
            ) {
                // The journal keeps whole seconds: a use within the second
                // the deploy finished may have come before it, and is not
                // held on.
                (Some(at), Some(deployed)) => at.unix_timestamp() > deployed.unix_timestamp(),
                _ => false,
            }
        });
        if !used_after {
            return Ok(());
        }
        let at = last.unwrap_or_default();
        if options.force_revoke {
            let detail = format!(
                "old key last used {at}, after the deploy: revoked anyway, as the person chose"
            );
            self.journal(rec, "last_used", "ok", &detail)?;
            return self.audit(
                "revoke_anyway",
                Some(&old.id),
                Some(&rec.provider_id),
                &format!("rotation {}: {detail}", rec.id),
            );
        }
        Err(self.step_failed(rec, step, Error::StillInUse(at)))
    }

    /// Deactivate first: the old key is switched off, not deleted. The run
    /// stops there; the person deletes it (a resume) or switches it on again
    /// (`reactivate_rotation`).
    pub(in crate::rotation::driver) async fn deactivate_old_step(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
    ) -> Result<()> {
        let old = self.key_record(&rec.old_key_id)?;
        let remote_id = old.remote_id.clone().ok_or_else(|| {
            Error::invalid("key", "This key is not linked to a key on the service")
        })?;
        let (leaving, staying) = (rec.old_key_id.clone(), rec.new_key_id.clone());
        let switched = self
            .move_connection_off(rec, connection, &leaving, &staying)
            .await?;
        let connection: &dyn Connector = switched.as_deref().unwrap_or(connection);
        self.intent(rec, "deactivate_old", "switch the old key off")?;
        failpoint("rotation::deactivate_old::before");
        let off = connection.set_active(&remote_id, false).await;
        off.map_err(|e| self.step_failed(rec, "deactivate_old", e))?;
        failpoint("rotation::deactivate_old::after");
        let text = format!(
            "switched \"{}\" off (rotation {}); delete it, or reactivate it to undo",
            old.name, rec.id
        );
        self.advance_audited(
            rec,
            Event::OldDeactivated,
            "deactivate_old",
            "the old key is switched off",
            ("deactivate", &old.id, text),
            None,
        )
    }

    /// Deactivate first, finished: the switched-off old key is deleted and
    /// confirmed gone.
    pub(in crate::rotation::driver) async fn delete_deactivated_step(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
    ) -> Result<()> {
        let old = self.key_record(&rec.old_key_id)?;
        self.intent(rec, "delete_old", "delete the switched-off old key")?;
        failpoint("rotation::delete_old::before");
        let deleted = self.key_ops().revoke_confirmed(connection, &old).await;
        let deleted = deleted.map_err(|e| self.step_failed(rec, "delete_old", e))?;
        let text = deleted.says(
            "deleted",
            &format!("\"{}\" (rotation {})", old.name, rec.id),
        );
        self.advance_audited(
            rec,
            Event::OldDeleted,
            "delete_old",
            "the old key is deleted and rejected",
            ("revoke", &old.id, text),
            None,
        )
    }

    /// Switches a deactivated old key on again and rolls the rotation back
    /// (targets restored, the new key revoked). Only from "Old key
    /// deactivated".
    pub async fn reactivate_rotation(
        &self,
        id: &str,
        progress: Progress<'_>,
    ) -> Result<RotationView> {
        let _guard = self.claim_run(id)?;
        let mut rec = self.rotation_record(id)?;
        if rec.state != State::OldDeactivated {
            return Err(Error::invalid(
                "rotation",
                "Only a rotation whose old key is switched off can reactivate it",
            ));
        }
        let provider = self.provider_record(&rec.provider_id)?;
        let connection = self.connect(&provider)?;
        self.reactivate_steps(&mut rec, connection.as_ref(), progress)
            .await?;
        self.rotation_view(&rec)
    }

    pub(in crate::rotation::driver) async fn reactivate_steps(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
        progress: Progress<'_>,
    ) -> Result<()> {
        let old = self.key_record(&rec.old_key_id)?;
        let remote_id = old.remote_id.clone().ok_or_else(|| {
            Error::invalid("key", "This key is not linked to a key on the service")
        })?;
        self.intent(rec, "reactivate_old", "switch the old key on again")?;
        failpoint("rotation::reactivate_old::before");
        let on = connection.set_active(&remote_id, true).await;
        on.map_err(|e| self.step_failed(rec, "reactivate_old", e))?;
        let text = format!(
            "switched \"{}\" on again (rotation {}); the rotation rolls back",
            old.name, rec.id
        );
        self.advance_audited(
            rec,
            Event::OldReactivated,
            "reactivate_old",
            "the old key is on again",
            ("reactivate", &old.id, text),
            None,
        )?;
        self.rollback_steps(rec, connection, progress).await
    }

    /// Switches the old key on again (a rollback after a kill during the
    /// deactivation); switching on a key that is on changes nothing.
    pub(in crate::rotation::driver) async fn switch_old_back_on(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
    ) -> Result<()> {
        let old = self.key_record(&rec.old_key_id)?;
        let Some(remote_id) = old.remote_id.clone() else {
            return Ok(());
        };
        self.journal(
            rec,
            "reactivate_old",
            "intent",
            "switch the old key on again",
        )?;
        let on = connection.set_active(&remote_id, true).await;
        on.map_err(|e| self.step_failed(rec, "reactivate_old", e))?;
        self.journal(rec, "reactivate_old", "ok", "the old key is on")?;
        self.audit(
            "reactivate",
            Some(&old.id),
            Some(&rec.provider_id),
            &format!(
                "switched \"{}\" on again (rotation {} rolled back)",
                old.name, rec.id
            ),
        )
    }

    /// Roll in place: one call replaces the old key; the new key goes to
    /// the keychain before anything else, and a connection that signed in
    /// with the old key switches to it at once (the old one is dead).
    ///
    /// A roll is never sent twice blindly: when an earlier attempt's answer
    /// was lost (a crash, a timeout), the old key is asked about first. If
    /// the service still accepts it the roll did not happen and is sent
    /// again; if not, the new key is lost with the answer, and the person
    /// is told so (GitLab revokes the newest token of a family when an
    /// already-rotated token is rotated again).
    pub(in crate::rotation::driver) async fn roll_step(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
    ) -> Result<Secret> {
        let old = self.key_record(&rec.old_key_id)?;
        let remote_id = old.remote_id.clone().ok_or_else(|| {
            Error::invalid("key", "This key is not linked to a key on the service")
        })?;
        let account = key_account(&rec.new_key_id);
        if self.catalog().intents(&rec.id, "roll")? > 0 {
            // A crash after the keychain write: the rolled key is here.
            if let Some(secret) = self.store.get(&account)? {
                if let Ok(Verification::Accepted) = connection.verify(&secret).await {
                    let mut remote = self.rolled_remote(connection, &remote_id, &secret).await;
                    remote.name = rec.new_name.clone();
                    self.after_roll(rec, connection, &old.id).await?;
                    self.store_step(rec, &secret, &remote, "adopted the rolled key")?;
                    return Ok(secret);
                }
            }
            let old_secret = self.secret_of(&old.id)?;
            match connection.verify(&old_secret).await {
                Ok(Verification::Accepted) => {
                    self.journal(
                        rec,
                        "roll",
                        "ok",
                        "the old key still works: the earlier roll did not happen; rolling again",
                    )?;
                }
                Ok(Verification::Rejected { .. }) => {
                    let e = Error::OutcomeUnknown(format!(
                        "the service no longer accepts \"{}\" and the new key never reached Latchkey. Make a new key in the service's dashboard and add it to Latchkey; roll back this rotation to close it",
                        display_name(&old.name)
                    ));
                    return Err(self.step_failed(rec, "roll", e));
                }
                Err(e) => return Err(self.step_failed(rec, "roll", e)),
            }
        }
        self.journal(rec, "roll", "intent", &format!("roll \"{}\"", old.name))?;
        failpoint("rotation::roll::before");
        let rolled = connection.roll(&remote_id).await;
        let (mut remote, secret) = match rolled {
            Ok(r) => r,
            // The service said no before doing anything: a plain failure.
            Err(
                e @ (Error::ProviderUnauthorized
                | Error::ProviderForbidden
                | Error::NotFound(_)
                | Error::InvalidInput { .. }
                | Error::NotSupported(_)
                | Error::RateLimited { .. }),
            ) => return Err(self.step_failed(rec, "roll", e)),
            // The connector already says the outcome is unknown.
            Err(e @ Error::OutcomeUnknown(_)) => return Err(self.step_failed(rec, "roll", e)),
            // A timeout, a dropped connection, a 5xx, a garbled answer: the
            // roll may have happened. Never sent again from here.
            Err(e) => {
                let e = Error::OutcomeUnknown(format!(
                    "{e} Resume the rotation: Latchkey checks whether the old key still works before it tries again"
                ));
                return Err(self.step_failed(rec, "roll", e));
            }
        };
        failpoint("rotation::roll::after");
        // The new key goes to the keychain before anything else happens.
        if let Err(e) = self.store.put(&account, &secret) {
            return Err(self.step_failed(rec, "store", e));
        }
        failpoint("rotation::store::before");
        remote.name = rec.new_name.clone();
        self.after_roll(rec, connection, &old.id).await?;
        self.store_step(
            rec,
            &secret,
            &remote,
            &format!("rolled to {}", remote.remote_id),
        )?;
        Ok(secret)
    }

    /// After a roll: the connection that signed in with the old (now dead)
    /// key switches to the new one.
    async fn after_roll(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
        old_key_id: &str,
    ) -> Result<()> {
        let new_key_id = rec.new_key_id.clone();
        self.move_connection_off(rec, connection, old_key_id, &new_key_id)
            .await
            .map(|_| ())
    }

    /// The service's record of a rolled key found again (a resume), or one
    /// made from what Latchkey knows.
    async fn rolled_remote(
        &self,
        connection: &dyn Connector,
        old_remote_id: &str,
        secret: &Secret,
    ) -> crate::providers::RemoteKey {
        if let Ok(keys) = connection.list().await {
            if let Some(k) = keys.into_iter().find(|k| connection.owns(secret, k)) {
                return k;
            }
        }
        crate::providers::RemoteKey {
            remote_id: old_remote_id.to_owned(),
            name: String::new(),
            preview: secret.masked(),
            scopes: vec![],
            created_at: Some(self.now()),
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            request_count: None,
        }
    }
}
