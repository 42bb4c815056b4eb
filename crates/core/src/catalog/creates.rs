//! Creates journaled before they reach the service, and what a listing
//! leaves unsure. A `key_creates` row is written before `create_key` asks
//! the service and removed in the same commit that records the key: a row
//! left behind is a create a crash cut short, which the next sync adopts
//! (replaying it under the same idempotency key) or revokes. Keys missing
//! from a listing are marked, not revoked, until the service confirms it.
//! Nothing here holds a secret.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{Catalog, KeyRecord};
use crate::error::{Error, Result};

/// A create that was asked for and not yet recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCreate {
    /// The key's local id; the idempotency key is derived from it.
    pub id: String,
    pub provider_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_in_days: Option<u32>,
    pub environment: String,
    pub env_var: String,
    pub started_at: String,
}

impl Catalog {
    /// Journals a create before it is sent.
    pub fn begin_create(&mut self, create: &PendingCreate) -> Result<()> {
        let spec = serde_json::to_string(create).map_err(|e| Error::Database(e.to_string()))?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO key_creates (id, provider_id, spec, started_at) VALUES (?1, ?2, ?3, ?4)",
                params![create.id, create.provider_id, spec, create.started_at],
            )?;
            Ok(())
        })
    }

    /// Records the created key and closes its create, in one commit.
    pub fn finish_create(&mut self, record: &KeyRecord) -> Result<()> {
        self.write(|tx| {
            super::insert_key_on(tx, record)?;
            tx.execute("DELETE FROM key_creates WHERE id = ?1", [&record.id])?;
            Ok(())
        })
    }

    /// Closes a create that left nothing to keep (refused, or revoked).
    pub fn drop_create(&mut self, id: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM key_creates WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Creates a crash cut short.
    pub fn pending_creates(&self) -> Result<Vec<PendingCreate>> {
        let mut stmt = self
            .conn
            .prepare("SELECT spec FROM key_creates ORDER BY started_at")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for spec in rows {
            let spec = spec?;
            out.push(serde_json::from_str(&spec).map_err(|e| Error::Database(e.to_string()))?);
        }
        Ok(out)
    }

    /// A key the service took off its records but may still accept for a
    /// while (a cache): revoked, waiting for the service to reject it.
    pub fn set_revoke_waiting(&self, id: &str, at: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE keys SET revoked_at = COALESCE(revoked_at, ?2),
                revoke_waiting_since = COALESCE(revoke_waiting_since, ?2)
             WHERE id = ?1",
            params![id, at],
        )?;
        Ok(())
    }

    /// The service rejects the key now: the wait is over.
    pub fn clear_revoke_waiting(&self, id: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE keys SET revoke_waiting_since = NULL WHERE id = ?1",
            params![id],
        )?;
        Ok(())
    }

    /// A provider's keys waiting for the service to reject them, with
    /// when the wait began.
    pub fn revoke_waiting_of(&self, provider_id: &str) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, revoke_waiting_since FROM keys
             WHERE provider_id = ?1 AND revoke_waiting_since IS NOT NULL",
        )?;
        let rows = stmt.query_map([provider_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(Error::from)
    }

    /// A key absent from its service's listing, not yet confirmed gone.
    pub fn set_missing(&self, id: &str, at: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE keys SET missing_since = COALESCE(missing_since, ?2) WHERE id = ?1",
            params![id, at],
        )?;
        Ok(())
    }

    /// The service says the key does not exist: revoked, by inference.
    pub fn set_revoked_inferred(&self, id: &str, at: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE keys SET revoked_at = ?2, revoked_inferred = 1, missing_since = NULL
             WHERE id = ?1 AND revoked_at IS NULL",
            params![id, at],
        )?;
        Ok(())
    }

    /// The service lists the key (not revoked) again: marks that were only
    /// inferred go.
    /// A provider's keys that carry a mark [`clear_inferred`](Self::clear_inferred)
    /// takes away (missing, or revoked by inference).
    pub fn marked_keys_of(&self, provider_id: &str) -> Result<std::collections::HashSet<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM keys WHERE provider_id = ?1
             AND (missing_since IS NOT NULL OR revoked_inferred = 1)",
        )?;
        let rows = stmt.query_map([provider_id], |r| r.get::<_, String>(0))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(Error::from)
    }

    pub fn clear_inferred(&self, id: &str) -> Result<()> {
        // Cached: a listing asks this once per live key.
        self.conn
            .prepare_cached(
                "UPDATE keys SET missing_since = NULL,
                revoked_at = CASE WHEN revoked_inferred = 1 THEN NULL ELSE revoked_at END,
                revoked_inferred = 0
             WHERE id = ?1 AND (missing_since IS NOT NULL OR revoked_inferred = 1)",
            )?
            .execute([id])?;
        Ok(())
    }

    /// Whether a pasted key could be checked with its service.
    pub fn set_unverified(&self, id: &str, unverified: bool) -> Result<()> {
        self.conn.execute(
            "UPDATE keys SET unverified = ?2 WHERE id = ?1",
            params![id, unverified],
        )?;
        Ok(())
    }

    /// Keys with a mark: (id, missing from the last listing, never verified).
    pub fn key_marks(&self) -> Result<Vec<KeyMarks>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, missing_since IS NOT NULL AND revoked_at IS NULL, unverified,
                revoke_waiting_since IS NOT NULL
             FROM keys
             WHERE (missing_since IS NOT NULL AND revoked_at IS NULL) OR unverified = 1
                OR revoke_waiting_since IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(KeyMarks {
                id: r.get(0)?,
                missing: r.get(1)?,
                unverified: r.get(2)?,
                revoke_waiting: r.get(3)?,
            })
        })?;
        rows.collect::<Result<Vec<_>, _>>().map_err(Error::from)
    }
}

/// What the catalog knows of a key beyond the service's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMarks {
    pub id: String,
    /// Absent from the service's last listing, not confirmed gone.
    pub missing: bool,
    /// Pasted, and the service could not be asked about it.
    pub unverified: bool,
    /// Revoked on the service, which may still accept it for a while.
    pub revoke_waiting: bool,
}
