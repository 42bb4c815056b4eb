//! What the UI and CLI list: key views with their marks and rotations, lookups by name,
//! and the sync that keeps local and remote in agreement.

use std::collections::{HashMap, HashSet};

use super::*;
use crate::rotation::driver::display_name;
use crate::rotation::State;

impl ViewOps<'_> {
    pub(super) fn view(
        &self,
        record: &KeyRecord,
        providers: &[ProviderRecord],
        policy_days: u32,
    ) -> KeyView {
        let now = self.clock.now();
        let expires = record.expires_at.as_deref().and_then(parse_rfc3339);
        let expiry = match expires {
            Some(at) if at <= now => ExpiryBadge::Expired,
            Some(at) if at - now <= time::Duration::days(EXPIRY_WARNING_DAYS) => ExpiryBadge::Soon,
            _ => ExpiryBadge::None,
        };
        let status = if record.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if record.pending_rotation.is_some() {
            KeyStatus::Pending
        } else if expiry == ExpiryBadge::Expired {
            KeyStatus::Expired
        } else if !record.has_secret {
            KeyStatus::NoLocalSecret
        } else {
            KeyStatus::Active
        };
        KeyView {
            id: record.id.clone(),
            name: display_name(&record.name).to_owned(),
            provider_id: record.provider_id.clone(),
            provider_name: providers
                .iter()
                .find(|p| p.id == record.provider_id)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            preview: record.preview.clone(),
            scopes: record.scopes.clone(),
            environment: record.environment.clone(),
            env_var: record.env_var.clone(),
            created_at: record.created_at.clone(),
            expires_at: record.expires_at.clone(),
            last_used_at: record.last_used_at.clone(),
            revoked_at: record.revoked_at.clone(),
            status,
            expiry: if record.revoked_at.is_some() {
                ExpiryBadge::None
            } else {
                expiry
            },
            has_secret: record.has_secret,
            rotation_id: record.pending_rotation.clone(),
            rotation_due: record.revoked_at.is_none()
                && record.pending_rotation.is_none()
                && (expiry != ExpiryBadge::None
                    || record
                        .created_at
                        .as_deref()
                        .and_then(parse_rfc3339)
                        .is_some_and(|at| now - at > time::Duration::days(i64::from(policy_days)))),
            verified: true,
            superseded_by: None,
            revoke_waiting: false,
        }
    }

    /// Marks keys held by an unfinished rotation (as its old key).
    /// Links keys to rotations: the unfinished one a key belongs to, and
    /// the generation that replaced it. A finished rotation's old key is
    /// history of the new one; a rolled-back rotation's new key is history
    /// of the old one (lists fold history away unless asked).
    pub(super) fn attach_rotations(&self, views: &mut [KeyView]) -> Result<()> {
        let rotations = self.catalog().rotations()?;
        for r in &rotations {
            let (older, newer) = match r.state {
                State::Done => (&r.old_key_id, &r.new_key_id),
                State::RolledBack => (&r.new_key_id, &r.old_key_id),
                _ if !r.state.is_terminal() => {
                    if let Some(v) = views.iter_mut().find(|v| v.id == r.old_key_id) {
                        v.rotation_id = Some(r.id.clone());
                    }
                    continue;
                }
                _ => continue,
            };
            if let Some(v) = views
                .iter_mut()
                .find(|v| &v.id == older && v.status == KeyStatus::Revoked)
            {
                v.superseded_by = Some(newer.clone());
            }
        }
        Ok(())
    }

    /// One key, as listed.
    pub fn key(&self, id: &str) -> Result<KeyView> {
        let record = self.key_record(id)?;
        let providers = self.catalog().providers()?;
        let policy = self.settings()?.rotation_policy_days;
        let mut views = [self.view(&record, &providers, policy)];
        self.attach_rotations(&mut views)?;
        self.attach_marks(&mut views)?;
        let [view] = views;
        Ok(view)
    }

    /// The key a person means by `name`: an unrevoked key of that name, else
    /// the key a finished rotation made for it (`name (rotation …)`), else a
    /// revoked one; the newest when one provider has several. A name found
    /// on several providers needs `provider` (a provider's name).
    pub fn find_key(&self, name: &str, provider: Option<&str>) -> Result<KeyView> {
        let keys: Vec<KeyView> = self
            .local_keys()?
            .into_iter()
            .filter(|k| provider.is_none_or(|p| k.provider_name == p))
            .collect();
        let rotated = format!("{name} (rotation ");
        let tiers: [&dyn Fn(&KeyView) -> bool; 3] = [
            &|k| k.name == name && !matches!(k.status, KeyStatus::Revoked | KeyStatus::Pending),
            &|k| {
                k.name.starts_with(&rotated)
                    && !matches!(k.status, KeyStatus::Revoked | KeyStatus::Pending)
            },
            &|k| k.name == name,
        ];
        for tier in tiers {
            let mut found: Vec<&KeyView> = keys.iter().filter(|k| tier(k)).collect();
            if found.is_empty() {
                continue;
            }
            let mut providers: Vec<&str> = found.iter().map(|k| k.provider_name.as_str()).collect();
            providers.sort_unstable();
            providers.dedup();
            if providers.len() > 1 {
                return Err(Error::invalid(
                    "name",
                    format!(
                        "\"{name}\" names keys on several providers ({}); add --provider NAME",
                        providers.join(", ")
                    ),
                ));
            }
            found.sort_by(|a, b| b.created_at.cmp(&a.created_at));
            return Ok(found[0].clone());
        }
        Err(Error::NotFound(format!("A key named \"{name}\"")))
    }

    /// A provider by its name.
    pub fn find_provider(&self, name: &str) -> Result<ProviderView> {
        self.providers()?
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| Error::NotFound(format!("A provider named \"{name}\"")))
    }

    /// Keys from the catalog only (no network).
    pub fn local_keys(&self) -> Result<Vec<KeyView>> {
        let catalog = self.catalog();
        let providers = catalog.providers()?;
        let keys = catalog.keys()?;
        let policy = Settings::load(&catalog)?.rotation_policy_days;
        drop(catalog);
        let mut views: Vec<KeyView> = keys
            .iter()
            .map(|k| self.view(k, &providers, policy))
            .collect();
        self.attach_rotations(&mut views)?;
        self.attach_marks(&mut views)?;
        Ok(views)
    }

    /// Marks keys missing from their service's last listing, and pasted
    /// keys the service could not be asked about.
    pub(super) fn attach_marks(&self, views: &mut [KeyView]) -> Result<()> {
        let marks = self.catalog().key_marks()?;
        for m in marks {
            let Some(v) = views.iter_mut().find(|v| v.id == m.id) else {
                continue;
            };
            if m.missing && matches!(v.status, KeyStatus::Active | KeyStatus::NoLocalSecret) {
                v.status = KeyStatus::Missing;
            }
            v.verified = !m.unverified;
            v.revoke_waiting = m.revoke_waiting && v.status == KeyStatus::Revoked;
        }
        Ok(())
    }

    /// Brings the catalog in line with every provider, then lists all keys.
    /// A provider that cannot be reached is reported, not fatal.
    pub async fn list_keys(&self) -> Result<KeyListing> {
        // Creates a crash cut short are settled first; what cannot be
        // settled now (a service down) waits for the next sync.
        let _ = self.recover_creates().await;
        let providers = self.catalog().providers()?;
        // Every provider at once: one slow or failing service delays no
        // other (each call has its own timeout), and the list waits only
        // for the slowest.
        let synced = futures_util::future::join_all(
            providers
                .iter()
                .map(|p| async move { (p, self.sync_provider(p).await) }),
        )
        .await;
        let mut warnings = Vec::new();
        for (provider, result) in synced {
            if let Err(e) = result {
                warnings.push(ProviderWarning {
                    provider_id: provider.id.clone(),
                    provider_name: provider.name.clone(),
                    code: e.code(),
                    message: e.to_string(),
                });
            }
        }
        let keys = self.local_keys()?;
        let health = Health::of(&keys, &warnings, self.clock.now());
        Ok(KeyListing {
            keys,
            warnings,
            health,
        })
    }

    pub(super) async fn sync_provider(&self, provider: &ProviderRecord) -> Result<()> {
        let connection = self.connect(provider)?;
        let names = connection.names_keys();
        // The answer is read and parsed on a task of its own: the services
        // of one listing are awaited together, and their answers are parsed
        // on every worker at once instead of one after another in this task.
        let listing = Arc::clone(&connection);
        let mut remote = tokio::spawn(async move { listing.list().await })
            .await
            .map_err(|_| Error::Network("the service's answer could not be read".into()))??;
        let now = self.now();
        let absent: Vec<KeyRecord> = {
            let mut catalog = self.catalog();
            // One transaction for the whole listing: with synchronous=FULL
            // each statement on its own would wait for its own fsync (a
            // hundred keys, a hundred waits; measured by benches/list_many).
            // The provider's keys and its marked ones are read once, not
            // once per listed key.
            catalog.batch(|catalog| {
                let known = catalog.keys_of(&provider.id)?;
                let marked = catalog.marked_keys_of(&provider.id)?;
                let usage = catalog.last_usage_of(&provider.id)?;
                let mut by_remote: HashMap<&str, &KeyRecord> = HashMap::new();
                for k in &known {
                    if let Some(id) = k.remote_id.as_deref() {
                        by_remote.entry(id).or_insert(k);
                    }
                }
                for r in remote.iter_mut() {
                    let local = by_remote.get(r.remote_id.as_str()).copied();
                    settle_revoked_time(r, local, &now);
                }
                let mut listed: HashSet<&str> = HashSet::new();
                for r in &remote {
                    if !listed.insert(r.remote_id.as_str()) {
                        // Listed twice: the first stands.
                        continue;
                    }
                    match by_remote.get(r.remote_id.as_str()) {
                        Some(&local) => {
                            let merged = merge_remote(local.clone(), r, names);
                            if &merged != local {
                                catalog.update_remote_fields(&merged)?;
                            }
                            if r.revoked_at.is_none() && marked.contains(&local.id) {
                                // Listed and live: a mark we only inferred goes.
                                catalog.clear_inferred(&local.id)?;
                            }
                            let last = usage.get(&local.id).copied();
                            catalog.record_usage(&local.id, r.request_count, last, &now)?;
                        }
                        None => {
                            let record = record_from_remote(&provider.id, r, None);
                            catalog.insert_key(&record)?;
                            catalog.record_usage(&record.id, r.request_count, None, &now)?;
                        }
                    }
                }
                Ok(known
                    .iter()
                    .filter(|k| k.revoked_at.is_none())
                    .filter(|k| {
                        k.remote_id
                            .as_deref()
                            .is_some_and(|id| !listed.contains(id))
                    })
                    .cloned()
                    .collect())
            })?
        };
        // Absent is not revoked: ask the service about each one.
        for local in absent {
            let remote_id = local.remote_id.clone().unwrap_or_default();
            match connection.get(&remote_id).await {
                Ok(None) => self.catalog().set_revoked_inferred(&local.id, &now)?,
                Ok(Some(mut r)) => {
                    settle_revoked_time(&mut r, Some(&local), &now);
                    let merged = merge_remote(local.clone(), &r, names);
                    let catalog = self.catalog();
                    catalog.update_remote_fields(&merged)?;
                    if r.revoked_at.is_none() {
                        catalog.clear_inferred(&local.id)?;
                    }
                }
                Err(_) => self.catalog().set_missing(&local.id, &now)?,
            }
        }
        self.key_ops()
            .confirm_waiting_revokes(provider, connection.as_ref())
            .await
    }
}

pub(super) fn record_from_remote(
    provider_id: &str,
    r: &RemoteKey,
    secret: Option<&Secret>,
) -> KeyRecord {
    KeyRecord {
        id: uuid::Uuid::new_v4().to_string(),
        provider_id: provider_id.to_owned(),
        remote_id: Some(r.remote_id.clone()),
        name: r.name.clone(),
        preview: r.preview.clone(),
        fingerprint: secret.map(|s| s.fingerprint().as_str().to_owned()),
        secret_len: secret.and_then(Secret::stored_len),
        scopes: r.scopes.clone(),
        environment: String::new(),
        env_var: String::new(),
        created_at: r.created_at.clone(),
        expires_at: r.expires_at.clone(),
        last_used_at: r.last_used_at.clone(),
        revoked_at: r.revoked_at.clone(),
        has_secret: secret.is_some(),
        pending_rotation: None,
    }
}

/// A service that says a key is revoked but not when (GitLab) gives no
/// time: the first sync that saw it stands (the one already kept, else
/// now), never a word where a time belongs.
fn settle_revoked_time(r: &mut RemoteKey, local: Option<&KeyRecord>, now: &str) {
    if r.revoked_at
        .as_deref()
        .is_some_and(|at| crate::clock::parse_rfc3339(at).is_none())
    {
        r.revoked_at = Some(
            local
                .and_then(|l| l.revoked_at.clone())
                .unwrap_or_else(|| now.to_owned()),
        );
    }
}

/// `names`: whether the service keeps the name Latchkey gives a key (an
/// AWS access key has none; it is listed under its id, and the name the
/// person gave it stays).
pub(super) fn merge_remote(local: KeyRecord, r: &RemoteKey, names: bool) -> KeyRecord {
    KeyRecord {
        name: if names {
            r.name.clone()
        } else {
            local.name.clone()
        },
        preview: r.preview.clone(),
        scopes: r.scopes.clone(),
        created_at: r.created_at.clone().or(local.created_at.clone()),
        expires_at: r.expires_at.clone(),
        last_used_at: r.last_used_at.clone(),
        revoked_at: r.revoked_at.clone().or(local.revoked_at.clone()),
        ..local
    }
}
