//! The per-service connector suites, one module per service, in one test
//! binary (one build and link instead of twelve). Each suite holds its
//! connector to its service's quirks against the test kit's fake of that
//! service (AWS: moto) on loopback, with the real keychain and SQLite; the
//! cross-service checks are in `connector_contract.rs`. Run one service's
//! suite with its module as the filter, e.g.
//! `cargo test -p latchkey-core --features failpoints --test services dakora::`.

#[path = "../common/mod.rs"]
mod common;

mod aws_iam;
mod cloudflare;
mod dakora;
mod github_secrets;
mod gitlab;
mod netlify;
mod open_animate;
mod openai;
mod openrouter;
mod sendgrid;
mod twilio;
mod vercel;
