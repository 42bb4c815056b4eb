//! What the audit log reports: who wrote a row, and the result of checking
//! the chain (with its sentence for the UI and the CLI).

use serde::Serialize;

use super::AUDIT_HEAD_FILE;

/// Who wrote an audit row: the desktop app, the CLI, or neither (a library
/// user, a test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Actor {
    App,
    Cli,
    #[default]
    Other,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::Cli => "cli",
            Self::Other => "other",
        }
    }
}

/// What checking the audit log found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "status", rename_all = "snake_case")]
#[ts(export)]
pub enum AuditVerification {
    /// Every row checks out and the log ends where the head says (or later).
    Verified {
        #[ts(type = "number")]
        count: u64,
    },
    /// Rows at the end are gone: the head says the log reached `head_seq`.
    Truncated {
        #[ts(type = "number")]
        head_seq: i64,
        #[ts(type = "number")]
        last_seq: i64,
    },
    /// Row `seq` was changed, re-chained, or follows a changed row.
    Altered {
        #[ts(type = "number")]
        seq: i64,
    },
    /// Row `seq` was deleted from the middle of the log.
    RowMissing {
        #[ts(type = "number")]
        seq: i64,
    },
    /// The head file is gone, so a cut at the end could not be seen.
    HeadMissing,
    /// The head file does not carry this vault's MAC, or disagrees with
    /// the catalog about where keying began.
    HeadInvalid,
    /// The audit key was missing from the keychain; rows before `seq`
    /// (where a new key took over) cannot be verified.
    KeyMissing {
        #[ts(type = "number")]
        seq: i64,
    },
}

impl AuditVerification {
    pub fn is_verified(&self) -> bool {
        matches!(self, Self::Verified { .. })
    }

    /// A sentence for people.
    pub fn message(&self) -> String {
        match self {
            Self::Verified { count } => format!("Audit log verified ({count} entries)."),
            Self::Truncated { head_seq, last_seq } => format!(
                "The audit log was cut short: it should reach entry {head_seq} but ends at {last_seq}."
            ),
            Self::Altered { seq } => {
                format!("The audit log was altered at entry {seq}: it does not carry this vault's signature.")
            }
            Self::RowMissing { seq } => {
                format!("Entry {seq} was deleted from the audit log.")
            }
            Self::HeadMissing => format!(
                "The audit log's head ({AUDIT_HEAD_FILE} in the data directory) is missing, so a cut at the end cannot be ruled out."
            ),
            Self::HeadInvalid => format!(
                "The audit log's head ({AUDIT_HEAD_FILE} in the data directory) was altered."
            ),
            Self::KeyMissing { seq } => format!(
                "The audit key was missing from the keychain; entries before {seq} cannot be verified."
            ),
        }
    }
}

/// The verification with its sentence, as the UI and the CLI's `--json` get it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct AuditCheck {
    pub verified: bool,
    pub message: String,
    pub result: AuditVerification,
}

impl From<AuditVerification> for AuditCheck {
    fn from(result: AuditVerification) -> Self {
        Self {
            verified: result.is_verified(),
            message: result.message(),
            result,
        }
    }
}
