//! Fault injection for tests (`--chaos` only): the next N management or
//! verify calls are delayed, answered with 500/503/429, or have their
//! connection dropped without an answer — either before the call is carried
//! out (`Phase::Before`: nothing changes) or after it (`Phase::After`: the
//! change is made and saved, only its answer is lost). Never enabled in a
//! normal run.

use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;

/// When an armed fault strikes, relative to the call it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// The call is not carried out; the fault is its only effect.
    #[default]
    Before,
    /// The call is carried out in full; only its answer is replaced.
    After,
}

impl Phase {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "before" => Some(Self::Before),
            "after" => Some(Self::After),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Before => "before",
            Self::After => "after",
        }
    }
}

/// One armed fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub status: Option<StatusCode>,
    pub delay: Duration,
    pub drop_connection: bool,
    pub phase: Phase,
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
