//! The pure machine: where a rotation is (`State`), what happened (`Event`)
//! and the one transition function, `next(strategy, from, event)`, which
//! only reads the strategy's transition table (`strategy.rs`). No side
//! effect happens here; the driver journals each one and reports it as an
//! event.

use serde::{Deserialize, Serialize};

use super::strategy::Strategy;

/// Where a rotation is. The serialized names are on disk (journals,
/// catalog rows): never rename one.
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
    /// The old key is revoked (or deleted) and confirmed rejected.
    OldRevoked,
    Done,
    /// Undoing: targets restored from backups, new key being revoked.
    RollingBack,
    RolledBack,
    /// Needs a person: a rollback step itself failed. "Roll back" again
    /// retries once the cause is fixed.
    Failed,
    /// Deactivate-first: the old key is switched off, not deleted. Resuming
    /// deletes it; reactivating it undoes the rotation.
    OldDeactivated,
    /// Roll-in-place: the service replaced the key in one call; the old key
    /// is dead and the new one is only in the answer. Storing it in the
    /// keychain is the one thing allowed next.
    Rolled,
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
            Self::OldDeactivated => "old_deactivated",
            Self::Rolled => "rolled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub const ALL: [State; 12] = [
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
        State::OldDeactivated,
        State::Rolled,
    ];
}

/// What happened: each one a side effect the driver did (or a request a
/// person made), reported after it happened.
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
    /// The service switched the old key off (it can be switched on again).
    OldDeactivated,
    /// The switched-off old key is deleted for good.
    OldDeleted,
    /// The switched-off old key is on again.
    OldReactivated,
    /// The service replaced the key in one call: new key in the answer, old
    /// key dead.
    Rolled,
}

impl Event {
    pub const ALL: [Event; 14] = [
        Event::NewKeyCreated,
        Event::NewKeyStored,
        Event::TargetsDeployed,
        Event::VerifyPassed,
        Event::VerifyFailed,
        Event::OldKeyRevoked,
        Event::Finished,
        Event::RollbackRequested,
        Event::RollbackCompleted,
        Event::RollbackFailed,
        Event::OldDeactivated,
        Event::OldDeleted,
        Event::OldReactivated,
        Event::Rolled,
    ];
}

/// A transition the machine refuses: its own error (`transition_refused`),
/// never a database one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a rotation ({strategy}) in state {from:?} cannot take {event:?}")]
pub struct Refused {
    pub strategy: Strategy,
    pub from: State,
    pub event: Event,
}

/// The one transition function: the strategy's table, nothing else.
pub fn next(strategy: Strategy, from: State, event: Event) -> Result<State, Refused> {
    strategy
        .table()
        .iter()
        .find(|(f, e, _)| *f == from && *e == event)
        .map(|(_, _, to)| *to)
        .ok_or(Refused {
            strategy,
            from,
            event,
        })
}

#[cfg(test)]
mod tests {
    //! One property per strategy: no sequence of events, in any order, loses
    //! a key. Judged on the transitions `next` itself accepts (the ones the
    //! driver takes), by what their events did, never by the state reached.

    use super::{next, Event, State};
    use crate::rotation::strategy::Strategy as RotationStrategy;
    use proptest::prelude::*;

    use Event as E;
    use State as S;

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
        /// Revoked or deleted: gone for good.
        old_dead: bool,
        /// Switched off; can be switched on again.
        old_off: bool,
        new_revoked: bool,
        /// The service rolled the key (roll-in-place).
        rolled: bool,
    }

    impl Custody {
        fn happened(&mut self, event: Event) {
            match event {
                E::NewKeyCreated => self.new_created = true,
                E::Rolled => {
                    self.new_created = true;
                    self.rolled = true;
                    self.old_dead = true;
                }
                E::NewKeyStored => self.new_in_keychain = true,
                E::TargetsDeployed => self.deployed = true,
                E::VerifyPassed => self.new_verified = true,
                E::VerifyFailed => self.new_verified = false,
                E::OldKeyRevoked | E::OldDeleted => self.old_dead = true,
                E::OldDeactivated => self.old_off = true,
                E::OldReactivated => self.old_off = false,
                // A finished rollback revoked the new key it found (if the
                // service made one) and put the targets back.
                E::RollbackCompleted => {
                    self.new_revoked = self.new_created;
                    self.deployed = false;
                }
                E::Finished | E::RollbackRequested | E::RollbackFailed => {}
            }
        }

        fn old_works(&self) -> bool {
            !self.old_dead && !self.old_off
        }

        /// The new key is ours for good: in the keychain, not revoked.
        fn new_held(&self) -> bool {
            self.new_in_keychain && !self.new_revoked
        }

        fn new_works(&self) -> bool {
            self.new_held() && self.new_verified
        }
    }

    fn kills_old(event: Event) -> bool {
        matches!(event, E::OldKeyRevoked | E::OldDeleted | E::OldDeactivated)
    }

    fn goes_back_to_old(event: Event) -> bool {
        matches!(
            event,
            E::RollbackRequested | E::RollbackCompleted | E::RollbackFailed | E::OldReactivated
        )
    }

    /// Runs a random event sequence through `strategy`'s machine and checks
    /// the custody of both keys after every accepted transition. Each draw
    /// is `(follow, n)`: most draws take the n-th event the current state
    /// accepts (so deep states are reached), the others any event at all
    /// (so refusals are exercised too).
    fn no_key_lost(
        strategy: RotationStrategy,
        draws: &[(bool, usize)],
    ) -> Result<(), TestCaseError> {
        let roll = strategy == RotationStrategy::RollInPlace;
        let mut state = S::Planned;
        let mut custody = Custody::default();
        let mut previous: Option<Event> = None;
        for &(follow, n) in draws {
            let accepted: Vec<Event> = Event::ALL
                .into_iter()
                .filter(|&e| next(strategy, state, e).is_ok())
                .collect();
            let event = if follow && !accepted.is_empty() {
                accepted[n % accepted.len()]
            } else {
                Event::ALL[n % Event::ALL.len()]
            };
            let Ok(to) = next(strategy, state, event) else {
                continue;
            };
            let before = custody;
            prop_assert!(
                event != E::TargetsDeployed || before.new_in_keychain,
                "deployed before stored, from {state:?}"
            );
            if roll {
                // The new key goes to the keychain before anything else.
                if previous == Some(E::Rolled) {
                    prop_assert_eq!(event, E::NewKeyStored, "after the roll, from {:?}", state);
                }
                // No way back to the old key once it is dead.
                prop_assert!(
                    !(before.rolled && goes_back_to_old(event)),
                    "back to the old key after the roll: {event:?} from {state:?}"
                );
                prop_assert!(
                    !(before.rolled && event == E::Rolled),
                    "rolled twice, from {state:?}"
                );
            } else if kills_old(event) {
                // The old key goes only once the new one is stored and works.
                prop_assert!(
                    before.new_works(),
                    "old key killed early by {event:?} from {state:?}: {before:?}"
                );
            }
            custody.happened(event);
            state = to;
            let held = if roll {
                // Right after the roll, the new key is in hand only: the
                // next accepted event stores it (checked above).
                custody.new_held() || event == E::Rolled
            } else {
                custody.new_works()
            };
            prop_assert!(
                custody.old_works() || held,
                "no working key in {state:?} after {event:?}: {custody:?}"
            );
            prop_assert!(
                !(custody.old_dead && custody.new_revoked),
                "both keys dead in {state:?} after {event:?}"
            );
            if state == S::Done {
                prop_assert!(
                    custody.old_dead && custody.new_works() && custody.deployed,
                    "done without the swap: {custody:?}"
                );
            }
            if state == S::RolledBack {
                prop_assert!(custody.old_works(), "rolled back onto a dead or off key");
                prop_assert!(
                    !custody.new_created || custody.new_revoked,
                    "orphaned new key"
                );
                prop_assert!(!custody.deployed, "targets left holding a revoked key");
            }
            previous = Some(event);
        }
        Ok(())
    }

    fn events() -> impl Strategy<Value = Vec<(bool, usize)>> {
        proptest::collection::vec((proptest::bool::weighted(0.8), 0..64usize), 0..40)
    }

    mod overlap {
        use super::*;
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(10_000))]
            /// Overlap: a working key is always held, the old key is revoked
            /// only after the new one is stored and verified, and a new key
            /// the service made is never left behind.
            #[test]
            fn no_sequence_loses_a_key(events in events()) {
                no_key_lost(RotationStrategy::Overlap, &events)?;
            }
        }
    }

    mod deactivate_first {
        use super::*;
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(10_000))]
            /// Deactivate-first: as overlap, and a switched-off old key is
            /// on again before anything goes back to it.
            #[test]
            fn no_sequence_loses_a_key(events in events()) {
                no_key_lost(RotationStrategy::DeactivateFirst, &events)?;
            }
        }
    }

    mod roll_in_place {
        use super::*;
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(10_000))]
            /// Roll-in-place: the rolled key is stored before anything
            /// else, nothing goes back to the dead old key, and it rolls
            /// once.
            #[test]
            fn no_sequence_loses_a_key(events in events()) {
                no_key_lost(RotationStrategy::RollInPlace, &events)?;
            }
        }
    }
}
