//! Places a key was deployed to by `latchkey deploy` (a rotation's targets
//! are in its own record). Kept as the journal's JSON of a [`TargetSpec`].

use rusqlite::params;

use super::{Catalog, TargetSpec};
use crate::error::{Error, Result};

impl Catalog {
    /// Remembers that `key_id` was deployed to each of `targets`.
    pub fn remember_targets(
        &mut self,
        key_id: &str,
        targets: &[TargetSpec],
        now: &str,
    ) -> Result<()> {
        let specs = targets
            .iter()
            .map(|t| serde_json::to_string(t).map_err(|e| Error::Database(e.to_string())))
            .collect::<Result<Vec<_>>>()?;
        self.write(|tx| {
            for spec in &specs {
                tx.execute(
                    "INSERT OR IGNORE INTO key_targets (key_id, spec, added_at) VALUES (?1, ?2, ?3)",
                    params![key_id, spec, now],
                )?;
            }
            Ok(())
        })
    }

    /// The places any of `key_ids` was deployed to, oldest first; a spec a
    /// newer Latchkey wrote and this one cannot read is skipped.
    pub fn remembered_targets(&self, key_ids: &[String]) -> Result<Vec<TargetSpec>> {
        let mut stmt = self
            .conn
            .prepare("SELECT key_id, spec FROM key_targets ORDER BY added_at, rowid")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (key_id, spec) = row?;
            if key_ids.contains(&key_id) {
                if let Ok(spec) = serde_json::from_str::<TargetSpec>(&spec) {
                    out.push(spec);
                }
            }
        }
        Ok(out)
    }
}
