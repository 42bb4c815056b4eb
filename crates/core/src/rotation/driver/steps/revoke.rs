//! Step 4: revoke the old key and confirm the service rejects it.

use std::sync::Arc;

use super::super::*;
use crate::store::provider_account;
use crate::vault::ReadAhead;

impl RotationOps<'_> {
    pub(in crate::rotation::driver) async fn revoke_old_step(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
        read_ahead: Option<ReadAhead>,
    ) -> Result<()> {
        let old = self.key_record(&rec.old_key_id)?;
        let (leaving, staying) = (rec.old_key_id.clone(), rec.new_key_id.clone());
        let switched = self.move_connection_off(rec, &leaving, &staying)?;
        let connection: &dyn Connector = switched.as_deref().unwrap_or(connection);
        self.intent(rec, "revoke_old", "revoke the old key")?;
        failpoint("rotation::revoke_old::before");
        let revoked = self
            .key_ops()
            .revoke_confirmed_with(connection, &old, read_ahead)
            .await;
        if revoked.is_err() {
            // By hand: the person confirms again after fixing it.
            rec.confirmed_by_hand = false;
        }
        let revoked = revoked.map_err(|e| self.step_failed(rec, "revoke_old", e))?;
        failpoint("rotation::revoke_old::after");
        let text = revoked.says(
            "revoked",
            &format!("\"{}\" (rotation {})", old.name, rec.id),
        );
        self.advance_audited(
            rec,
            Event::OldKeyRevoked,
            "revoke_old",
            "the service rejects the old key",
            ("revoke", &old.id, text),
            None,
        )
    }

    /// A rotation of the key the connection itself signs in with (an AWS
    /// connection managing its own user, an Open Animate key managing its
    /// account): before `leaving` is revoked the connection switches to
    /// `staying`, so it is not cut off. Journaled and audited; a resume
    /// finds the switch done (the token no longer matches) and goes on.
    pub(in crate::rotation::driver) fn move_connection_off(
        &self,
        rec: &mut RotationRecord,
        leaving: &str,
        staying: &str,
    ) -> Result<Option<Arc<dyn Connector>>> {
        let provider = self.provider_record(&rec.provider_id)?;
        if !crate::providers::registry::needs_token(provider.kind) {
            return Ok(None);
        }
        let account = provider_account(&provider.id);
        let token = match self.provider_token(&provider.id) {
            Ok(t) => Some(t),
            Err(Error::SecretMissing) => None,
            Err(e) => return Err(e),
        };
        // By the catalog's fingerprint: no keychain read for the key.
        let leaving_fp = self.key_record(leaving)?.fingerprint;
        let (Some(token), Some(leaving_fp)) = (token, leaving_fp) else {
            return Ok(None);
        };
        if token.fingerprint().as_str() != leaving_fp {
            return Ok(None);
        }
        let staying_secret = self
            .store
            .get(&key_account(staying))?
            .ok_or(Error::SecretMissing)?;
        let what = "the connection signs in with the key being revoked: it switches to the other key first";
        self.journal(rec, "switch_connection", "intent", what)?;
        self.store.put(&account, &staying_secret)?;
        self.forget_connections();
        self.journal(rec, "switch_connection", "ok", what)?;
        self.audit(
            "provider_token",
            Some(staying),
            Some(&provider.id),
            &format!(
                "\"{}\" now signs in with the key of rotation {} (its old key is being revoked)",
                provider.name, rec.id
            ),
        )?;
        Ok(Some(self.connect(&provider)?))
    }
}
