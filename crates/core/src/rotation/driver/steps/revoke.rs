//! Step 4: revoke the old key and confirm the service rejects it.

use std::sync::Arc;

use super::super::*;
use crate::catalog::ProviderRecord;
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
        let switched = self
            .move_connection_off(rec, connection, &leaving, &staying)
            .await?;
        let connection: &dyn Connector = switched.as_deref().unwrap_or(connection);
        // A switch may have kept the old key's secret just now: read again.
        let read_ahead = read_ahead.filter(|_| switched.is_none());
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
    /// When the vault never held `leaving`'s secret (a key found in the
    /// listing), the token is kept as that key's secret first, so a roll
    /// back can switch the connection back to it.
    pub(in crate::rotation::driver) async fn move_connection_off(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
        leaving: &str,
        staying: &str,
    ) -> Result<Option<Arc<dyn Connector>>> {
        let provider = self.provider_record(&rec.provider_id)?;
        let Some(token) = self
            .connection_token_if_key(&provider, connection, leaving)
            .await?
        else {
            return Ok(None);
        };
        let account = provider_account(&provider.id);
        let staying_secret = self
            .store
            .get(&key_account(staying))?
            .ok_or(Error::SecretMissing)?;
        let what = "the connection signs in with the key being revoked: it switches to the other key first";
        self.journal(rec, "switch_connection", "intent", what)?;
        let leaving_account = key_account(leaving);
        if self.store.get(&leaving_account)?.is_none() {
            self.store.put(&leaving_account, &token)?;
            // The catalog knows it too: the key's view (and a roll back)
            // see a local secret, and its fingerprint names it.
            self.catalog().attach_secret(
                leaving,
                token.fingerprint().as_str(),
                token.stored_len(),
            )?;
        }
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

    /// The connection's token when it is the key `key_id` (its own key),
    /// else `None`. By the catalog's fingerprint when the vault holds the
    /// key (no keychain read for it); for a key it only knows from the
    /// service's listing, the connector says.
    pub(in crate::rotation::driver) async fn connection_token_if_key(
        &self,
        provider: &ProviderRecord,
        connection: &dyn Connector,
        key_id: &str,
    ) -> Result<Option<Secret>> {
        if !crate::providers::registry::needs_token(provider.kind) {
            return Ok(None);
        }
        let token = match self.provider_token(&provider.id) {
            Ok(t) => t,
            Err(Error::SecretMissing) => return Ok(None),
            Err(e) => return Err(e),
        };
        let key = self.key_record(key_id)?;
        let own = match (key.fingerprint, key.remote_id) {
            (Some(fingerprint), _) => token.fingerprint().as_str() == fingerprint,
            (None, Some(remote_id)) => connection.signs_in_with(&remote_id).await?,
            (None, None) => false,
        };
        Ok(own.then_some(token))
    }
}
