//! Benchmark: `Vault::scan_folder` over a folder of 20,000 files the bench
//! writes (nested projects of `.env`, YAML, JSON and source files; some in
//! `.git`, `node_modules` and `target`, which must be skipped; a few over
//! 1 MiB; a few binary), against walking the same folder with the `ignore`
//! crate's walker alone (same skip rules, ripgrep's walker) and `rg --files`
//! when ripgrep is installed. Prints files per second and the ratio to the
//! walker. Target: ≤ 2×. Rounds alternate which side goes first; medians.
//!
//! Two vault keys are planted in scanned files, and more where the scan
//! must not look (`node_modules`, `target`, `.git`, a file over 1 MiB): every
//! round must find exactly the two planted places and count every file, so a
//! scan that skips work cannot look fast.
//!
//! Needs a Secret Service (the vault's fingerprint key):
//! `xvfb-run -a scripts/with-keyring.sh cargo bench -p latchkey-core --bench scan`

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_core::catalog::{KeyRecord, ProviderKind, ProviderRecord};
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::clock::SystemClock;
use latchkey_core::scan::{ScanReport, MAX_FILE_BYTES, SKIPPED_DIRS};
use latchkey_core::store::KeychainStore;
use latchkey_core::{Secret, Vault};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const FILES: usize = 20_000;
const VAULT_KEYS: usize = 40;
const PROJECTS: usize = 20;
/// Files in `.git`, `node_modules` and `target` (never read).
const IN_SKIPPED_DIRS: usize = 1_200;
const BIG: usize = 4;
const BINARY: usize = 20;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn token(rng: &mut StdRng, len: usize) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| ABC[rng.gen_range(0..ABC.len())] as char)
        .collect()
}

/// A vault key in the reference service's shape.
fn vault_key(rng: &mut StdRng) -> String {
    format!("lk_{}_{}", token(rng, 8), token(rng, 24))
}

/// A file's text in the style of its extension: about 40 lines, with
/// key-shaped values (none of them a vault key) where config files have them.
fn content(rng: &mut StdRng, ext: &str, n: usize) -> String {
    let mut out = String::new();
    for line in 0..40 {
        let t = token(rng, 32);
        let s = match ext {
            "env" => format!("SERVICE_{n}_{line}_API_KEY={t}\n"),
            "yaml" => format!(
                "  service_{line}:\n    image: registry.example.com/team/app-{n}:1.{line}.0\n    token: \"{t}\"\n"
            ),
            "json" => format!(
                "  \"@scope/package-{line}\": \"^1.{line}.{n}\", \"integrity\": \"sha512-{t}\",\n"
            ),
            "rs" => format!(
                "    let configuration_{line} = load_settings(\"config/{n}/{line}.toml\")?; // {t}\n"
            ),
            "ts" => format!(
                "  const response{line} = await fetch(`https://api.example.com/v1/items/{n}`); // {t}\n"
            ),
            _ => format!(
                "def handle_request_{line}(request, environment_name='production'): return '{t}'\n"
            ),
        };
        out.push_str(&s);
    }
    out
}

/// Where the planted keys are, as `(path, 1-based line, key index)`.
struct Folder {
    /// Files the scan reads (under 1 MiB, outside skipped folders).
    readable: usize,
    binary: usize,
    big: usize,
    planted: Vec<(PathBuf, u32, usize)>,
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

fn generate(root: &Path, keys: &[String], rng: &mut StdRng) -> Folder {
    let exts = ["env", "yaml", "json", "rs", "ts", "py"];
    let normal = FILES - IN_SKIPPED_DIRS - BIG - BINARY;
    let mut planted = Vec::new();
    for i in 0..normal {
        let ext = exts[i % exts.len()];
        let name = if ext == "env" {
            ".env".to_owned()
        } else {
            format!("f{i}.{ext}")
        };
        let dir = root.join(format!(
            "p{:02}/d{}/e{}/g{}",
            i % PROJECTS,
            (i / PROJECTS) % 8,
            (i / (PROJECTS * 8)) % 6,
            i / (PROJECTS * 8 * 6)
        ));
        let mut text = content(rng, ext, i);
        // Two planted keys in scanned files, on their last line.
        if i == 1234 || i == 15_001 {
            let k = if i == 1234 { 3 } else { 27 };
            text.push_str(&format!("PLANTED_KEY=\"{}\"\n", keys[k]));
            let line = u32::try_from(text.lines().count()).expect("lines");
            planted.push((dir.join(&name), line, k));
        }
        write(&dir.join(name), text.as_bytes());
    }
    // Where the scan must not look: each of these holds a vault key too.
    for i in 0..IN_SKIPPED_DIRS {
        let skipped = SKIPPED_DIRS[i % SKIPPED_DIRS.len()];
        let path = root.join(format!(
            "p{:02}/{skipped}/pkg{}/sub/file{i}.js",
            i % PROJECTS,
            i % 30
        ));
        let mut text = content(rng, "ts", i);
        text.push_str(&format!("const k = \"{}\";\n", keys[i % keys.len()]));
        write(&path, text.as_bytes());
    }
    for (i, key) in keys.iter().enumerate().take(BIG) {
        let mut text = String::new();
        while text.len() as u64 <= MAX_FILE_BYTES {
            text.push_str(&content(rng, "json", i));
        }
        text.push_str(&format!("\"key\": \"{key}\"\n"));
        write(
            &root.join(format!("p{i:02}/data/big{i}.json")),
            text.as_bytes(),
        );
    }
    for i in 0..BINARY {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        bytes.extend(std::iter::repeat_n(0u8, 2048));
        bytes.extend(keys[i % keys.len()].as_bytes());
        write(
            &root.join(format!("p{:02}/assets/img{i}.png", i % PROJECTS)),
            &bytes,
        );
    }
    Folder {
        readable: normal,
        binary: BINARY,
        big: BIG,
        planted,
    }
}

/// A vault holding `keys` (their fingerprints; the scan never reads a secret).
fn vault(dir: &Path, keys: &[String]) -> Vault {
    let store = Arc::new(KeychainStore::open_service("latchkey-bench").expect("keychain"));
    let vault = Vault::open(
        dir,
        store,
        Arc::new(MemoryClipboard::default()),
        Arc::new(SystemClock),
    )
    .expect("vault");
    let records: Vec<KeyRecord> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let secret = Secret::copy_of(k);
            KeyRecord {
                id: format!("scan-key-{i}"),
                provider_id: "bench-provider".into(),
                remote_id: None,
                name: format!("scan key {i}"),
                preview: secret.masked(),
                fingerprint: Some(secret.fingerprint().to_string()),
                secret_len: secret.stored_len(),
                scopes: vec!["read".into()],
                environment: String::new(),
                env_var: String::new(),
                created_at: Some("2026-01-01T00:00:00Z".into()),
                expires_at: None,
                last_used_at: None,
                revoked_at: None,
                has_secret: true,
                pending_rotation: None,
            }
        })
        .collect();
    vault
        .with_catalog(|c| {
            c.insert_provider(&ProviderRecord {
                id: "bench-provider".into(),
                kind: ProviderKind::Keyservice,
                name: "Bench".into(),
                base_url: "http://127.0.0.1:9".into(),
                project: "bench".into(),
                is_demo: false,
                created_at: "2026-01-01T00:00:00Z".into(),
                dashboard_url: String::new(),
            })?;
            c.insert_keys(&records)
        })
        .expect("catalog rows");
    vault
}

fn check(report: &ScanReport, folder: &Folder) {
    assert_eq!(
        report.files_scanned as usize, folder.readable,
        "the scan read {} files; the folder has {} it should read",
        report.files_scanned, folder.readable
    );
    assert_eq!(
        report.files_skipped as usize, folder.big,
        "files over 1 MiB"
    );
    let mut found: Vec<(PathBuf, u32, String)> = report
        .hits
        .iter()
        .map(|h| (PathBuf::from(&h.path), h.line, h.key_id.clone()))
        .collect();
    found.sort();
    let mut want: Vec<(PathBuf, u32, String)> = folder
        .planted
        .iter()
        .map(|(p, l, k)| (p.clone(), *l, format!("scan-key-{k}")))
        .collect();
    want.sort();
    assert_eq!(found, want, "the scan must find exactly the planted keys");
}

/// The `ignore` crate's walker with the scan's skip rules; counts the files
/// the scan would open (binary ones included: telling needs a read).
fn walk(root: &Path) -> usize {
    let mut n = 0;
    for entry in ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .follow_links(false)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && SKIPPED_DIRS.iter().any(|d| e.file_name() == *d))
        })
        .build()
    {
        let entry = entry.expect("walk");
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if name.ends_with(".latchkey-backup") || name.ends_with(".latchkey-tmp") {
            continue;
        }
        if entry.metadata().expect("metadata").len() <= MAX_FILE_BYTES {
            n += 1;
        }
    }
    n
}

/// `rg --files` over the folder with the same folders left out, if ripgrep
/// is installed: the number of files it lists.
fn rg_files(root: &Path) -> Option<usize> {
    let mut cmd = Command::new("rg");
    cmd.args(["--files", "--no-ignore", "--hidden"]);
    for d in SKIPPED_DIRS {
        cmd.arg("-g").arg(format!("!{d}/"));
    }
    let out = cmd
        .arg(root)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| out.stdout.iter().filter(|b| **b == b'\n').count())
}

fn main() {
    let rounds: usize = std::env::var("LK_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7)
        .max(5);
    let mut rng = StdRng::seed_from_u64(0x5ca7);
    let keys: Vec<String> = (0..VAULT_KEYS).map(|_| vault_key(&mut rng)).collect();
    let work = tempfile::tempdir().expect("tempdir");
    let vault = vault(&work.path().join("data"), &keys);
    let root = work.path().join("folder");
    let t = Instant::now();
    let folder = generate(&root, &keys, &mut rng);
    println!(
        "scan benchmark: {FILES} files written in {:.1} s ({} to read, {} binary, {} over 1 MiB, \
         {IN_SKIPPED_DIRS} in .git/node_modules/target), {VAULT_KEYS} vault keys, {rounds} rounds",
        t.elapsed().as_secs_f64(),
        folder.readable + folder.binary,
        folder.binary,
        folder.big,
    );
    let rg = rg_files(&root).is_some();
    let (mut scans, mut walks, mut rgs) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let scan = || {
            let t = Instant::now();
            let report = vault.scan_folder(&root).expect("scan");
            let elapsed = t.elapsed();
            check(&report, &folder);
            elapsed
        };
        let walked = || {
            let t = Instant::now();
            let n = walk(&root);
            let elapsed = t.elapsed();
            assert_eq!(n, folder.readable + folder.binary, "files the walker found");
            elapsed
        };
        if round % 2 == 0 {
            scans.push(scan());
            walks.push(walked());
        } else {
            walks.push(walked());
            scans.push(scan());
        }
        if rg {
            let t = Instant::now();
            let n = rg_files(&root).expect("rg");
            rgs.push(t.elapsed());
            // rg lists the files over 1 MiB too.
            assert_eq!(
                n,
                folder.readable + folder.binary + folder.big,
                "files rg listed"
            );
        }
    }
    let (scan, walk) = (median(scans), median(walks));
    let per_sec = |d: Duration| (folder.readable + folder.binary) as f64 / d.as_secs_f64();
    println!(
        "every round found exactly the {} planted keys and read {} files",
        folder.planted.len(),
        folder.readable
    );
    println!(
        "scan_folder:          median {:>8.1} ms  {:>9.0} files/s",
        scan.as_secs_f64() * 1e3,
        per_sec(scan)
    );
    println!(
        "ignore walker alone:  median {:>8.1} ms  {:>9.0} files/s",
        walk.as_secs_f64() * 1e3,
        per_sec(walk)
    );
    if rg {
        let rg = median(rgs);
        println!(
            "rg --files:           median {:>8.1} ms  (scan / rg: {:.2}x)",
            rg.as_secs_f64() * 1e3,
            scan.as_secs_f64() / rg.as_secs_f64()
        );
    } else {
        println!("rg --files: skipped (ripgrep is not installed)");
    }
    println!(
        "ratio (scan / walker), medians: {:.2}x (target <= 2.00x)",
        scan.as_secs_f64() / walk.as_secs_f64()
    );
}
