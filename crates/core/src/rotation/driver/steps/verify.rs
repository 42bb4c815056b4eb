//! Step 3: the service accepts the new key and every target holds it (checked again
//! right before the old key is revoked).

use super::super::*;
use crate::providers::PropagationWait;

impl RotationOps<'_> {
    /// Checks the new key: the service accepts it and every `.env` target
    /// holds it (by fingerprint). Marks each target. `Ok(Err(reason))`: it
    /// does not work; `Err`: the check itself could not run.
    pub(in crate::rotation::driver) async fn check_new_key(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
        secret: &Secret,
        step: &str,
        progress: Progress<'_>,
    ) -> Result<std::result::Result<(), String>> {
        let new_fp = secret.fingerprint();
        // Each pause of a service's wait for the new key to work is shown.
        let at = rec.clone();
        let on_wait = |wait: &PropagationWait| {
            if let Ok(mut view) = self.rotation_view(&at) {
                view.waiting = Some(wait.clone());
                progress(&view);
            }
        };
        let verdict = crate::providers::verify_new(connection, secret, &on_wait).await;
        let mut reason = match verdict.map_err(|e| self.step_failed(rec, step, e))? {
            Verification::Accepted => None,
            Verification::Rejected { code } => {
                Some(format!("the service rejects the new key ({code})"))
            }
        };
        for target in &mut rec.targets {
            let t = self.open_target(target);
            if t.holds(&new_fp).await.unwrap_or(false) {
                target.status = TargetStatus::Verified;
            } else {
                let failed = format!("{} does not hold the new key", t.describe());
                target.status = TargetStatus::Failed;
                target.message = Some(failed.clone());
                reason.get_or_insert(failed);
            }
        }
        Ok(reason.map_or(Ok(()), Err))
    }

    /// The new key failed a check: journaled, and the rotation rolls back.
    pub(in crate::rotation::driver) fn verify_failed(
        &self,
        rec: &mut RotationRecord,
        step: &str,
        reason: &str,
    ) -> Result<()> {
        rec.state = next(rec.strategy, rec.state, Event::VerifyFailed).map_err(Error::from)?;
        rec.error = Some(Error::VerifyFailed(reason.to_owned()).to_wire());
        self.journal(rec, step, "failed", reason)
    }

    /// `Ok(Err(reason))`: the new key does not work (roll back);
    /// `Err`: the check itself could not run (try again).
    pub(in crate::rotation::driver) async fn verify_step(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
        secret: &Secret,
        progress: Progress<'_>,
    ) -> Result<std::result::Result<(), String>> {
        self.intent(rec, "verify", "verify the new key")?;
        failpoint("rotation::verify::before");
        if let Err(reason) = self
            .check_new_key(rec, connection, secret, "verify", progress)
            .await?
        {
            self.verify_failed(rec, "verify", &reason)?;
            return Ok(Err(reason));
        }
        failpoint("rotation::verify::after");
        let text = format!("verified the new key of rotation {}", rec.id);
        let new_key_id = rec.new_key_id.clone();
        self.advance_audited(
            rec,
            Event::VerifyPassed,
            "verify",
            "the new key works and every target holds it",
            ("verify", &new_key_id, text),
            Some(("revoke_old", "revoke the old key")),
        )?;
        Ok(Ok(()))
    }

    /// Checks the new key again, under the run lock, right before the old
    /// key is revoked: a resume hours later must not trust a stale verify.
    pub(in crate::rotation::driver) async fn reverify_step(
        &self,
        rec: &mut RotationRecord,
        connection: &dyn Connector,
        secret: &Secret,
        progress: Progress<'_>,
    ) -> Result<std::result::Result<(), String>> {
        self.journal(rec, "reverify", "intent", "check the new key again")?;
        if let Err(reason) = self
            .check_new_key(rec, connection, secret, "reverify", progress)
            .await?
        {
            self.verify_failed(rec, "reverify", &reason)?;
            return Ok(Err(reason));
        }
        self.journal(rec, "reverify", "ok", "the new key still works")?;
        Ok(Ok(()))
    }
}
