//! Rotations: start, resume, roll back, list.

use std::io::{IsTerminal, Write};

use latchkey_core::catalog::TargetSpec;
use latchkey_core::rotation::driver::{RotationRequest, RunOptions};
use latchkey_core::rotation::Strategy;
use latchkey_core::vault::{describe_in_the_way, KeyView};
use latchkey_core::{Error, Result, Vault};

use crate::output::{self, print_progress, report_end, EXIT_FAILED, EXIT_OK};

/// `latchkey rotate --rollback ID`.
pub async fn rollback(vault: &Vault, id: &str) -> Result<u8> {
    let view = vault.rollback_rotation(id, &print_progress).await?;
    eprintln!("{}", view.summary);
    Ok(EXIT_OK)
}

/// `latchkey rotate --reactivate ID`: the switched-off old key goes back on
/// and the rotation rolls back.
pub async fn reactivate(vault: &Vault, id: &str) -> Result<u8> {
    let view = vault.reactivate_rotation(id, &print_progress).await?;
    eprintln!("{}", view.summary);
    Ok(EXIT_OK)
}

/// What to run next after a held revoke.
fn hint(e: &Error, id: &str) {
    if e.code() == latchkey_core::ErrorCode::StillInUse {
        eprintln!(
            "The rotation is held before the old key goes. Once nothing uses it: latchkey rotate --resume {id}\nRevoke it anyway: latchkey rotate --resume {id} --force-revoke"
        );
    }
}

/// `--strategy NAME`: `deactivate-first` and `deactivate_first` alike.
fn parse_strategy(name: &str) -> Result<Strategy> {
    Strategy::parse(&name.trim().to_ascii_lowercase().replace('-', "_")).ok_or_else(|| {
        Error::invalid(
            "strategy",
            format!("Unknown strategy '{name}': use overlap, deactivate-first or roll-in-place"),
        )
    })
}

/// `latchkey rotate --resume [ID]` (no ID: every unfinished rotation that
/// no other process is running).
pub async fn resume(vault: &Vault, id: String, force_revoke: bool) -> Result<u8> {
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
        let options = RunOptions { force_revoke };
        match vault.run_rotation_with(&id, options, &print_progress).await {
            Ok(view) => report_end(&view),
            Err(e) => {
                hint(&e, &id);
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

/// A target as the CLI's `--target` spec writes it (a checklist, which has
/// no spec, as its items).
fn describe_target(t: &TargetSpec) -> String {
    match t {
        TargetSpec::Manual { items } => format!("by hand: {}", items.join(", ")),
        other => other.to_string(),
    }
}

/// The key and its targets from the command line: every spec is parsed
/// before the key is looked up (a typo is a usage error), a missing
/// variable is the key's own.
fn resolve_targets(
    vault: &Vault,
    name: &str,
    provider: Option<&str>,
    target: &[String],
    dotenv: &[String],
    follow_symlinks: bool,
) -> Result<(KeyView, Vec<TargetSpec>)> {
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
            "Name at least one place to put the key: --target dotenv:PATH[:VAR] or --dotenv PATH[:VAR]",
        ));
    }
    let targets = specs
        .into_iter()
        .map(|s| {
            s.with_default_var(&key.env_var)
                .map(|s| s.following_symlinks(follow_symlinks))
        })
        .collect::<Result<_>>()?;
    Ok((key, targets))
}

/// `latchkey deploy NAME --target SPEC…`: the current key into more places.
pub async fn deploy(
    vault: &Vault,
    name: &str,
    provider: Option<&str>,
    target: &[String],
    dotenv: &[String],
    follow_symlinks: bool,
    json: bool,
) -> Result<u8> {
    let (key, targets) = resolve_targets(vault, name, provider, target, dotenv, follow_symlinks)?;
    let done = vault.deploy_key(&key.id, targets).await?;
    if json {
        output::json(&done);
    } else {
        for d in &done {
            eprintln!("{}", d.message);
        }
        eprintln!(
            "\"{}\" is in {} more place(s); `latchkey targets {}` lists them all.",
            key.name,
            done.len(),
            key.name
        );
    }
    Ok(EXIT_OK)
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

/// What `latchkey rotate NAME …` was asked.
pub struct RotateArgs<'a> {
    pub name: &'a str,
    pub provider: Option<&'a str>,
    pub target: &'a [String],
    pub dotenv: &'a [String],
    pub yes: bool,
    pub follow_symlinks: bool,
    /// The other key to delete first when the service has no room.
    pub delete_other: Option<&'a str>,
    /// `--strategy`: the person's choice, else the safest the service can do.
    pub strategy: Option<&'a str>,
    /// `--force-revoke`: past the last-used guard.
    pub force_revoke: bool,
}

/// `latchkey rotate NAME --target SPEC… --dotenv PATH[:VAR]…`.
pub async fn rotate(vault: &Vault, args: RotateArgs<'_>) -> Result<u8> {
    let RotateArgs {
        name,
        provider,
        target,
        dotenv,
        yes,
        follow_symlinks,
        delete_other,
        strategy,
        force_revoke,
    } = args;
    let strategy = strategy.map(parse_strategy).transpose()?;
    let (key, targets) = resolve_targets(vault, name, provider, target, dotenv, follow_symlinks)?;
    let choices = vault.rotation_strategies(&key.id)?;
    let chosen = strategy
        .or_else(|| choices.first().map(|c| c.strategy))
        .unwrap_or(Strategy::Overlap);
    if let Some(c) = choices.iter().find(|c| c.strategy == chosen) {
        eprintln!("Strategy: {}. {}", c.label, c.description);
    }
    // A service with a key limit (AWS: two per user) may have no room for
    // the new key: name the keys in the way; delete one only when named.
    let in_the_way = vault.keys_in_the_way(&key.id).await?;
    let delete = match (in_the_way.is_empty(), delete_other) {
        (true, Some(_)) => {
            eprintln!("There is room for the new key; nothing else is deleted.");
            None
        }
        (true, None) => None,
        (false, None) => {
            return Err(Error::ProviderConflict(format!(
                "The service has no room for a new key. In the way: {}. Choose one to delete first with --delete-other KEY_ID",
                describe_in_the_way(&in_the_way)
            )))
        }
        (false, Some(other)) => Some(other),
    };
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::invalid(
                "yes",
                "Rotating needs a confirmation: run in a terminal, or pass --yes",
            ));
        }
        let first = delete.map(|d| format!("delete {d}, ")).unwrap_or_default();
        let steps = match chosen {
            Strategy::Overlap => "create a new key, update {n} target(s), verify, then revoke the old key",
            Strategy::DeactivateFirst => "create a new key, update {n} target(s), verify, then switch the old key off",
            Strategy::RollInPlace => "replace the key in one step (the old key stops working at once), then update {n} target(s) and verify",
        }
        .replace("{n}", &targets.len().to_string());
        eprint!(
            "Rotate \"{}\" ({}): {first}{steps}? [y/N] ",
            key.name, key.preview
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("Nothing was changed.");
            return Ok(EXIT_FAILED);
        }
    }
    if let Some(other) = delete {
        vault.delete_key_in_the_way(&key.id, other).await?;
        eprintln!("Deleted {other} on the service to make room for the new key.");
    }
    let plan = vault
        .plan_rotation_with(
            RotationRequest {
                key_id: key.id.clone(),
                targets,
            },
            strategy,
        )
        .await?;
    eprintln!("Rotation {} of \"{}\" started.", plan.id, key.name);
    for t in &plan.targets {
        if let Some(w) = &t.gitignore_warning {
            eprintln!("warning: {w}");
        }
    }
    let options = RunOptions { force_revoke };
    let view = vault
        .run_rotation_with(&plan.id, options, &print_progress)
        .await
        .inspect_err(|e| hint(e, &plan.id))?;
    report_end(&view);
    Ok(EXIT_OK)
}
