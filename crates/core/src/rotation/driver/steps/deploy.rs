//! Step 2: write the new key to every target (lossless `.env` edit, private backups, manual checklist).

use super::super::*;

impl Vault {
    pub(in crate::rotation::driver) fn deploy_step(
        &self,
        rec: &mut RotationRecord,
        secret: &Secret,
    ) -> Result<bool> {
        let new_fp = secret.fingerprint();
        self.sweep_beside_targets(rec);
        for i in 0..rec.targets.len() {
            let target = rec.targets[i].clone();
            if matches!(
                target.status,
                TargetStatus::Deployed | TargetStatus::Verified
            ) {
                continue;
            }
            match &target.spec {
                TargetSpec::Dotenv {
                    path,
                    var,
                    follow_symlink,
                } => {
                    let step = format!("deploy:{i}");
                    self.journal(rec, &step, "intent", &format!("{var} in {path}"))?;
                    failpoint("rotation::deploy::before");
                    let file = DotenvFile::open(Path::new(path), *follow_symlink)
                        .map_err(|e| self.target_failed(rec, i, &step, e))?;
                    let current = file
                        .fingerprint_of(var)
                        .map_err(|e| self.target_failed(rec, i, &step, e))?;
                    let deployed = if current.as_ref() != Some(&new_fp) {
                        // Not written yet (or a crash before the rename).
                        let digest = target.digest.clone().unwrap_or_default();
                        let backup = self.backup_path(&rec.id, i, file.path());
                        file.set_if_digest(&digest, var, secret, &backup)
                            .map_err(|e| self.target_failed(rec, i, &step, e))?
                    } else {
                        // Written before a crash: the file as it is now.
                        file.read()
                            .map_err(|e| self.target_failed(rec, i, &step, e))?
                            .digest_hex()
                    };
                    failpoint("rotation::deploy::after");
                    rec.targets[i].deployed_digest = Some(deployed);
                    rec.targets[i].status = TargetStatus::Deployed;
                    rec.targets[i].message = Some(format!("{var} now holds the new key"));
                    rec.error = None;
                    self.journal(rec, &step, "ok", &format!("{var} in {path}"))?;
                }
                TargetSpec::Manual { items } => {
                    let all = target.confirmed.len() == items.len()
                        && target.confirmed.iter().all(|c| *c);
                    if all {
                        rec.targets[i].status = TargetStatus::Deployed;
                        rec.targets[i].message = Some("every item confirmed".into());
                        self.journal(rec, &format!("deploy:{i}"), "ok", "checklist confirmed")?;
                    } else if target.status != TargetStatus::AwaitingConfirmation {
                        rec.targets[i].status = TargetStatus::AwaitingConfirmation;
                        rec.targets[i].message =
                            Some("Copy the new key, paste it in each place, then confirm".into());
                        self.journal(
                            rec,
                            &format!("deploy:{i}"),
                            "intent",
                            "waiting for the checklist",
                        )?;
                    }
                }
            }
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
            if let TargetSpec::Dotenv { path, .. } = &t.spec {
                if let Some(dir) = std::fs::canonicalize(path)
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                {
                    sweep_temp_files(&dir);
                }
            }
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
