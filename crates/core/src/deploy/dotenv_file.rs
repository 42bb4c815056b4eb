//! A `.env` file as a deploy target's file: the shared file path
//! ([`EditableFile`]) with the `.env` editor. Kept under this name for the
//! callers and tests that open a `.env` directly.

use super::dotenv::DotenvEditor;
use super::file::EditableFile;

pub use super::file::{sweep_temp_files, write_private, Snapshot, TEMP_SUFFIX};

/// A `.env` file Latchkey may write.
pub type DotenvFile = EditableFile<DotenvEditor>;
