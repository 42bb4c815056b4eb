//! The bare window (`examples/bare_window.rs`) the launch and size benches
//! compare the app against, and the check that it was built from the
//! sources and profile at hand.

use std::path::{Path, PathBuf};

/// Refuses a baseline older than what it is built from: a stale bare window
/// would compare this build against another one. The bench never builds it
/// (a build inside the run would load the machine it measures).
pub fn check_fresh(bare_bin: &Path) {
    let rebuild = "cargo build --release -p latchkey --example bare_window";
    let built = std::fs::metadata(bare_bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "the baseline {} is missing: build it with `{rebuild}` (same CARGO_TARGET_DIR)",
                bare_bin.display()
            )
        });
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = crate_dir.parent().expect("workspace");
    // What the example is compiled from. `ui/dist` is left out: it is
    // embedded (same config) but never served by the bare window.
    let mut sources: Vec<PathBuf> = [
        "examples/bare_window.rs",
        "examples/bare.html",
        "Cargo.toml",
        "build.rs",
        "tauri.conf.json",
    ]
    .iter()
    .map(|f| crate_dir.join(f))
    .chain([workspace.join("Cargo.lock"), workspace.join("Cargo.toml")])
    .collect();
    for dir in ["capabilities", "permissions"] {
        sources.extend(
            std::fs::read_dir(crate_dir.join(dir))
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path()),
        );
    }
    for source in sources {
        let changed = std::fs::metadata(&source)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        assert!(
            changed <= built,
            "the baseline {} is older than {}: rebuild it with `{rebuild}` (same CARGO_TARGET_DIR), then run the bench again",
            bare_bin.display(),
            source.display()
        );
    }
}
