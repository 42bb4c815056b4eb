//! The commands. Each one opens the vault, makes one or two core calls and
//! prints the result.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use latchkey_core::catalog::{Actor, AuditCheck, TargetSpec, TargetStatus};
use latchkey_core::clipboard::ClearOutcome;
use latchkey_core::envs::EnvState;
use latchkey_core::rotation::driver::{RotationRequest, RotationView};
use latchkey_core::session::Demo;
use latchkey_core::vault::{NewKey, NewProvider};
use latchkey_core::{Error, Result, Secret, Vault};

use crate::output::{self, or_dash, EXIT_CHECK_PROBLEMS, EXIT_FAILED, EXIT_OK};

const EXAMPLES: &str = "\
Examples:
  latchkey list
  echo \"$ADMIN_TOKEN\" | latchkey providers add --kind keyservice --name acme \\
      --base-url https://keys.example.com --project web
  latchkey create --provider acme --name ci-deploy --env-var ACME_API_KEY --scope read --copy
  latchkey copy ci-deploy
  latchkey rotate ci-deploy --dotenv .env:ACME_API_KEY --yes
  latchkey rotate --resume
  latchkey check .
  latchkey run -- npm test
  latchkey import .env --provider acme
  latchkey settings --clipboard-clear-secs 20 --rotation-policy-days 60
  latchkey audit verify

Exit codes:
  0  success
  1  the operation failed (the service refused, a file changed, a rollback)
  2  bad usage or input (unknown or ambiguous name, invalid value)
  3  the keychain is locked, missing or not persistent
  4  a provider could not be reached or answered badly
  5  the key already has an unfinished rotation
  6  check: a variable is not set, or set to a revoked or unknown key
  7  audit verify: the audit log was altered, cut short or cannot be checked
  run exits with the command's own exit code.

Errors print as `latchkey: <message> [<code>]` (with --json: {\"error\":{\"code\",\"message\"}}
on stderr); the codes are the desktop app's. LATCHKEY_DATA_DIR overrides the data
directory, LATCHKEY_CLIPBOARD_CLEAR_SECS the clipboard timeout over the settings' value
(default 30).";

/// Latchkey: your API keys, from a shell. Shares the keychain and catalog
/// with the desktop app.
#[derive(Debug, Parser)]
#[command(name = "latchkey", version, after_help = EXAMPLES)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

impl Args {
    /// Whether errors should be JSON (the command was given `--json`).
    pub fn json_errors(&self) -> bool {
        match &self.command {
            Command::List { json }
            | Command::Rotations { json }
            | Command::Check { json, .. }
            | Command::Import { json, .. }
            | Command::Settings { json, .. } => *json,
            Command::Providers {
                command: ProvidersCommand::List { json },
            } => *json,
            Command::Create { json, .. } => *json,
            Command::Audit { json, command, .. } => {
                *json
                    || matches!(
                        command,
                        Some(AuditCommand::Verify { json: true })
                            | Some(AuditCommand::List { json: true, .. })
                    )
            }
            _ => false,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every key across providers (synced with each provider first).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Creates a key on a provider and saves it in the keychain. Prints it
    /// once on stdout, unless --copy puts it on the clipboard instead.
    Create {
        #[arg(long)]
        provider: String,
        #[arg(long)]
        name: String,
        /// The environment variable the key is meant for (check, run, rotate).
        #[arg(long)]
        env_var: Option<String>,
        /// A permission; repeat for several.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// A label such as production or staging.
        #[arg(long)]
        environment: Option<String>,
        #[arg(long)]
        copy: bool,
        #[arg(long)]
        json: bool,
    },
    /// Copies a key to the clipboard and stays until it is cleared.
    Copy {
        name: String,
        #[arg(long)]
        provider: Option<String>,
    },
    /// Revokes a key on its service and confirms the service rejects it.
    Revoke {
        name: String,
        #[arg(long)]
        provider: Option<String>,
    },
    /// Provider connections.
    Providers {
        #[command(subcommand)]
        command: ProvidersCommand,
    },
    /// Rotates a key: create → deploy → verify → revoke, resumable.
    Rotate {
        /// The key to rotate.
        #[arg(required_unless_present_any = ["resume", "rollback"], conflicts_with_all = ["resume", "rollback"])]
        name: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        /// A .env file to update, optionally with the variable (default: the
        /// key's --env-var). Repeat for several files.
        #[arg(long = "dotenv", value_name = "PATH[:VAR]")]
        dotenv: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Write through a .env that is a symbolic link, to the file it
        /// points to (the link is kept). Without it such a file is refused.
        #[arg(long)]
        follow_symlinks: bool,
        /// Resume an unfinished rotation (no ID: every unfinished one).
        #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "")]
        resume: Option<String>,
        /// Roll an unfinished rotation back.
        #[arg(long, value_name = "ID")]
        rollback: Option<String>,
    },
    /// Unfinished and past rotations.
    Rotations {
        #[arg(long)]
        json: bool,
    },
    /// Which of the vault's variables are set here (environment and .env files).
    Check {
        dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Runs a command with the vault's keys in its environment.
    Run {
        /// Also load this .env file (the vault's keys win).
        #[arg(long)]
        env_file: Option<PathBuf>,
        #[arg(last = true, required = true, value_name = "CMD ARGS")]
        command: Vec<String>,
    },
    /// Brings a .env file's keys under management (named after their variables).
    Import {
        path: PathBuf,
        #[arg(long)]
        provider: Option<String>,
        /// Import only this variable; repeat for several (default: those that look like keys).
        #[arg(long = "var")]
        vars: Vec<String>,
        /// Let a pasted key take the place of a secret the vault holds for
        /// the same key on the service (it must pass the service's check).
        #[arg(long)]
        replace: bool,
        #[arg(long)]
        json: bool,
    },
    /// Shows the settings shared with the desktop app; the options change them.
    Settings {
        /// Seconds before a copied key is cleared (5 to 600).
        #[arg(long, value_name = "SECS")]
        clipboard_clear_secs: Option<u32>,
        /// Days after which a key is due for rotation (1 to 3650).
        #[arg(long, value_name = "DAYS")]
        rotation_policy_days: Option<u32>,
        /// The daily desktop reminder about keys due for rotation.
        #[arg(long, value_parser = ["on", "off"])]
        reminders: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The audit log: recent entries (no subcommand), or `verify`.
    Audit {
        #[command(subcommand)]
        command: Option<AuditCommand>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

/// `latchkey audit`: the audit log shared with the desktop app.
#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Checks every entry's signature, that none is missing, and the log
    /// against its head. Exit 0 when verified, 7 otherwise.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// The most recent entries, newest first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ProvidersCommand {
    /// Adds a connection. The admin token is read from LATCHKEY_ADMIN_TOKEN
    /// or stdin, never from an argument.
    Add {
        #[arg(long, value_parser = ["keyservice"])]
        kind: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        base_url: String,
        #[arg(long)]
        project: String,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    /// Tests a connection with an authenticated call.
    Test { name: String },
}

pub async fn run(args: Args) -> Result<u8> {
    let session = latchkey_core::session::open(Actor::Cli, Demo::WhenDown).await?;
    let vault = session.vault.as_ref();
    match args.command {
        Command::List { json } => list(vault, json).await,
        Command::Create {
            provider,
            name,
            env_var,
            scopes,
            expires_in_days,
            environment,
            copy,
            json,
        } => {
            let provider = vault.find_provider(&provider)?;
            let created = vault
                .create_key_revealable(NewKey {
                    provider_id: provider.id,
                    name,
                    scopes,
                    expires_in_days,
                    environment: environment.unwrap_or_default(),
                    env_var: env_var.unwrap_or_default(),
                })
                .await?;
            let key = created.key;
            if copy {
                let timer = vault.copy_key(&key.id)?;
                if json {
                    output::json(&key);
                }
                eprintln!(
                    "Created \"{}\" ({}) and saved it in the keychain; copied, clears in {} s.",
                    key.name,
                    key.preview,
                    timer.after().as_secs()
                );
                wait_clear(timer);
            } else {
                let secret = vault.reveal_key(&key.id, &created.reveal_grant)?;
                if json {
                    let mut value = serde_json::to_value(&key).unwrap_or_default();
                    value["secret"] = serde_json::Value::String(secret.expose_secret().to_owned());
                    output::json(&value);
                } else {
                    println!("{}", secret.expose_secret());
                }
                eprintln!(
                    "Created \"{}\" ({}) and saved it in the keychain. The key above is shown once.",
                    key.name, key.preview
                );
            }
            Ok(EXIT_OK)
        }
        Command::Copy { name, provider } => {
            let key = vault.find_key(&name, provider.as_deref())?;
            let timer = vault.copy_key(&key.id)?;
            eprintln!(
                "Copied \"{}\" ({}). The clipboard clears in {} s; keep this running until then.",
                key.name,
                key.preview,
                timer.after().as_secs()
            );
            wait_clear(timer);
            Ok(EXIT_OK)
        }
        Command::Revoke { name, provider } => {
            let key = vault.find_key(&name, provider.as_deref())?;
            let key = vault.revoke_key(&key.id).await?;
            eprintln!("Revoked \"{}\"; the service now rejects it.", key.name);
            Ok(EXIT_OK)
        }
        Command::Providers { command } => providers(vault, command).await,
        Command::Rotate {
            name,
            provider,
            dotenv,
            yes,
            follow_symlinks,
            resume,
            rollback,
        } => {
            if let Some(id) = rollback {
                let view = vault.rollback_rotation(&id, &print_progress).await?;
                eprintln!("{}", view.summary);
                return Ok(EXIT_OK);
            }
            if let Some(id) = resume {
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
                return Ok(worst);
            }
            let name = name.unwrap_or_default();
            rotate(
                vault,
                &name,
                provider.as_deref(),
                &dotenv,
                yes,
                follow_symlinks,
            )
            .await
        }
        Command::Settings {
            clipboard_clear_secs,
            rotation_policy_days,
            reminders,
            json,
        } => {
            let mut settings = vault.settings()?;
            let changing = clipboard_clear_secs.is_some()
                || rotation_policy_days.is_some()
                || reminders.is_some();
            if changing {
                settings.clipboard_clear_secs =
                    clipboard_clear_secs.unwrap_or(settings.clipboard_clear_secs);
                settings.rotation_policy_days =
                    rotation_policy_days.unwrap_or(settings.rotation_policy_days);
                if let Some(r) = reminders {
                    settings.rotation_reminders = r == "on";
                }
                settings = vault.update_settings(settings)?;
            }
            if json {
                output::json(&settings);
            } else {
                println!(
                    "clipboard-clear-secs  {}{}",
                    settings.clipboard_clear_secs,
                    if vault.clear_after_overridden() {
                        " (LATCHKEY_CLIPBOARD_CLEAR_SECS overrides it here)"
                    } else {
                        ""
                    }
                );
                println!("rotation-policy-days  {}", settings.rotation_policy_days);
                println!("reminders             {}", settings.reminders_word());
            }
            Ok(EXIT_OK)
        }
        Command::Rotations { json } => {
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
        Command::Check { dir, json } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("."));
            let env: Vec<(String, String)> = std::env::vars().collect();
            let checks = vault.check_env(&dir, &env)?;
            if json {
                output::json(&checks);
            } else {
                if checks.is_empty() {
                    eprintln!("No key in the vault is tagged with an environment variable (create --env-var).");
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
        Command::Audit {
            command,
            limit,
            json,
        } => audit(vault, command, limit, json),
        Command::Run { env_file, command } => run_child(vault, env_file.as_deref(), &command),
        Command::Import {
            path,
            provider,
            vars,
            replace,
            json,
        } => {
            let provider = match provider {
                Some(p) => vault.find_provider(&p)?,
                None => only_provider(vault)?,
            };
            let outcomes = vault
                .import_dotenv(&path, &provider.id, &vars, replace)
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
    }
}

/// `latchkey audit [list|verify]`.
fn audit(vault: &Vault, command: Option<AuditCommand>, limit: usize, json: bool) -> Result<u8> {
    let (limit, json) = match command {
        Some(AuditCommand::Verify { json: verify_json }) => {
            let check = AuditCheck::from(vault.verify_audit()?);
            if json || verify_json {
                output::json(&check);
            } else if check.verified {
                println!("{}", check.message);
            } else {
                eprintln!("latchkey: {}", check.message);
            }
            return Ok(if check.verified {
                EXIT_OK
            } else {
                output::EXIT_AUDIT_BROKEN
            });
        }
        Some(AuditCommand::List { limit, json: j }) => (limit, json || j),
        None => (limit, json),
    };
    let entries = vault.audit_log(limit)?;
    if json {
        output::json(&entries);
    } else {
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|e| {
                vec![
                    e.seq.to_string(),
                    e.at.clone(),
                    if e.actor.is_empty() {
                        "—".into()
                    } else {
                        e.actor.clone()
                    },
                    e.action.clone(),
                    e.detail.clone(),
                ]
            })
            .collect();
        output::table(&["SEQ", "AT", "BY", "ACTION", "WHAT"], &rows);
    }
    Ok(EXIT_OK)
}

fn wait_clear(timer: latchkey_core::clipboard::ClearTimer) {
    match timer.wait() {
        ClearOutcome::Cleared => eprintln!("Clipboard cleared."),
        ClearOutcome::ChangedByUser => {
            eprintln!("The clipboard holds something else now; left as it is.")
        }
        ClearOutcome::Superseded => eprintln!("A newer copy took over the clipboard."),
        ClearOutcome::Failed => eprintln!("Could not clear the clipboard; clear it by hand."),
    }
}

async fn list(vault: &Vault, json: bool) -> Result<u8> {
    let listing = vault.list_keys().await?;
    for w in &listing.warnings {
        eprintln!("latchkey: {}: {} [{}]", w.provider_name, w.message, w.code);
    }
    if json {
        output::json(&listing);
        return Ok(EXIT_OK);
    }
    let rows: Vec<Vec<String>> = listing
        .keys
        .iter()
        .map(|k| {
            vec![
                k.name.clone(),
                k.provider_name.clone(),
                k.preview.clone(),
                k.scopes.join(","),
                k.environment.clone(),
                k.env_var.clone(),
                or_dash(&k.created_at),
                or_dash(&k.expires_at),
                or_dash(&k.last_used_at),
                serde_json::to_value(k.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    output::table(
        &[
            "NAME",
            "PROVIDER",
            "KEY",
            "SCOPES",
            "ENV",
            "VAR",
            "CREATED",
            "EXPIRES",
            "LAST USED",
            "STATUS",
        ],
        &rows,
    );
    Ok(EXIT_OK)
}

fn read_admin_token() -> Result<Secret> {
    if let Ok(token) = std::env::var("LATCHKEY_ADMIN_TOKEN") {
        if !token.trim().is_empty() {
            return Ok(Secret::new(token.trim()));
        }
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Admin token (input is not hidden; prefer piping it): ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        stdin
            .read_line(&mut line)
            .map_err(|_| Error::invalid("admin_token", "Could not read the admin token"))?;
        return Ok(Secret::new(line.trim()));
    }
    let mut all = String::new();
    stdin
        .lock()
        .read_to_string(&mut all)
        .map_err(|_| Error::invalid("admin_token", "Could not read the admin token from stdin"))?;
    Ok(Secret::new(all.trim()))
}

async fn providers(vault: &Vault, command: ProvidersCommand) -> Result<u8> {
    match command {
        ProvidersCommand::Add {
            kind: _,
            name,
            base_url,
            project,
        } => {
            let admin_token = read_admin_token()?;
            let p = vault.add_provider(NewProvider {
                name,
                base_url,
                admin_token,
                project,
            })?;
            eprintln!(
                "Added provider \"{}\"; its admin token is in the keychain.",
                p.name
            );
            match vault.test_provider(&p.id).await {
                Ok(()) => eprintln!("Connection test passed."),
                Err(e) => eprintln!("Connection test failed: {e} [{}]", e.code()),
            }
            Ok(EXIT_OK)
        }
        ProvidersCommand::List { json } => {
            let all = vault.providers()?;
            if json {
                output::json(&all);
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|p| {
                        vec![
                            p.name.clone(),
                            p.kind.as_str().to_owned(),
                            p.base_url.clone(),
                            p.project.clone(),
                        ]
                    })
                    .collect();
                output::table(&["NAME", "KIND", "BASE URL", "PROJECT"], &rows);
            }
            Ok(EXIT_OK)
        }
        ProvidersCommand::Test { name } => {
            let p = vault.find_provider(&name)?;
            vault.test_provider(&p.id).await?;
            eprintln!("\"{}\": connection test passed.", p.name);
            Ok(EXIT_OK)
        }
    }
}

fn only_provider(vault: &Vault) -> Result<latchkey_core::vault::ProviderView> {
    let mut all = vault.providers()?;
    let real: Vec<_> = all.iter().filter(|p| !p.is_demo).cloned().collect();
    match (real.len(), all.len()) {
        (1, _) => Ok(real[0].clone()),
        (0, 1) => Ok(all.remove(0)),
        _ => Err(Error::invalid(
            "provider",
            "Several providers are set up; choose one with --provider NAME",
        )),
    }
}

fn print_progress(view: &RotationView) {
    let targets: Vec<String> = view
        .targets
        .iter()
        .map(|t| {
            let label = match &t.spec {
                TargetSpec::Dotenv { path, var, .. } => format!("{var} in {path}"),
                TargetSpec::Manual { items } => format!("checklist ({} items)", items.len()),
            };
            let status = serde_json::to_value(t.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{label}: {status}")
        })
        .collect();
    eprintln!(
        "[{}] {}{}",
        view.state.as_str(),
        view.summary,
        if targets.is_empty() {
            String::new()
        } else {
            format!(" ({})", targets.join("; "))
        }
    );
}

fn report_end(view: &RotationView) {
    eprintln!("Rotation {}: {}", view.id, view.summary);
    if view.needs.is_some() {
        eprintln!(
            "This step is done by hand in the service's dashboard{}: finish it in the desktop app's Rotate wizard.",
            view.dashboard_url
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        );
    }
    if view
        .targets
        .iter()
        .any(|t| t.status == TargetStatus::AwaitingConfirmation)
    {
        eprintln!(
            "Finish the checklist in the desktop app, then run: latchkey rotate --resume {}",
            view.id
        );
    }
}

async fn rotate(
    vault: &Vault,
    name: &str,
    provider: Option<&str>,
    dotenv: &[String],
    yes: bool,
    follow_symlinks: bool,
) -> Result<u8> {
    let key = vault.find_key(name, provider)?;
    if dotenv.is_empty() {
        return Err(Error::invalid(
            "dotenv",
            "Name at least one .env file to update: --dotenv PATH[:VAR]",
        ));
    }
    let mut targets = Vec::new();
    for spec in dotenv {
        let (path, var) = split_target(spec, &key.env_var)?;
        targets.push(TargetSpec::Dotenv {
            path,
            var,
            follow_symlink: follow_symlinks,
        });
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::invalid(
                "yes",
                "Rotating needs a confirmation: run in a terminal, or pass --yes",
            ));
        }
        eprint!(
            "Rotate \"{}\" ({}): create a new key, update {} file(s), verify, then revoke the old key? [y/N] ",
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

/// `PATH[:VAR]`; VAR defaults to the key's variable.
fn split_target(spec: &str, default_var: &str) -> Result<(String, String)> {
    let (path, var) = match spec.rsplit_once(':') {
        Some((p, v))
            if !p.is_empty()
                && !v.is_empty()
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            (p.to_owned(), v.to_owned())
        }
        _ => (spec.to_owned(), default_var.to_owned()),
    };
    if var.is_empty() {
        return Err(Error::invalid(
            "dotenv",
            format!("Say which variable in {path} holds the key: --dotenv {path}:VAR"),
        ));
    }
    Ok((path, var))
}

fn run_child(vault: &Vault, env_file: Option<&Path>, command: &[String]) -> Result<u8> {
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
