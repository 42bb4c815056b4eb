//! The one way Latchkey writes a file: an atomic, durable replace (temp
//! file beside the target with its mode, owner and group, fsync, rename,
//! fsync of the folder), private backups (0600 in a 0700 folder), and the
//! sweep of temp files a killed run left. Never reads or logs a value.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use super::failed;
use crate::error::Result;

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
        crate::paths::create_private_dir_all(dir)
            .map_err(|_| failed(dir, "the backup folder could not be made"))?;
    }
    write_atomic(path, bytes, Some(0o600))
}

/// Atomic, durable creation of a file that must not exist yet: the bytes
/// go to a temp file (`mode`) that is then hard-linked to `path`, which
/// fails rather than replace a file made meanwhile.
pub(super) fn create_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = temp_name(dir, path);
    let result = (|| -> std::io::Result<()> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        let mut file = options.open(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::hard_link(&tmp, path)?;
        #[cfg(unix)]
        fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    let _ = fs::remove_file(&tmp);
    result.map_err(|_| {
        failed(
            path,
            "it could not be made (or another program made it meanwhile)",
        )
    })
}

fn temp_name(dir: &Path, path: &Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(
        ".{name}.{}-{}{TEMP_SUFFIX}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ))
}

/// Atomic, durable replace; keeps the target's mode (unless `mode` is
/// given), owner and group.
pub(super) fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = temp_name(dir, path);
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
