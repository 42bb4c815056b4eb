//! A `.env` file as a deploy target: read a snapshot, then replace one value
//! atomically (temp file in the same directory with the same mode, fsync,
//! rename, fsync of the directory) only if the file is still what was read,
//! after keeping a one-generation backup (mode 0600) for rollback. After
//! writing, the file is re-parsed with dotenvy: every other value must be
//! unchanged and the target must hold the new key, or the backup goes back.
//! Symbolic links are refused unless the caller confirmed them. Errors never
//! carry a value from the file.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::dotenv::{set_value, DotenvError};
use crate::error::{Error, Result};
use crate::secret::{Fingerprint, Secret};

/// A `.env` file Latchkey may write.
#[derive(Debug, Clone)]
pub struct DotenvFile {
    path: PathBuf,
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

fn failed(path: &Path, reason: impl Into<String>) -> Error {
    Error::DeployFailed {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

fn values(bytes: &[u8]) -> Vec<(String, String)> {
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    dotenvy::from_read_iter(body)
        .filter_map(|r| r.ok())
        .collect()
}

impl DotenvFile {
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
        Ok(Self { path: real })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn backup_path(&self) -> PathBuf {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let hidden = if name.starts_with('.') {
            name
        } else {
            format!(".{name}")
        };
        self.path
            .with_file_name(format!("{hidden}.latchkey-backup"))
    }

    pub fn read(&self) -> Result<Snapshot> {
        let bytes = fs::read(&self.path).map_err(|_| failed(&self.path, "it cannot be read"))?;
        let digest = Sha256::digest(&bytes).into();
        Ok(Snapshot { bytes, digest })
    }

    /// The fingerprint of `var`'s value in the file now, if it is set.
    pub fn fingerprint_of(&self, var: &str) -> Result<Option<Fingerprint>> {
        let snapshot = self.read()?;
        Ok(values(&snapshot.bytes)
            .into_iter()
            .rev()
            .find(|(k, _)| k == var)
            .map(|(_, v)| Fingerprint::of(&v)))
    }

    /// Sets `var` to `key` if the file still matches `snapshot`.
    pub fn set(&self, snapshot: &Snapshot, var: &str, key: &Secret) -> Result<()> {
        self.set_if_digest(&snapshot.digest_hex(), var, key)
    }

    /// Sets `var` to `key` if the file's SHA-256 is still `digest_hex`.
    pub fn set_if_digest(&self, digest_hex: &str, var: &str, key: &Secret) -> Result<()> {
        let now = self.read()?;
        if now.digest_hex() != digest_hex {
            return Err(Error::DotenvChangedOnDisk(self.path.display().to_string()));
        }
        let edited = set_value(&now.bytes, var, key.expose_secret()).map_err(|e| match e {
            DotenvError::BadName(_) => Error::invalid("env_var", e.to_string()),
            other => failed(&self.path, other.to_string()),
        })?;
        write_atomic(&self.backup_path(), &now.bytes, Some(0o600))?;
        write_atomic(&self.path, &edited, None)?;
        let (before, after) = (values(&now.bytes), values(&edited));
        let others = |v: &[(String, String)]| -> Vec<(String, String)> {
            v.iter().filter(|(k, _)| k != var).cloned().collect()
        };
        let target_ok = after
            .iter()
            .filter(|(k, _)| k == var)
            .all(|(_, v)| v == key.expose_secret())
            && after.iter().any(|(k, _)| k == var);
        if others(&before) != others(&after) || !target_ok {
            self.restore()?;
            return Err(failed(
                &self.path,
                "the edited file did not read back as expected",
            ));
        }
        Ok(())
    }

    /// Puts the backup back (rollback).
    pub fn restore(&self) -> Result<()> {
        let backup = fs::read(self.backup_path())
            .map_err(|_| failed(&self.path, "there is no backup to restore"))?;
        write_atomic(&self.path, &backup, None)
    }
}

/// Atomic, durable replace; keeps the target's mode unless `mode` is given.
fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}.latchkey-tmp",
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        let mode = {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            let keep = fs::metadata(path)
                .ok()
                .map(|m| m.permissions().mode() & 0o7777);
            let mode = mode.or(keep).unwrap_or(0o600);
            options.mode(mode);
            mode
        };
        #[cfg(not(unix))]
        let _ = mode;
        let mut file = options.open(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The umask may have narrowed the mode given at creation.
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        #[cfg(unix)]
        fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|_| failed(path, "it could not be written"))
}
