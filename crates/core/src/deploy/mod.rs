//! Deploy targets: where a rotated key is put. The `.env` editor (`dotenv`,
//! pure), the `.env` file target (`dotenv_file`: atomic replace, backup,
//! change detection) and the `.gitignore` check. The manual target (a
//! checklist) lives in the rotation driver; it needs no file.

pub mod dotenv;
pub mod dotenv_file;
pub mod gitignore;
