//! Planning a rotation: checks, targets, the new key's name and expiry, the journal's first row.

use super::*;

impl RotationOps<'_> {
    /// Plans a rotation of `key_id`: checks the targets, notes each `.env`
    /// file's digest, and takes the key's lock. Nothing remote happens yet.
    pub async fn plan_rotation(&self, request: RotationRequest) -> Result<RotationView> {
        self.plan_rotation_with(request, None).await
    }

    /// The strategies a rotation of `key_id` can take, the one Latchkey
    /// picks first (see `Strategy::available`).
    pub fn rotation_strategies(&self, key_id: &str) -> Result<Vec<StrategyChoice>> {
        let old = self.key_record(key_id)?;
        let provider = self.provider_record(&old.provider_id)?;
        let caps = self.connect(&provider)?.capabilities();
        Ok(Strategy::available(&caps)
            .into_iter()
            .enumerate()
            .map(|(i, strategy)| StrategyChoice {
                strategy,
                label: strategy.label().to_owned(),
                description: strategy.description().to_owned(),
                chosen: i == 0,
            })
            .collect())
    }

    /// As `plan_rotation`, with the person's choice of strategy (`None`:
    /// the first the service can do). A strategy the service cannot do is
    /// refused before anything is written.
    pub async fn plan_rotation_with(
        &self,
        request: RotationRequest,
        strategy: Option<Strategy>,
    ) -> Result<RotationView> {
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
        let choices = self.rotation_strategies(&old.id)?;
        let strategy = match strategy {
            None => choices.first().map_or(Strategy::Overlap, |c| c.strategy),
            Some(s) if choices.iter().any(|c| c.strategy == s) => s,
            Some(s) => {
                return Err(Error::invalid(
                    "strategy",
                    format!(
                        "This service cannot rotate a key that way ({}); it can: {}",
                        s.as_str(),
                        choices
                            .iter()
                            .map(|c| c.strategy.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ))
            }
        };
        if let Some(open) = self.catalog().open_rotation_for_key(&old.id)? {
            return Err(Error::RotationInProgress(open));
        }
        let mut targets = Vec::new();
        for spec in request.targets {
            targets.push(self.plan_target(spec).await?);
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
            strategy,
        };
        let detail = format!(
            "rotate \"{}\" to {} target(s), {}",
            old.name,
            rec.targets.len(),
            strategy.label()
        );
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
}

impl RotationOps<'_> {
    /// Checks a target and notes what it needs at plan time.
    async fn plan_target(&self, spec: TargetSpec) -> Result<TargetState> {
        spec.open(self.open_with(&[], None)).prepare().await
    }
}

/// The new key lives as long as the old one was meant to: its lifetime in
/// days, when it had an expiry, to the nearest day (a service stamps the
/// expiry a moment before or after the creation time: Dakora's 90-day key
/// is 89 days 23:59:59.99 after it, and 89 days is not an expiry it takes).
pub(in crate::rotation::driver) fn expiry_days(old: &KeyRecord) -> Option<u32> {
    let created = old
        .created_at
        .as_deref()
        .and_then(crate::clock::parse_rfc3339)?;
    let expires = old
        .expires_at
        .as_deref()
        .and_then(crate::clock::parse_rfc3339)?;
    let days = (expires - created + time::Duration::hours(12)).whole_days();
    u32::try_from(days.clamp(1, 3650)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lifetime(created: &str, expires: &str) -> Option<u32> {
        let mut k = crate::catalog::KeyRecord {
            id: "k".into(),
            provider_id: "p".into(),
            remote_id: None,
            name: "k".into(),
            preview: String::new(),
            fingerprint: None,
            secret_len: None,
            scopes: vec![],
            environment: String::new(),
            env_var: String::new(),
            created_at: Some(created.into()),
            expires_at: Some(expires.into()),
            last_used_at: None,
            revoked_at: None,
            has_secret: true,
            pending_rotation: None,
        };
        let days = expiry_days(&k);
        k.expires_at = None;
        assert_eq!(expiry_days(&k), None, "no expiry, no lifetime");
        days
    }

    #[test]
    fn a_lifetime_is_rounded_to_the_nearest_day() {
        assert_eq!(
            lifetime("2026-12-04T13:30:00.500Z", "2027-03-04T13:30:00.400Z"),
            Some(90)
        );
        assert_eq!(
            lifetime("2026-12-04T13:30:00Z", "2027-03-04T13:30:01Z"),
            Some(90)
        );
        assert_eq!(
            lifetime("2026-12-04T13:30:00Z", "2026-12-05T01:00:00Z"),
            Some(1)
        );
        assert_eq!(
            lifetime("2026-12-04T13:30:00Z", "2026-12-04T14:30:00Z"),
            Some(1)
        );
    }
}
