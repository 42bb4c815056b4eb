//! One runner per rotation, across processes: the desktop app and any number
//! of `latchkey` commands share one data directory, and only the process
//! holding a rotation's lock may change it (run, resume, roll back, confirm
//! a checklist item, take a pasted key).
//!
//! The lock is an advisory file lock (`flock` on Unix, `LockFileEx` on
//! Windows) on `locks/rotation-<id>.lock` in the data directory: the OS
//! releases it when the holder exits or is killed, so a crash never leaves
//! a rotation stuck. Nothing secret is ever written to the lock file.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A held rotation lock; released on drop.
#[derive(Debug)]
pub struct RotationLock {
    _file: File,
}

fn lock_path(data_dir: &Path, rotation_id: &str) -> PathBuf {
    // Rotation ids are UUIDs; anything else is kept to a safe file name.
    let safe: String = rotation_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    data_dir.join("locks").join(format!("rotation-{safe}.lock"))
}

fn open(data_dir: &Path, rotation_id: &str) -> Result<File> {
    let path = lock_path(data_dir, rotation_id);
    if let Some(dir) = path.parent() {
        crate::paths::create_private_dir_all(dir)
            .map_err(|e| Error::Database(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(&path)
        .map_err(|e| Error::Database(format!("cannot open {}: {e}", path.display())))
}

impl RotationLock {
    /// Takes the lock, or fails at once with `rotation_in_progress` when
    /// another process (or another vault in this one) holds it.
    pub fn acquire(data_dir: &Path, rotation_id: &str) -> Result<Self> {
        let file = open(data_dir, rotation_id)?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => {
                Err(Error::RotationRunningElsewhere(rotation_id.to_owned()))
            }
            Err(TryLockError::Error(e)) => Err(Error::Database(format!(
                "cannot lock rotation {rotation_id}: {e}"
            ))),
        }
    }

    /// Whether someone else holds the lock right now (looked at without
    /// keeping it).
    pub fn held_elsewhere(data_dir: &Path, rotation_id: &str) -> bool {
        if !lock_path(data_dir, rotation_id).exists() {
            return false;
        }
        match open(data_dir, rotation_id).map(|f| f.try_lock()) {
            Ok(Err(TryLockError::WouldBlock)) => true,
            Ok(_) | Err(_) => false,
        }
    }

    /// Removes a finished rotation's lock file.
    pub fn remove(data_dir: &Path, rotation_id: &str) {
        let _ = fs::remove_file(lock_path(data_dir, rotation_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("dir");
        let first = RotationLock::acquire(dir.path(), "r-1").expect("first");
        let second = RotationLock::acquire(dir.path(), "r-1").expect_err("second");
        assert_eq!(second.code(), "rotation_in_progress");
        assert!(RotationLock::held_elsewhere(dir.path(), "r-1"));
        assert!(RotationLock::acquire(dir.path(), "r-2").is_ok());
        drop(first);
        assert!(!RotationLock::held_elsewhere(dir.path(), "r-1"));
        RotationLock::acquire(dir.path(), "r-1").expect("free again");
    }
}
