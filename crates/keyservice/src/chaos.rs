//! Fault injection for tests (`--chaos` only): the next N management or
//! verify calls are delayed, answered with 500/503/429, or have their
//! connection dropped without an answer.

use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;

/// One armed fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub status: Option<StatusCode>,
    pub delay: Duration,
    pub drop_connection: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Chaos(Mutex<Option<(u32, Fault)>>);

impl Chaos {
    pub(crate) fn arm(&self, count: u32, fault: Fault) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = (count > 0).then_some((count, fault));
    }

    /// Takes one fault from the armed budget, if any is left.
    pub(crate) fn take(&self) -> Option<Fault> {
        let mut armed = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (left, fault) = (*armed)?;
        *armed = (left > 1).then_some((left - 1, fault));
        Some(fault)
    }
}
