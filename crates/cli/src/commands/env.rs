//! The environment: check, run, import.

use std::path::{Path, PathBuf};

use latchkey_core::envs::EnvState;
use latchkey_core::{Error, Result, Vault};

use super::providers::only_provider;
use crate::output::{self, EXIT_CHECK_PROBLEMS, EXIT_FAILED, EXIT_OK};

/// `latchkey scan [DIR]`: where the vault's keys sit in a folder's files;
/// exit 6 when a file git tracks holds one.
pub fn scan(vault: &Vault, dir: Option<PathBuf>, json: bool) -> Result<u8> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let report = vault.scan_folder(&dir)?;
    if json {
        output::json(&report);
    } else {
        for h in &report.hits {
            let mut line = format!("{}:{}  \"{}\" ({})", h.path, h.line, h.key_name, h.service);
            if h.stale {
                line.push_str("  revoked or expired");
            }
            if h.tracked {
                line.push_str("  LEAKED: git tracks this file; rotate the key now");
            }
            println!("{line}");
        }
        eprintln!(
            "{} file(s) searched, {} over 1 MiB skipped, {} place(s) hold a vault key.",
            report.files_scanned,
            report.files_skipped,
            report.hits.len()
        );
    }
    Ok(if report.leaked() {
        EXIT_CHECK_PROBLEMS
    } else {
        EXIT_OK
    })
}

/// `latchkey check [DIR]`: exit 6 when a variable is not set, or set to a
/// revoked or unknown key.
pub fn check(vault: &Vault, dir: Option<PathBuf>, json: bool) -> Result<u8> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let env: Vec<(String, String)> = std::env::vars().collect();
    let checks = vault.check_env(&dir, &env)?;
    if json {
        output::json(&checks);
    } else {
        if checks.is_empty() {
            eprintln!(
                "No key in the vault is tagged with an environment variable (create --env-var)."
            );
        }
        for c in &checks {
            let (mark, word) = match c.state {
                EnvState::Set => ("✓", "set"),
                EnvState::NotSet => ("✗", "not set"),
                EnvState::Revoked => ("⚠", "set to a revoked key"),
                EnvState::Unknown => ("⚠", "set to an unknown key"),
            };
            let mut line = format!("{mark} {word:<22} {}", c.env_var);
            if let Some(name) = &c.key_name {
                line.push_str(&format!("  (\"{name}\")"));
            }
            if let Some(source) = &c.source {
                line.push_str(&format!("  from {source}"));
            }
            println!("{line}");
        }
    }
    Ok(if checks.iter().all(|c| c.state == EnvState::Set) {
        EXIT_OK
    } else {
        EXIT_CHECK_PROBLEMS
    })
}

/// `latchkey import FILE`.
pub async fn import(
    vault: &Vault,
    path: &Path,
    provider: Option<String>,
    vars: &[String],
    replace: bool,
    json: bool,
) -> Result<u8> {
    let provider = match provider {
        Some(p) => vault.find_provider(&p)?,
        None => only_provider(vault)?,
    };
    let outcomes = vault
        .import_dotenv(path, &provider.id, vars, replace)
        .await?;
    if json {
        output::json(&outcomes);
    } else {
        if outcomes.is_empty() {
            eprintln!(
                "No variable in {} looks like a key; name them with --var.",
                path.display()
            );
        }
        for o in &outcomes {
            println!("{}  {}", o.env_var, o.message);
        }
    }
    Ok(EXIT_OK)
}

pub fn run_child(vault: &Vault, env_file: Option<&Path>, command: &[String]) -> Result<u8> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| Error::invalid("command", "Name the command to run after --"))?;
    let mut child = std::process::Command::new(program);
    child.args(args);
    if let Some(file) = env_file {
        let values = dotenvy::from_path_iter(file).map_err(|_| {
            Error::invalid("env_file", format!("{} cannot be read", file.display()))
        })?;
        for (k, v) in values.filter_map(|r| r.ok()) {
            child.env(k, v);
        }
    }
    for (var, secret) in vault.secrets_for_env()? {
        child.env(var, secret.expose_secret());
    }
    let status = child.status().map_err(|e| {
        Error::invalid(
            "command",
            format!("Could not start {program}: {}", e.kind()),
        )
    })?;
    Ok(match status.code() {
        Some(code) => u8::try_from(code).unwrap_or(EXIT_FAILED),
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                status
                    .signal()
                    .and_then(|s| u8::try_from(128 + s).ok())
                    .unwrap_or(EXIT_FAILED)
            }
            #[cfg(not(unix))]
            EXIT_FAILED
        }
    })
}
