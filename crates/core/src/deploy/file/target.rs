//! A file target: one key in one file, written through [`EditableFile`].

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use super::{sweep_temp_files, EditableFile, Editor};
use crate::catalog::{TargetState, TargetStatus};
use crate::deploy::{gitignore, Backup, DeployTarget, Written};
use crate::error::{Error, Result};
use crate::secret::{Fingerprint, Secret};

/// One key (`var` for a `.env`) in one file, edited by `E`.
#[derive(Debug)]
pub struct FileTarget<E> {
    path: String,
    key: String,
    follow_symlink: bool,
    editor: PhantomData<fn() -> E>,
}

impl<E: Editor> FileTarget<E> {
    pub fn new(path: &str, key: &str, follow_symlink: bool) -> Self {
        Self {
            path: path.to_owned(),
            key: key.to_owned(),
            follow_symlink,
            editor: PhantomData,
        }
    }

    fn file(&self) -> Result<EditableFile<E>> {
        EditableFile::open(Path::new(&self.path), self.follow_symlink)
    }
}

#[async_trait::async_trait]
impl<E: Editor> DeployTarget for FileTarget<E> {
    fn describe(&self) -> String {
        format!("{} in {}", self.key, self.path)
    }

    async fn prepare(&self) -> Result<TargetState> {
        let key = E::check_key(&self.key)?;
        let file = self.file()?;
        let digest = file.read()?.digest_hex();
        let absolute: PathBuf = file.path().to_path_buf();
        let warning = gitignore::warning(&absolute);
        // A confirmed link is kept as a link: the path the user gave.
        let path = if self.follow_symlink {
            self.path.clone()
        } else {
            absolute.display().to_string()
        };
        Ok(TargetState {
            spec: E::spec(path, key, self.follow_symlink),
            status: TargetStatus::Pending,
            digest: Some(digest),
            confirmed: vec![],
            message: None,
            gitignore_warning: warning,
            deployed_digest: None,
        })
    }

    async fn write(
        &self,
        secret: &Secret,
        backup: &Backup<'_>,
        expected_digest: Option<&str>,
    ) -> Result<Written> {
        let file = self.file()?;
        let current = file.fingerprint_of(&self.key)?;
        let digest = if current.as_ref() != Some(&secret.fingerprint()) {
            // Not written yet (or a crash before the rename).
            let backup = backup.path_for(file.path());
            file.set_if_digest(
                expected_digest.unwrap_or_default(),
                &self.key,
                secret,
                &backup,
            )?
        } else {
            // Written before a crash: the file as it is now.
            file.read()?.digest_hex()
        };
        Ok(Written::Done {
            digest: Some(digest),
            message: format!("{} now holds the new key", self.key),
        })
    }

    async fn holds(&self, fingerprint: &Fingerprint) -> Result<bool> {
        let file = self.file()?;
        let now = file.fingerprint_of(&self.key).ok().flatten();
        Ok(now.as_ref() == Some(fingerprint))
    }

    async fn restore(
        &self,
        backup: &Backup<'_>,
        deployed_digest: Option<&str>,
        new: Option<&Secret>,
        old_key: &(dyn Fn() -> Result<Secret> + Sync),
    ) -> Result<String> {
        let file = self.file()?;
        let backup = backup.path_for(file.path());
        let old = if backup.exists() {
            EditableFile::<E>::value_in_backup(&backup, &self.key)?
        } else {
            Some(old_key()?)
        };
        // A crash between the write and its journal row: what the deploy
        // wrote is the backup with the new key set.
        let deployed = match (deployed_digest, new) {
            (Some(d), _) => d.to_owned(),
            (None, Some(new)) if backup.exists() => {
                file.digest_after_deploy(&backup, &self.key, new)?
            }
            _ => {
                return Err(Error::DotenvChangedOnDisk(
                    file.path().display().to_string(),
                ))
            }
        };
        file.rollback_var(
            &deployed,
            &self.key,
            old.as_ref().map(Secret::expose_secret),
        )?;
        Ok(format!("{} holds the old key again", self.key))
    }

    fn sweep(&self) {
        if let Some(dir) = std::fs::canonicalize(&self.path)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
        {
            sweep_temp_files(&dir);
        }
    }
}
