//! The rotation's steps, one file each, in the order they run.

mod create;
mod deploy;
mod revoke;
mod rollback;
mod strategies;
mod verify;

pub use strategies::RunOptions;
