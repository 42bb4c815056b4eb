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

use std::time::Duration;

use latchkey_core::http::HttpPolicy;
use latchkey_core::providers::KeySpec;

/// The suites' HTTP policy: the default attempts, retried a few ms apart.
fn quick() -> HttpPolicy {
    HttpPolicy {
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..HttpPolicy::default()
    }
}

/// Three attempts 10–20 ms apart, a `Retry-After` honoured up to 2 s (the
/// CI-secret targets' suites, whose fakes answer 429 with one).
fn fast() -> HttpPolicy {
    HttpPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(2),
        ..HttpPolicy::default()
    }
}

/// A key named `name`, with no scopes and no expiry.
fn spec(name: &str) -> KeySpec {
    KeySpec {
        name: name.into(),
        scopes: vec![],
        expires_in_days: None,
    }
}
