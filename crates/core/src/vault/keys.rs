//! Operations on keys: create (journaled, recovered after a crash), reveal once, copy,
//! revoke (confirmed), and add a key the person already holds.

use super::*;

impl KeyOps<'_> {
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
                let e = self
                    .room_ops()
                    .name_the_keys_holding_the_limit(connection.as_ref(), &provider.id, e)
                    .await;
                return Err(e);
            }
        };
        failpoint("create_key::after_create");
        let record = self
            .keep_created(connection.as_ref(), &provider, &pending, &remote, &secret)
            .await?;
        let providers = self.catalog().providers()?;
        let policy = self.settings()?.rotation_policy_days;
        Ok(self.view_ops().view(&record, &providers, policy))
    }

    /// Keeps a key the service made for `pending`: secret to the keychain,
    /// then the record and the create's close in one commit. A key already
    /// revoked, or one the keychain refuses, is taken back on the service.
    pub(super) async fn keep_created(
        &self,
        connection: &dyn Connector,
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
        connection: &dyn Connector,
        record: &KeyRecord,
    ) -> Result<Revoked> {
        self.revoke_confirmed_with(connection, record, None).await
    }

    /// Starts reading a key's secret from the keychain on a blocking
    /// thread, so its D-Bus round trip (10–20 ms with gnome-keyring)
    /// overlaps the calls a rotation makes meanwhile. The secret stays in
    /// the task until [`revoke_confirmed_with`](Self::revoke_confirmed_with)
    /// takes it, or is dropped (zeroized) with the handle.
    pub(crate) fn read_ahead(&self, key_id: &str) -> ReadAhead {
        let store = Arc::clone(&self.store);
        let account = key_account(key_id);
        ReadAhead(tokio::task::spawn_blocking(move || store.get(&account)))
    }

    /// As [`revoke_confirmed`](Self::revoke_confirmed), with the key's
    /// secret read ahead of time (`None`: read it now).
    pub(crate) async fn revoke_confirmed_with(
        &self,
        connection: &dyn Connector,
        record: &KeyRecord,
        read_ahead: Option<ReadAhead>,
    ) -> Result<Revoked> {
        if !connection.capabilities().revoke {
            // Revoked by hand in the dashboard: confirm the service agrees.
            let rejected = match self.store.get(&key_account(&record.id))? {
                Some(secret) => rejects(connection, &secret).await?,
                None => false,
            };
            if !rejected {
                let url = self.provider_record(&record.provider_id)?.dashboard_url;
                return Err(Error::ByHand(format!(
                    "Revoke \"{}\" in the service's dashboard ({url})",
                    record.name
                )));
            }
            self.catalog().set_revoked(&record.id, &self.now())?;
            return Ok(Revoked::Confirmed);
        }
        let remote_id = record.remote_id.clone().ok_or_else(|| {
            Error::invalid("key", "This key is not linked to a key on the service")
        })?;
        connection.revoke(&remote_id).await?;
        let held = match read_ahead {
            Some(read) => read.secret().await?,
            None => self.store.get(&key_account(&record.id))?,
        };
        let confirmed = match held {
            Some(secret) => rejects(connection, &secret).await?,
            // No secret to try: the service's records decide. Listed as
            // revoked, or gone after the delete it accepted (a hard delete).
            None => connection
                .list()
                .await?
                .iter()
                .all(|r| r.remote_id != remote_id || r.revoked_at.is_some()),
        };
        if !confirmed {
            // A service that caches key checks (Dakora: up to 300 s) keeps
            // accepting a revoked key for a while: its records decide.
            if let Some(window) = connection.revocation_cache() {
                if connection.get(&remote_id).await?.is_none() {
                    self.audit(
                        "revoke_pending",
                        Some(&record.id),
                        Some(&record.provider_id),
                        &format!(
                            "\"{}\" is revoked on the service (gone from its records); it may still be accepted for up to {} s while the service's cache expires",
                            record.name,
                            window.as_secs()
                        ),
                    )?;
                    self.catalog().set_revoke_waiting(&record.id, &self.now())?;
                    return Ok(Revoked::Waiting);
                }
            }
            self.audit(
                "revoke_unconfirmed",
                Some(&record.id),
                Some(&record.provider_id),
                &format!("\"{}\" still accepted", record.name),
            )?;
            return Err(Error::RevokeNotConfirmed);
        }
        self.catalog().set_revoked(&record.id, &self.now())?;
        Ok(Revoked::Confirmed)
    }

    /// Revokes the service may still have honoured for a while (its
    /// cache): each key the service rejects now is confirmed; one whose
    /// secret is not here is confirmed once the service's cache window is
    /// over. Run at every listing.
    pub(super) async fn confirm_waiting_revokes(
        &self,
        provider: &ProviderRecord,
        connection: &dyn Connector,
    ) -> Result<()> {
        let waiting = self.catalog().revoke_waiting_of(&provider.id)?;
        for (id, since) in waiting {
            let rejected = match self.store.get(&key_account(&id))? {
                // A failed check confirms nothing: the next listing asks again.
                Some(secret) => rejects(connection, &secret).await.unwrap_or(false),
                None => {
                    let window = connection.revocation_cache().unwrap_or_default();
                    crate::clock::parse_rfc3339(&since).is_some_and(|at| {
                        self.clock.now() - at > time::Duration::try_from(window).unwrap_or_default()
                    })
                }
            };
            if !rejected {
                continue;
            }
            self.catalog().clear_revoke_waiting(&id)?;
            let name = self.key_record(&id).map(|k| k.name).unwrap_or_default();
            self.audit(
                "revoke_confirmed",
                Some(&id),
                Some(&provider.id),
                &format!("\"{name}\" is rejected by the service now: its revoke is confirmed"),
            )?;
        }
        Ok(())
    }

    /// Revokes a key on its service, then confirms the service rejects it.
    pub async fn revoke_key(&self, key_id: &str) -> Result<KeyView> {
        let record = self.key_record(key_id)?;
        if let Some(open) = self.catalog().open_rotation_for_key(key_id)? {
            return Err(Error::RotationInProgress(open));
        }
        let provider = self.provider_record(&record.provider_id)?;
        let connection = self.connect(&provider)?;
        let revoked = self.revoke_confirmed(connection.as_ref(), &record).await?;
        self.audit(
            "revoke",
            Some(key_id),
            Some(&provider.id),
            &revoked.says("revoked", &format!("\"{}\"", record.name)),
        )?;
        self.key(key_id)
    }

    /// Brings a key the user already holds under management, deduplicated by
    /// fingerprint and linked to its key on the service when it is found.
    pub async fn add_existing_key(&self, existing: ExistingKey) -> Result<KeyView> {
        let name = check_name("name", &existing.name)?;
        let env_var = check_env_var(&existing.env_var)?;
        let secret = existing.secret.trimmed();
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
        // Which key on the service is it? By preview (prefix + last four),
        // or as the connector knows its keys (an AWS pair's key id).
        let listed = connection.list().await.ok();
        let mut remote = listed
            .as_ref()
            .and_then(|keys| keys.iter().find(|k| connection.owns(&secret, k)).cloned());
        if remote.is_none() {
            // A service whose listing shows no preview: the key says itself.
            if let Ok(Some(id)) = connection.identify(&secret).await {
                remote = listed
                    .as_ref()
                    .and_then(|keys| keys.iter().find(|k| k.remote_id == id).cloned());
            }
        }
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
                Some(_) => catalog.attach_secret(&id, fingerprint.as_str(), secret.stored_len())?,
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
                            secret_len: secret.stored_len(),
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
}

/// The idempotency key of a create: its local id, so a replay after a
/// crash asks for the very same key.
pub(super) fn create_idempotency_key(id: &str) -> String {
    format!("latchkey-create-{id}")
}

pub(super) fn pending_spec(p: &PendingCreate) -> KeySpec {
    KeySpec {
        name: p.name.clone(),
        scopes: p.scopes.clone(),
        expires_in_days: p.expires_in_days,
    }
}

/// The service said no (the request was not carried out), as opposed to a
/// lost answer, a timeout or an outage, after which it may have been.
pub(super) fn refused(e: &Error) -> bool {
    matches!(
        e,
        Error::InvalidInput { .. }
            | Error::ProviderUnauthorized
            | Error::ProviderForbidden
            | Error::NotFound(_)
            | Error::InsecureUrl(_)
    )
}

/// Whether the service turns `secret` away (a revoke is confirmed by it).
async fn rejects(connection: &dyn Connector, secret: &Secret) -> Result<bool> {
    Ok(matches!(
        connection.verify(secret).await?,
        Verification::Rejected { .. }
    ))
}

/// A keychain read under way (see [`Vault::read_ahead`]).
pub(crate) struct ReadAhead(tokio::task::JoinHandle<Result<Option<Secret>>>);

impl ReadAhead {
    /// The secret read, once the read is done.
    pub(crate) async fn secret(self) -> Result<Option<Secret>> {
        self.0
            .await
            .map_err(|_| Error::KeychainUnavailable("the keychain read did not finish".into()))?
    }
}

/// How a revoke ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Revoked {
    /// The service rejects the key.
    Confirmed,
    /// The service took the key off its records but may accept it a
    /// while longer (its cache): a later listing confirms it.
    Waiting,
}

impl Revoked {
    /// The audit log's words for it: `done` is what was done ("revoked",
    /// "deleted"), `what` names the key.
    pub(crate) fn says(self, done: &str, what: &str) -> String {
        match self {
            Revoked::Confirmed => format!("{done} {what}; the service now rejects it"),
            Revoked::Waiting => format!(
                "{done} {what}; waiting for the service to confirm (it may accept the key a few minutes longer)"
            ),
        }
    }
}
