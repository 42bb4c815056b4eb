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
        "The service rejected our credentials. Check the provider's admin token under Providers (\"Change token\")."
    )]
    ProviderUnauthorized,
    /// A connection's management credential is not in this computer's
    /// keychain (a catalog moved here, a keychain reset). Code
    /// `secret_missing`.
    #[error("This connection's credential is not in your keychain on this computer. Enter it again with \"Change token\" under Providers (or `latchkey providers set-token`).")]
    ProviderCredentialMissing,
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
    /// A rotation step the rotation's state does not allow (a bug or a
    /// journal from elsewhere), not a database failure.
    #[error("This rotation cannot do that now: {0}. Look at it again before going on.")]
    Refused(String),
    /// The service's API cannot do this (a connector without the capability).
    #[error("This service cannot do that through its API: {0}.")]
    NotSupported(String),
    /// The old key was used after the new one was deployed: something
    /// still reads it, and revoking it now would break that. Held until the
    /// person says "Revoke anyway" (`--force-revoke`).
    #[error("Something still uses the old key (last used {0}, after the new key was deployed). Find what still reads it and update it, or revoke anyway.")]
    StillInUse(String),
    /// Roll in place: the new key failed its check, and there is no old key
    /// to go back to.
    #[error("The new key did not pass verification: {0}. The service already replaced the old key, so nothing was rolled back: fix what the check names, then resume to deploy and check again.")]
    RolledNotVerified(String),
    /// A call that must not be sent twice got no clear answer (a timeout, a
    /// dropped connection, a 5xx): it may or may not have been carried out.
    /// Code `outcome_unknown`; the text says what to check before trying
    /// again.
    #[error("The outcome is unknown: {0}")]
    OutcomeUnknown(String),
}

impl Error {
    /// A stable code, never reworded: the UI and CLI switch on it.
    pub fn code(&self) -> ErrorCode {
        let code = match self {
            Self::KeychainLocked => ErrorCode::KeychainLocked,
            Self::KeychainUnavailable(_) => ErrorCode::KeychainUnavailable,
            Self::KeychainNotPersistent => ErrorCode::KeychainNotPersistent,
            Self::SecretMissing | Self::ProviderCredentialMissing => ErrorCode::SecretMissing,
            Self::ProviderUnauthorized => ErrorCode::ProviderUnauthorized,
            Self::ProviderForbidden => ErrorCode::ProviderForbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::ProviderConflict(_) => ErrorCode::ProviderConflict,
            Self::InvalidInput { .. } => ErrorCode::InvalidInput,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::ProviderUnavailable(_) => ErrorCode::ProviderUnavailable,
            Self::Timeout => ErrorCode::Timeout,
            Self::Network(_) => ErrorCode::Network,
            Self::BadResponse(_) => ErrorCode::BadResponse,
            Self::InsecureUrl(_) => ErrorCode::InsecureUrl,
            Self::DuplicateKey(_) => ErrorCode::DuplicateKey,
            Self::KeyAlreadyHeld(_) => ErrorCode::KeyAlreadyHeld,
            Self::RevokeNotConfirmed => ErrorCode::RevokeNotConfirmed,
            Self::Clipboard(_) => ErrorCode::ClipboardUnavailable,
            Self::DotenvChangedOnDisk(_) => ErrorCode::DotenvChangedOnDisk,
            Self::DotenvSymlink(_) => ErrorCode::DotenvSymlink,
            Self::DeployFailed { .. } => ErrorCode::DeployFailed,
            Self::Database(_) => ErrorCode::Database,
            Self::RotationInProgress(_)
            | Self::RotationRunningElsewhere(_)
            | Self::RotationChanged(_) => ErrorCode::RotationInProgress,
            Self::VerifyFailed(_) => ErrorCode::VerifyFailed,
            Self::RollbackFailed(_) => ErrorCode::RollbackFailed,
            Self::ByHand(_) => ErrorCode::ByHand,
            Self::RevealNotAllowed => ErrorCode::RevealNotAllowed,
            Self::Refused(_) => ErrorCode::TransitionRefused,
            Self::NotSupported(_) => ErrorCode::NotSupported,
            Self::StillInUse(_) => ErrorCode::StillInUse,
            Self::RolledNotVerified(_) => ErrorCode::VerifyFailed,
            Self::OutcomeUnknown(_) => ErrorCode::OutcomeUnknown,
        };
        seen::record(code);
        code
    }

    /// The field or path an error is about, for the UI to point at.
    pub fn details(&self) -> Option<ErrorDetails> {
        match self {
            Self::InvalidInput { field, .. } => Some(ErrorDetails {
                field: Some(field.clone()),
                path: None,
            }),
            Self::DotenvChangedOnDisk(path) | Self::DotenvSymlink(path) => Some(ErrorDetails {
                field: None,
                path: Some(path.clone()),
            }),
            Self::DeployFailed { path, .. } => Some(ErrorDetails {
                field: None,
                path: Some(path.clone()),
            }),
            _ => None,
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
            code: self.code(),
            message: self.to_string(),
            details: self.details(),
        }
    }
}

impl From<crate::rotation::Refused> for Error {
    fn from(r: crate::rotation::Refused) -> Self {
        Self::Refused(r.to_string())
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
    pub code: ErrorCode,
    pub message: String,
    /// What the error is about (a form field, a file), when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub details: Option<ErrorDetails>,
}

/// The field or file an error points at, so the UI needs no message parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ErrorDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub path: Option<String>,
}

/// How the CLI exits for a kind of error (see `latchkey --help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// 1: the operation failed (the service refused, a file changed, …).
    Failed,
    /// 2: bad usage or input.
    Usage,
    /// 3: the keychain is locked, missing or not persistent.
    Keychain,
    /// 4: a provider could not be reached or answered badly.
    Provider,
    /// 5: the key already has an unfinished rotation.
    RotationInProgress,
}

macro_rules! error_codes {
    ($($variant:ident = $code:literal => $exit:ident,)*) => {
        /// Every stable error code, exported to TypeScript as a union of
        /// strings. Adding a code is one line here; the CLI's exit code
        /// comes from the same line.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, ts_rs::TS)]
        #[ts(export)]
        pub enum ErrorCode {
            $(#[serde(rename = $code)] $variant,)*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            pub fn exit_kind(self) -> ExitKind {
                match self {
                    $(ErrorCode::$variant => ExitKind::$exit,)*
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($code => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    KeychainLocked = "keychain_locked" => Keychain,
    KeychainUnavailable = "keychain_unavailable" => Keychain,
    KeychainNotPersistent = "keychain_not_persistent" => Keychain,
    SecretMissing = "secret_missing" => Failed,
    ProviderUnauthorized = "provider_unauthorized" => Provider,
    ProviderForbidden = "provider_forbidden" => Provider,
    NotFound = "not_found" => Usage,
    ProviderConflict = "provider_conflict" => Failed,
    InvalidInput = "invalid_input" => Usage,
    RateLimited = "rate_limited" => Provider,
    ProviderUnavailable = "provider_unavailable" => Provider,
    Timeout = "timeout" => Provider,
    Network = "network" => Provider,
    BadResponse = "bad_response" => Provider,
    InsecureUrl = "insecure_url" => Provider,
    DuplicateKey = "duplicate_key" => Usage,
    KeyAlreadyHeld = "key_already_held" => Usage,
    RevokeNotConfirmed = "revoke_not_confirmed" => Failed,
    ClipboardUnavailable = "clipboard_unavailable" => Failed,
    DotenvChangedOnDisk = "dotenv_changed_on_disk" => Failed,
    DotenvSymlink = "dotenv_symlink" => Failed,
    DeployFailed = "deploy_failed" => Failed,
    Database = "database" => Failed,
    RotationInProgress = "rotation_in_progress" => RotationInProgress,
    VerifyFailed = "verify_failed" => Failed,
    RollbackFailed = "rollback_failed" => Failed,
    ByHand = "by_hand" => Failed,
    RevealNotAllowed = "reveal_not_allowed" => Failed,
    TransitionRefused = "transition_refused" => Failed,
    NotSupported = "not_supported" => Failed,
    StillInUse = "still_in_use" => Failed,
    OutcomeUnknown = "outcome_unknown" => Failed,
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// Test runs only (debug builds with `LATCHKEY_ERROR_CODES_SEEN` set): every
/// code an error was asked for is appended to that file, so the suite can
/// fail when some code is never produced by any test.
mod seen {
    use super::ErrorCode;

    pub fn record(code: ErrorCode) {
        // Not in release builds, and not from the core's own unit tests
        // (they build errors by hand): only what an integration test, the
        // CLI or the app actually ran into counts.
        if !cfg!(debug_assertions) || cfg!(test) {
            return;
        }
        let Some(path) = std::env::var_os("LATCHKEY_ERROR_CODES_SEEN") else {
            return;
        };
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            // One write per line: `writeln!` on a `File` writes the code and
            // the newline separately, and two processes appending at once
            // then interleave into lines like "networkrate_limited".
            let line = format!("{}\n", code.as_str());
            let _ = f.write_all(line.as_bytes());
        }
    }
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

    #[test]
    fn a_refused_transition_is_its_own_code() {
        use crate::rotation::{next, Event, State, Strategy};
        let refused =
            next(Strategy::Overlap, State::Done, Event::RollbackRequested).expect_err("refused");
        let e = Error::from(refused);
        assert_eq!(e.code(), ErrorCode::TransitionRefused);
        assert_eq!(e.code().exit_kind(), ExitKind::Failed);
        assert!(e.to_string().contains("Done"), "{e}");
    }

    #[test]
    fn every_code_parses_back_and_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            assert!(seen.insert(code.as_str()), "{code} twice");
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }
}
