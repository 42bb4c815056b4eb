//! The reference key service: the remote service Latchkey manages keys on
//! when no third-party account is connected (the built-in Demo provider) and
//! the server every end-to-end, fault and benchmark test talks to.
//!
//! It implements `shared/keyservice-api.md`: project-scoped keys of the form
//! `lk_{8}_{24}`, stored as prefix + SHA-256 only, an active-key limit,
//! idempotent creates, per-key rate limits, throttled failed authentications, optional persistence and fault
//! injection. It never stores, logs or re-shows a full key after creation.
#![forbid(unsafe_code)]

mod api;
mod auth_limit;
mod chaos;
pub mod clock;
mod demo;
pub mod error;
pub mod model;
mod persist;
mod server;
pub mod state;

pub use auth_limit::AuthFailureLimit;
pub use chaos::Phase;
pub use clock::{Clock, ManualClock, SystemClock};
pub use demo::{start_demo, DemoService, DEMO_REPLAY_KEY_TTL, JOIN_WAIT};
pub use server::{start, Config, ShutdownHandle, StartError};
pub use state::{RateLimit, ACTIVE_KEY_LIMIT};
