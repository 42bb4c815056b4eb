//! One key's details: the key, its older generations, its rotations, where
//! it was deployed, its audit entries and the dates of its life (for the
//! timeline). Nothing here holds a secret.

use std::collections::HashSet;

use serde::Serialize;
use time::Duration;

use super::{ActivityRow, DetailOps, KeyView};
use crate::catalog::{TargetSpec, UsagePoint};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::error::Result;
use crate::rotation::State;

/// A rotation of the key (as its old or its new key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct RotationSummary {
    pub id: String,
    pub started_at: String,
    pub updated_at: String,
    pub state: State,
    /// "done", "rolled back" or "unfinished".
    pub outcome: String,
    pub strategy: String,
    /// Where it put the new key.
    pub targets: Vec<TargetSpec>,
}

/// Everything the key details panel shows.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct KeyDetails {
    pub key: KeyView,
    /// The keys this one replaced through rotations, newest first.
    pub generations: Vec<KeyView>,
    /// Its rotations and its older generations', newest first.
    pub rotations: Vec<RotationSummary>,
    /// Every place a finished rotation or `latchkey deploy` put this key
    /// or an older generation of it (no repeats).
    pub targets: Vec<TargetSpec>,
    /// Audit entries of the key and its older generations, newest first.
    pub activity: Vec<ActivityRow>,
    /// When the rotation policy says the key is due (created + policy).
    pub rotation_due_at: Option<String>,
    /// Its request count at each sync that found it changed, oldest first
    /// (empty where the service reports no count).
    pub usage: Vec<UsagePoint>,
    pub now: String,
}

impl DetailOps<'_> {
    /// The details of one key (by id).
    pub fn key_details(&self, id: &str) -> Result<KeyDetails> {
        let key = self.key(id)?;
        let all = self.local_keys()?;
        // Walk back through the generations this key replaced.
        let mut generations: Vec<KeyView> = Vec::new();
        let mut frontier = vec![key.id.clone()];
        let mut seen: HashSet<String> = HashSet::from([key.id.clone()]);
        while let Some(newer) = frontier.pop() {
            for k in all
                .iter()
                .filter(|k| k.superseded_by.as_deref() == Some(&newer))
            {
                if seen.insert(k.id.clone()) {
                    generations.push(k.clone());
                    frontier.push(k.id.clone());
                }
            }
        }
        generations.sort_by(|a, b| b.created_at.cmp(&a.created_at));

        let rotations: Vec<RotationSummary> = self
            .catalog()
            .rotations()?
            .into_iter()
            .filter(|r| seen.contains(&r.old_key_id) || seen.contains(&r.new_key_id))
            .map(|r| RotationSummary {
                outcome: match r.state {
                    State::Done => "done",
                    State::RolledBack => "rolled back",
                    _ => "unfinished",
                }
                .into(),
                strategy: "overlap".into(),
                targets: r.targets.iter().map(|t| t.spec.clone()).collect(),
                id: r.id,
                started_at: r.created_at,
                updated_at: r.updated_at,
                state: r.state,
            })
            .collect();
        let mut targets: Vec<TargetSpec> = Vec::new();
        for r in rotations.iter().filter(|r| r.state == State::Done) {
            for t in &r.targets {
                if !targets.contains(t) {
                    targets.push(t.clone());
                }
            }
        }
        let ids: Vec<String> = seen.iter().cloned().collect();
        for t in self.catalog().remembered_targets(&ids)? {
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
        let activity = self
            .activity(usize::MAX)?
            .into_iter()
            .filter(|a| a.entry.key_id.as_ref().is_some_and(|k| seen.contains(k)))
            .take(200)
            .collect();
        let policy = i64::from(self.settings()?.rotation_policy_days);
        let rotation_due_at = key
            .created_at
            .as_deref()
            .and_then(parse_rfc3339)
            .map(|at| rfc3339(at + Duration::days(policy)));
        let usage = self.catalog().usage(&key.id)?;
        Ok(KeyDetails {
            key,
            generations,
            rotations,
            targets,
            activity,
            rotation_due_at,
            usage,
            now: rfc3339(self.clock.now()),
        })
    }
}
