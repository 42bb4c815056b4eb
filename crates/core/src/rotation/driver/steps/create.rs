//! Step 1: create the new key (adopting one a crash left, revoking orphans) and store it
//! in the keychain before anything else happens to it.

use super::super::*;

impl RotationOps<'_> {
    /// Revokes live keys named after this rotation whose secret we do not
    /// hold (a crash between the service's answer and the keychain), except
    /// `keep`.
    pub(in crate::rotation::driver) async fn revoke_orphans(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
        keep: Option<&str>,
    ) -> Result<()> {
        let listed = connection.list().await;
        let remote = listed.map_err(|e| self.step_failed(rec, "revoke_orphan", e))?;
        // Keys without names (AWS): a live key made since this rotation's
        // first create intent, that is not the old key and whose secret
        // Latchkey does not hold, is this rotation's leftover.
        let unnamed_since = if connection.names_keys() {
            None
        } else {
            self.catalog()
                .journal_entries(&rec.id)?
                .into_iter()
                .find(|e| e.step == "create" && e.phase == "intent")
                .and_then(|e| crate::clock::parse_rfc3339(&e.at))
        };
        let old_remote = self.key_record(&rec.old_key_id)?.remote_id;
        let mut orphans = Vec::new();
        for k in remote {
            if k.revoked_at.is_some() || Some(k.remote_id.as_str()) == keep {
                continue;
            }
            let ours = if k.name == rec.new_name {
                true
            } else if let Some(since) = unnamed_since {
                let made_since = k
                    .created_at
                    .as_deref()
                    .and_then(crate::clock::parse_rfc3339)
                    .is_some_and(|at| at.unix_timestamp() >= since.unix_timestamp());
                let held = self
                    .catalog()
                    .key_by_remote(&rec.provider_id, &k.remote_id)?
                    .is_some_and(|local| local.has_secret);
                made_since && !held && old_remote.as_deref() != Some(k.remote_id.as_str())
            } else {
                false
            };
            if ours {
                orphans.push(k.remote_id);
            }
        }
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
    pub(in crate::rotation::driver) async fn create_step(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
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
            let named = connection.names_keys();
            if let Some(found) = remote.iter().find(|k| {
                (k.name == rec.new_name || !named)
                    && k.revoked_at.is_none()
                    && (k.preview == masked || connection.owns(&secret, k))
            }) {
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
    pub(in crate::rotation::driver) fn store_step(
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
            secret_len: secret.stored_len(),
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
        // A roll's answer is the new key as a create's is.
        let (made, made_step) = match after.strategy {
            Strategy::RollInPlace => (Event::Rolled, "roll"),
            _ => (Event::NewKeyCreated, "create"),
        };
        if created_first {
            after.state = next(after.strategy, after.state, made).map_err(Error::from)?;
        }
        let mut stored = after.clone();
        stored.state =
            next(stored.strategy, stored.state, Event::NewKeyStored).map_err(Error::from)?;
        stored.error = None;
        self.commit(|c, now| {
            if created_first {
                c.journal(&mut after, now, made_step, "ok", created)?;
                stored.stored_state = after.stored_state;
            }
            if after.strategy == Strategy::RollInPlace && old.remote_id == record.remote_id {
                c.unlink_remote(&old.id)?;
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
    pub(in crate::rotation::driver) fn new_secret(
        &self,
        rec: &RotationRecord,
        cached: &mut Option<Secret>,
    ) -> Result<Secret> {
        if let Some(s) = cached {
            return Ok(s.clone());
        }
        let s = self.secret_of(&rec.new_key_id)?;
        *cached = Some(s.clone());
        Ok(s)
    }
}
