//! A file target: one key in one file, written through [`EditableFile`].

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use super::{sweep_temp_files, write_private, EditableFile, Editor, ABSENT};
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

    /// The path with a leading `~` read as the home folder.
    fn expanded(&self) -> PathBuf {
        crate::paths::expand_home(&self.path)
    }

    fn file(&self) -> Result<EditableFile<E>> {
        EditableFile::open(&self.expanded(), self.follow_symlink)
    }

    /// The path, when the file does not exist and `E` may make it.
    fn to_create(&self) -> Option<PathBuf> {
        let path = self.expanded();
        let missing = matches!(std::fs::symlink_metadata(&path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound);
        (missing && E::new_file(&path, &self.key, "").is_some()).then_some(path)
    }

    /// Where a write notes that it made the file (a rollback deletes it).
    fn created_marker(backup: &Backup<'_>, path: &Path) -> PathBuf {
        Self::marker(backup, path, ".created")
    }

    /// Where a write notes that the file held the key before it (the same
    /// place named twice): it changed nothing, so a rollback changes nothing.
    fn unchanged_marker(backup: &Backup<'_>, path: &Path) -> PathBuf {
        Self::marker(backup, path, ".unchanged")
    }

    fn marker(backup: &Backup<'_>, path: &Path, ending: &str) -> PathBuf {
        let mut marker = backup.path_for(path).into_os_string();
        marker.push(ending);
        PathBuf::from(marker)
    }
}

#[async_trait::async_trait]
impl<E: Editor> DeployTarget for FileTarget<E> {
    fn describe(&self) -> String {
        format!("{} in {}", self.key, self.path)
    }

    fn file(&self) -> Option<PathBuf> {
        let path = self.expanded();
        Some(std::fs::canonicalize(&path).unwrap_or(path))
    }

    async fn prepare(&self) -> Result<TargetState> {
        let key = E::check_key(&self.key)?;
        if self.path.trim().is_empty() {
            return Err(Error::invalid(
                "path",
                format!("Enter the path of the file that should hold {key}: it is empty"),
            ));
        }
        if let Some(path) = self.to_create() {
            return Ok(TargetState {
                spec: E::spec(path.display().to_string(), key, self.follow_symlink),
                status: TargetStatus::Pending,
                digest: Some(ABSENT.to_owned()),
                confirmed: vec![],
                message: None,
                gitignore_warning: None,
                deployed_digest: None,
            });
        }
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
        if let Some(path) = self.to_create() {
            if expected_digest != Some(ABSENT) {
                return Err(Error::DotenvChangedOnDisk(path.display().to_string()));
            }
            let marker = Self::created_marker(backup, &path);
            let digest = EditableFile::<E>::create(&path, &self.key, secret, &marker)?;
            return Ok(Written::Done {
                digest: Some(digest),
                message: format!("{} now holds the new key (a new file)", self.key),
            });
        }
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
        } else if backup.path_for(file.path()).exists() {
            // Written before a crash: the file as that write left it (a
            // later target in the same file may have changed it since).
            file.digest_after_deploy(&backup.path_for(file.path()), &self.key, secret)?
        } else {
            // It held the key already (an earlier target of this deploy
            // named the same place): nothing to undo.
            write_private(&Self::unchanged_marker(backup, file.path()), b"")?;
            file.read()?.digest_hex()
        };
        Ok(Written::Done {
            digest: Some(digest),
            message: format!("{} now holds the new key", self.key),
        })
    }

    async fn holds(&self, fingerprint: &Fingerprint) -> Result<bool> {
        if self.to_create().is_some() {
            return Ok(false);
        }
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
        let path = self.expanded();
        if Self::created_marker(backup, &path).exists() {
            // The deploy made the file: the rollback deletes it.
            let deployed = match (deployed_digest, new) {
                (Some(d), _) => Some(d.to_owned()),
                (None, Some(new)) => EditableFile::<E>::digest_of_new(&path, &self.key, new),
                _ => None,
            };
            let Some(deployed) = deployed else {
                return Err(Error::DotenvChangedOnDisk(path.display().to_string()));
            };
            EditableFile::<E>::remove_created(&path, &deployed)?;
            return Ok(format!(
                "{} is gone again (Latchkey had made it)",
                self.path
            ));
        }
        let file = self.file()?;
        if Self::unchanged_marker(backup, file.path()).exists()
            && !backup.path_for(file.path()).exists()
        {
            return Ok(format!(
                "{} in {} was left as it is (it held the key before)",
                self.key, self.path
            ));
        }
        let backup = backup.path_for(file.path());
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
        if backup.exists() {
            file.undo_edit(&deployed, &self.key, &backup)?;
        } else {
            let old = old_key()?;
            file.rollback_var(&deployed, &self.key, Some(old.expose_secret()))?;
        }
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
