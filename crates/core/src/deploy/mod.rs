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
use crate::error::{Error, Result};
use crate::http::HttpPolicy;
use crate::secret::{Fingerprint, Secret};

pub mod aws_credentials;
pub mod aws_store;
mod checklist;
pub mod dotenv;
pub mod dotenv_file;
pub mod file;
pub mod github;
pub mod gitignore;
pub mod gitlab;
pub mod json;
mod key_path;
pub mod netlify;
pub mod remote_value;
mod spec;
pub(crate) use spec::is_var_name;
pub mod toml_file;
pub mod vercel;
pub mod yaml;

pub use aws_store::{AwsStore, AwsStoreVariable};
pub use checklist::ChecklistTarget;
pub use dotenv::DotenvEditor;
pub use file::{EditError, EditableFile, Editor, FileTarget};
pub use github::GithubTarget;
pub use gitlab::GitlabVariable;
pub use netlify::NetlifyVariable;
pub use remote_value::{VariableStore, VariableTarget};
pub use vercel::VercelVariable;

/// A connection a remote target writes through: its API address, token
/// and the HTTP policy. Never printed (the token).
#[derive(Clone)]
pub struct Remote {
    pub base_url: String,
    pub token: Secret,
    pub policy: HttpPolicy,
    /// The connection's own settings (an AWS connection's region and user).
    pub project: String,
}

/// The same error again, for a remote target that keeps why its connection
/// could not be found and reports it at every call (errors are not `Clone`).
pub(crate) fn again(e: &Error) -> Error {
    match e {
        Error::SecretMissing => Error::SecretMissing,
        Error::NotFound(what) => Error::NotFound(what.clone()),
        Error::InvalidInput { field, message } => Error::InvalidInput {
            field: field.clone(),
            message: message.clone(),
        },
        other => Error::invalid("target", other.to_string()),
    }
}

/// Finds the connection a remote target names (`github:PROVIDER:…`): the
/// vault gives its connections; [`NoConnections`] none (describing).
pub trait Connections {
    /// The connection named `provider`, which must be of `kind`.
    fn remote(&self, kind: &str, provider: &str) -> Result<Remote>;
}

/// No connections: a remote target opened with it fails when used.
pub struct NoConnections;

impl Connections for NoConnections {
    fn remote(&self, _: &str, provider: &str) -> Result<Remote> {
        Err(Error::NotFound(format!(
            "The connection \"{}\"",
            crate::untrusted::clean(provider, 64, &[])
        )))
    }
}

/// What `TargetSpec::open` needs besides the spec: a checklist's confirmed
/// items, the deployed digest the journal keeps (a remote target's note of
/// what it wrote) and where the connections are.
#[derive(Clone, Copy)]
pub struct OpenWith<'a> {
    pub confirmed: &'a [bool],
    pub deployed: Option<&'a str>,
    pub connections: &'a dyn Connections,
}

impl OpenWith<'static> {
    /// Nothing confirmed, nothing deployed, no connections.
    pub fn nothing() -> Self {
        OpenWith {
            confirmed: &[],
            deployed: None,
            connections: &NoConnections,
        }
    }
}
pub use aws_credentials::AwsCredentialsEditor;
pub use json::JsonEditor;
pub use toml_file::TomlEditor;
pub use yaml::YamlEditor;

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
/// a resume after a crash can call any of them again. Async so a remote
/// target (an API) can do HTTP; a file target's bodies stay synchronous.
#[async_trait::async_trait]
pub trait DeployTarget: Send + Sync {
    /// Plain words for the target: `API_KEY in /app/.env`.
    fn describe(&self) -> String;

    /// The file this target edits (its real path), if it is a file: the
    /// targets of one deploy in the same file are written one after the
    /// other, each over what the write before it left.
    fn file(&self) -> Option<PathBuf> {
        None
    }

    /// A person puts the key in place and confirms each item; Latchkey
    /// neither writes nor reads it (the checklist).
    fn by_hand(&self) -> bool {
        false
    }

    /// Checks the target at plan time and notes what the deploy needs (a
    /// file's digest, a `.gitignore` warning). Nothing is written.
    async fn prepare(&self) -> Result<TargetState>;

    /// Puts `secret` in place if the target is still as `prepare` saw it
    /// (`expected_digest`), keeping what it held in `backup`. A target that
    /// already holds `secret` (a crash after the write) is left as it is.
    async fn write(
        &self,
        secret: &Secret,
        backup: &Backup<'_>,
        expected_digest: Option<&str>,
    ) -> Result<Written>;

    /// Whether the target holds the key with this fingerprint now.
    /// `Err`: the target cannot be reached at all.
    async fn holds(&self, fingerprint: &Fingerprint) -> Result<bool>;

    /// Rollback: puts back what `backup` says the target held (`old_key`
    /// when there is no backup), only while the target is what the deploy
    /// wrote (`deployed_digest`; without it, what writing `new` over the
    /// backup gives). Returns plain words for the wizard.
    async fn restore(
        &self,
        backup: &Backup<'_>,
        deployed_digest: Option<&str>,
        new: Option<&Secret>,
        old_key: &(dyn Fn() -> Result<Secret> + Sync),
    ) -> Result<String>;

    /// Removes temp files a killed run left beside the target.
    fn sweep(&self) {}
}
