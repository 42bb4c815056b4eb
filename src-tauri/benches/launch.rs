//! Benchmark: launch → keys list rendered with 1,000 keys in the catalog, and
//! total PSS of the app's processes (app + WebKit) 5 s after launch, each as a
//! ratio against a bare Tauri window built with the same profile in the same
//! run (`examples/bare_window.rs`). Targets: ≤ 1.3× time, ≤ 1.2× PSS.
//! Latchkey paints without WebKit's GPU compositing; the bare window keeps
//! WebKit's defaults. Besides that pair (the target), the same run measures
//! both without and both with compositing (`LK_BENCH_SHIPPED_ONLY=1` skips
//! those two), so the setting's share of the figure is printed too.
//!
//! ```sh
//! cargo build --release -p latchkey --example bare_window
//! xvfb-run -a scripts/with-keyring.sh cargo bench -p latchkey --bench launch
//! ```

mod seed;
#[path = "../tests/webdriver/mod.rs"]
mod webdriver;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use webdriver::{App, By};

const KEYS: usize = 1_000;

/// Pids of processes whose executable is `exe`, and all their descendants.
fn process_tree(exe: &Path) -> Vec<u32> {
    let mut parents: Vec<(u32, u32, Option<PathBuf>)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok());
        if let Some(ppid) = ppid {
            parents.push((
                pid,
                ppid,
                std::fs::read_link(format!("/proc/{pid}/exe")).ok(),
            ));
        }
    }
    let mut tree: Vec<u32> = parents
        .iter()
        .filter(|(_, _, e)| e.as_deref() == Some(exe))
        .map(|(p, _, _)| *p)
        .collect();
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp, _)| *pp == parent)
                .map(|(p, _, _)| *p),
        );
        i += 1;
    }
    tree
}

fn pss_kib(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok())
        .filter_map(|text| {
            text.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .sum()
}

struct Sample {
    launch: Duration,
    pss_kib: u64,
    processes: usize,
}

async fn measure(binary: &Path, ready: By, data: &Path, env: &[(&str, &str)]) -> Sample {
    let started = Instant::now();
    let app = App::launch_until(binary.to_str().expect("path"), data, env, ready).await;
    let launch = started.elapsed();
    tokio::time::sleep(Duration::from_secs(5).saturating_sub(started.elapsed())).await;
    let pids = process_tree(&std::fs::canonicalize(binary).expect("binary"));
    if std::env::var_os("LK_BENCH_DETAIL").is_some() {
        for pid in &pids {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            println!("  {} {:>7} KiB PSS", comm.trim(), pss_kib(&[*pid]));
            if std::env::var_os("LK_BENCH_SMAPS").is_some() {
                let smaps =
                    std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
                let mut by: std::collections::BTreeMap<String, u64> = Default::default();
                let mut kind = String::new();
                for line in smaps.lines() {
                    let first = line.split_whitespace().next().unwrap_or("");
                    if first.contains('-')
                        && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
                    {
                        let path = line.split_whitespace().nth(5).unwrap_or("[anon]");
                        kind = if path.starts_with('/') && !path.starts_with("/memfd") {
                            // LK_BENCH_SMAPS=libs: each library on its own line.
                            if path.contains(".so")
                                && std::env::var("LK_BENCH_SMAPS").as_deref() != Ok("libs")
                            {
                                "[libs]".into()
                            } else {
                                path.to_owned()
                            }
                        } else {
                            path.split(' ').next().unwrap_or(path).to_owned()
                        };
                    } else if let Some(v) = line.strip_prefix("Pss:") {
                        *by.entry(kind.clone()).or_default() += v
                            .split_whitespace()
                            .next()
                            .and_then(|n| n.parse().ok())
                            .unwrap_or(0);
                    }
                }
                for (k, v) in by.iter().filter(|(_, v)| **v > 1024) {
                    println!("      {k}: {v} KiB");
                }
            }
        }
    }
    // LK_BENCH_MARKS=1: where the page's time went (navigation timing and
    // the UI's own performance marks), in ms since navigation start.
    if std::env::var_os("LK_BENCH_MARKS").is_some() {
        let marks = app
            .execute(
                "const n = performance.getEntriesByType('navigation')[0] || {}; \
                 return JSON.stringify({response_end: n.responseEnd, dom_interactive: n.domInteractive, \
                 dom_content_loaded: n.domContentLoadedEventEnd, load: n.loadEventEnd, \
                 marks: performance.getEntriesByType('mark').map(m => [m.name, Math.round(m.startTime)]), \
                 ipc: performance.getEntriesByType('resource').filter(r => String(r.name).startsWith('ipc:')).map(r => [r.name.split('/').pop(), Math.round(r.startTime), Math.round(r.responseEnd)]), \
                 now: Math.round(performance.now())})",
            )
            .await;
        println!("  page: {}", marks.as_str().unwrap_or_default());
    }
    let sample = Sample {
        launch,
        pss_kib: pss_kib(&pids),
        processes: pids.len(),
    };
    app.close().await;
    sample
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("LK_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let app_bin = PathBuf::from(env!("CARGO_BIN_EXE_latchkey-desktop"));
    let bare_bin = app_bin
        .parent()
        .expect("target dir")
        .join("examples/bare_window");
    assert!(
        bare_bin.exists(),
        "build the baseline first: cargo build --release -p latchkey --example bare_window ({})",
        bare_bin.display()
    );
    // LK_BENCH_KEYS: another catalog size, to see what the keys cost.
    let keys: usize = std::env::var("LK_BENCH_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(KEYS);
    // Latchkey turns WebKit's GPU compositing off for its webview (main.rs);
    // a bare Tauri window keeps it. The target compares the two as shipped;
    // two like-for-like pairs show what the setting is worth on its own.
    const NO_COMPOSITING: &[(&str, &str)] = &[("WEBKIT_DISABLE_COMPOSITING_MODE", "1")];
    const APP_COMPOSITING: &[(&str, &str)] = &[("LATCHKEY_GPU_COMPOSITING", "1")];
    type Env = &'static [(&'static str, &'static str)];
    let pairs: [(&str, Env, Env); 3] = [
        ("as shipped (bare: WebKit defaults)", &[], &[]),
        ("both without GPU compositing", &[], NO_COMPOSITING),
        ("both with GPU compositing", APP_COMPOSITING, &[]),
    ];
    let only_shipped = std::env::var_os("LK_BENCH_SHIPPED_ONLY").is_some();
    for (label, app_env, bare_env) in pairs.iter().take(if only_shipped { 1 } else { 3 }) {
        let (mut app_t, mut bare_t, mut app_m, mut bare_m) = (vec![], vec![], vec![], vec![]);
        println!("== {label}");
        for round in 1..=rounds {
            let bare_dir = tempfile::tempdir().expect("dir");
            let bare = measure(
                &bare_bin,
                By::xpath("//p[@id='ready']"),
                bare_dir.path(),
                bare_env,
            )
            .await;
            let data = tempfile::tempdir().expect("dir");
            seed::seed(data.path(), keys);
            let app = measure(
                &app_bin,
                By::xpath("//div[@role='row' and @data-key-id]"),
                data.path(),
                app_env,
            )
            .await;
            println!(
                "round {round}: bare {:>6.0} ms {:>7} KiB PSS ({} procs) | latchkey {:>6.0} ms {:>7} KiB PSS ({} procs)",
                bare.launch.as_secs_f64() * 1e3,
                bare.pss_kib,
                bare.processes,
                app.launch.as_secs_f64() * 1e3,
                app.pss_kib,
                app.processes
            );
            bare_t.push(bare.launch.as_secs_f64());
            app_t.push(app.launch.as_secs_f64());
            bare_m.push(bare.pss_kib as f64);
            app_m.push(app.pss_kib as f64);
        }
        let (at, bt, am, bm) = (median(app_t), median(bare_t), median(app_m), median(bare_m));
        // Only the pair as shipped carries the targets; the others are there
        // to compare.
        let (t_target, m_target) = if app_env.is_empty() && bare_env.is_empty() {
            (" (target <= 1.30x)", " (target <= 1.20x)")
        } else {
            ("", "")
        };
        println!(
            "launch → rendered ({keys} keys), {label}: latchkey {:.0} ms vs bare {:.0} ms: {:.2}x{t_target}",
            at * 1e3,
            bt * 1e3,
            at / bt
        );
        println!(
            "PSS after 5 s, {label}: latchkey {:.0} MiB vs bare {:.0} MiB: {:.2}x{m_target}",
            am / 1024.0,
            bm / 1024.0,
            am / bm
        );
    }
}
