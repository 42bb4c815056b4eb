//! A `.env` file as a deploy target: read a snapshot, then replace one value
//! atomically (temp file in the same directory with the same mode, fsync,
//! rename, fsync of the directory) only if the file is still what was read,
//! after keeping a backup for rollback in a private folder the caller names
//! (the data directory's `backups/`, never beside the file). After
//! writing, the file is re-parsed with dotenvy: every other value must be
//! unchanged and the target must hold the new key, or the backup goes back.
//! Symbolic links are refused unless the caller confirmed them. Rollback
//! edits the one variable back, never the whole file. Errors never carry a
//! value from the file.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::dotenv::{raw_assignments, remove_value, set_value, DotenvError};
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

    /// Sets `var` to `key` if the file still matches `snapshot`, keeping
    /// the file as it was at `backup` (a private file, never beside the
    /// target). Returns the file's digest after the edit.
    pub fn set(
        &self,
        snapshot: &Snapshot,
        var: &str,
        key: &Secret,
        backup: &Path,
    ) -> Result<String> {
        self.set_if_digest(&snapshot.digest_hex(), var, key, backup)
    }

    /// Sets `var` to `key` if the file's SHA-256 is still `digest_hex`,
    /// after writing what it held to `backup` (0600, its folder 0700).
    /// Returns the digest of the file as written, for the journal.
    pub fn set_if_digest(
        &self,
        digest_hex: &str,
        var: &str,
        key: &Secret,
        backup: &Path,
    ) -> Result<String> {
        let now = self.read()?;
        if now.digest_hex() != digest_hex {
            return Err(Error::DotenvChangedOnDisk(self.path.display().to_string()));
        }
        let edited =
            set_value(&now.bytes, var, key.expose_secret()).map_err(|e| self.refused(e))?;
        write_private(backup, &now.bytes)?;
        self.replace_checked(&now, edited, var, Some(key.expose_secret()))
    }

    /// Rollback of one variable: sets `var` back to `old` (or removes it
    /// when it was not set before), only if the file is byte for byte what
    /// the deploy wrote (`deployed_digest`); otherwise nothing is written
    /// and the answer is `dotenv_changed_on_disk`. Every other byte stays.
    pub fn rollback_var(&self, deployed_digest: &str, var: &str, old: Option<&str>) -> Result<()> {
        let now = self.read()?;
        if now.digest_hex() != deployed_digest {
            return Err(Error::DotenvChangedOnDisk(self.path.display().to_string()));
        }
        let edited = match old {
            Some(old) => set_value(&now.bytes, var, old),
            None => remove_value(&now.bytes, var),
        }
        .map_err(|e| self.refused(e))?;
        self.replace_checked(&now, edited, var, old).map(|_| ())
    }

    /// `var`'s value in a backup written by [`Self::set_if_digest`]:
    /// `Ok(None)` when the variable was not set in it.
    pub fn value_in_backup(backup: &Path, var: &str) -> Result<Option<Secret>> {
        let bytes = fs::read(backup).map_err(|_| failed(backup, "the backup cannot be read"))?;
        Ok(values(&bytes)
            .into_iter()
            .rev()
            .find(|(k, _)| k == var)
            .map(|(_, v)| Secret::new(v)))
    }

    fn refused(&self, e: DotenvError) -> Error {
        match e {
            DotenvError::BadName(_) => Error::invalid("env_var", e.to_string()),
            other => failed(&self.path, other.to_string()),
        }
    }

    /// Replaces the file with `edited` if it still is `before`, then reads
    /// it back: every other variable as before and `var` = `value` (absent
    /// for `None`), or `before` goes back. Returns the new digest.
    fn replace_checked(
        &self,
        before: &Snapshot,
        edited: Vec<u8>,
        var: &str,
        value: Option<&str>,
    ) -> Result<String> {
        if self.read()?.digest != before.digest {
            return Err(Error::DotenvChangedOnDisk(self.path.display().to_string()));
        }
        write_atomic(&self.path, &edited, None)?;
        let is = values(&edited);
        // Every other assignment exactly as written before (raw text, no
        // `$VAR` expansion: a reference to the rotated variable is not a
        // change); the target as dotenv readers see it.
        let others = |bytes: &[u8]| -> Option<Vec<(String, String)>> {
            raw_assignments(bytes).map(|v| v.into_iter().filter(|(k, _)| k != var).collect())
        };
        let others_kept = others(&before.bytes) == others(&edited);
        let target_ok = match value {
            Some(value) => {
                is.iter().filter(|(k, _)| k == var).all(|(_, v)| v == value)
                    && is.iter().any(|(k, _)| k == var)
            }
            None => is.iter().all(|(k, _)| k != var),
        };
        if !others_kept || !target_ok {
            write_atomic(&self.path, &before.bytes, None)?;
            return Err(failed(
                &self.path,
                "the edited file did not read back as expected",
            ));
        }
        Ok(hex::encode(Sha256::digest(&edited)))
    }
}

/// Removes temp files a killed Latchkey left in `dir` (named
/// `.NAME.PID-RANDOM.latchkey-tmp`): those of a process that is gone, or
/// older than ten minutes where that cannot be told.
pub fn sweep_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(TEMP_SUFFIX) else {
            continue;
        };
        let pid = stem
            .rsplit('.')
            .next()
            .and_then(|tag| tag.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        let stale = match pid {
            Some(pid) if pid == std::process::id() => false,
            Some(pid) if Path::new("/proc/self").exists() => {
                !Path::new(&format!("/proc/{pid}")).exists()
            }
            _ => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 600),
        };
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The ending of every temp file Latchkey writes beside a target.
pub const TEMP_SUFFIX: &str = ".latchkey-tmp";

/// Writes a private file (0600) in a private folder (0700), durably.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(dir)
            .map_err(|_| failed(dir, "the backup folder could not be made"))?;
    }
    write_atomic(path, bytes, Some(0o600))
}

/// Atomic, durable replace; keeps the target's mode (unless `mode` is
/// given), owner and group.
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
        ".{name}.{}-{}{TEMP_SUFFIX}",
        std::process::id(),
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
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            // Owner and group as they were (a file shared with a group, or
            // written by root for a service user); only where they differ.
            if let Ok(old) = fs::metadata(path) {
                let new = file.metadata()?;
                if (old.uid(), old.gid()) != (new.uid(), new.gid()) {
                    std::os::unix::fs::fchown(&file, Some(old.uid()), Some(old.gid()))?;
                }
            }
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
