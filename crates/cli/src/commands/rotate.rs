//! Rotations: start, resume, roll back, list.

use std::io::{IsTerminal, Write};

use latchkey_core::catalog::TargetSpec;
use latchkey_core::rotation::driver::RotationRequest;
use latchkey_core::{Error, Result, Vault};

use crate::output::{self, print_progress, report_end, EXIT_FAILED, EXIT_OK};

/// `latchkey rotate --rollback ID`.
pub async fn rollback(vault: &Vault, id: &str) -> Result<u8> {
    let view = vault.rollback_rotation(id, &print_progress).await?;
    eprintln!("{}", view.summary);
    Ok(EXIT_OK)
}

/// `latchkey rotate --resume [ID]` (no ID: every unfinished rotation that
/// no other process is running).
pub async fn resume(vault: &Vault, id: String) -> Result<u8> {
    let ids: Vec<String> = if id.is_empty() {
        let (elsewhere, here): (Vec<_>, Vec<_>) = vault
            .unfinished_rotations()?
            .into_iter()
            .partition(|r| r.held_elsewhere);
        for r in &elsewhere {
            eprintln!(
                "Skipping rotation {} of \"{}\": it is running in another Latchkey window or terminal.",
                r.id, r.old_key_name
            );
        }
        if here.is_empty() && elsewhere.is_empty() {
            eprintln!("No unfinished rotations.");
        }
        here.into_iter().map(|r| r.id).collect()
    } else {
        vec![id]
    };
    let mut worst = EXIT_OK;
    for id in ids {
        eprintln!("Resuming rotation {id}");
        match vault.run_rotation(&id, &print_progress).await {
            Ok(view) => report_end(&view),
            Err(e) => {
                output::error(&e, false);
                worst = worst.max(output::exit_code(&e));
            }
        }
    }
    Ok(worst)
}

/// `latchkey rotations`.
/// `latchkey targets NAME`: where the key's rotations deployed it.
pub fn targets(vault: &Vault, name: &str, provider: Option<&str>, json: bool) -> Result<u8> {
    let key = vault.find_key(name, provider)?;
    let details = vault.key_details(&key.id)?;
    if json {
        output::json(&details.targets);
    } else if details.targets.is_empty() {
        eprintln!("\"{}\" has not been deployed by a rotation yet.", key.name);
    } else {
        for t in &details.targets {
            println!("{}", describe_target(t));
        }
    }
    Ok(EXIT_OK)
}

/// A target as the CLI's `--target` spec writes it.
fn describe_target(t: &TargetSpec) -> String {
    match t {
        TargetSpec::Dotenv { path, var, .. } => format!("dotenv:{path}:{var}"),
        TargetSpec::Manual { items } => format!("by hand: {}", items.join(", ")),
        other => other.to_string(),
    }
}

pub fn rotations(vault: &Vault, json: bool) -> Result<u8> {
    let all = vault.rotations()?;
    if json {
        output::json(&all);
    } else {
        let rows: Vec<Vec<String>> = all
            .iter()
            .map(|r| {
                vec![
                    r.id.clone(),
                    r.old_key_name.clone(),
                    r.provider_name.clone(),
                    r.state.as_str().to_owned(),
                    if r.unfinished {
                        "unfinished"
                    } else {
                        "finished"
                    }
                    .to_owned(),
                    r.updated_at.clone(),
                ]
            })
            .collect();
        output::table(&["ID", "KEY", "PROVIDER", "STATE", "", "UPDATED"], &rows);
    }
    Ok(EXIT_OK)
}

/// `latchkey rotate NAME --target SPEC… --dotenv PATH[:VAR]…`.
pub async fn rotate(
    vault: &Vault,
    name: &str,
    provider: Option<&str>,
    target: &[String],
    dotenv: &[String],
    yes: bool,
    follow_symlinks: bool,
) -> Result<u8> {
    // Every spec is checked before anything else: a typo is a usage error.
    let specs: Vec<TargetSpec> = target
        .iter()
        .cloned()
        .chain(dotenv.iter().map(|d| format!("dotenv:{d}")))
        .map(|s| s.parse::<TargetSpec>())
        .collect::<Result<_>>()?;
    let key = vault.find_key(name, provider)?;
    if specs.is_empty() {
        return Err(Error::invalid(
            "target",
            "Name at least one place to put the new key: --target dotenv:PATH[:VAR] or --dotenv PATH[:VAR]",
        ));
    }
    let targets: Vec<TargetSpec> = specs
        .into_iter()
        .map(|s| {
            s.with_default_var(&key.env_var)
                .map(|s| s.following_symlinks(follow_symlinks))
        })
        .collect::<Result<_>>()?;
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::invalid(
                "yes",
                "Rotating needs a confirmation: run in a terminal, or pass --yes",
            ));
        }
        eprint!(
            "Rotate \"{}\" ({}): create a new key, update {} target(s), verify, then revoke the old key? [y/N] ",
            key.name,
            key.preview,
            targets.len()
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("Nothing was changed.");
            return Ok(EXIT_FAILED);
        }
    }
    let plan = vault.plan_rotation(RotationRequest {
        key_id: key.id.clone(),
        targets,
    })?;
    eprintln!("Rotation {} of \"{}\" started.", plan.id, key.name);
    for t in &plan.targets {
        if let Some(w) = &t.gitignore_warning {
            eprintln!("warning: {w}");
        }
    }
    let view = vault.run_rotation(&plan.id, &print_progress).await?;
    report_end(&view);
    Ok(EXIT_OK)
}
