//! Deploy targets: where a rotated key is put. Only the `.env` editor's
//! pure core exists so far; the file target (atomic replace, backup,
//! change detection, .gitignore check) and the manual target come with the
//! rotation wizard.

pub mod dotenv;
