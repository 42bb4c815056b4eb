//! CLI suites that need neither the clipboard nor a locked keychain nor a
//! kill, one module each in one test binary (one build and link instead of
//! seven): shell completions, `NO_COLOR`, packaging, the GitHub and CI
//! deploy targets, the services added from the catalogue, and an
//! untrusted key service. Run one with its module as the filter, e.g.
//! `cargo test -p latchkey-cli --test commands no_color::`.

#[path = "../common/mod.rs"]
mod common;

mod ci_targets;
mod completions;
mod github_target;
mod more_services;
mod no_color;
mod packaging;
mod untrusted_service;
