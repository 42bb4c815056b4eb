//! Find where a key is used: a folder's text files are searched for any
//! vault key, matched by fingerprint (each candidate word is fingerprinted
//! and dropped; no value is printed, kept or compared in the clear). A key
//! found in a file git tracks is flagged as leaked. Skips `.git`,
//! `node_modules`, `target`, Latchkey's own backups and temp files,
//! symbolic links, binary files and files over 1 MiB.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

use crate::deploy::gitignore::work_tree;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::vault::{KeyStatus, Vault};

/// Files larger than this are skipped.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Folders never entered.
pub const SKIPPED_DIRS: [&str; 3] = [".git", "node_modules", "target"];
/// Shorter words are not looked at (no API key is this short).
const MIN_WORD: usize = 12;

/// One place a vault key was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ScanHit {
    pub path: String,
    /// 1-based.
    pub line: u32,
    pub key_id: String,
    pub key_name: String,
    pub service: String,
    /// The key is revoked or expired (a stale copy, not a live one).
    pub stale: bool,
    /// The file is tracked by git: the key is (or will be) in its history.
    pub tracked: bool,
}

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ScanReport {
    pub folder: String,
    pub files_scanned: u32,
    /// Over 1 MiB.
    pub files_skipped: u32,
    pub hits: Vec<ScanHit>,
}

impl ScanReport {
    /// A live key sits in a file git tracks.
    pub fn leaked(&self) -> bool {
        self.hits.iter().any(|h| h.tracked)
    }
}

impl Vault {
    /// Searches `dir` (recursively) for the vault's keys.
    pub fn scan_folder(&self, dir: &Path) -> Result<ScanReport> {
        if !dir.is_dir() {
            return Err(Error::invalid(
                "folder",
                format!("{} is not a folder", dir.display()),
            ));
        }
        let views = self.local_keys()?;
        let catalog = self.catalog();
        let mut known: HashMap<String, (String, String, String, bool)> = HashMap::new();
        for record in catalog.keys()? {
            let Some(fp) = record.fingerprint.clone() else {
                continue;
            };
            let Some(view) = views.iter().find(|v| v.id == record.id) else {
                continue;
            };
            let stale = matches!(view.status, KeyStatus::Revoked | KeyStatus::Expired);
            known.insert(
                fp,
                (
                    view.id.clone(),
                    view.name.clone(),
                    view.provider_name.clone(),
                    stale,
                ),
            );
        }
        drop(catalog);
        let mut report = ScanReport {
            folder: dir.display().to_string(),
            files_scanned: 0,
            files_skipped: 0,
            hits: Vec::new(),
        };
        let mut files = Vec::new();
        walk(dir, &mut files, &mut report.files_skipped);
        files.sort();
        for path in files {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if bytes.iter().take(8192).any(|b| *b == 0) {
                continue; // binary
            }
            report.files_scanned += 1;
            let text = String::from_utf8_lossy(&bytes);
            let mut found = Vec::new();
            for (n, line) in text.lines().enumerate() {
                for word in words(line) {
                    let fp = Secret::copy_of(word).fingerprint();
                    if let Some((id, name, service, stale)) = known.get(fp.as_str()) {
                        found.push(ScanHit {
                            path: path.display().to_string(),
                            line: u32::try_from(n + 1).unwrap_or(u32::MAX),
                            key_id: id.clone(),
                            key_name: name.clone(),
                            service: service.clone(),
                            stale: *stale,
                            tracked: false,
                        });
                    }
                }
            }
            if !found.is_empty() {
                let tracked = tracked_by_git(&path);
                for mut hit in found {
                    hit.tracked = tracked;
                    report.hits.push(hit);
                }
            }
        }
        Ok(report)
    }
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, skipped: &mut u32) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        if kind.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_str()) {
                walk(&entry.path(), files, skipped);
            }
        } else if kind.is_file() {
            if name.ends_with(".latchkey-backup") || name.ends_with(".latchkey-tmp") {
                continue;
            }
            match entry.metadata() {
                Ok(m) if m.len() > MAX_FILE_BYTES => *skipped += 1,
                Ok(_) => files.push(entry.path()),
                Err(_) => {}
            }
        }
    }
}

/// The words of a line a key could be: runs of the characters API keys are
/// made of, quotes, `=`, `:` and spaces being the separators (a trailing
/// `.` is tried without it too).
fn words(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || "-_+/.~".contains(c)))
        .filter(|w| w.len() >= MIN_WORD)
        .flat_map(|w| {
            let trimmed = w.trim_end_matches('.');
            let extra = (trimmed.len() != w.len() && trimmed.len() >= MIN_WORD).then_some(trimmed);
            std::iter::once(w).chain(extra)
        })
}

/// Whether git tracks `path` (false without git or outside a work tree).
fn tracked_by_git(path: &Path) -> bool {
    let Some(root) = work_tree(path) else {
        return false;
    };
    Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_on_assignment_and_quotes() {
        let line =
            r#"export API_KEY="lk_abcdefgh_0123456789abcdef" # key: sk-proj-ABCDEFGHIJKLMNOP."#;
        let found: Vec<&str> = words(line).collect();
        assert_eq!(
            found,
            [
                "lk_abcdefgh_0123456789abcdef",
                "sk-proj-ABCDEFGHIJKLMNOP.",
                "sk-proj-ABCDEFGHIJKLMNOP"
            ]
        );
        assert_eq!(words("short=abc").count(), 0);
    }
}
