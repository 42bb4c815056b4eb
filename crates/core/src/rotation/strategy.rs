//! How a rotation swaps the keys, one transition table each. The machine
//! (`machine::next`) reads the table and nothing else, so a table is the
//! whole of its strategy's machine.
//!
//! - **Overlap**: create the new key → store → deploy → verify → revoke the
//!   old key. Both keys work for a while; the old one goes last.
//! - **Deactivate first**: as overlap up to verify, then the old key is
//!   switched off, not deleted. Resuming deletes it; reactivating it turns
//!   it back on and rolls the rotation back. For services that can switch a
//!   key off (AWS, Cloudflare).
//! - **Roll in place**: one call replaces the key and the old one dies at
//!   once (Cloudflare roll, GitLab rotate). The new key goes to the keychain
//!   before anything else, deploy follows; there is no way back once rolled.

use serde::{Deserialize, Serialize};

use super::machine::{Event as E, State as S};

/// One accepted transition: from, event, to.
pub type Transition = (S, E, S);

/// How a rotation swaps the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "RotationStrategy")]
pub enum Strategy {
    Overlap,
    DeactivateFirst,
    RollInPlace,
}

impl Strategy {
    pub const ALL: [Strategy; 3] = [Self::Overlap, Self::DeactivateFirst, Self::RollInPlace];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Overlap => "overlap",
            Self::DeactivateFirst => "deactivate_first",
            Self::RollInPlace => "roll_in_place",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Its name in the wizard.
    pub fn label(self) -> &'static str {
        match self {
            Self::Overlap => "Overlap",
            Self::DeactivateFirst => "Deactivate first",
            Self::RollInPlace => "Roll in place",
        }
    }

    /// The strategies a service with these capabilities can run, the one
    /// Latchkey picks first: deactivate first where a key can be switched
    /// off and on (the old key stays recoverable), else overlap where the
    /// service makes keys (or a person does, in its dashboard), and roll in
    /// place where replacing the key in one call is all it can do.
    pub fn available(caps: &crate::providers::Capabilities) -> Vec<Strategy> {
        let mut out = Vec::new();
        let makes_keys = caps.create && caps.revoke;
        if makes_keys && caps.set_active {
            out.push(Self::DeactivateFirst);
        }
        if makes_keys || !caps.roll {
            out.push(Self::Overlap);
        }
        if caps.roll {
            out.push(Self::RollInPlace);
        }
        out
    }

    /// What the wizard says about it, before the rotation starts.
    pub fn description(self) -> &'static str {
        match self {
            Self::Overlap => {
                "A new key is created and deployed next to the old one; the old key \
                 is revoked only once the new one works everywhere."
            }
            Self::DeactivateFirst => {
                "A new key is created and deployed; once it works, the old key is \
                 switched off, not deleted. Delete it when nothing broke, or \
                 reactivate it to undo the rotation."
            }
            Self::RollInPlace => {
                "The service replaces the key in one step and the old key stops \
                 working at once. The new key is saved in the keychain first, then \
                 deployed. This cannot be undone."
            }
        }
    }

    /// Every transition this strategy accepts; anything else is refused.
    pub fn table(self) -> &'static [Transition] {
        match self {
            Self::Overlap => OVERLAP,
            Self::DeactivateFirst => DEACTIVATE_FIRST,
            Self::RollInPlace => ROLL_IN_PLACE,
        }
    }
}

/// A strategy a rotation can take, as the wizard and the CLI offer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct StrategyChoice {
    pub strategy: Strategy,
    pub label: String,
    pub description: String,
    /// The one Latchkey takes unless the person picks another.
    pub chosen: bool,
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Create → store → deploy → verify → revoke the old key → done. Until the
/// old key is revoked, any step can roll back (restore the targets, revoke
/// the new key); after it, nothing can.
const OVERLAP: &[Transition] = &[
    (S::Planned, E::NewKeyCreated, S::Created),
    // Nothing exists yet: nothing to undo.
    (S::Planned, E::RollbackRequested, S::RolledBack),
    (S::Created, E::NewKeyStored, S::Stored),
    (S::Created, E::RollbackRequested, S::RollingBack),
    (S::Stored, E::TargetsDeployed, S::Deployed),
    (S::Stored, E::RollbackRequested, S::RollingBack),
    (S::Deployed, E::VerifyPassed, S::Verified),
    (S::Deployed, E::VerifyFailed, S::RollingBack),
    (S::Deployed, E::RollbackRequested, S::RollingBack),
    (S::Verified, E::OldKeyRevoked, S::OldRevoked),
    // Checked again right before revoking the old key, and it failed.
    (S::Verified, E::VerifyFailed, S::RollingBack),
    (S::Verified, E::RollbackRequested, S::RollingBack),
    (S::OldRevoked, E::Finished, S::Done),
    (S::RollingBack, E::RollbackCompleted, S::RolledBack),
    (S::RollingBack, E::RollbackFailed, S::Failed),
    (S::Failed, E::RollbackRequested, S::RollingBack),
];

/// As overlap up to verify; then the old key is switched off, not deleted.
/// Resuming deletes it (`OldRevoked`, then done); reactivating it turns it
/// back on and rolls back. A switched-off old key is never rolled back onto:
/// it is on again first.
const DEACTIVATE_FIRST: &[Transition] = &[
    (S::Planned, E::NewKeyCreated, S::Created),
    (S::Planned, E::RollbackRequested, S::RolledBack),
    (S::Created, E::NewKeyStored, S::Stored),
    (S::Created, E::RollbackRequested, S::RollingBack),
    (S::Stored, E::TargetsDeployed, S::Deployed),
    (S::Stored, E::RollbackRequested, S::RollingBack),
    (S::Deployed, E::VerifyPassed, S::Verified),
    (S::Deployed, E::VerifyFailed, S::RollingBack),
    (S::Deployed, E::RollbackRequested, S::RollingBack),
    (S::Verified, E::OldDeactivated, S::OldDeactivated),
    (S::Verified, E::VerifyFailed, S::RollingBack),
    (S::Verified, E::RollbackRequested, S::RollingBack),
    // "Delete it" (or a resume): the old key is gone for good.
    (S::OldDeactivated, E::OldDeleted, S::OldRevoked),
    // "Reactivate": the old key is on again; undo the rest.
    (S::OldDeactivated, E::OldReactivated, S::RollingBack),
    (S::OldRevoked, E::Finished, S::Done),
    (S::RollingBack, E::RollbackCompleted, S::RolledBack),
    (S::RollingBack, E::RollbackFailed, S::Failed),
    (S::Failed, E::RollbackRequested, S::RollingBack),
];

/// Roll → store → deploy → verify → done. The roll kills the old key, so the
/// only thing allowed right after it is storing the new key, and nothing
/// leads back: a failed verify deploys again (the new key is the only one).
/// `Rolled` is reachable once, from `Planned` only, so a roll whose answer
/// was lost is never sent again by the machine.
const ROLL_IN_PLACE: &[Transition] = &[
    (S::Planned, E::Rolled, S::Rolled),
    (S::Planned, E::RollbackRequested, S::RolledBack),
    (S::Rolled, E::NewKeyStored, S::Stored),
    (S::Stored, E::TargetsDeployed, S::Deployed),
    (S::Deployed, E::VerifyPassed, S::Verified),
    (S::Deployed, E::VerifyFailed, S::Stored),
    (S::Verified, E::Finished, S::Done),
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::super::machine::{next, Event, State};
    use super::*;

    /// Today's machine (before strategies), written out by hand: overlap
    /// must stay exactly this.
    const OVERLAP_SPEC: &[Transition] = &[
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

    fn lookup(table: &[Transition], from: State, event: Event) -> Option<State> {
        table
            .iter()
            .find(|(f, e, _)| *f == from && *e == event)
            .map(|(_, _, to)| *to)
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
            // The name on disk is the serde name.
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(State::parse("nonsense"), None);
        let names: HashSet<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names.len(), State::ALL.len());
    }

    #[test]
    fn names_on_disk_are_unchanged() {
        let states: Vec<String> = State::ALL[..10]
            .iter()
            .map(|s| serde_json::to_string(s).unwrap())
            .collect();
        assert_eq!(
            states,
            [
                "\"planned\"",
                "\"created\"",
                "\"stored\"",
                "\"deployed\"",
                "\"verified\"",
                "\"old_revoked\"",
                "\"done\"",
                "\"rolling_back\"",
                "\"rolled_back\"",
                "\"failed\"",
            ]
        );
        let events: Vec<String> = Event::ALL[..10]
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect();
        assert_eq!(
            events,
            [
                "\"new_key_created\"",
                "\"new_key_stored\"",
                "\"targets_deployed\"",
                "\"verify_passed\"",
                "\"verify_failed\"",
                "\"old_key_revoked\"",
                "\"finished\"",
                "\"rollback_requested\"",
                "\"rollback_completed\"",
                "\"rollback_failed\"",
            ]
        );
    }

    #[test]
    fn strategies_round_trip_through_their_names() {
        for s in Strategy::ALL {
            assert_eq!(Strategy::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
            assert!(!s.description().is_empty());
        }
        assert_eq!(Strategy::parse("overlap"), Some(Strategy::Overlap));
        assert_eq!(Strategy::parse("nonsense"), None);
    }

    /// Overlap is today's machine, transition for transition, over every
    /// state and event (the new ones included).
    #[test]
    fn overlap_is_the_machine_of_before() {
        for from in State::ALL {
            for event in Event::ALL {
                assert_eq!(
                    next(Strategy::Overlap, from, event).ok(),
                    lookup(OVERLAP_SPEC, from, event),
                    "{from:?} + {event:?}"
                );
            }
        }
    }

    /// The table is the whole machine: one row per (state, event) at most,
    /// `next` takes exactly the rows, and every pair not in the table is
    /// refused with its own error.
    #[test]
    fn the_table_is_the_whole_machine() {
        for strategy in Strategy::ALL {
            let table = strategy.table();
            let keys: HashSet<(State, Event)> = table.iter().map(|(f, e, _)| (*f, *e)).collect();
            assert_eq!(keys.len(), table.len(), "{strategy}: a pair twice");
            for from in State::ALL {
                for event in Event::ALL {
                    let got = next(strategy, from, event);
                    match lookup(table, from, event) {
                        Some(to) => assert_eq!(got, Ok(to), "{strategy}: {from:?} + {event:?}"),
                        None => {
                            let refused = got.expect_err("not in the table");
                            assert_eq!(
                                (refused.strategy, refused.from, refused.event),
                                (strategy, from, event)
                            );
                            let e = crate::error::Error::from(refused);
                            assert_eq!(e.code(), crate::error::ErrorCode::TransitionRefused);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn terminal_states_accept_nothing() {
        let terminal: Vec<State> = State::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        // Done and rolled back only: a failed rotation still needs a person.
        assert_eq!(terminal, [S::Done, S::RolledBack]);
        for strategy in Strategy::ALL {
            for from in &terminal {
                assert!(
                    Event::ALL
                        .iter()
                        .all(|&e| next(strategy, *from, e).is_err()),
                    "{strategy}: {from:?}"
                );
                assert!(strategy.table().iter().all(|(f, _, _)| f != from));
            }
        }
    }

    /// No dead rows: every row's state is reachable from `Planned`, and every
    /// reachable state that is not terminal has a way on.
    #[test]
    fn every_row_is_reachable_and_nothing_is_stuck() {
        for strategy in Strategy::ALL {
            let table = strategy.table();
            let mut reached = HashSet::from([S::Planned]);
            loop {
                let before = reached.len();
                for (f, _, to) in table {
                    if reached.contains(f) {
                        reached.insert(*to);
                    }
                }
                if reached.len() == before {
                    break;
                }
            }
            for (f, e, _) in table {
                assert!(reached.contains(f), "{strategy}: {f:?} + {e:?} unreachable");
            }
            for s in &reached {
                assert!(
                    s.is_terminal() || table.iter().any(|(f, _, _)| f == s),
                    "{strategy}: stuck in {s:?}"
                );
            }
            assert!(reached.contains(&S::Done), "{strategy}: never done");
        }
    }

    /// Each strategy kills the old key its own way, and only that way.
    #[test]
    fn each_strategy_kills_the_old_key_its_own_way() {
        let kills = |s: Strategy| -> Vec<Event> {
            let mut v: Vec<Event> = s
                .table()
                .iter()
                .map(|(_, e, _)| *e)
                .filter(|e| {
                    matches!(
                        e,
                        E::OldKeyRevoked | E::OldDeactivated | E::OldDeleted | E::Rolled
                    )
                })
                .collect();
            v.dedup();
            v
        };
        assert_eq!(kills(Strategy::Overlap), [E::OldKeyRevoked]);
        assert_eq!(
            kills(Strategy::DeactivateFirst),
            [E::OldDeactivated, E::OldDeleted]
        );
        assert_eq!(kills(Strategy::RollInPlace), [E::Rolled]);
    }
}
