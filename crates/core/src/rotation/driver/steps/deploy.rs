//! Step 2: write the new key to every target (lossless `.env` edit, private backups, manual checklist).

use super::super::*;

impl RotationOps<'_> {
    pub(in crate::rotation::driver) async fn deploy_step(
        &self,
        rec: &mut RotationRecord,
        secret: &Secret,
    ) -> Result<bool> {
        self.sweep_beside_targets(rec);
        // The targets Latchkey writes itself, written together below.
        let mut automatic = Vec::new();
        for i in 0..rec.targets.len() {
            let target = rec.targets[i].clone();
            if matches!(
                target.status,
                TargetStatus::Deployed | TargetStatus::Verified
            ) {
                continue;
            }
            let t = self.open_target(&target);
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
            automatic.push(i);
        }
        if !automatic.is_empty() {
            self.deploy_concurrently(rec, secret, &automatic).await?;
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

    /// Writes the targets at `indexes` at the same time (a GitHub secret, an
    /// AWS secret and a file do not wait for each other), except targets in
    /// one file: those are written one after the other, in order, each
    /// expecting the file as the write before it left it (a change by
    /// anyone else in between is still refused). Every intent is journaled
    /// first in one commit, then the writes run, then each result is
    /// journaled. A resume after a kill writes again the ones without an
    /// `ok` (a target already holding the key is left as it is); a failure
    /// is reported after the others finished, so every target written is
    /// journaled and rolled back with the rest (newest first, so a file
    /// written twice comes back byte for byte).
    async fn deploy_concurrently(
        &self,
        rec: &mut RotationRecord,
        secret: &Secret,
        indexes: &[usize],
    ) -> Result<()> {
        let backup_dir = self.backup_dir(&rec.id);
        let open = |i: usize| {
            let target = &rec.targets[i];
            self.open_target(target)
        };
        let opened: Vec<(usize, Box<dyn crate::deploy::DeployTarget>)> =
            indexes.iter().map(|&i| (i, open(i))).collect();
        // One lane per file (and per other target), in the rotation's order.
        let mut lanes: Vec<(Option<PathBuf>, Vec<usize>)> = Vec::new();
        for (k, (_, t)) in opened.iter().enumerate() {
            let file = t.file();
            match lanes.iter_mut().find(|(f, _)| file.is_some() && *f == file) {
                Some((_, lane)) => lane.push(k),
                None => lanes.push((file, vec![k])),
            }
        }
        // A lane starts from what the last target already deployed in its
        // file left (a resume), else from what its first target planned on.
        let starts: Vec<Option<String>> = lanes
            .iter()
            .map(|(file, lane)| {
                let first = opened[lane[0]].0;
                let earlier = (0..first).rev().find(|&j| {
                    file.is_some()
                        && matches!(
                            rec.targets[j].status,
                            TargetStatus::Deployed | TargetStatus::Verified
                        )
                        && open(j).file() == *file
                });
                earlier
                    .and_then(|j| rec.targets[j].deployed_digest.clone())
                    .or_else(|| rec.targets[first].digest.clone())
            })
            .collect();
        self.commit(|c, now| {
            for (i, t) in &opened {
                c.journal(rec, now, &format!("deploy:{i}"), "intent", &t.describe())?;
            }
            Ok(())
        })?;
        failpoint("rotation::deploy::before");
        let writes = lanes.iter().zip(starts).map(|((_, lane), start)| {
            let (opened, backup_dir) = (&opened, &backup_dir);
            async move {
                let mut expected = start;
                let mut results = Vec::new();
                for (n, &k) in lane.iter().enumerate() {
                    let (i, t) = &opened[k];
                    if n > 0 {
                        // Between two writes of one file.
                        failpoint("rotation::deploy::same_file");
                    }
                    let backup = Backup {
                        dir: backup_dir,
                        index: *i,
                    };
                    let result = t.write(secret, &backup, expected.as_deref()).await;
                    let failed = result.is_err();
                    if let Ok(Written::Done { digest, .. }) = &result {
                        expected.clone_from(digest);
                    }
                    results.push((k, result));
                    if failed {
                        // The later targets in this file are not written.
                        break;
                    }
                }
                results
            }
        });
        let mut results: Vec<Option<Result<Written>>> = opened.iter().map(|_| None).collect();
        for (k, result) in futures_util::future::join_all(writes)
            .await
            .into_iter()
            .flatten()
        {
            results[k] = Some(result);
        }
        failpoint("rotation::deploy::after");
        // The writes that worked are journaled together (one commit, one
        // fsync); a failure after them, on its own.
        let mut ok_rows = Vec::new();
        let mut failures = Vec::new();
        for ((i, t), result) in opened.iter().zip(results) {
            match result {
                None => {}
                Some(Ok(written)) => {
                    let (digest, message) = match written {
                        Written::Done { digest, message } => (digest, message),
                        Written::AwaitingConfirmation { message } => (None, message),
                    };
                    rec.targets[*i].deployed_digest = digest;
                    rec.targets[*i].status = TargetStatus::Deployed;
                    rec.targets[*i].message = Some(message);
                    ok_rows.push((format!("deploy:{i}"), t.describe()));
                }
                Some(Err(e)) => failures.push((*i, e)),
            }
        }
        if failures.is_empty() {
            rec.error = None;
        }
        if !ok_rows.is_empty() {
            self.commit(|c, now| {
                for (step, what) in &ok_rows {
                    c.journal(rec, now, step, "ok", what)?;
                }
                Ok(())
            })?;
        }
        let mut first_error = None;
        for (i, e) in failures {
            let e = self.target_failed(rec, i, &format!("deploy:{i}"), e);
            first_error.get_or_insert(e);
        }
        first_error.map_or(Ok(()), Err)
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
