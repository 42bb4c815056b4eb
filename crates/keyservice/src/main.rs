//! `latchkey-keyservice`: runs the reference key service until SIGINT/SIGTERM.
//! Prints one JSON line once it accepts connections; never prints a key.
#![forbid(unsafe_code)]

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use latchkey_keyservice::{model::random_token, start, Config, RateLimit};

/// The reference key service of Latchkey (see shared/keyservice-api.md).
#[derive(Debug, Parser)]
#[command(name = "latchkey-keyservice", version, about)]
struct Args {
    /// Address to listen on; loopback only unless --public.
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: String,
    /// Admin bearer token; a random one is generated (and printed) when omitted.
    /// Visible in the process list: prefer --admin-token-file.
    #[arg(long, conflicts_with = "admin_token_file")]
    admin_token: Option<String>,
    /// Read the admin token from FILE (surrounding whitespace trimmed), so it
    /// is not on the command line. The file must not be empty.
    #[arg(long, value_name = "PATH")]
    admin_token_file: Option<PathBuf>,
    /// Keep state in FILE across restarts (never the full keys).
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Enable POST /__chaos fault injection (tests only).
    #[arg(long)]
    chaos: bool,
    /// Allow listening on a non-loopback address.
    #[arg(long)]
    public: bool,
    /// Requests per second each API key may make.
    #[arg(long, default_value_t = 20.0)]
    rate_limit: f64,
    /// Burst size of each API key's token bucket.
    #[arg(long, default_value_t = 40.0)]
    burst: f64,
}

fn resolve(listen: &str, public: bool) -> Result<SocketAddr, String> {
    let addrs: Vec<SocketAddr> = listen
        .to_socket_addrs()
        .map_err(|e| format!("cannot use --listen {listen}: {e}"))?
        .collect();
    let addr = *addrs
        .first()
        .ok_or_else(|| format!("--listen {listen} resolves to no address"))?;
    if !public && addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(format!(
            "refusing to listen on {listen}: not a loopback address (pass --public to allow it)"
        ));
    }
    Ok(addr)
}

/// The admin token kept in `path`: its text, trimmed; never an empty one.
/// Errors name the file, never its content.
fn read_token_file(path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read the admin token from --admin-token-file {}: {e}",
            path.display()
        )
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!(
            "--admin-token-file {} is empty: put the admin token in it",
            path.display()
        ));
    }
    Ok(token.to_owned())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let addr = match resolve(&args.listen, args.public) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("latchkey-keyservice: {e}");
            return ExitCode::from(2);
        }
    };
    let valid_rate = |v: f64| v.is_finite() && v > 0.0;
    if !valid_rate(args.rate_limit) || !valid_rate(args.burst) || args.burst < 1.0 {
        eprintln!("latchkey-keyservice: --rate-limit must be > 0 and --burst >= 1");
        return ExitCode::from(2);
    }
    let admin_token = match (&args.admin_token, &args.admin_token_file) {
        (Some(token), _) => token.clone(),
        (None, Some(path)) => match read_token_file(path) {
            Ok(token) => token,
            Err(e) => {
                eprintln!("latchkey-keyservice: {e}");
                return ExitCode::from(2);
            }
        },
        (None, None) => random_token(),
    };
    let mut config = Config::new(admin_token.clone());
    config.data_file = args.data.clone();
    config.chaos = args.chaos;
    config.public = args.public;
    config.rate_limit = RateLimit {
        per_second: args.rate_limit,
        burst: args.burst,
    };
    let listener = match std::net::TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("latchkey-keyservice: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    let (bound, handle) = match start(listener, config).await {
        Ok(started) => started,
        Err(e) => {
            eprintln!("latchkey-keyservice: {e}");
            return ExitCode::from(1);
        }
    };
    println!(
        "{}",
        serde_json::json!({ "listening": bound.to_string(), "admin_token": admin_token })
    );
    wait_for_signal().await;
    handle.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
