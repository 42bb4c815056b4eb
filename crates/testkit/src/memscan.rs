//! Test kit: the memory canary. Counts the copies of a secret in another
//! process's readable memory by reading `/proc/PID/maps` and, for each
//! readable region, `/proc/PID/mem` at the region's address (regions that
//! refuse, such as `[vvar]`, are skipped and counted). Used by
//! src-tauri/tests/e2e_memory.rs and crates/cli/tests/memory_canary.rs.
//!
//! Reading another process's memory needs ptrace access (proc(5)): root,
//! or the same user while the process is dumpable — Latchkey processes
//! are not, unless started with `LATCHKEY_TEST_DUMPABLE=1` (debug builds
//! only; see latchkey_core::harden). A hit is reported by region name and
//! offset only, never with the bytes around it.
#![allow(dead_code)]

use std::fs::File;
use std::os::unix::fs::FileExt;

/// One copy of the needle: where it was found.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The region's name from maps (a path, `[heap]`, `[stack]`, or
    /// `anon` for an unnamed mapping), with its permissions.
    pub region: String,
    /// The region's start address.
    pub start: u64,
    /// The copy's offset inside the region.
    pub offset: u64,
}

/// What a scan found.
#[derive(Debug, Default)]
pub struct Scan {
    pub hits: Vec<Hit>,
    /// Bytes read.
    pub bytes: u64,
    /// Readable regions that could not be read (e.g. `[vvar]`).
    pub skipped: usize,
}

impl Scan {
    pub fn count(&self) -> usize {
        self.hits.len()
    }

    /// Counts and region names for a failure message; no bytes of memory.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "{} copies in {} bytes read ({} regions skipped)",
            self.hits.len(),
            self.bytes,
            self.skipped
        );
        for h in &self.hits {
            out.push_str(&format!(
                "\n  {} @ {:#x} + {:#x}",
                h.region, h.start, h.offset
            ));
        }
        out
    }
}

/// Counts the copies of `needle` in the readable memory of `pid`. Panics if
/// the process's memory cannot be opened at all (no ptrace access), so a
/// scan that read nothing never passes as "0 copies".
pub fn scan(pid: u32, needle: &[u8]) -> Scan {
    assert!(!needle.is_empty());
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/maps: {e}"));
    let mem = File::open(format!("/proc/{pid}/mem")).unwrap_or_else(|e| {
        panic!(
            "cannot open /proc/{pid}/mem: {e} (run as root, or start the process \
             with LATCHKEY_TEST_DUMPABLE=1 in a debug build)"
        )
    });
    let pagemap = File::open(format!("/proc/{pid}/pagemap"))
        .unwrap_or_else(|e| panic!("cannot open /proc/{pid}/pagemap: {e}"));
    let mut scan = Scan::default();
    let mut buf = vec![0u8; (CHUNK + needle.len() as u64) as usize];
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !perms.starts_with('r') {
            continue;
        }
        let name = fields.nth(3).unwrap_or("anon").to_owned();
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
        else {
            continue;
        };
        // Only pages that are in memory or swapped out (pagemap bits 63
        // and 62): WebKit reserves tens of GiB it never touches.
        let mut failed = false;
        for (run_start, run_end) in resident_runs(&pagemap, start, end) {
            if !scan_run(&mem, run_start, run_end, needle, &mut buf, |offset| {
                scan.hits.push(Hit {
                    region: format!("{name} {perms}"),
                    start,
                    offset: offset - start,
                })
            }) {
                failed = true;
            }
            scan.bytes += run_end - run_start;
        }
        if failed {
            scan.skipped += 1;
        }
    }
    buf.fill(0);
    scan
}

const PAGE: u64 = 4096;
/// Bytes read at a time; chunks overlap by `needle.len() - 1`.
const CHUNK: u64 = 1 << 20;

/// The runs of `start..end` whose pages are present or swapped, from
/// /proc/PID/pagemap (8 bytes a page). All of it when pagemap refuses.
fn resident_runs(pagemap: &File, start: u64, end: u64) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    let mut entries = vec![0u8; 8 * 65536];
    let mut page = start / PAGE;
    let last = end.div_ceil(PAGE);
    while page < last {
        let n = ((last - page) as usize).min(65536);
        let Ok(got) = pagemap.read_at(&mut entries[..8 * n], page * 8) else {
            return vec![(start, end)];
        };
        if got < 8 * n {
            return vec![(start, end)];
        }
        for (i, e) in entries[..8 * n].chunks_exact(8).enumerate() {
            let bits = u64::from_le_bytes(e.try_into().expect("8 bytes"));
            if bits & (3 << 62) == 0 {
                continue;
            }
            let at = (page + i as u64) * PAGE;
            match runs.last_mut() {
                Some(run) if run.1 == at => run.1 = at + PAGE,
                _ => runs.push((at, at + PAGE)),
            }
        }
        page += n as u64;
    }
    runs
}

/// Scans `start..end` of `mem` for `needle`, calling `hit` with each copy's
/// address; false when part of it could not be read.
fn scan_run(
    mem: &File,
    start: u64,
    end: u64,
    needle: &[u8],
    buf: &mut [u8],
    mut hit: impl FnMut(u64),
) -> bool {
    let overlap = needle.len() as u64 - 1;
    let mut at = start;
    while at < end {
        let want = (end - at).min(CHUNK + overlap) as usize;
        let got = mem.read_at(&mut buf[..want], at).unwrap_or(0);
        let window = &buf[..got];
        // A copy is counted in the chunk where it starts; the overlap only
        // completes copies that straddle the chunk's end.
        let starts = if at + CHUNK >= end {
            got
        } else {
            (CHUNK as usize).min(got)
        };
        let mut i = 0;
        while i < starts {
            match window[i..starts].iter().position(|b| *b == needle[0]) {
                None => break,
                Some(p) => i += p,
            }
            if window[i..].starts_with(needle) {
                hit(at + i as u64);
            }
            i += 1;
        }
        if got < want {
            return false;
        }
        at += CHUNK;
    }
    true
}

/// Direct children of `parent` whose executable's file name is `exe`.
pub fn children_named(parent: u32, exe: &str) -> Vec<u32> {
    processes_named(exe)
        .into_iter()
        .filter(|pid| parent_of(*pid) == Some(parent))
        .collect()
}

/// Processes whose executable's file name (or, when /proc/PID/exe is not
/// readable, `comm`) is `exe`.
pub fn processes_named(exe: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe"))
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .map(|n| n == exe || n == format!("{exe} (deleted)"))
                .unwrap_or_else(|| {
                    std::fs::read_to_string(format!("/proc/{pid}/comm"))
                        .is_ok_and(|c| exe.starts_with(c.trim_end()) && !c.trim_end().is_empty())
                })
        })
        .collect()
}

/// The parent pid from /proc/PID/stat.
pub fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name is in parentheses and may hold spaces: read after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}
