//! Core errors: typed, each with a stable `code()` the UI and CLI switch on,
//! and a message that says what to do next. No message ever holds a secret
//! or a platform's localized text.

use serde::Serialize;

/// Everything a core operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("Your keychain is locked. Unlock your login keyring and try again.")]
    KeychainLocked,
    #[error("No system keychain is available ({0}). On Linux, install and start a Secret Service such as gnome-keyring, then try again.")]
    KeychainUnavailable(String),
    #[error("The system keychain does not keep secrets across restarts, so Latchkey will not use it. Configure a persistent keychain (e.g. gnome-keyring) and try again.")]
    KeychainNotPersistent,
    #[error("This key's secret is not in your keychain on this computer. Add it with \"Add existing key\" or create a new key.")]
    SecretMissing,
    #[error(
        "The service rejected our credentials. Check the provider's admin token under Providers."
    )]
    ProviderUnauthorized,
    #[error("The service says these credentials may not do this. Use a token with the needed permission.")]
    ProviderForbidden,
    #[error("{0} was not found.")]
    NotFound(String),
    #[error("The service refused: {0}")]
    ProviderConflict(String),
    #[error("{message}")]
    InvalidInput { field: String, message: String },
    #[error("The service is rate limiting us. Try again in {retry_after_secs} s.")]
    RateLimited { retry_after_secs: u64 },
    #[error("The service is having trouble (HTTP {0}). Try again in a minute.")]
    ProviderUnavailable(u16),
    #[error("The service did not answer in time. Check your connection and try again.")]
    Timeout,
    #[error("Could not reach the service: {0}. Check the URL and your connection.")]
    Network(String),
    #[error("The service answered with something unexpected ({0}). Check the provider's URL.")]
    BadResponse(String),
    #[error("{0}")]
    InsecureUrl(String),
    #[error("This key is already in Latchkey as \"{0}\".")]
    DuplicateKey(String),
    #[error("Latchkey already holds the secret of \"{0}\", the key on the service this paste matches. Choose Replace to put the pasted key in its place (it must work with the service); nothing was changed.")]
    KeyAlreadyHeld(String),
    #[error("The service still accepts this key after revoking it. Try revoking again, or revoke it in the service's dashboard.")]
    RevokeNotConfirmed,
    #[error("The clipboard is not available ({0}).")]
    Clipboard(String),
    #[error(
        "{0} changed since Latchkey read it. Nothing was written; review the file and try again."
    )]
    DotenvChangedOnDisk(String),
    #[error("{0} is a symbolic link. Confirm that Latchkey may write to the file it points to.")]
    DotenvSymlink(String),
    #[error("Could not update {path}: {reason}. The file was left as it was.")]
    DeployFailed { path: String, reason: String },
    #[error("Latchkey's database could not be used: {0}")]
    Database(String),
    #[error("This key already has an unfinished rotation ({0}). Resume it or roll it back first.")]
    RotationInProgress(String),
    #[error("Rotation {0} is running in another Latchkey window or terminal. Wait for it to finish, then try again.")]
    RotationRunningElsewhere(String),
    #[error("Rotation {0} was changed by another Latchkey window or terminal; nothing more was done here. Look at it again before going on.")]
    RotationChanged(String),
    #[error("The new key did not pass verification: {0}. The deploy targets were restored, the new key revoked and the old key kept.")]
    VerifyFailed(String),
    #[error(
        "The rotation could not be rolled back: {0}. Fix that, then choose \"Roll back\" again."
    )]
    RollbackFailed(String),
    #[error("Latchkey cannot do this through the service's API. {0}, then try again: Latchkey checks the result.")]
    ByHand(String),
    #[error("A key is shown only once, right after it is created. Use Copy instead.")]
    RevealNotAllowed,
}

impl Error {
    /// A stable code, never reworded: the UI and CLI switch on it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::KeychainLocked => "keychain_locked",
            Self::KeychainUnavailable(_) => "keychain_unavailable",
            Self::KeychainNotPersistent => "keychain_not_persistent",
            Self::SecretMissing => "secret_missing",
            Self::ProviderUnauthorized => "provider_unauthorized",
            Self::ProviderForbidden => "provider_forbidden",
            Self::NotFound(_) => "not_found",
            Self::ProviderConflict(_) => "provider_conflict",
            Self::InvalidInput { .. } => "invalid_input",
            Self::RateLimited { .. } => "rate_limited",
            Self::ProviderUnavailable(_) => "provider_unavailable",
            Self::Timeout => "timeout",
            Self::Network(_) => "network",
            Self::BadResponse(_) => "bad_response",
            Self::InsecureUrl(_) => "insecure_url",
            Self::DuplicateKey(_) => "duplicate_key",
            Self::KeyAlreadyHeld(_) => "key_already_held",
            Self::RevokeNotConfirmed => "revoke_not_confirmed",
            Self::Clipboard(_) => "clipboard_unavailable",
            Self::DotenvChangedOnDisk(_) => "dotenv_changed_on_disk",
            Self::DotenvSymlink(_) => "dotenv_symlink",
            Self::DeployFailed { .. } => "deploy_failed",
            Self::Database(_) => "database",
            Self::RotationInProgress(_)
            | Self::RotationRunningElsewhere(_)
            | Self::RotationChanged(_) => "rotation_in_progress",
            Self::VerifyFailed(_) => "verify_failed",
            Self::RollbackFailed(_) => "rollback_failed",
            Self::ByHand(_) => "by_hand",
            Self::RevealNotAllowed => "reveal_not_allowed",
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The `{code, message}` that crosses IPC and the CLI's `--json`.
    pub fn to_wire(&self) -> WireError {
        WireError {
            code: self.code().to_owned(),
            message: self.to_string(),
        }
    }
}

impl From<crate::rotation::Refused> for Error {
    fn from(r: crate::rotation::Refused) -> Self {
        Self::Database(r.to_string())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Self::Database(e.to_string())
    }
}

/// An error as the UI and CLI see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct WireError {
    pub code: String,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_is_code_and_message() {
        let json = serde_json::to_value(Error::KeychainLocked.to_wire()).expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "code": "keychain_locked",
                "message": "Your keychain is locked. Unlock your login keyring and try again."
            })
        );
        assert_eq!(
            Error::RateLimited {
                retry_after_secs: 3
            }
            .code(),
            "rate_limited"
        );
    }
}
