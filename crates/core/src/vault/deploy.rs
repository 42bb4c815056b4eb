//! Deploying a key without rotating it: `latchkey deploy NAME --target
//! SPEC...` puts the key the vault holds now into new places. Every target
//! is checked first (nothing is written while any check fails), then
//! written, then read back by fingerprint; when a write or a read-back
//! fails, the targets already written are put back as they were (each from
//! its private backup, newest first, so a file two targets wrote comes
//! back byte for byte) and the error says which target failed. A target in
//! a file an earlier target wrote expects the file as that write left it.
//! The places are remembered on the key (`key_targets`) so its next
//! rotation offers them again. A deploy is not journaled like a rotation: a kill between
//! two targets leaves each file whole (atomic replace) holding either its
//! old or its new value, with the backup in the data folder's
//! `backups/deploy-<id>/`.

use serde::Serialize;

use super::DeployOps;
use crate::catalog::TargetSpec;
use crate::deploy::{Backup, OpenWith, Written};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// What one target of a deploy ended as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct DeployedTarget {
    pub spec: TargetSpec,
    /// Plain words: `API_KEY in /app/.env`.
    pub description: String,
    /// What the write said (`updated API_KEY in /app/.env`).
    pub message: String,
}

impl DeployOps<'_> {
    /// Puts the current key `key_id` into every target, all or nothing.
    pub async fn deploy_key(
        &self,
        key_id: &str,
        targets: Vec<TargetSpec>,
    ) -> Result<Vec<DeployedTarget>> {
        let record = self.key_record(key_id)?;
        if record.revoked_at.is_some() {
            return Err(Error::invalid(
                "key",
                "This key is revoked; deploying it would put a dead key in place",
            ));
        }
        if targets.is_empty() {
            return Err(Error::invalid(
                "target",
                "Name at least one place to put the key: --target SPEC",
            ));
        }
        if targets
            .iter()
            .any(|t| matches!(t, TargetSpec::Manual { .. }))
        {
            return Err(Error::invalid(
                "target",
                "A checklist is done by hand: copy the key with `latchkey copy` instead",
            ));
        }
        let secret = self.secret_of(key_id)?;
        // Every target is checked before anything is written.
        let mut states = Vec::with_capacity(targets.len());
        for spec in &targets {
            states.push(spec.open(self.open_nothing()).prepare().await?);
        }
        let id = format!("deploy-{}", uuid::Uuid::new_v4());
        let backup_dir = self.data_dir().join("backups").join(&id);
        let result = self.write_all(&states, &secret, &backup_dir).await;
        let outcome = match result {
            Ok(done) => {
                let places: Vec<String> = done.iter().map(|d| d.description.clone()).collect();
                // As checked: a file's path made absolute.
                let specs: Vec<TargetSpec> = done.iter().map(|d| d.spec.clone()).collect();
                self.catalog()
                    .remember_targets(key_id, &specs, &self.now())?;
                self.audit(
                    "deploy",
                    Some(key_id),
                    Some(&record.provider_id),
                    &format!("deployed \"{}\" to {}", record.name, places.join("; ")),
                )?;
                Ok(done)
            }
            Err(e) => {
                let _ = self.audit(
                    "deploy",
                    Some(key_id),
                    Some(&record.provider_id),
                    &format!(
                        "deploy of \"{}\" failed and was undone: {}",
                        record.name,
                        e.code().as_str()
                    ),
                );
                Err(e)
            }
        };
        let _ = std::fs::remove_dir_all(&backup_dir);
        outcome
    }

    /// Writes and reads back every target; on the first failure puts back
    /// the ones written before it.
    async fn write_all(
        &self,
        states: &[crate::catalog::TargetState],
        secret: &Secret,
        backup_dir: &std::path::Path,
    ) -> Result<Vec<DeployedTarget>> {
        let fingerprint = secret.fingerprint();
        let mut written: Vec<(usize, Option<String>)> = Vec::new();
        let mut done = Vec::new();
        // Each file as the files' targets are before anything is written.
        let files: Vec<_> = states
            .iter()
            .map(|s| s.spec.open(self.open_nothing()).file())
            .collect();
        for (index, state) in states.iter().enumerate() {
            let target = state.spec.open(self.open_nothing());
            let backup = Backup {
                dir: backup_dir,
                index,
            };
            let description = target.describe();
            // A file an earlier target wrote is expected as that write
            // left it; anything else as it was checked.
            let earlier = files[..index]
                .iter()
                .zip(&written)
                .rev()
                .find(|(file, _)| file.is_some() && **file == files[index]);
            let expected = earlier.map_or(state.digest.as_deref(), |(_, (_, d))| d.as_deref());
            let attempt = target
                .write(secret, &backup, expected)
                .await
                .and_then(|w| match w {
                    Written::Done { digest, message } => Ok((digest, message)),
                    Written::AwaitingConfirmation { .. } => Err(Error::invalid(
                        "target",
                        format!("{description} is done by hand"),
                    )),
                });
            let (digest, message) = match attempt {
                Ok(ok) => ok,
                Err(e) => {
                    let _ = self.put_back(states, &written, secret, backup_dir).await;
                    return Err(e);
                }
            };
            written.push((index, digest.clone()));
            // Looked at as the journal would open it: with what the write
            // noted (a GitHub secret's `updated_at` before our write).
            let target = state.spec.open(self.open_deployed(digest.as_deref()));
            match target.holds(&fingerprint).await {
                Ok(true) => {}
                Ok(false) => {
                    let kept = self.put_back(states, &written, secret, backup_dir).await;
                    let after = if kept.is_empty() {
                        "the targets written were put back".to_owned()
                    } else {
                        format!("these could not be put back: {}", kept.join("; "))
                    };
                    return Err(Error::VerifyFailed(format!(
                        "{description} does not hold the key after writing it; {after}"
                    )));
                }
                Err(e) => {
                    let _ = self.put_back(states, &written, secret, backup_dir).await;
                    return Err(e);
                }
            }
            done.push(DeployedTarget {
                spec: state.spec.clone(),
                description,
                message,
            });
        }
        Ok(done)
    }

    /// Undoes the writes of a deploy that failed, newest first. A target
    /// that cannot be put back is left as it is (it holds the current key,
    /// which works) and named in the answer.
    async fn put_back(
        &self,
        states: &[crate::catalog::TargetState],
        written: &[(usize, Option<String>)],
        secret: &Secret,
        backup_dir: &std::path::Path,
    ) -> Vec<String> {
        let mut kept = Vec::new();
        let nothing_older = || -> Result<Secret> {
            Err(Error::invalid(
                "target",
                "The target held no earlier value to put back",
            ))
        };
        for (index, digest) in written.iter().rev() {
            let backup = Backup {
                dir: backup_dir,
                index: *index,
            };
            let restored = states[*index]
                .spec
                .open(self.open_deployed(digest.as_deref()))
                .restore(&backup, digest.as_deref(), Some(secret), &nothing_older)
                .await
                .is_ok();
            if !restored {
                kept.push(states[*index].spec.describe());
            }
        }
        kept
    }
}

impl DeployOps<'_> {
    /// Opening a target for a deploy: nothing confirmed, this vault's
    /// connections, and what the write noted (if anything).
    fn open_deployed<'a>(&'a self, deployed: Option<&'a str>) -> OpenWith<'a> {
        OpenWith {
            confirmed: &[],
            deployed,
            connections: &**self,
        }
    }

    fn open_nothing(&self) -> OpenWith<'_> {
        self.open_deployed(None)
    }
}
