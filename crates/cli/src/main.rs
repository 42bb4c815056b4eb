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
    match runtime.block_on(commands::run(args)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            output::error(&e, json);
            ExitCode::from(output::exit_code(&e))
        }
    }
}
