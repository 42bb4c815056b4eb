//! How much each key was used, as its service reports it (the reference
//! service's `request_count`): a sample each time a sync finds the count
//! changed, for the key details' sparkline. Counts only; nothing secret.

use std::collections::HashMap;

use rusqlite::params;
use serde::Serialize;

use super::Catalog;
use crate::error::Result;

/// The most samples `usage` gives (the newest).
pub const USAGE_POINTS: usize = 90;

/// A key's request count as its service reported it at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct UsagePoint {
    pub at: String,
    #[ts(type = "number")]
    pub count: u64,
}

impl Catalog {
    /// The count last recorded for each of `provider_id`'s keys that has
    /// one: read once per listing, not once per listed key.
    pub fn last_usage_of(&self, provider_id: &str) -> Result<HashMap<String, u64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key_id, request_count FROM key_usage WHERE seq IN (
                 SELECT MAX(seq) FROM key_usage
                 WHERE key_id IN (SELECT id FROM keys WHERE provider_id = ?1)
                 GROUP BY key_id)",
        )?;
        let rows = stmt.query_map(params![provider_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records `count` for `key_id` at `at`, unless it is `last`, the count
    /// last recorded (a sync that finds nothing new adds nothing). `None`,
    /// a service that reports no count, records nothing.
    pub fn record_usage(
        &self,
        key_id: &str,
        count: Option<u64>,
        last: Option<u64>,
        at: &str,
    ) -> Result<()> {
        let Some(count) = count.filter(|&c| Some(c) != last) else {
            return Ok(());
        };
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        self.conn
            .prepare_cached(
                "INSERT INTO key_usage (key_id, at, request_count) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![key_id, at, count])?;
        Ok(())
    }

    /// The newest `USAGE_POINTS` samples of `key_id`, oldest first.
    pub fn usage(&self, key_id: &str) -> Result<Vec<UsagePoint>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, request_count FROM key_usage WHERE key_id = ?1
             ORDER BY seq DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![key_id, USAGE_POINTS as i64], |r| {
            Ok(UsagePoint {
                at: r.get(0)?,
                count: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            })
        })?;
        let mut points = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        points.reverse();
        Ok(points)
    }
}
