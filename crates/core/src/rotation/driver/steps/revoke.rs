//! Step 4: revoke the old key and confirm the service rejects it.

use super::super::*;

impl Vault {
    pub(in crate::rotation::driver) async fn revoke_old_step(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
    ) -> Result<()> {
        let old = self.key_record(&rec.old_key_id)?;
        self.intent(rec, "revoke_old", "revoke the old key")?;
        failpoint("rotation::revoke_old::before");
        let revoked = self.revoke_confirmed(connection, &old).await;
        if revoked.is_err() {
            // By hand: the person confirms again after fixing it.
            rec.confirmed_by_hand = false;
        }
        revoked.map_err(|e| self.step_failed(rec, "revoke_old", e))?;
        failpoint("rotation::revoke_old::after");
        let text = format!(
            "revoked \"{}\" (rotation {}); the service now rejects it",
            old.name, rec.id
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
}
