//! Deploy targets: where a rotated key is put. So far the `.env` editor
//! (`dotenv`, pure) and the `.env` file target (`dotenv_file`: atomic
//! replace, backup, change detection); the .gitignore check, CI secret
//! stores and the manual target come with the rotation wizard.

pub mod dotenv;
pub mod dotenv_file;
