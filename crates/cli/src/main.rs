//! `latchkey`: the desktop vault from a shell. Same keychain entries, same
//! catalog (`LATCHKEY_DATA_DIR` overrides the data directory for both), same
//! error codes; every operation is a `latchkey-core` call. Secrets go to
//! stdout only where asked for (`create` without `--copy`) and to a child's
//! environment (`run`); never to stderr, logs or `--json` of read commands.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

/// Every freed heap block is wiped (see `latchkey_core::harden`).
#[global_allocator]
static ALLOC: latchkey_core::harden::ZeroOnFree = latchkey_core::harden::ZERO_ON_FREE;

fn main() -> ExitCode {
    latchkey_core::harden::process();
    latchkey_core::rotation::driver::setup_failpoints();
    let args = args::Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("latchkey: cannot start: {e}");
            return ExitCode::from(output::EXIT_FAILED);
        }
    };
    let json = args.json_errors();
    let code = match runtime.block_on(commands::run(args)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            output::error(&e, json);
            ExitCode::from(output::exit_code(&e))
        }
    };
    drop(runtime);
    test_pause_before_exit();
    code
}

/// Test-only pause point (debug builds only; release builds ignore it):
/// with `LATCHKEY_TEST_PAUSE_BEFORE_EXIT=<file>`, once the command is done
/// and its runtime dropped, the CLI creates `<file>` and waits (up to 60 s)
/// until the test removes it, so crates/cli/tests/memory_canary.rs can scan
/// the process's memory for keys before it exits.
fn test_pause_before_exit() {
    if !cfg!(debug_assertions) {
        return;
    }
    let Some(marker) = std::env::var_os("LATCHKEY_TEST_PAUSE_BEFORE_EXIT") else {
        return;
    };
    if std::fs::write(&marker, b"paused").is_err() {
        return;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::path::Path::new(&marker).exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
