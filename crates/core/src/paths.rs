//! Where Latchkey keeps its data: the platform's convention, or
//! `LATCHKEY_DATA_DIR` when set (the app, the CLI and tests alike), and
//! keeping it private: on Unix the data directory is 0700 and the catalog
//! files 0600. A directory or file that is too open is tightened when we
//! own it, and refused with a `database` error when we do not (another
//! user could swap or read it). It never loosens a permission.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "LATCHKEY_DATA_DIR";

/// The data directory: `$LATCHKEY_DATA_DIR`, else the platform's app data
/// directory (`$XDG_DATA_HOME/latchkey` or `~/.local/share/latchkey` on Linux,
/// `~/Library/Application Support/Latchkey` on macOS, `%APPDATA%\Latchkey`
/// on Windows).
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    platform_dir()
}

#[cfg(target_os = "macos")]
fn platform_dir() -> PathBuf {
    home().join("Library/Application Support/Latchkey")
}

#[cfg(target_os = "windows")]
fn platform_dir() -> PathBuf {
    std::env::var_os("APPDATA")
        .map(PathBuf::from)
        .unwrap_or_else(home)
        .join("Latchkey")
}

#[cfg(not(any(target_os = "macos", target_os = "windows")))]
fn platform_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".local/share"))
        .join("latchkey")
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// A target path as the user wrote it, with a leading `~` (alone or before
/// a `/`) read as the home folder; every other path is kept as it is.
pub fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix('~') {
        Some("") => home(),
        Some(rest) if rest.starts_with('/') || rest.starts_with(std::path::MAIN_SEPARATOR) => {
            home().join(&rest[1..])
        }
        _ => PathBuf::from(path),
    }
}

/// The Demo provider's state file, in the data directory.
pub const DEMO_DATA_FILE: &str = "demo-keyservice.json";

/// Creates `dir` and its missing parents, each new one private to its
/// owner from the start (0700 on Unix, whatever the umask).
pub fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes `dir` (which must exist) private to its owner: 0700 on Unix.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    private::tighten(dir, 0o700)
}

/// Creates `path` empty with mode 0600 if it does not exist (so it is
/// private from its first byte, whatever the umask), else tightens it.
pub fn ensure_private_file(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
        match created {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(Error::Database(format!(
                    "cannot create {}: {}",
                    path.display(),
                    e.kind()
                )))
            }
        }
    }
    private::tighten(path, 0o600)
}

/// Tightens `path` to 0600 if it exists (SQLite's `-wal` and `-shm`).
pub fn tighten_if_present(path: &Path) -> Result<()> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    private::tighten(path, 0o600)
}

#[cfg(unix)]
mod private {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::Path;

    use crate::error::{Error, Result};

    /// Clears every permission bit outside `allowed` (owner bits only).
    pub fn tighten(path: &Path, allowed: u32) -> Result<()> {
        let fail = |what: &str| Error::Database(format!("{} {what}", path.display()));
        let meta =
            std::fs::metadata(path).map_err(|e| fail(&format!("cannot be read: {}", e.kind())))?;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & !allowed == 0 {
            return Ok(());
        }
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return Err(fail(&format!(
                "is open to other users (mode {mode:o}) and belongs to another user; make it private to you (chmod {allowed:o}) and try again"
            )));
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & allowed)).map_err(
            |e| {
                fail(&format!(
                    "is open to other users (mode {mode:o}) and could not be made private: {}",
                    e.kind()
                ))
            },
        )
    }
}

#[cfg(not(unix))]
mod private {
    use std::path::Path;

    /// Windows and others: the per-user profile directory's ACLs apply.
    pub fn tighten(_path: &Path, _allowed: u32) -> crate::error::Result<()> {
        Ok(())
    }
}
