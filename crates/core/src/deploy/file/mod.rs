//! Every file target's one path: read a snapshot, then replace one value
//! atomically (see `atomic`) only if the file is still what was read, after
//! keeping a backup for rollback in a private folder the caller names (the
//! data directory's `backups/`, never beside the file). After writing, the
//! file is read back through its [`Editor`]: every other entry must be
//! unchanged and the target must hold the new key, or the old bytes go back.
//! Symbolic links are refused unless the caller confirmed them. Rollback
//! undoes the one edit: the backup's bytes go back only when the file is
//! exactly the backup with that one value set (byte for byte what was
//! there), else the one value is edited back; never over other changes. A new kind of file (YAML,
//! JSON, TOML, AWS credentials) only adds an [`Editor`]; nothing here knows a
//! format. Errors never carry a value from the file.

use std::fs;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::catalog::TargetSpec;
use crate::error::{Error, Result};
use crate::secret::{Fingerprint, Secret};

mod atomic;
mod target;

pub use atomic::{sweep_temp_files, write_private, TEMP_SUFFIX};
pub use target::FileTarget;

/// Why an editor refused an edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// The key's name is not valid in this kind of file (the user's input).
    BadKey(String),
    /// The file cannot be edited safely; the text says why.
    Refused(String),
}

/// A file format's lossless editor: pure functions over the file's bytes.
/// Implementations change the one value and nothing else, and never log it.
pub trait Editor {
    /// The input field a bad key name is reported against (`env_var`).
    const KEY_FIELD: &'static str;

    /// `key`'s value as the format's readers see it, if it is set.
    fn read_value(bytes: &[u8], key: &str) -> Option<Secret>;

    /// The bytes with `key` set to `value`, everything else byte for byte.
    fn set_value(bytes: &[u8], key: &str, value: &str) -> std::result::Result<Vec<u8>, EditError>;

    /// The bytes without `key` (the undo of a `set_value` that added it).
    fn remove_value(bytes: &[u8], key: &str) -> std::result::Result<Vec<u8>, EditError>;

    /// After an edit from `before` to `after`: `key` reads as `value`
    /// (absent for `None`) and every other entry is as it was.
    fn check_edit(before: &[u8], after: &[u8], key: &str, value: Option<&str>) -> bool;

    /// Checks a key name at plan time; returns it as the journal keeps it.
    fn check_key(key: &str) -> Result<String>;

    /// The journal's spec of a target of this kind.
    fn spec(path: String, key: String, follow_symlink: bool) -> TargetSpec;

    /// A file this editor may make when it does not exist yet: the bytes of
    /// a new file holding only `key` = `value`. `None` (the default): a
    /// missing file is refused.
    fn new_file(_path: &Path, _key: &str, _value: &str) -> Option<Vec<u8>> {
        None
    }
}

/// The digest a journal keeps for a file that did not exist when the
/// rotation was planned (one its editor may make: [`Editor::new_file`]).
pub const ABSENT: &str = "absent";

/// A file Latchkey may edit with the editor `E`.
#[derive(Debug)]
pub struct EditableFile<E> {
    path: PathBuf,
    editor: PhantomData<E>,
}

impl<E> Clone for EditableFile<E> {
    fn clone(&self) -> Self {
        Self {
            path: self.path.clone(),
            editor: PhantomData,
        }
    }
}

/// What the file held when it was read.
#[derive(Clone)]
pub struct Snapshot {
    bytes: Vec<u8>,
    digest: [u8; 32],
}

impl Snapshot {
    /// The file's SHA-256, hex: how a journal remembers what it read.
    pub fn digest_hex(&self) -> String {
        hex::encode(self.digest)
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Snapshot({} bytes)", self.bytes.len())
    }
}

/// A backup's bytes: they hold the key the deploy replaced, so they are
/// wiped when dropped.
fn read_backup(backup: &Path) -> Result<Zeroizing<Vec<u8>>> {
    fs::read(backup)
        .map(Zeroizing::new)
        .map_err(|_| failed(backup, "the backup cannot be read"))
}

fn failed(path: &Path, reason: impl Into<String>) -> Error {
    Error::DeployFailed {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

impl<E: Editor> EditableFile<E> {
    /// A target at `path`; a symlink needs `follow_symlink` (the user's yes).
    pub fn open(path: &Path, follow_symlink: bool) -> Result<Self> {
        let meta = fs::symlink_metadata(path)
            .map_err(|_| failed(path, "the file does not exist or cannot be read"))?;
        if meta.file_type().is_symlink() && !follow_symlink {
            return Err(Error::DotenvSymlink(path.display().to_string()));
        }
        let real =
            fs::canonicalize(path).map_err(|_| failed(path, "the link cannot be followed"))?;
        if !real.is_file() {
            return Err(failed(path, "it is not a regular file"));
        }
        Ok(Self {
            path: real,
            editor: PhantomData,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn read(&self) -> Result<Snapshot> {
        let bytes = fs::read(&self.path).map_err(|_| failed(&self.path, "it cannot be read"))?;
        let digest = Sha256::digest(&bytes).into();
        Ok(Snapshot { bytes, digest })
    }

    /// The fingerprint of `key`'s value in the file now, if it is set.
    pub fn fingerprint_of(&self, key: &str) -> Result<Option<Fingerprint>> {
        let snapshot = self.read()?;
        Ok(E::read_value(&snapshot.bytes, key).map(|v| v.fingerprint()))
    }

    /// Sets `key` to `secret` if the file still matches `snapshot`, keeping
    /// the file as it was at `backup` (a private file, never beside the
    /// target). Returns the file's digest after the edit.
    pub fn set(
        &self,
        snapshot: &Snapshot,
        key: &str,
        secret: &Secret,
        backup: &Path,
    ) -> Result<String> {
        self.set_if_digest(&snapshot.digest_hex(), key, secret, backup)
    }

    /// Sets `key` to `secret` if the file's SHA-256 is still `digest_hex`,
    /// after writing what it held to `backup` (0600, its folder 0700).
    /// Returns the digest of the file as written, for the journal.
    pub fn set_if_digest(
        &self,
        digest_hex: &str,
        key: &str,
        secret: &Secret,
        backup: &Path,
    ) -> Result<String> {
        let now = self.read()?;
        if now.digest_hex() != digest_hex {
            return Err(Error::DotenvChangedOnDisk(self.path.display().to_string()));
        }
        let edited =
            E::set_value(&now.bytes, key, secret.expose_secret()).map_err(|e| self.refused(e))?;
        write_private(backup, &now.bytes)?;
        self.replace_checked(&now, edited, key, Some(secret.expose_secret()))
    }

    /// Makes the missing file at `path` holding only `key` = `secret`
    /// (0600; missing folders 0700), never over a file that appeared
    /// meanwhile. `marker` (a private file) is written first: it tells a
    /// rollback, even after a crash, that the file is Latchkey's to delete.
    /// Returns the new file's digest.
    pub fn create(path: &Path, key: &str, secret: &Secret, marker: &Path) -> Result<String> {
        let bytes = E::new_file(path, key, secret.expose_secret())
            .ok_or_else(|| failed(path, "the file does not exist or cannot be read"))?;
        write_private(marker, b"")?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::paths::create_private_dir_all(dir)
                .map_err(|_| failed(dir, "the folder could not be made"))?;
        }
        if let Err(e) = atomic::create_new(path, &bytes, 0o600) {
            // Nothing was made: a rollback has nothing to delete.
            let _ = fs::remove_file(marker);
            return Err(e);
        }
        let back = fs::read(path).map_err(|_| failed(path, "it cannot be read"))?;
        let holds =
            E::read_value(&back, key).is_some_and(|v| v.expose_secret() == secret.expose_secret());
        if back != bytes || !holds {
            return Err(failed(path, "the new file did not read back as expected"));
        }
        Ok(hex::encode(Sha256::digest(&bytes)))
    }

    /// The digest of the file [`Self::create`] makes with `secret`.
    pub fn digest_of_new(path: &Path, key: &str, secret: &Secret) -> Option<String> {
        E::new_file(path, key, secret.expose_secret()).map(|b| hex::encode(Sha256::digest(&b)))
    }

    /// Rollback of a file [`Self::create`] made: deletes it, only while it
    /// is byte for byte what was written (`deployed_digest`).
    pub fn remove_created(path: &Path, deployed_digest: &str) -> Result<()> {
        let meta = match fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            other => other.map_err(|_| failed(path, "it cannot be read"))?,
        };
        let bytes = fs::read(path).map_err(|_| failed(path, "it cannot be read"))?;
        if !meta.is_file() || hex::encode(Sha256::digest(&bytes)) != deployed_digest {
            return Err(Error::DotenvChangedOnDisk(path.display().to_string()));
        }
        fs::remove_file(path).map_err(|_| failed(path, "it could not be removed"))?;
        #[cfg(unix)]
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }

    /// Rollback of one value: sets `key` back to `old` (or removes it when
    /// it was not set before), only if the file is byte for byte what the
    /// deploy wrote (`deployed_digest`); otherwise nothing is written and
    /// the answer is `dotenv_changed_on_disk`. Every other byte stays.
    pub fn rollback_var(&self, deployed_digest: &str, key: &str, old: Option<&str>) -> Result<()> {
        let now = self.read()?;
        if now.digest_hex() != deployed_digest {
            return Err(Error::DotenvChangedOnDisk(self.path.display().to_string()));
        }
        let edited = match old {
            Some(old) => E::set_value(&now.bytes, key, old),
            None => E::remove_value(&now.bytes, key),
        }
        .map_err(|e| self.refused(e))?;
        self.replace_checked(&now, edited, key, old).map(|_| ())
    }

    /// Rollback of a [`Self::set_if_digest`] that kept `backup`: only if the
    /// file is byte for byte what the deploy wrote (`deployed_digest`). When
    /// that is the backup with `key` set to the value the file holds now
    /// (the deploy's one edit and nothing else), the backup's bytes go back:
    /// what was there, byte for byte, even where the edit added a part of
    /// the value that was missing (one line of an AWS key pair). Otherwise
    /// the one value is edited back ([`Self::rollback_var`]).
    pub fn undo_edit(&self, deployed_digest: &str, key: &str, backup: &Path) -> Result<()> {
        let now = self.read()?;
        if now.digest_hex() != deployed_digest {
            return Err(Error::DotenvChangedOnDisk(self.path.display().to_string()));
        }
        let before = read_backup(backup)?;
        let only_our_edit = E::read_value(&now.bytes, key)
            .and_then(|value| E::set_value(&before, key, value.expose_secret()).ok())
            .map(Zeroizing::new)
            .is_some_and(|redone| *redone == now.bytes);
        if only_our_edit {
            return self.replace(&now, &before);
        }
        let old = E::read_value(&before, key);
        self.rollback_var(
            deployed_digest,
            key,
            old.as_ref().map(Secret::expose_secret),
        )
    }

    /// `key`'s value in a backup written by [`Self::set_if_digest`]:
    /// `Ok(None)` when it was not set in it.
    pub fn value_in_backup(backup: &Path, key: &str) -> Result<Option<Secret>> {
        Ok(E::read_value(&read_backup(backup)?, key))
    }

    /// The digest the file would have had after a deploy of `secret` over
    /// the `backup`: what a crash between the write and its journal row left.
    pub fn digest_after_deploy(&self, backup: &Path, key: &str, secret: &Secret) -> Result<String> {
        let changed = || Error::DotenvChangedOnDisk(self.path.display().to_string());
        let before = read_backup(backup).map_err(|_| changed())?;
        E::set_value(&before, key, secret.expose_secret())
            .map(|b| hex::encode(Sha256::digest(Zeroizing::new(b))))
            .map_err(|_| changed())
    }

    fn refused(&self, e: EditError) -> Error {
        match e {
            EditError::BadKey(message) => Error::invalid(E::KEY_FIELD, message),
            EditError::Refused(reason) => failed(&self.path, reason),
        }
    }

    /// Replaces the file with `edited` if it still is `before`, then reads
    /// it back: every other entry as before and `key` = `value` (absent
    /// for `None`), or `before` goes back. Returns the new digest.
    fn replace_checked(
        &self,
        before: &Snapshot,
        edited: Vec<u8>,
        key: &str,
        value: Option<&str>,
    ) -> Result<String> {
        self.replace(before, &edited)?;
        if !E::check_edit(&before.bytes, &edited, key, value) {
            atomic::write_atomic(&self.path, &before.bytes, None)?;
            return Err(failed(
                &self.path,
                "the edited file did not read back as expected",
            ));
        }
        Ok(hex::encode(Sha256::digest(&edited)))
    }

    /// Replaces the file with `bytes` if it still is `before`.
    fn replace(&self, before: &Snapshot, bytes: &[u8]) -> Result<()> {
        if self.read()?.digest != before.digest {
            return Err(Error::DotenvChangedOnDisk(self.path.display().to_string()));
        }
        atomic::write_atomic(&self.path, bytes, None)
    }
}
