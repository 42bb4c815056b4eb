//! Deploy targets: where a rotated key is put. [`DeployTarget`] is the port
//! the rotation driver calls; [`TargetSpec`](crate::catalog::TargetSpec)
//! (parsed and printed in `spec`) names a target in the journal and on the
//! command line, and its `open` is the only `match` on target kinds. Every
//! file target is a [`FileTarget`] over one lossless-edit + atomic-replace +
//! private-backup path (`file`); a format only adds an [`Editor`] (the `.env`
//! one is `dotenv`). The checklist is a target a person works through.
//! Nothing here logs or returns a secret.

use std::path::{Path, PathBuf};

use crate::catalog::TargetState;
use crate::error::Result;
use crate::secret::{Fingerprint, Secret};

mod checklist;
pub mod dotenv;
pub mod dotenv_file;
pub mod file;
pub mod gitignore;
pub mod json;
mod spec;
pub mod toml_file;

pub use checklist::ChecklistTarget;
pub use dotenv::DotenvEditor;
pub use file::{EditError, EditableFile, Editor, FileTarget};
pub use json::JsonEditor;
pub use toml_file::TomlEditor;

/// Where a target keeps what it overwrote: its rotation's private folder
/// (the data directory's `backups/<rotation>/`, never beside the target)
/// and its place in the rotation's list.
#[derive(Debug, Clone, Copy)]
pub struct Backup<'a> {
    pub dir: &'a Path,
    pub index: usize,
}

impl Backup<'_> {
    /// The backup of the file at `path`: `<dir>/<index>-<file name>.backup`.
    pub fn path_for(&self, path: &Path) -> PathBuf {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.dir.join(format!("{}-{name}.backup", self.index))
    }
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// The target holds the new key. `digest`: a file's SHA-256 as written,
    /// for rollback; `message`: plain words for the wizard.
    Done {
        digest: Option<String>,
        message: String,
    },
    /// A person puts the key in place and confirms first (a checklist).
    AwaitingConfirmation { message: String },
}

/// One place a rotated key goes. Each call opens what it needs afresh, so
/// a resume after a crash can call any of them again.
pub trait DeployTarget {
    /// Plain words for the target: `API_KEY in /app/.env`.
    fn describe(&self) -> String;

    /// A person puts the key in place and confirms each item; Latchkey
    /// neither writes nor reads it (the checklist).
    fn by_hand(&self) -> bool {
        false
    }

    /// Checks the target at plan time and notes what the deploy needs (a
    /// file's digest, a `.gitignore` warning). Nothing is written.
    fn prepare(&self) -> Result<TargetState>;

    /// Puts `secret` in place if the target is still as `prepare` saw it
    /// (`expected_digest`), keeping what it held in `backup`. A target that
    /// already holds `secret` (a crash after the write) is left as it is.
    fn write(
        &self,
        secret: &Secret,
        backup: &Backup<'_>,
        expected_digest: Option<&str>,
    ) -> Result<Written>;

    /// Whether the target holds the key with this fingerprint now.
    /// `Err`: the target cannot be reached at all.
    fn holds(&self, fingerprint: &Fingerprint) -> Result<bool>;

    /// Rollback: puts back what `backup` says the target held (`old_key`
    /// when there is no backup), only while the target is what the deploy
    /// wrote (`deployed_digest`; without it, what writing `new` over the
    /// backup gives). Returns plain words for the wizard.
    fn restore(
        &self,
        backup: &Backup<'_>,
        deployed_digest: Option<&str>,
        new: Option<&Secret>,
        old_key: &dyn Fn() -> Result<Secret>,
    ) -> Result<String>;

    /// Removes temp files a killed run left beside the target.
    fn sweep(&self) {}
}
