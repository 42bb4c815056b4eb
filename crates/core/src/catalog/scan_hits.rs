//! Where folder scans found the vault's keys: a file's path and line,
//! never the value. A scan of a folder replaces what earlier scans found
//! under it, so a key taken out of a file drops out at the next scan.

use rusqlite::params;

use super::Catalog;
use crate::error::Result;

/// One place a scan found a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHit {
    pub key_id: String,
    pub path: String,
    /// 1-based.
    pub line: u32,
    /// Git tracks the file.
    pub tracked: bool,
    pub found_at: String,
}

impl Catalog {
    /// Replaces every hit under `folder` (the folder itself and below)
    /// with `hits`, in one commit.
    pub fn replace_scan_hits(&mut self, folder: &str, hits: &[StoredHit]) -> Result<()> {
        let prefix = format!("{}/", folder.trim_end_matches('/'));
        self.write(|tx| {
            // By prefix, not LIKE: a path may hold '%' or '_'.
            tx.execute(
                "DELETE FROM scan_hits WHERE substr(path, 1, length(?1)) = ?1",
                params![prefix],
            )?;
            for h in hits {
                tx.execute(
                    "INSERT OR REPLACE INTO scan_hits (key_id, path, line, tracked, found_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![h.key_id, h.path, h.line, h.tracked, h.found_at],
                )?;
            }
            Ok(())
        })
    }

    /// The places found for any of `key_ids`, by path and line (one
    /// lookup per key, on the table's primary key).
    pub fn scan_hits(&self, key_ids: &[String]) -> Result<Vec<StoredHit>> {
        let mut stmt = self.conn.prepare(
            "SELECT key_id, path, line, tracked, found_at FROM scan_hits WHERE key_id = ?1",
        )?;
        let mut out = Vec::new();
        for id in key_ids {
            let rows = stmt.query_map([id], |r| {
                Ok(StoredHit {
                    key_id: r.get(0)?,
                    path: r.get(1)?,
                    line: r.get(2)?,
                    tracked: r.get(3)?,
                    found_at: r.get(4)?,
                })
            })?;
            for row in rows {
                out.push(row?);
            }
        }
        out.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        Ok(out)
    }
}
