//! Where Latchkey keeps its data: the platform's convention, or
//! `LATCHKEY_DATA_DIR` when set (the app, the CLI and tests alike).

use std::path::PathBuf;

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

/// The Demo provider's state file, in the data directory.
pub const DEMO_DATA_FILE: &str = "demo-keyservice.json";
