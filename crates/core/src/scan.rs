//! Find where a key is used: a folder's text files are searched for any
//! vault key, matched by fingerprint (each candidate word is fingerprinted
//! and dropped; no value is printed, kept or compared in the clear). A key
//! found in a file git tracks is flagged as leaked. Skips `.git`,
//! `node_modules`, `target`, Latchkey's own backups and temp files,
//! symbolic links, binary files and files over 1 MiB.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use crate::deploy::gitignore::work_tree;
use crate::error::{Error, Result};
use crate::secret::Fingerprinter;
use crate::vault::{KeyStatus, ScanOps};

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

impl ScanOps<'_> {
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
        // Raw digests: a word is fingerprinted without an allocation.
        let mut known: HashMap<[u8; 32], (String, String, String, bool)> = HashMap::new();
        for record in catalog.keys()? {
            let Some(fp) = record
                .fingerprint
                .as_deref()
                .and_then(|fp| hex::decode(fp).ok()?.try_into().ok())
            else {
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
        let mut files = Vec::new();
        walk(dir, &mut files);
        files.sort();
        // Files are read and searched on every core; each keeps its place
        // in the sorted list, so the report is the same as one thread's.
        let next = AtomicUsize::new(0);
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8);
        let fingerprinter = Fingerprinter::new();
        let mut searched: Vec<(usize, Searched)> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let (next, files, known, fingerprinter) =
                        (&next, &files, &known, &fingerprinter);
                    s.spawn(move || {
                        let mut out = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(path) = files.get(i) else { break };
                            out.push((i, search(path, known, fingerprinter)));
                        }
                        out
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        });
        searched.sort_unstable_by_key(|(i, _)| *i);
        let mut report = ScanReport {
            folder: dir.display().to_string(),
            files_scanned: 0,
            files_skipped: 0,
            hits: Vec::new(),
        };
        for (i, result) in searched {
            let found = match result {
                Searched::Unreadable | Searched::Binary => continue,
                Searched::TooBig => {
                    report.files_skipped += 1;
                    continue;
                }
                Searched::Text(found) => found,
            };
            report.files_scanned += 1;
            if found.is_empty() {
                continue;
            }
            let path = &files[i];
            let tracked = tracked_by_git(path);
            for (line, raw) in found {
                let (id, name, service, stale) = &known[&raw];
                report.hits.push(ScanHit {
                    path: path.display().to_string(),
                    line,
                    key_id: id.clone(),
                    key_name: name.clone(),
                    service: service.clone(),
                    stale: *stale,
                    tracked,
                });
            }
        }
        Ok(report)
    }
}

/// What reading one file gave.
enum Searched {
    Unreadable,
    /// Over `MAX_FILE_BYTES`.
    TooBig,
    Binary,
    /// The (1-based line, fingerprint) of each vault key in it, in order.
    Text(Vec<(u32, [u8; 32])>),
}

fn search<V>(path: &Path, known: &HashMap<[u8; 32], V>, fingerprinter: &Fingerprinter) -> Searched {
    // The size comes from the open file (no second lookup of the path).
    let Ok(mut file) = File::open(path) else {
        return Searched::Unreadable;
    };
    let Ok(meta) = file.metadata() else {
        return Searched::Unreadable;
    };
    if meta.len() > MAX_FILE_BYTES {
        return Searched::TooBig;
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0) + 1);
    if file.read_to_end(&mut bytes).is_err() {
        return Searched::Unreadable;
    }
    if bytes.iter().take(8192).any(|b| *b == 0) {
        return Searched::Binary;
    }
    let mut found = Vec::new();
    let mut line: u32 = 1;
    let mut counted = 0;
    for (at, word) in words(&bytes) {
        let raw = fingerprinter.of(word);
        if known.contains_key(&raw) {
            line += count_newlines(&bytes[counted..at]);
            counted = at;
            found.push((line, raw));
        }
    }
    Searched::Text(found)
}

fn count_newlines(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.iter().filter(|b| **b == b'\n').count()).unwrap_or(u32::MAX)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if kind.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_ref()) {
                walk(&entry.path(), files);
            }
        } else if kind.is_file()
            && !name.ends_with(".latchkey-backup")
            && !name.ends_with(".latchkey-tmp")
        {
            files.push(entry.path());
        }
    }
}

/// The bytes a key is made of (a table: every byte of every file is looked up).
const WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] =
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'+' | b'/' | b'.' | b'~');
        b += 1;
    }
    table
};

/// The words a key could be, with their byte offsets: runs of the
/// characters API keys are made of, anything else (quotes, `=`, `:`,
/// spaces, line ends, non-ASCII) being a separator (a trailing `.` is tried
/// without it too).
fn words(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let is_word = |b: &u8| WORD_BYTES[usize::from(*b)];
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < text.len() {
            let start = at + text[at..].iter().position(is_word)?;
            let len = text[start..]
                .iter()
                .position(|b| !is_word(b))
                .unwrap_or(text.len() - start);
            at = start + len;
            if len >= MIN_WORD {
                return Some((start, &text[start..at]));
            }
        }
        None
    })
    .flat_map(|(start, w)| {
        let trimmed = w.len() - w.iter().rev().take_while(|b| **b == b'.').count();
        let extra = (trimmed != w.len() && trimmed >= MIN_WORD).then_some((start, &w[..trimmed]));
        std::iter::once((start, w)).chain(extra)
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
        let found: Vec<(usize, &str)> = words(line.as_bytes())
            .map(|(at, w)| (at, std::str::from_utf8(w).expect("ascii")))
            .collect();
        assert_eq!(
            found,
            [
                (16, "lk_abcdefgh_0123456789abcdef"),
                (53, "sk-proj-ABCDEFGHIJKLMNOP."),
                (53, "sk-proj-ABCDEFGHIJKLMNOP")
            ]
        );
        assert_eq!(words(b"short=abc").count(), 0);
        assert_eq!(
            words("é_abcdefghijklm\n\"nopqrstuvwxyz_\"".as_bytes())
                .map(|(_, w)| w)
                .collect::<Vec<_>>(),
            [b"_abcdefghijklm".as_slice(), b"nopqrstuvwxyz_".as_slice()]
        );
    }
}
