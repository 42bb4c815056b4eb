//! The rotation wizard's engine, by concern:
//!
//! - `machine`: the pure state machine, `next(strategy, state, event)`.
//!   Overlap runs `Planned → Created → Stored → Deployed → Verified →
//!   OldRevoked → Done`, plus `RollingBack → RolledBack` and `Failed`.
//! - `strategy`: overlap, deactivate-first, roll-in-place, each one
//!   transition table (the whole of its machine) with its property test.
//! - `driver`: the side effects (HTTP, keychain, files) against the vault,
//!   each journaled in the catalog before it happens and its result after.
//! - `lock`: one rotation per key at a time.
//!
//! The machine must never allow a path that loses a key: the old key is
//! killed (revoked, deleted, switched off) only after the new key is stored
//! and verified, a rolled key is stored before anything else, and once the
//! old key is gone there is no rollback.

pub mod driver;
pub mod lock;
pub mod machine;
pub mod strategy;

pub use machine::{next, Event, Refused, State};
pub use strategy::{Strategy, StrategyChoice};
