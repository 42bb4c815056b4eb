//! The rotation wizard's engine: a pure state machine
//! `Planned → Created → Stored → Deployed → Verified → OldRevoked → Done`,
//! plus `RollingBack → RolledBack` and `Failed`.
//!
//! `next(state, event)` only decides; side effects (HTTP, keychain, files)
//! happen outside it, each preceded by a journal write. It must never allow
//! a path that loses a key: the old key is revoked only after the new key is
//! stored and verified, and once the old key is revoked there is no rollback.
//!
//! `driver` runs the side effects against the vault, journaling each one in
//! the catalog before it happens and its result after.

pub mod driver;
pub mod lock;

use serde::{Deserialize, Serialize};

/// Where a rotation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "RotationState")]
pub enum State {
    Planned,
    /// The service made the new key; it is not yet in the keychain.
    Created,
    /// The new key is in the keychain (as pending).
    Stored,
    /// Every deploy target holds the new key.
    Deployed,
    /// The new key works and every target fingerprint-matches it.
    Verified,
    /// The old key is revoked and confirmed rejected.
    OldRevoked,
    Done,
    /// Undoing: targets restored from backups, new key being revoked.
    RollingBack,
    RolledBack,
    /// Needs a person: a rollback step itself failed. "Roll back" again
    /// retries once the cause is fixed.
    Failed,
}

impl State {
    /// Finished for good: nothing more can happen to this rotation.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Done | Self::RolledBack)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Created => "created",
            Self::Stored => "stored",
            Self::Deployed => "deployed",
            Self::Verified => "verified",
            Self::OldRevoked => "old_revoked",
            Self::Done => "done",
            Self::RollingBack => "rolling_back",
            Self::RolledBack => "rolled_back",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL.into_iter().find(|st| st.as_str() == s)
    }
}

const ALL: [State; 10] = [
    State::Planned,
    State::Created,
    State::Stored,
    State::Deployed,
    State::Verified,
    State::OldRevoked,
    State::Done,
    State::RollingBack,
    State::RolledBack,
    State::Failed,
];

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    NewKeyCreated,
    NewKeyStored,
    TargetsDeployed,
    VerifyPassed,
    VerifyFailed,
    OldKeyRevoked,
    Finished,
    RollbackRequested,
    RollbackCompleted,
    RollbackFailed,
}

/// A transition the machine refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a rotation in state {from:?} cannot take {event:?}")]
pub struct Refused {
    pub from: State,
    pub event: Event,
}

/// The one transition function.
pub fn next(from: State, event: Event) -> Result<State, Refused> {
    use Event as E;
    use State as S;
    let to = match (from, event) {
        (S::Planned, E::NewKeyCreated) => S::Created,
        // Nothing exists yet: nothing to undo.
        (S::Planned, E::RollbackRequested) => S::RolledBack,
        (S::Created, E::NewKeyStored) => S::Stored,
        (S::Stored, E::TargetsDeployed) => S::Deployed,
        (S::Deployed, E::VerifyPassed) => S::Verified,
        (S::Deployed, E::VerifyFailed) => S::RollingBack,
        (S::Verified, E::OldKeyRevoked) => S::OldRevoked,
        // Checked again right before revoking the old key, and it failed.
        (S::Verified, E::VerifyFailed) => S::RollingBack,
        (S::OldRevoked, E::Finished) => S::Done,
        (S::Created | S::Stored | S::Deployed | S::Verified, E::RollbackRequested) => {
            S::RollingBack
        }
        (S::RollingBack, E::RollbackCompleted) => S::RolledBack,
        (S::RollingBack, E::RollbackFailed) => S::Failed,
        (S::Failed, E::RollbackRequested) => S::RollingBack,
        _ => return Err(Refused { from, event }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use Event as E;
    use State as S;

    const ALL_STATES: [State; 10] = [
        S::Planned,
        S::Created,
        S::Stored,
        S::Deployed,
        S::Verified,
        S::OldRevoked,
        S::Done,
        S::RollingBack,
        S::RolledBack,
        S::Failed,
    ];
    const ALL_EVENTS: [Event; 10] = [
        E::NewKeyCreated,
        E::NewKeyStored,
        E::TargetsDeployed,
        E::VerifyPassed,
        E::VerifyFailed,
        E::OldKeyRevoked,
        E::Finished,
        E::RollbackRequested,
        E::RollbackCompleted,
        E::RollbackFailed,
    ];

    /// Every accepted transition; anything not here must be refused.
    const TABLE: &[(State, Event, State)] = &[
        (S::Planned, E::NewKeyCreated, S::Created),
        (S::Planned, E::RollbackRequested, S::RolledBack),
        (S::Created, E::NewKeyStored, S::Stored),
        (S::Created, E::RollbackRequested, S::RollingBack),
        (S::Stored, E::TargetsDeployed, S::Deployed),
        (S::Stored, E::RollbackRequested, S::RollingBack),
        (S::Deployed, E::VerifyPassed, S::Verified),
        (S::Deployed, E::VerifyFailed, S::RollingBack),
        (S::Deployed, E::RollbackRequested, S::RollingBack),
        (S::Verified, E::OldKeyRevoked, S::OldRevoked),
        (S::Verified, E::VerifyFailed, S::RollingBack),
        (S::Verified, E::RollbackRequested, S::RollingBack),
        (S::OldRevoked, E::Finished, S::Done),
        (S::RollingBack, E::RollbackCompleted, S::RolledBack),
        (S::RollingBack, E::RollbackFailed, S::Failed),
        (S::Failed, E::RollbackRequested, S::RollingBack),
    ];

    #[test]
    fn states_round_trip_through_their_names() {
        for s in ALL_STATES {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert_eq!(State::parse("nonsense"), None);
    }

    #[test]
    fn the_table_is_the_whole_machine() {
        for from in ALL_STATES {
            for event in ALL_EVENTS {
                let expected = TABLE
                    .iter()
                    .find(|(f, e, _)| *f == from && *e == event)
                    .map(|(_, _, to)| *to);
                assert_eq!(next(from, event).ok(), expected, "{from:?} + {event:?}");
            }
        }
    }

    #[test]
    fn terminal_states_accept_nothing() {
        let terminal: Vec<State> = ALL_STATES.into_iter().filter(|s| s.is_terminal()).collect();
        // Done and rolled back only: a failed rotation still needs a person.
        assert_eq!(terminal, [S::Done, S::RolledBack]);
        for from in terminal {
            assert!(
                ALL_EVENTS.iter().all(|&e| next(from, e).is_err()),
                "{from:?}"
            );
        }
    }

    /// Who holds a working key, from the side effects that happened: each
    /// event `next` accepts is one the driver reports after doing it (the
    /// service made the key, the keychain holds it, the old key is revoked,
    /// ...). Nothing is inferred from the state `next` moves to, so a
    /// transition that reaches a plausible state on the wrong event is seen
    /// for what it did.
    #[derive(Debug, Default, Clone, Copy)]
    struct Custody {
        new_created: bool,
        new_in_keychain: bool,
        new_verified: bool,
        deployed: bool,
        old_revoked: bool,
        new_revoked: bool,
    }

    impl Custody {
        fn happened(&mut self, event: Event) {
            match event {
                E::NewKeyCreated => self.new_created = true,
                E::NewKeyStored => self.new_in_keychain = true,
                E::TargetsDeployed => self.deployed = true,
                E::VerifyPassed => self.new_verified = true,
                E::VerifyFailed => self.new_verified = false,
                E::OldKeyRevoked => self.old_revoked = true,
                // A finished rollback revoked the new key it found (if the
                // service made one) and put the targets back.
                E::RollbackCompleted => {
                    self.new_revoked = self.new_created;
                    self.deployed = false;
                }
                E::Finished | E::RollbackRequested | E::RollbackFailed => {}
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        /// No sequence of events, in any order, loses a key: a working key
        /// is always held, the old key goes only after the new one is stored
        /// and verified, and a new key the service made is never left behind.
        /// Judged on the transitions `next` itself accepts (the ones the
        /// driver takes), by what their events did.
        #[test]
        fn no_sequence_loses_a_key(events in proptest::collection::vec(0..ALL_EVENTS.len(), 0..40)) {
            let mut state = S::Planned;
            let mut custody = Custody::default();
            let mut deployed_before_stored = false;
            for i in events {
                let event = ALL_EVENTS[i];
                let Ok(to) = next(state, event) else { continue };
                if event == E::TargetsDeployed && !custody.new_in_keychain {
                    deployed_before_stored = true;
                }
                custody.happened(event);
                state = to;
                let old_works = !custody.old_revoked;
                let new_works = custody.new_in_keychain && custody.new_verified && !custody.new_revoked;
                prop_assert!(old_works || new_works, "no working key in {state:?} after {event:?}: {custody:?}");
                prop_assert!(!custody.old_revoked || (custody.new_in_keychain && custody.new_verified), "old key revoked early, in {state:?} after {event:?}: {custody:?}");
                prop_assert!(!(custody.old_revoked && custody.new_revoked));
                if state == S::Done {
                    prop_assert!(custody.old_revoked && new_works, "done without the swap: {custody:?}");
                }
            }
            prop_assert!(!deployed_before_stored);
            if state == S::RolledBack {
                prop_assert!(!custody.old_revoked);
                prop_assert!(!custody.new_created || custody.new_revoked, "orphaned new key");
                prop_assert!(!custody.deployed, "targets left holding a revoked key");
            }
        }
    }
}
