//! The rotation journal: one row per rotation (its state, its targets) and
//! an append-only list of steps, each written as `intent` before its side
//! effect and as `ok` / `failed` after. Nothing here ever holds a secret:
//! targets are paths and variable names, files are known by digest.

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::Catalog;
use crate::error::{Error, Result, WireError};
use crate::rotation::{State, Strategy};

/// Where a rotation puts the new key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum TargetSpec {
    /// One variable in a `.env` file.
    Dotenv {
        path: String,
        var: String,
        #[serde(default)]
        follow_symlink: bool,
    },
    /// By hand: the key is copied and the user confirms each place.
    Manual { items: Vec<String> },
    /// A GitHub Actions secret of a repository (`OWNER/REPO`), or of one
    /// of its environments, written through the connection `provider`.
    Github {
        provider: String,
        repo: String,
        secret: String,
        #[serde(default)]
        environment: Option<String>,
    },
    /// An AWS Secrets Manager secret, through the `aws` connection named
    /// `provider` (a team's shared store).
    AwsSecret { provider: String, secret_id: String },
    /// An SSM Parameter Store `SecureString` parameter, through the `aws`
    /// connection named `provider`.
    Ssm { provider: String, name: String },
    /// One string at a dotted object path (`key`) in a JSON file.
    Json {
        path: String,
        key: String,
        #[serde(default)]
        follow_symlink: bool,
    },
    /// One string at a dotted key path (`key`) in a TOML file.
    Toml {
        path: String,
        key: String,
        #[serde(default)]
        follow_symlink: bool,
    },
    /// One scalar at a dotted mapping path (`key`) in a YAML file (Open
    /// Animate's `~/.oanim/credentials.yaml` is made when missing).
    Yaml {
        path: String,
        key: String,
        #[serde(default)]
        follow_symlink: bool,
    },
    /// One profile's `aws_access_key_id` / `aws_secret_access_key` in an
    /// AWS shared credentials file (`~/.aws/credentials`).
    AwsCredentials {
        path: String,
        profile: String,
        #[serde(default)]
        follow_symlink: bool,
    },
    /// A GitLab CI/CD variable of a project (its numeric id or its
    /// URL-encoded path), for one environment scope (`*` when none),
    /// through the `gitlab` connection `provider`.
    Gitlab {
        provider: String,
        project: String,
        variable: String,
        #[serde(default)]
        scope: Option<String>,
    },
    /// A Vercel project's environment variable (all three targets),
    /// through the `vercel` connection `provider`.
    Vercel {
        provider: String,
        project: String,
        variable: String,
    },
    /// A Netlify site's environment variable in an account, through the
    /// `netlify` connection `provider`.
    Netlify {
        provider: String,
        account: String,
        site: String,
        variable: String,
    },
}

/// How far a target got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TargetStatus {
    Pending,
    /// A manual target: waiting for the user to confirm every item.
    AwaitingConfirmation,
    Deployed,
    Verified,
    RolledBack,
    Failed,
}

/// A target and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct TargetState {
    pub spec: TargetSpec,
    pub status: TargetStatus,
    /// SHA-256 of the `.env` file when the rotation was planned: deploying
    /// refuses a file that changed since.
    #[serde(default)]
    pub digest: Option<String>,
    /// A manual target's confirmed items.
    #[serde(default)]
    pub confirmed: Vec<bool>,
    /// Plain-language word on the last thing that happened.
    #[serde(default)]
    pub message: Option<String>,
    /// Set when a `.env` file sits in a git work tree and is not ignored.
    #[serde(default)]
    pub gitignore_warning: Option<String>,
    /// SHA-256 of the `.env` file as the deploy wrote it: rollback edits the
    /// variable back only while the file is still exactly that.
    #[serde(default)]
    pub deployed_digest: Option<String>,
}

/// One rotation as journaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationRecord {
    pub id: String,
    pub old_key_id: String,
    pub provider_id: String,
    /// The new key's local id, chosen up front: its keychain entry's name.
    pub new_key_id: String,
    /// The new key's name on the service; carries the rotation id.
    pub new_name: String,
    pub new_remote_id: Option<String>,
    pub state: State,
    pub targets: Vec<TargetState>,
    /// Keys a crash left on the service without their secret, revoked on
    /// resume; also makes the next create's idempotency key fresh.
    pub orphans_revoked: u32,
    pub error: Option<WireError>,
    pub created_at: String,
    pub updated_at: String,
    /// The person says they did this step by hand (manual providers):
    /// revoked the old key, or on rollback the new one. Reset by each step.
    pub confirmed_by_hand: bool,
    /// The state as the catalog holds it: every save is a compare-and-set
    /// on it, so a save over another process's change is refused.
    pub stored_state: State,
    /// How this rotation swaps the keys (its transition table).
    pub strategy: Strategy,
}

/// One journal row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct JournalEntry {
    #[ts(type = "number")]
    pub seq: i64,
    pub at: String,
    pub step: String,
    pub phase: String,
    pub detail: String,
}

const ROTATION_SELECT: &str =
    "SELECT id, old_key_id, provider_id, new_key_id, new_name, new_remote_id, state,
    targets, orphans_revoked, error_code, error_message, created_at, updated_at, confirmed_by_hand, strategy FROM rotations";

fn rotation_from_row(r: &Row<'_>) -> rusqlite::Result<RotationRecord> {
    let state: String = r.get(6)?;
    let targets: String = r.get(7)?;
    let code: Option<String> = r.get(9)?;
    let message: Option<String> = r.get(10)?;
    Ok(RotationRecord {
        id: r.get(0)?,
        old_key_id: r.get(1)?,
        provider_id: r.get(2)?,
        new_key_id: r.get(3)?,
        new_name: r.get(4)?,
        new_remote_id: r.get(5)?,
        // An unknown state (a newer Latchkey's) is shown as needing a person.
        state: State::parse(&state).unwrap_or(State::Failed),
        stored_state: State::parse(&state).unwrap_or(State::Failed),
        targets: serde_json::from_str(&targets).unwrap_or_default(),
        orphans_revoked: r.get(8)?,
        // A code this Latchkey does not know (a newer one's) reads as a
        // catalog problem; the message is kept as written.
        error: code.map(|code| WireError {
            code: crate::ErrorCode::parse(&code).unwrap_or(crate::ErrorCode::Database),
            message: message.unwrap_or_default(),
            details: None,
        }),
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
        confirmed_by_hand: r.get(13)?,
        // A strategy a newer Latchkey wrote reads as overlap, whose table
        // refuses the states it does not know: nothing moves by mistake.
        strategy: Strategy::parse(&r.get::<_, String>(14)?).unwrap_or(Strategy::Overlap),
    })
}

fn targets_json(targets: &[TargetState]) -> String {
    serde_json::to_string(targets).unwrap_or_else(|_| "[]".into())
}

impl Catalog {
    /// The unfinished rotation of a key, if any (as its old or new key).
    pub fn open_rotation_for_key(&self, key_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM rotations WHERE (old_key_id = ?1 OR new_key_id = ?1)
                 AND state NOT IN ('done', 'rolled_back')",
                [key_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Starts a rotation: the row is the key's lock.
    pub fn insert_rotation(&mut self, rec: &RotationRecord, at: &str, detail: &str) -> Result<()> {
        self.write(|tx| {
        let open: Option<String> = tx
            .query_row(
                "SELECT id FROM rotations WHERE (old_key_id = ?1 OR new_key_id = ?1)
                 AND state NOT IN ('done', 'rolled_back')",
                [&rec.old_key_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = open {
            return Err(Error::RotationInProgress(id));
        }
        tx.execute(
            "INSERT INTO rotations (id, old_key_id, provider_id, new_key_id, new_name, new_remote_id,
                state, targets, orphans_revoked, error_code, error_message, created_at, updated_at, strategy)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL, ?10, ?10, ?11)",
            params![
                rec.id,
                rec.old_key_id,
                rec.provider_id,
                rec.new_key_id,
                rec.new_name,
                rec.new_remote_id,
                rec.state.as_str(),
                targets_json(&rec.targets),
                rec.orphans_revoked,
                at,
                rec.strategy.as_str()
            ],
        )?;
        tx.execute(
            "INSERT INTO rotation_journal (rotation_id, at, step, phase, detail)
             VALUES (?1, ?2, 'plan', 'ok', ?3)",
            params![rec.id, at, detail],
        )?;
        Ok(())
        })
    }

    pub fn rotation(&self, id: &str) -> Result<Option<RotationRecord>> {
        Ok(self
            .conn
            .query_row(
                &format!("{ROTATION_SELECT} WHERE id = ?1"),
                [id],
                rotation_from_row,
            )
            .optional()?)
    }

    /// Every rotation, newest first. `created_at` has whole seconds: two
    /// rotations begun within one second are ordered as they were inserted
    /// (`rowid`), not by their random ids.
    pub fn rotations(&self) -> Result<Vec<RotationRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "{ROTATION_SELECT} ORDER BY created_at DESC, rowid DESC"
        ))?;
        let rows = stmt.query_map([], rotation_from_row)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(Error::from)
    }

    /// Appends a journal row and saves the rotation, in one transaction
    /// (durable before it returns: `synchronous=FULL`). The save is a
    /// compare-and-set on the state the record was read in: when another
    /// process moved the rotation meanwhile, nothing is written and the
    /// answer is `rotation_in_progress`.
    pub fn journal(
        &mut self,
        rec: &mut RotationRecord,
        at: &str,
        step: &str,
        phase: &str,
        detail: &str,
    ) -> Result<()> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE rotations SET new_remote_id = ?2, state = ?3, targets = ?4, orphans_revoked = ?5,
                error_code = ?6, error_message = ?7, updated_at = ?8, confirmed_by_hand = ?9
                WHERE id = ?1 AND state = ?10",
                params![
                    rec.id,
                    rec.new_remote_id,
                    rec.state.as_str(),
                    targets_json(&rec.targets),
                    rec.orphans_revoked,
                    rec.error.as_ref().map(|e| e.code.as_str()),
                    rec.error.as_ref().map(|e| e.message.clone()),
                    at,
                    rec.confirmed_by_hand,
                    rec.stored_state.as_str(),
                ],
            )?;
            if changed == 0 {
                return Err(Error::RotationChanged(rec.id.clone()));
            }
            tx.execute(
                "INSERT INTO rotation_journal (rotation_id, at, step, phase, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![rec.id, at, step, phase, detail],
            )?;
            Ok(())
        })?;
        rec.stored_state = rec.state;
        Ok(())
    }

    /// How many times a step was attempted (its `intent` rows).
    pub fn intents(&self, rotation_id: &str, step: &str) -> Result<u32> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM rotation_journal WHERE rotation_id = ?1 AND step = ?2 AND phase = 'intent'",
            [rotation_id, step],
            |r| r.get(0),
        )?)
    }

    pub fn journal_entries(&self, rotation_id: &str) -> Result<Vec<JournalEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, step, phase, detail FROM rotation_journal WHERE rotation_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([rotation_id], |r| {
            Ok(JournalEntry {
                seq: r.get(0)?,
                at: r.get(1)?,
                step: r.get(2)?,
                phase: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        rows.collect::<Result<Vec<_>, _>>().map_err(Error::from)
    }

    /// Ends a rotation: the new key stops being pending and takes the old
    /// key's environment and variable; the old key is marked revoked.
    pub fn commit_rotation(&mut self, rec: &RotationRecord, at: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE keys SET pending_rotation = NULL,
                environment = (SELECT environment FROM keys WHERE id = ?2),
                env_var = (SELECT env_var FROM keys WHERE id = ?2)
             WHERE id = ?1",
                params![rec.new_key_id, rec.old_key_id],
            )?;
            tx.execute(
                "UPDATE keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
                params![rec.old_key_id, at],
            )?;
            Ok(())
        })
    }

    /// A key rolled in place keeps its id on the service (Cloudflare): the
    /// old, dead generation gives the id up to the new one.
    pub fn unlink_remote(&mut self, key_id: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE keys SET remote_id = NULL WHERE id = ?1", [key_id])?;
            Ok(())
        })
    }

    /// Records a rotation's new key (pending). A row the list sync made for
    /// it meanwhile (same remote id, no secret) gives way.
    pub fn upsert_pending_key(&mut self, k: &crate::catalog::KeyRecord) -> Result<()> {
        self.write(|tx| {
        tx.execute(
            "DELETE FROM keys WHERE provider_id = ?1 AND remote_id = ?2 AND id != ?3 AND has_secret = 0",
            params![k.provider_id, k.remote_id, k.id],
        )?;
        tx.execute("DELETE FROM keys WHERE id = ?1", [&k.id])?;
        super::insert_key_on(tx, k)?;
        Ok(())
        })
    }

    /// A rolled-back rotation's new key: revoked, no longer pending.
    pub fn abandon_new_key(&self, key_id: &str, at: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE keys SET pending_rotation = NULL, revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
            params![key_id, at],
        )?;
        Ok(())
    }
}
