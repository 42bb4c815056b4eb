//! The audit log as people read it: each row with the key's and the
//! service's names (the log keeps ids), and exported as CSV or JSON. The
//! log holds no secrets, so neither does an export.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ActivityOps;
use crate::catalog::AuditEntry;
use crate::error::{Error, Result};

/// One audit row with names for its ids ("" when it names no key/service;
/// the id itself when the key or service is gone from the catalog).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ActivityRow {
    #[serde(flatten)]
    #[ts(flatten)]
    pub entry: AuditEntry,
    pub key_name: String,
    pub service_name: String,
}

/// What an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// What a `provider_remove` line says: `removed provider "NAME"`.
pub(super) const REMOVED_PROVIDER: (&str, &str) = ("removed provider \"", "\"");
/// What a `key_forget` line says (its connection was removed).
pub(super) const FORGOTTEN_KEY: (&str, &str) = (
    "forgot key \"",
    "\" with its connection; unchanged on the service",
);

/// A `provider_remove` line's detail.
pub(super) fn removed_provider_detail(name: &str) -> String {
    format!("{}{name}{}", REMOVED_PROVIDER.0, REMOVED_PROVIDER.1)
}

/// A `key_forget` line's detail.
pub(super) fn forgotten_key_detail(name: &str) -> String {
    format!("{}{name}{}", FORGOTTEN_KEY.0, FORGOTTEN_KEY.1)
}

/// The name a removal line records, for `action` lines.
fn name_in<'a>(
    entry: &'a AuditEntry,
    action: &str,
    (before, after): (&str, &str),
) -> Option<&'a str> {
    if entry.action != action {
        return None;
    }
    entry.detail.strip_prefix(before)?.strip_suffix(after)
}

impl ActivityOps<'_> {
    /// The newest `limit` audit rows, named.
    pub fn activity(&self, limit: usize) -> Result<Vec<ActivityRow>> {
        let catalog = self.catalog();
        let mut keys: HashMap<String, String> = catalog
            .keys()?
            .into_iter()
            .map(|k| {
                // As the Keys list names it: without a rotation's tag.
                let name = crate::rotation::driver::display_name(&k.name).to_owned();
                (k.id, name)
            })
            .collect();
        let mut services: HashMap<String, String> = catalog
            .providers()?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let entries = catalog.audit(limit)?;
        drop(catalog);
        // A removed connection, and a key forgotten with it, is named by its
        // removal's line: the newest of its lines, so within `limit` whenever
        // any of them is.
        for e in &entries {
            if let (Some(id), Some(name)) = (
                &e.provider_id,
                name_in(e, "provider_remove", REMOVED_PROVIDER),
            ) {
                services
                    .entry(id.clone())
                    .or_insert_with(|| name.to_owned());
            }
            if let (Some(id), Some(name)) = (&e.key_id, name_in(e, "key_forget", FORGOTTEN_KEY)) {
                keys.entry(id.clone()).or_insert_with(|| name.to_owned());
            }
        }
        let name = |map: &HashMap<String, String>, id: &Option<String>| match id {
            Some(id) => map.get(id).cloned().unwrap_or_else(|| id.clone()),
            None => String::new(),
        };
        Ok(entries
            .into_iter()
            .map(|entry| ActivityRow {
                key_name: name(&keys, &entry.key_id),
                service_name: name(&services, &entry.provider_id),
                entry,
            })
            .collect())
    }

    /// The keys copied most recently (newest first, each once) that can
    /// still be copied: the tray's "Copy …" entries.
    pub fn recent_copies(&self, limit: usize) -> Result<Vec<super::KeyView>> {
        let entries = self.catalog().audit(500)?;
        let keys = self.local_keys()?;
        let mut out: Vec<super::KeyView> = Vec::new();
        for e in entries.iter().filter(|e| e.action == "copy") {
            let Some(id) = &e.key_id else { continue };
            if out.len() >= limit || out.iter().any(|k| &k.id == id) {
                continue;
            }
            if let Some(k) = keys.iter().find(|k| {
                &k.id == id
                    && k.has_secret
                    && k.superseded_by.is_none()
                    && !matches!(k.status, super::KeyStatus::Revoked)
            }) {
                out.push(k.clone());
            }
        }
        Ok(out)
    }

    /// Writes the whole audit log (named) to a new file in `dir`:
    /// `latchkey-activity-<time>.csv|json`. Returns its path. An existing
    /// file is never overwritten.
    pub fn export_activity(&self, format: ExportFormat, dir: &Path) -> Result<PathBuf> {
        let rows = self.activity(usize::MAX)?;
        let text = match format {
            ExportFormat::Csv => activity_csv(&rows),
            ExportFormat::Json => {
                serde_json::to_string_pretty(&rows).map_err(|_| Error::DeployFailed {
                    path: dir.display().to_string(),
                    reason: "the export could not be encoded".into(),
                })?
            }
        };
        let stamp = self.clock.now().unix_timestamp();
        let ext = match format {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        };
        let failed = |path: &Path| Error::DeployFailed {
            path: path.display().to_string(),
            reason: "the export could not be written there".into(),
        };
        for n in 0..100u32 {
            let suffix = if n == 0 {
                String::new()
            } else {
                format!("-{n}")
            };
            let path = dir.join(format!("latchkey-activity-{stamp}{suffix}.{ext}"));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            match options.open(&path) {
                Ok(mut file) => {
                    file.write_all(text.as_bytes())
                        .and_then(|()| file.sync_all())
                        .map_err(|_| failed(&path))?;
                    return Ok(path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(_) => return Err(failed(&path)),
            }
        }
        Err(failed(dir))
    }
}

const COLUMNS: [&str; 10] = [
    "seq",
    "at",
    "actor",
    "action",
    "key",
    "service",
    "detail",
    "key_id",
    "service_id",
    "hash",
];

/// RFC 4180 CSV with a header row; every cell quoted, and a cell starting
/// with `= + - @` or a tab is defused for spreadsheets.
pub fn activity_csv(rows: &[ActivityRow]) -> String {
    fn cell(s: &str) -> String {
        let defused = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{s}")
        } else {
            s.to_owned()
        };
        format!("\"{}\"", defused.replace('"', "\"\""))
    }
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    for r in rows {
        let e = &r.entry;
        let cells = [
            e.seq.to_string(),
            e.at.clone(),
            e.actor.clone(),
            e.action.clone(),
            r.key_name.clone(),
            r.service_name.clone(),
            e.detail.clone(),
            e.key_id.clone().unwrap_or_default(),
            e.provider_id.clone().unwrap_or_default(),
            e.hash.clone(),
        ];
        out.push_str(&cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(detail: &str) -> ActivityRow {
        ActivityRow {
            entry: AuditEntry {
                seq: 7,
                at: "2026-12-03T10:00:00Z".into(),
                action: "key.copy".into(),
                key_id: Some("k1".into()),
                provider_id: None,
                detail: detail.into(),
                hash: "ab".into(),
                actor: "cli".into(),
            },
            key_name: "stripe prod".into(),
            service_name: String::new(),
        }
    }

    #[test]
    fn csv_quotes_every_cell_and_defuses_formulas() {
        let csv = activity_csv(&[row("said \"hi\", then =SUM(A1)"), row("=cmd|' /C calc'!A0")]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], COLUMNS.join(","));
        assert_eq!(
            lines[1],
            "\"7\",\"2026-12-03T10:00:00Z\",\"cli\",\"key.copy\",\"stripe prod\",\"\",\"said \"\"hi\"\", then =SUM(A1)\",\"k1\",\"\",\"ab\""
        );
        assert!(
            lines[2].contains(",\"'=cmd|' /C calc'!A0\","),
            "{}",
            lines[2]
        );
        assert_eq!(lines.len(), 4, "header, two rows, and the final CRLF");
    }
}
