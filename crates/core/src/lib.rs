//! Latchkey's whole domain, with no Tauri and no UI: secrets and their
//! fingerprints, the OS keychain, the SQLite catalog and audit log, the
//! provider port and its HTTP engine, the clipboard, and the vault that
//! joins them. The desktop shell and the CLI only delegate to it.
//!
//! Nothing here logs, serializes or returns a secret, except the one
//! audited `Vault::reveal_key`, which needs a one-time grant.
#![forbid(unsafe_code)]

pub mod aws;
pub mod blocking;
pub mod catalog;
pub mod clipboard;
pub mod clock;
pub mod deploy;
pub mod envs;
pub mod error;
pub mod harden;
pub mod http;
pub mod paths;
pub mod providers;
pub mod reveal;
pub mod rotation;
pub mod scan;
pub mod secret;
pub mod services;
pub mod session;
pub mod settings;
pub mod store;
pub mod untrusted;
pub mod vault;

pub use error::{Error, ErrorCode, ErrorDetails, ExitKind, Result, WireError};
pub use secret::{Fingerprint, Secret};
pub use vault::Vault;
