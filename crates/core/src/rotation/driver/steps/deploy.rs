//! Step 2: write the new key to every target (lossless `.env` edit, private backups, manual checklist).

use super::super::*;

impl Vault {
    pub(in crate::rotation::driver) async fn deploy_step(
        &self,
        rec: &mut RotationRecord,
        secret: &Secret,
    ) -> Result<bool> {
        self.sweep_beside_targets(rec);
        for i in 0..rec.targets.len() {
            let target = rec.targets[i].clone();
            if matches!(
                target.status,
                TargetStatus::Deployed | TargetStatus::Verified
            ) {
                continue;
            }
            let t = target.spec.open(
                self.open_with(
                    &target.confirmed,
                    target
                        .deployed_digest
                        .as_deref()
                        .or(target.digest.as_deref()),
                ),
            );
            let step = format!("deploy:{i}");
            let backup_dir = self.backup_dir(&rec.id);
            let backup = Backup {
                dir: &backup_dir,
                index: i,
            };
            if t.by_hand() {
                // A checklist: the person pastes and confirms each item;
                // the run only notes when that is done.
                match t.write(secret, &backup, None).await? {
                    Written::Done { message, .. } => {
                        rec.targets[i].status = TargetStatus::Deployed;
                        rec.targets[i].message = Some(message);
                        self.journal(rec, &step, "ok", "checklist confirmed")?;
                    }
                    Written::AwaitingConfirmation { message } => {
                        if target.status != TargetStatus::AwaitingConfirmation {
                            rec.targets[i].status = TargetStatus::AwaitingConfirmation;
                            rec.targets[i].message = Some(message);
                            self.journal(rec, &step, "intent", "waiting for the checklist")?;
                        }
                    }
                }
                continue;
            }
            let what = t.describe();
            self.journal(rec, &step, "intent", &what)?;
            failpoint("rotation::deploy::before");
            let written = t
                .write(secret, &backup, target.digest.as_deref())
                .await
                .map_err(|e| self.target_failed(rec, i, &step, e))?;
            failpoint("rotation::deploy::after");
            let (digest, message) = match written {
                Written::Done { digest, message } => (digest, message),
                Written::AwaitingConfirmation { message } => (None, message),
            };
            rec.targets[i].deployed_digest = digest;
            rec.targets[i].status = TargetStatus::Deployed;
            rec.targets[i].message = Some(message);
            rec.error = None;
            self.journal(rec, &step, "ok", &what)?;
        }
        if rec
            .targets
            .iter()
            .all(|t| t.status == TargetStatus::Deployed)
        {
            let text = format!(
                "deployed the new key of rotation {} to {} target(s)",
                rec.id,
                rec.targets.len()
            );
            let new_key_id = rec.new_key_id.clone();
            self.advance_audited(
                rec,
                Event::TargetsDeployed,
                "deploy",
                "every target holds the new key",
                ("deploy", &new_key_id, text),
                Some(("verify", "verify the new key")),
            )?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Temp files a kill left beside this rotation's files go.
    pub(in crate::rotation::driver) fn sweep_beside_targets(&self, rec: &RotationRecord) {
        for t in &rec.targets {
            t.spec
                .open(self.open_with(
                    &t.confirmed,
                    t.deployed_digest.as_deref().or(t.digest.as_deref()),
                ))
                .sweep();
        }
    }

    pub(in crate::rotation::driver) fn target_failed(
        &self,
        rec: &mut RotationRecord,
        i: usize,
        step: &str,
        e: Error,
    ) -> Error {
        rec.targets[i].message = Some(e.to_string());
        self.step_failed(rec, step, e)
    }
}
