//! Benchmark: the release binary's size against the bare Tauri window built
//! with the same profile (`examples/bare_window.rs`). Target: ≤ 1.5×.
//!
//! The app binary is the one cargo builds for this bench (the bench profile
//! inherits the release profile unchanged, see the root Cargo.toml), so it is
//! always current. The bare window is not built here: the bench refuses a
//! missing or stale one (older than its sources, Cargo.lock or the profile),
//! as the launch bench does.
//!
//! ```sh
//! cargo build --release -p latchkey --example bare_window
//! cargo bench -p latchkey --bench size
//! ```

#[path = "baseline/mod.rs"]
mod baseline;

use std::path::{Path, PathBuf};

const TARGET: f64 = 1.5;

fn size(binary: &Path) -> u64 {
    std::fs::metadata(binary)
        .unwrap_or_else(|e| panic!("{}: {e}", binary.display()))
        .len()
}

fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1_000_000.0)
}

fn main() {
    let app_bin = PathBuf::from(env!("CARGO_BIN_EXE_latchkey-desktop"));
    let bare_bin = app_bin
        .parent()
        .expect("target dir")
        .join("examples/bare_window");
    baseline::check_fresh(&bare_bin);
    let (app, bare) = (size(&app_bin), size(&bare_bin));
    let ratio = app as f64 / bare as f64;
    println!("latchkey-desktop  {:>10}  ({app} bytes)", mb(app));
    println!("bare_window       {:>10}  ({bare} bytes)", mb(bare));
    println!(
        "ratio {ratio:.2}× (target ≤ {TARGET}×): {}",
        if ratio <= TARGET { "met" } else { "NOT met" }
    );
}
