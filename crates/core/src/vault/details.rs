//! One key's details: the key, its older generations, its rotations, where
//! it was deployed, its audit entries and the dates of its life (for the
//! timeline). Nothing here holds a secret.

use std::collections::HashSet;

use serde::Serialize;
use time::Duration;

use super::{ActivityRow, DetailOps, KeyView};
use crate::catalog::{StoredHit, TargetSpec, UsagePoint};
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

/// A place a folder scan found the key (its path and line; never its value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct FoundIn {
    pub path: String,
    /// 1-based.
    pub line: u32,
    /// Git tracks the file: the key is leaked.
    pub tracked: bool,
    pub found_at: String,
    /// The place holds an older generation of the key, not the key itself.
    pub older_generation: bool,
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
    /// Where folder scans found the key or an older generation, by path.
    pub found_in: Vec<FoundIn>,
    /// The places found holding the key itself, as targets its next
    /// rotation can take and `targets` does not hold yet: a `.env` file's
    /// variable, or a checklist item for any other file.
    pub found_targets: Vec<TargetSpec>,
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
                strategy: r.strategy.label().to_lowercase(),
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
        let hits = self.catalog().scan_hits(&ids)?;
        let found_targets = targets_found(&key.id, &hits, &targets);
        let found_in = hits
            .into_iter()
            .map(|h| FoundIn {
                older_generation: h.key_id != key.id,
                path: h.path,
                line: h.line,
                tracked: h.tracked,
                found_at: h.found_at,
            })
            .collect();
        Ok(KeyDetails {
            key,
            generations,
            rotations,
            targets,
            activity,
            rotation_due_at,
            usage,
            found_in,
            found_targets,
            now: rfc3339(self.clock.now()),
        })
    }
}

/// The targets the places found holding `key_id` make, leaving out those
/// in `known`: a `.env` file's line gives its variable; any other file (or
/// a line that is not `NAME=…` any more) becomes a checklist item.
fn targets_found(key_id: &str, hits: &[StoredHit], known: &[TargetSpec]) -> Vec<TargetSpec> {
    let known_items: Vec<&String> = known
        .iter()
        .filter_map(|t| match t {
            TargetSpec::Manual { items } => Some(items),
            _ => None,
        })
        .flatten()
        .collect();
    let mut out: Vec<TargetSpec> = Vec::new();
    let mut items: Vec<String> = Vec::new();
    for h in hits.iter().filter(|h| h.key_id == key_id) {
        let path = std::path::Path::new(&h.path);
        let dotenv = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(".env") || n.ends_with(".env"));
        let var = dotenv.then(|| variable_at(path, h.line)).flatten();
        match var {
            Some(var) => {
                let spec = TargetSpec::Dotenv {
                    path: h.path.clone(),
                    var,
                    follow_symlink: false,
                };
                if !known.contains(&spec) && !out.contains(&spec) {
                    out.push(spec);
                }
            }
            None => {
                let item = format!("Replace the key in {} (line {})", h.path, h.line);
                if !known_items.contains(&&item) && !items.contains(&item) {
                    items.push(item);
                }
            }
        }
    }
    if !items.is_empty() {
        out.push(TargetSpec::Manual { items });
    }
    out
}

/// The variable a `.env` line sets (`[export ]NAME=…`), read now.
fn variable_at(path: &std::path::Path, line: u32) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let at = text
        .lines()
        .nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let at = at.trim_start();
    let at = at.strip_prefix("export ").unwrap_or(at).trim_start();
    let (name, _) = at.split_once('=')?;
    let name = name.trim_end();
    crate::deploy::is_var_name(name).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(key: &str, path: &std::path::Path, line: u32) -> StoredHit {
        StoredHit {
            key_id: key.into(),
            path: path.display().to_string(),
            line,
            tracked: false,
            found_at: "2026-12-05T12:00:00Z".into(),
        }
    }

    #[test]
    fn places_found_become_targets_named_by_their_line() {
        let dir = tempfile::tempdir().expect("dir");
        let env = dir.path().join(".env.local");
        std::fs::write(&env, "# x\n  export API_KEY = lk_x\nBAD LINE lk_x\n").expect("write");
        let yaml = dir.path().join("config.yaml");
        std::fs::write(&yaml, "api:\n  key: lk_x\n").expect("write");
        let hits = [
            hit("k", &env, 2),
            hit("k", &env, 3),
            hit("k", &yaml, 2),
            hit("old", &yaml, 2),
            hit("k", &env, 2),
        ];
        let found = targets_found("k", &hits, &[]);
        assert_eq!(
            found,
            [
                TargetSpec::Dotenv {
                    path: env.display().to_string(),
                    var: "API_KEY".into(),
                    follow_symlink: false,
                },
                TargetSpec::Manual {
                    items: vec![
                        format!("Replace the key in {} (line 3)", env.display()),
                        format!("Replace the key in {} (line 2)", yaml.display()),
                    ]
                },
            ]
        );
        // What a rotation already deployed to is not offered twice.
        let known = found[..1].to_vec();
        assert_eq!(targets_found("k", &hits, &known).len(), 1);
        assert!(targets_found("nobody", &hits, &[]).is_empty());
    }
}
