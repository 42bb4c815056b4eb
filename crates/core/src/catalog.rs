//! The catalog: Latchkey's SQLite database (WAL, versioned migrations) of
//! providers, key metadata and the audit log.
//!
//! It never holds a secret: keys are known by id, masked preview and SHA-256
//! fingerprint. The audit log is append-only (triggers refuse UPDATE and
//! DELETE) and chained with a keyed MAC (see `catalog/audit.rs`), so a
//! removed, edited or cut-off row is detectable.

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::paths;

mod audit;
mod migrations;
use migrations::MIGRATIONS;
mod audit_report;
mod creates;
mod key_targets;
mod scan_hits;
pub use audit::{audit_key_account, Actor, AuditCheck, AuditVerification, AUDIT_HEAD_FILE};
pub use scan_hits::StoredHit;
mod rotations;
mod usage;
pub use creates::{KeyMarks, PendingCreate};
pub use rotations::{JournalEntry, RotationRecord, TargetSpec, TargetState, TargetStatus};
pub use usage::{UsagePoint, USAGE_POINTS};

/// The kinds of provider Latchkey can talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ProviderKind {
    /// The reference key service contract (the Demo provider among them).
    Keyservice,
    /// A dashboard-only service: keys made and revoked by hand, checked
    /// against a verify URL (`base_url`).
    Manual,
    /// AWS IAM access keys of one user (`providers::aws`).
    Aws,
    /// A GitHub connection: its token writes Actions secrets (the
    /// `github:` deploy target); it makes no keys.
    Github,
    /// Dakora project API keys (`project` is the project UUID).
    Dakora,
    /// Open Animate account API keys.
    #[serde(rename = "open-animate")]
    OpenAnimate,
    /// GitLab: personal access tokens, or a project's access tokens when
    /// `project` holds its id or path (`gitlab` or empty: personal), rolled
    /// in place; and CI/CD variables (the `gitlab:` deploy target).
    Gitlab,
    /// Vercel: account tokens and project environment variables (the
    /// `vercel:` deploy target).
    Vercel,
    /// Netlify: environment variables (the `netlify:` deploy target).
    Netlify,
    /// Cloudflare user API tokens.
    Cloudflare,
    /// OpenRouter API keys (a management key manages them).
    #[serde(rename = "openrouter")]
    OpenRouter,
    /// OpenAI project service-account keys (`project` is the project id).
    #[serde(rename = "openai")]
    OpenAi,
    /// SendGrid API keys.
    Sendgrid,
    /// Twilio API keys (the token is `ACCOUNT_SID:AUTH_TOKEN`).
    Twilio,
}

impl ProviderKind {
    /// Every kind (the connector contract suite runs against each).
    pub const ALL: &'static [ProviderKind] = &[
        Self::Keyservice,
        Self::Manual,
        Self::Aws,
        Self::Github,
        Self::Dakora,
        Self::OpenAnimate,
        Self::Gitlab,
        Self::Vercel,
        Self::Netlify,
        Self::Cloudflare,
        Self::OpenRouter,
        Self::OpenAi,
        Self::Sendgrid,
        Self::Twilio,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyservice => "keyservice",
            Self::Manual => "manual",
            Self::Aws => "aws",
            Self::Github => "github",
            Self::Dakora => "dakora",
            Self::OpenAnimate => "open-animate",
            Self::Gitlab => "gitlab",
            Self::Vercel => "vercel",
            Self::Netlify => "netlify",
            Self::Cloudflare => "cloudflare",
            Self::OpenRouter => "openrouter",
            Self::OpenAi => "openai",
            Self::Sendgrid => "sendgrid",
            Self::Twilio => "twilio",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "keyservice" => Some(Self::Keyservice),
            "manual" => Some(Self::Manual),
            "aws" => Some(Self::Aws),
            "github" => Some(Self::Github),
            "dakora" => Some(Self::Dakora),
            "open-animate" => Some(Self::OpenAnimate),
            "gitlab" => Some(Self::Gitlab),
            "vercel" => Some(Self::Vercel),
            "netlify" => Some(Self::Netlify),
            "cloudflare" => Some(Self::Cloudflare),
            "openrouter" => Some(Self::OpenRouter),
            "openai" => Some(Self::OpenAi),
            "sendgrid" => Some(Self::Sendgrid),
            "twilio" => Some(Self::Twilio),
            _ => None,
        }
    }
}

/// What [`Catalog::delete_provider_with_keys`] did.
#[derive(Debug)]
pub enum ProviderRemoval {
    /// Gone, with these keys.
    Removed(Vec<KeyRecord>),
    /// Kept: a key is being created (`creating`) or rotated on it.
    Busy { creating: bool },
}

/// A provider connection. Its admin token is in the keychain, not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderRecord {
    pub id: String,
    pub kind: ProviderKind,
    pub name: String,
    pub base_url: String,
    pub project: String,
    pub is_demo: bool,
    pub created_at: String,
    /// Where a person manages keys by hand (manual providers).
    pub dashboard_url: String,
}

/// What Latchkey knows of a key: metadata only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRecord {
    pub id: String,
    pub provider_id: String,
    pub remote_id: Option<String>,
    pub name: String,
    pub preview: String,
    pub fingerprint: Option<String>,
    /// The secret's length in bytes, known with its fingerprint (`None`
    /// without one, or when it is from before schema 10 and not filled in).
    pub secret_len: Option<u32>,
    pub scopes: Vec<String>,
    pub environment: String,
    pub env_var: String,
    pub created_at: Option<String>,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub has_secret: bool,
    /// Set while this is the uncommitted new key of that rotation.
    pub pending_rotation: Option<String>,
}

/// One audit log row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct AuditEntry {
    #[ts(type = "number")]
    pub seq: i64,
    pub at: String,
    pub action: String,
    pub key_id: Option<String>,
    pub provider_id: Option<String>,
    pub detail: String,
    pub hash: String,
    /// `app`, `cli` or `other`; empty on rows from before keying.
    pub actor: String,
}

const UPSERT_SETTING: &str = "INSERT INTO settings (key, value) VALUES (?1, ?2)
     ON CONFLICT(key) DO UPDATE SET value = excluded.value";

/// The SQLite catalog.
#[derive(Debug)]
pub struct Catalog {
    conn: Connection,
    /// The keyed audit chain, once `open_audit` loaded its key.
    audit_chain: Option<audit::AuditChain>,
}

impl Catalog {
    /// Opens (creating if needed) the catalog and brings its schema up to date.
    ///
    /// The catalog is private (see `paths`): its directory is made 0700 and
    /// the file is created 0600 before SQLite writes a byte; SQLite gives
    /// the `-wal` and `-shm` files the database file's mode, and existing
    /// ones that are too open are tightened.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            paths::ensure_private_dir(dir)?;
        }
        paths::ensure_private_file(path)?;
        let sidecars = ["-wal", "-shm"].map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            std::path::PathBuf::from(name)
        });
        for sidecar in &sidecars {
            paths::tighten_if_present(sidecar)?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        for sidecar in &sidecars {
            paths::tighten_if_present(sidecar)?;
        }
        let mut catalog = Self {
            conn,
            audit_chain: None,
        };
        catalog.migrate()?;
        Ok(catalog)
    }

    fn migrate(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > MIGRATIONS.len() {
            return Err(Error::Database(format!(
                "the catalog was made by a newer Latchkey (schema {version}); update Latchkey"
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs `f` in its own IMMEDIATE transaction, or inside the caller's
    /// batch when one is open.
    fn write<T>(&mut self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        if !self.conn.is_autocommit() {
            return f(&self.conn);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Several writes as one durable commit (one fsync): all or none.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(self) {
            Ok(v) => {
                if let Err(e) = self.conn.execute_batch("COMMIT") {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    self.discard_audit_head();
                    return Err(e.into());
                }
                self.flush_audit_head();
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                self.discard_audit_head();
                Err(e)
            }
        }
    }

    pub fn schema_version(&self) -> Result<usize> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    // ---- providers ----

    pub fn insert_provider(&self, p: &ProviderRecord) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO providers (id, kind, name, base_url, project, is_demo, created_at, dashboard_url)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    p.id,
                    p.kind.as_str(),
                    p.name,
                    p.base_url,
                    p.project,
                    p.is_demo,
                    p.created_at,
                    p.dashboard_url
                ],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Error::invalid(
                        "name",
                        format!(
                            "A provider named \"{}\" already exists; pick another name",
                            p.name
                        ),
                    )
                }
                e => e.into(),
            })?;
        Ok(())
    }

    pub fn update_provider_url(&self, id: &str, base_url: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE providers SET base_url = ?2 WHERE id = ?1",
            params![id, base_url],
        )?;
        Ok(())
    }

    pub fn providers(&self) -> Result<Vec<ProviderRecord>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{PROVIDER_SELECT} ORDER BY is_demo DESC, name"))?;
        let rows = stmt.query_map([], provider_from_row)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(Error::from)
    }

    pub fn provider(&self, id: &str) -> Result<Option<ProviderRecord>> {
        Ok(self
            .conn
            .query_row(
                &format!("{PROVIDER_SELECT} WHERE id = ?1"),
                [id],
                provider_from_row,
            )
            .optional()?)
    }

    /// How many keys (any status: revoked ones are history) and creates
    /// not yet settled a connection has in the catalog.
    pub fn provider_use(&self, id: &str) -> Result<(u64, u64)> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM keys WHERE provider_id = ?1),
                    (SELECT COUNT(*) FROM key_creates WHERE provider_id = ?1)",
            [id],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?)
    }

    /// Deletes a connection, in one statement, only while it has no keys
    /// and no create in flight (another process may be adding one): `false`
    /// when nothing was deleted.
    pub fn delete_unused_provider(&self, id: &str) -> Result<bool> {
        let deleted = self.conn.execute(
            "DELETE FROM providers WHERE id = ?1 AND is_demo = 0
               AND NOT EXISTS (SELECT 1 FROM keys WHERE provider_id = ?1)
               AND NOT EXISTS (SELECT 1 FROM key_creates WHERE provider_id = ?1)",
            [id],
        )?;
        Ok(deleted == 1)
    }

    /// Deletes a connection together with its keys and their history here
    /// (rotations and their journal, deploy targets, usage), in one
    /// transaction, unless a create or a rotation is in flight on it.
    /// The audit log keeps its lines. Returns the keys deleted.
    pub fn delete_provider_with_keys(&mut self, id: &str) -> Result<ProviderRemoval> {
        self.write(|c| {
            let (creates, rotations): (i64, i64) = c.query_row(
                "SELECT (SELECT COUNT(*) FROM key_creates WHERE provider_id = ?1),
                        (SELECT COUNT(*) FROM rotations WHERE provider_id = ?1
                           AND state NOT IN ('done', 'rolled_back'))",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if creates > 0 || rotations > 0 {
                return Ok(ProviderRemoval::Busy {
                    creating: creates > 0,
                });
            }
            let keys = c
                .prepare(&format!("{KEY_SELECT} WHERE provider_id = ?1 ORDER BY created_at"))?
                .query_map([id], key_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            const ITS_KEYS: &str = "SELECT id FROM keys WHERE provider_id = ?1";
            for sql in [
                format!(
                    "DELETE FROM rotation_journal WHERE rotation_id IN
                       (SELECT id FROM rotations WHERE provider_id = ?1 OR old_key_id IN ({ITS_KEYS}))"
                ),
                format!("DELETE FROM rotations WHERE provider_id = ?1 OR old_key_id IN ({ITS_KEYS})"),
                format!("DELETE FROM key_targets WHERE key_id IN ({ITS_KEYS})"),
                format!("DELETE FROM key_usage WHERE key_id IN ({ITS_KEYS})"),
                format!("DELETE FROM scan_hits WHERE key_id IN ({ITS_KEYS})"),
                "DELETE FROM keys WHERE provider_id = ?1".to_owned(),
            ] {
                c.execute(&sql, [id])?;
            }
            if c.execute("DELETE FROM providers WHERE id = ?1 AND is_demo = 0", [id])? != 1 {
                // Rolled back with everything above.
                return Err(Error::NotFound("That provider".into()));
            }
            Ok(ProviderRemoval::Removed(keys))
        })
    }

    pub fn demo_provider(&self) -> Result<Option<ProviderRecord>> {
        Ok(self
            .conn
            .query_row(
                &format!("{PROVIDER_SELECT} WHERE is_demo = 1"),
                [],
                provider_from_row,
            )
            .optional()?)
    }

    // ---- keys ----

    pub fn insert_key(&self, k: &KeyRecord) -> Result<()> {
        insert_key_on(&self.conn, k)
    }

    /// Refreshes what the service reports of a key we already know.
    pub fn update_remote_fields(&self, k: &KeyRecord) -> Result<()> {
        self.conn.prepare_cached(
            "UPDATE keys SET name = ?2, preview = ?3, scopes = ?4, created_at = ?5, expires_at = ?6,
                             last_used_at = ?7, revoked_at = ?8 WHERE id = ?1")?
            .execute(params![
                k.id,
                k.name,
                k.preview,
                serde_json::to_string(&k.scopes).unwrap_or_else(|_| "[]".into()),
                k.created_at,
                k.expires_at,
                k.last_used_at,
                k.revoked_at
            ])?;
        Ok(())
    }

    pub fn set_revoked(&self, id: &str, at: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
            params![id, at],
        )?;
        Ok(())
    }

    /// Records that a key's secret is (now) in the keychain: its
    /// fingerprint and length.
    pub fn attach_secret(
        &self,
        id: &str,
        fingerprint: &str,
        secret_len: Option<u32>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE keys SET has_secret = 1, fingerprint = ?2, secret_len = ?3 WHERE id = ?1",
            params![id, fingerprint, secret_len],
        )?;
        Ok(())
    }

    /// Records the length of a key's secret (filling in keys from before
    /// schema 10).
    pub fn set_secret_len(&self, id: &str, secret_len: Option<u32>) -> Result<()> {
        self.conn.execute(
            "UPDATE keys SET secret_len = ?2 WHERE id = ?1",
            params![id, secret_len],
        )?;
        Ok(())
    }

    /// Replaces a key's fingerprint (the catalog moving to keyed ones).
    pub fn set_fingerprint(&self, id: &str, fingerprint: Option<&str>) -> Result<()> {
        self.conn.execute(
            "UPDATE keys SET fingerprint = ?2 WHERE id = ?1",
            params![id, fingerprint],
        )?;
        Ok(())
    }

    pub fn keys(&self) -> Result<Vec<KeyRecord>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{KEY_SELECT} ORDER BY created_at DESC, name"))?;
        let rows = stmt.query_map([], key_from_row)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(Error::from)
    }

    /// One provider's keys (a listing's sync compares only these).
    pub fn keys_of(&self, provider_id: &str) -> Result<Vec<KeyRecord>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{KEY_SELECT} WHERE provider_id = ?1"))?;
        let rows = stmt.query_map([provider_id], key_from_row)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(Error::from)
    }

    pub fn key(&self, id: &str) -> Result<Option<KeyRecord>> {
        Ok(self
            .conn
            .query_row(&format!("{KEY_SELECT} WHERE id = ?1"), [id], key_from_row)
            .optional()?)
    }

    pub fn key_by_fingerprint(&self, fingerprint: &str) -> Result<Option<KeyRecord>> {
        Ok(self
            .conn
            .query_row(
                &format!("{KEY_SELECT} WHERE fingerprint = ?1"),
                [fingerprint],
                key_from_row,
            )
            .optional()?)
    }

    pub fn key_by_remote(&self, provider_id: &str, remote_id: &str) -> Result<Option<KeyRecord>> {
        // Cached: a listing asks this once per key on the service.
        let mut stmt = self.conn.prepare_cached(&format!(
            "{KEY_SELECT} WHERE provider_id = ?1 AND remote_id = ?2"
        ))?;
        Ok(stmt
            .query_row([provider_id, remote_id], key_from_row)
            .optional()?)
    }

    /// Inserts many keys in one transaction (imports, benchmarks).
    pub fn insert_keys(&mut self, keys: &[KeyRecord]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for k in keys {
            insert_key_on(&tx, k)?;
        }
        tx.commit()?;
        Ok(())
    }

    // ---- settings ----

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(UPSERT_SETTING, params![key, value])?;
        Ok(())
    }

    /// Sets several settings in one transaction.
    pub fn set_settings(&mut self, pairs: &[(&str, &str)]) -> Result<()> {
        self.write(|tx| {
            for (key, value) in pairs {
                tx.execute(UPSERT_SETTING, params![key, value])?;
            }
            Ok(())
        })
    }
}

fn insert_key_on(conn: &Connection, k: &KeyRecord) -> Result<()> {
    conn.execute(
        "INSERT INTO keys (id, provider_id, remote_id, name, preview, fingerprint, scopes, environment,
                           env_var, created_at, expires_at, last_used_at, revoked_at, has_secret,
                           pending_rotation, secret_len)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        params![
            k.id,
            k.provider_id,
            k.remote_id,
            k.name,
            k.preview,
            k.fingerprint,
            serde_json::to_string(&k.scopes).unwrap_or_else(|_| "[]".into()),
            k.environment,
            k.env_var,
            k.created_at,
            k.expires_at,
            k.last_used_at,
            k.revoked_at,
            k.has_secret,
            k.pending_rotation,
            k.secret_len
        ],
    )?;
    Ok(())
}

const PROVIDER_SELECT: &str =
    "SELECT id, kind, name, base_url, project, is_demo, created_at, dashboard_url FROM providers";

const KEY_SELECT: &str =
    "SELECT id, provider_id, remote_id, name, preview, fingerprint, scopes, environment, env_var,
    created_at, expires_at, last_used_at, revoked_at, has_secret, pending_rotation, secret_len
    FROM keys";

fn key_from_row(r: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    let scopes: String = r.get(6)?;
    Ok(KeyRecord {
        id: r.get(0)?,
        provider_id: r.get(1)?,
        remote_id: r.get(2)?,
        name: r.get(3)?,
        preview: r.get(4)?,
        fingerprint: r.get(5)?,
        scopes: serde_json::from_str(&scopes).unwrap_or_default(),
        environment: r.get(7)?,
        env_var: r.get(8)?,
        created_at: r.get(9)?,
        expires_at: r.get(10)?,
        last_used_at: r.get(11)?,
        revoked_at: r.get(12)?,
        has_secret: r.get(13)?,
        pending_rotation: r.get(14)?,
        secret_len: r.get(15)?,
    })
}

fn provider_from_row(r: &Row<'_>) -> rusqlite::Result<ProviderRecord> {
    let kind: String = r.get(1)?;
    Ok(ProviderRecord {
        id: r.get(0)?,
        kind: ProviderKind::parse(&kind).unwrap_or(ProviderKind::Keyservice),
        name: r.get(2)?,
        base_url: r.get(3)?,
        project: r.get(4)?,
        is_demo: r.get(5)?,
        created_at: r.get(6)?,
        dashboard_url: r.get(7)?,
    })
}

#[cfg(test)]
mod tests;
