//! Find where a key is used: a folder's text files are searched for any
//! vault key, matched by fingerprint (each candidate word is fingerprinted
//! and dropped; no value is printed, kept or compared in the clear). A key
//! found in a file git tracks is flagged as leaked. Skips `.git`,
//! `node_modules`, `target`, Latchkey's own backups and temp files,
//! symbolic links, binary files and files over 1 MiB.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Condvar, Mutex, PoisonError};

use serde::Serialize;

use crate::catalog::StoredHit;
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
    /// Keeps where the scan found each key (the key's details, its next
    /// rotation), by absolute path: what an earlier scan found under the
    /// folder is replaced.
    fn remember_hits(&self, dir: &Path, report: &ScanReport) -> Result<()> {
        let folder = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let now = self.now();
        let hits: Vec<StoredHit> = report
            .hits
            .iter()
            .map(|h| {
                let path = Path::new(&h.path);
                let absolute = path
                    .strip_prefix(dir)
                    .map_or_else(|_| path.to_path_buf(), |rel| folder.join(rel));
                StoredHit {
                    key_id: h.key_id.clone(),
                    path: absolute.display().to_string(),
                    line: h.line,
                    tracked: h.tracked,
                    found_at: now.clone(),
                }
            })
            .collect();
        self.catalog()
            .replace_scan_hits(&folder.display().to_string(), &hits)
    }

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
        let mut lengths = Vec::new();
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
            lengths.push(record.secret_len);
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
        let mut found = search_tree(dir, &known, &Lengths::of(lengths));
        // Files in path order, hits in file order: the report does not
        // depend on which thread read what.
        found.files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut report = ScanReport {
            folder: dir.display().to_string(),
            files_scanned: found.scanned,
            files_skipped: found.skipped,
            hits: Vec::new(),
        };
        for (path, hits) in found.files {
            let tracked = tracked_by_git(&path);
            for (line, raw) in hits {
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
        self.remember_hits(dir, &report)?;
        Ok(report)
    }
}

/// The word lengths worth fingerprinting: those of the vault's keys, when
/// every key's is known (`None`: any length, e.g. a key from before schema
/// 10 whose secret the keychain did not have when lengths were filled in).
/// Most words of a source tree are no vault key's length; each one skipped
/// is a keyed hash not computed.
struct Lengths(Option<Vec<bool>>);

impl Lengths {
    fn of(lengths: impl IntoIterator<Item = Option<u32>>) -> Self {
        let mut table = Vec::new();
        for len in lengths {
            let Some(len) = len.and_then(|l| usize::try_from(l).ok()) else {
                return Self(None);
            };
            if table.len() <= len {
                table.resize(len + 1, false);
            }
            table[len] = true;
        }
        Self(Some(table))
    }

    fn may_be_key(&self, word: &[u8]) -> bool {
        match &self.0 {
            None => true,
            Some(table) => table.get(word.len()).copied().unwrap_or(false),
        }
    }
}

/// The (1-based line, fingerprint) of each vault key in one file, in order.
type KeysInFile = Vec<(u32, [u8; 32])>;

/// What the threads of one scan found, in no particular order.
#[derive(Default)]
struct Found {
    scanned: u32,
    skipped: u32,
    /// Each file holding a vault key, with its keys.
    files: Vec<(PathBuf, KeysInFile)>,
}

/// Work the scan's threads share: folders to list and files to read.
enum Job {
    Dir(PathBuf),
    Files(Vec<PathBuf>),
}

/// Files handed out together (a folder of many files is shared out).
const FILES_PER_JOB: usize = 16;

/// The jobs not taken yet, and how many threads hold one (the scan ends
/// when none is left and nobody can add any).
struct Queue {
    state: Mutex<(Vec<Job>, usize)>,
    changed: Condvar,
}

impl Queue {
    fn next(&self) -> Option<Job> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(job) = state.0.pop() {
                state.1 += 1;
                return Some(job);
            }
            if state.1 == 0 {
                self.changed.notify_all();
                return None;
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// The job taken last is done; `more` came out of it.
    fn done(&self, more: impl IntoIterator<Item = Job>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let before = state.0.len();
        state.0.extend(more);
        state.1 -= 1;
        if state.0.len() > before + 1 || state.1 == 0 {
            self.changed.notify_all();
        } else if state.0.len() > before {
            self.changed.notify_one();
        }
    }
}

/// Walks `dir` and searches its files on every core (up to 8 threads):
/// folders are listed and files read by whichever thread is free.
fn search_tree<V: Sync>(dir: &Path, known: &HashMap<[u8; 32], V>, lengths: &Lengths) -> Found {
    let queue = Queue {
        state: Mutex::new((vec![Job::Dir(dir.to_path_buf())], 0)),
        changed: Condvar::new(),
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let fingerprinter = Fingerprinter::new();
    // One keyed hash for every thread's memory of words already looked at.
    let seen_hash = RandomState::new();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let mut searcher = Searcher {
                    known,
                    lengths,
                    fingerprinter: &fingerprinter,
                    seen_hash: &seen_hash,
                    seen: HashSet::default(),
                    bytes: Vec::new(),
                };
                let queue = &queue;
                s.spawn(move || {
                    let mut found = Found::default();
                    while let Some(job) = queue.next() {
                        let mut more = Vec::new();
                        match job {
                            Job::Dir(dir) => list(&dir, &mut more),
                            Job::Files(files) => {
                                for path in files {
                                    searcher.search(path, &mut found);
                                }
                            }
                        }
                        queue.done(more);
                    }
                    found
                })
            })
            .collect();
        let mut all = Found::default();
        for worker in workers {
            let Ok(found) = worker.join() else { continue };
            all.scanned += found.scanned;
            all.skipped += found.skipped;
            all.files.extend(found.files);
        }
        all
    })
}

/// The jobs in one folder: its subfolders (but the skipped ones) and its
/// files (but Latchkey's backups and temp files; symbolic links are neither).
fn list(dir: &Path, jobs: &mut Vec<Job>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if kind.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_ref()) {
                jobs.push(Job::Dir(entry.path()));
            }
        } else if kind.is_file()
            && !name.ends_with(".latchkey-backup")
            && !name.ends_with(".latchkey-tmp")
        {
            files.push(entry.path());
            if files.len() == FILES_PER_JOB {
                jobs.push(Job::Files(std::mem::take(&mut files)));
            }
        }
    }
    if !files.is_empty() {
        jobs.push(Job::Files(files));
    }
}

/// Words already fingerprinted by this thread that are no vault key, by a
/// 64-bit keyed hash (SipHash, a random key per scan: no word is kept).
/// Source trees repeat their identifiers, paths and URLs from file to
/// file; each is fingerprinted once. A vault key is never remembered, so
/// every place it appears is found; one could be passed over only if its
/// 64-bit hash equalled a remembered word's (about one chance in 2^44
/// with the memory full).
const SEEN_MAX: usize = 1 << 20;

/// The hash set of already-hashed words hashes nothing again.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// One thread's reader: its buffer (reused from file to file) and its
/// memory of words that are no key.
struct Searcher<'a, V> {
    known: &'a HashMap<[u8; 32], V>,
    lengths: &'a Lengths,
    fingerprinter: &'a Fingerprinter,
    seen_hash: &'a RandomState,
    seen: HashSet<u64, BuildHasherDefault<Prehashed>>,
    bytes: Vec<u8>,
}

impl<V> Searcher<'_, V> {
    fn search(&mut self, path: PathBuf, found: &mut Found) {
        match self.read(&path) {
            Read::Unreadable | Read::Binary => {}
            Read::TooBig => found.skipped += 1,
            Read::Text => {
                found.scanned += 1;
                let hits = self.keys_in_text();
                if !hits.is_empty() {
                    found.files.push((path, hits));
                }
            }
        }
    }

    /// Reads the file into `self.bytes`.
    fn read(&mut self, path: &Path) -> Read {
        // The size comes from the open file (no second lookup of the path).
        let Ok(file) = File::open(path) else {
            return Read::Unreadable;
        };
        let Ok(meta) = file.metadata() else {
            return Read::Unreadable;
        };
        if meta.len() > MAX_FILE_BYTES {
            return Read::TooBig;
        }
        self.bytes.clear();
        // Up to the size it had when opened: no read past it to find the end.
        if file.take(meta.len()).read_to_end(&mut self.bytes).is_err() {
            return Read::Unreadable;
        }
        if self.bytes.iter().take(8192).any(|b| *b == 0) {
            return Read::Binary;
        }
        Read::Text
    }

    /// The (1-based line, fingerprint) of each vault key in `self.bytes`.
    fn keys_in_text(&mut self) -> KeysInFile {
        let mut found = Vec::new();
        let mut line: u32 = 1;
        let mut counted = 0;
        for (at, word) in words(&self.bytes) {
            if !self.lengths.may_be_key(word) {
                continue;
            }
            let hash = self.seen_hash.hash_one(word);
            if self.seen.contains(&hash) {
                continue;
            }
            let raw = self.fingerprinter.of(word);
            if self.known.contains_key(&raw) {
                line += count_newlines(&self.bytes[counted..at]);
                counted = at;
                found.push((line, raw));
            } else if self.seen.len() < SEEN_MAX {
                self.seen.insert(hash);
            }
        }
        found
    }
}

/// What reading one file gave.
enum Read {
    Unreadable,
    /// Over `MAX_FILE_BYTES`.
    TooBig,
    Binary,
    /// Text, in the searcher's buffer.
    Text,
}

fn count_newlines(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.iter().filter(|b| **b == b'\n').count()).unwrap_or(u32::MAX)
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
    let is_word = |b: u8| WORD_BYTES[usize::from(b)];
    let mut at = 0;
    std::iter::from_fn(move || loop {
        while at < text.len() && !is_word(text[at]) {
            at += 1;
        }
        if at == text.len() {
            return None;
        }
        let start = at;
        while at < text.len() && is_word(text[at]) {
            at += 1;
        }
        if at - start >= MIN_WORD {
            return Some((start, &text[start..at]));
        }
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

    const KEY: &[u8] = b"lk_abcdefgh_0123456789abcdefghijklmn";

    #[test]
    fn a_key_is_found_every_time_other_words_are_fingerprinted_once() {
        let fingerprinter = Fingerprinter::new();
        let known: HashMap<[u8; 32], ()> = HashMap::from([(fingerprinter.of(KEY), ())]);
        let seen_hash = RandomState::new();
        let any_length = Lengths(None);
        let mut searcher = Searcher {
            known: &known,
            lengths: &any_length,
            fingerprinter: &fingerprinter,
            seen_hash: &seen_hash,
            seen: HashSet::default(),
            bytes: Vec::new(),
        };
        let key = std::str::from_utf8(KEY).expect("ascii");
        searcher.bytes =
            format!("NAME=repeated_identifier\nKEY={key}\nrepeated_identifier\nagain: {key}\n")
                .into_bytes();
        let lines = |hits: KeysInFile| hits.into_iter().map(|h| h.0).collect::<Vec<_>>();
        assert_eq!(lines(searcher.keys_in_text()), [2, 4]);
        // The identifier is remembered (by its hash), the key never is...
        assert_eq!(searcher.seen.len(), 1);
        // ...so the next file finds it again.
        assert_eq!(lines(searcher.keys_in_text()), [2, 4]);
    }

    #[test]
    fn the_threads_find_every_file_with_a_key_and_skip_what_they_must() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = std::str::from_utf8(KEY).expect("ascii");
        for i in 0..60 {
            let sub = dir.path().join(format!("d{}/e{}", i % 3, i % 5));
            std::fs::create_dir_all(&sub).expect("mkdir");
            let text = if i % 7 == 0 {
                format!("K={key}\n")
            } else {
                "nothing_to_see_here\n".into()
            };
            std::fs::write(sub.join(format!("f{i}.env")), text).expect("write");
        }
        for skipped in SKIPPED_DIRS {
            let sub = dir.path().join(format!("d0/{skipped}"));
            std::fs::create_dir_all(&sub).expect("mkdir");
            std::fs::write(sub.join("f.env"), format!("K={key}\n")).expect("write");
        }
        std::fs::write(dir.path().join("bin.dat"), b"\0\0binary").expect("write");
        let known: HashMap<[u8; 32], ()> = HashMap::from([(Fingerprinter::new().of(KEY), ())]);
        let mut found = search_tree(dir.path(), &known, &Lengths::of([Some(36)]));
        found.files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(found.scanned, 60);
        assert_eq!(found.skipped, 0);
        let mut want: Vec<PathBuf> = (0..60)
            .filter(|i| i % 7 == 0)
            .map(|i| dir.path().join(format!("d{}/e{}/f{i}.env", i % 3, i % 5)))
            .collect();
        want.sort();
        let got: Vec<PathBuf> = found.files.iter().map(|f| f.0.clone()).collect();
        assert_eq!(got, want);
        assert!(found.files.iter().all(|f| f.1.len() == 1 && f.1[0].0 == 1));
    }

    #[test]
    fn only_words_of_a_vault_keys_length_are_fingerprinted() {
        let fingerprinter = Fingerprinter::new();
        let known: HashMap<[u8; 32], ()> = HashMap::from([(fingerprinter.of(KEY), ())]);
        let seen_hash = RandomState::new();
        let key = std::str::from_utf8(KEY).expect("ascii");
        let text = format!("a_word_of_20_letters\nK={key}\nanother_word_of_24_chars\n");
        let search = |lengths: &Lengths| {
            let mut searcher = Searcher {
                known: &known,
                lengths,
                fingerprinter: &fingerprinter,
                seen_hash: &seen_hash,
                seen: HashSet::default(),
                bytes: text.clone().into_bytes(),
            };
            let lines: Vec<u32> = searcher.keys_in_text().iter().map(|h| h.0).collect();
            (lines, searcher.seen.len())
        };
        // The key's length: the other words are passed over unhashed.
        assert_eq!(search(&Lengths::of([Some(36), Some(51)])), (vec![2], 0));
        // A length unknown for one key: every word is looked at.
        assert_eq!(search(&Lengths::of([Some(51), None])), (vec![2], 2));
        // The key is not of any listed length: it cannot be a vault key.
        assert_eq!(search(&Lengths::of([Some(20), Some(24)])), (vec![], 2));
        assert!(!Lengths::of([]).may_be_key(KEY));
    }

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
