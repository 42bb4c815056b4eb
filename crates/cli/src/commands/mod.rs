//! The commands' bodies, one module per group. Each opens nothing itself:
//! `run` opens the vault once (the same way the desktop app does), then
//! hands it to one function that makes one or two core calls and prints
//! through `output`.

mod audit;
mod completions;
mod env;
mod keys;
mod providers;
mod rotate;
mod settings;

use latchkey_core::catalog::Actor;
use latchkey_core::session::{self, Demo};
use latchkey_core::vault::NewKey;
use latchkey_core::Result;

use crate::args::{Args, Command};

pub async fn run(args: Args) -> Result<u8> {
    // Before the vault opens: a shell's startup file may run it, with the
    // keychain locked or absent.
    if let Command::Completions { shell } = args.command {
        return Ok(completions::print(shell));
    }
    let session = session::open(Actor::Cli, Demo::WhenDown).await?;
    let vault = session.vault.as_ref();
    let json = args.json;
    match args.command {
        Command::List { all } => keys::list(vault, all, json).await,
        Command::Status => keys::status(vault, json).await,
        Command::Create {
            provider,
            name,
            env_var,
            scopes,
            expires_in_days,
            environment,
            copy,
        } => {
            let new = NewKey {
                provider_id: String::new(),
                name,
                scopes,
                expires_in_days,
                environment: environment.unwrap_or_default(),
                env_var: env_var.unwrap_or_default(),
            };
            keys::create(vault, new, &provider, copy, json).await
        }
        Command::Copy { name, provider } => keys::copy(vault, &name, provider.as_deref()),
        Command::Revoke { name, provider } => keys::revoke(vault, &name, provider.as_deref()).await,
        Command::Providers { command } => providers::providers(vault, command, json).await,
        Command::Rotate {
            rollback: Some(id), ..
        } => rotate::rollback(vault, &id).await,
        Command::Rotate {
            reactivate: Some(id),
            ..
        } => rotate::reactivate(vault, &id).await,
        Command::Rotate {
            resume: Some(id),
            force_revoke,
            ..
        } => rotate::resume(vault, id, force_revoke).await,
        Command::Rotate {
            name,
            provider,
            target,
            dotenv,
            yes,
            follow_symlinks,
            delete_other,
            strategy,
            force_revoke,
            ..
        } => {
            let name = name.unwrap_or_default();
            rotate::rotate(
                vault,
                rotate::RotateArgs {
                    name: &name,
                    provider: provider.as_deref(),
                    target: &target,
                    dotenv: &dotenv,
                    yes,
                    follow_symlinks,
                    delete_other: delete_other.as_deref(),
                    strategy: strategy.as_deref(),
                    force_revoke,
                },
            )
            .await
        }
        Command::Deploy {
            name,
            provider,
            target,
            dotenv,
            follow_symlinks,
            ..
        } => {
            rotate::deploy(
                vault,
                &name,
                provider.as_deref(),
                &target,
                &dotenv,
                follow_symlinks,
                json,
            )
            .await
        }
        Command::Rotations => rotate::rotations(vault, json),
        Command::Services => providers::services(json),
        Command::Targets { name, provider } => {
            rotate::targets(vault, &name, provider.as_deref(), json)
        }
        Command::Settings {
            clipboard_clear_secs,
            rotation_policy_days,
            reminders,
        } => settings::settings(
            vault,
            clipboard_clear_secs,
            rotation_policy_days,
            reminders,
            json,
        ),
        Command::Check { dir } => env::check(vault, dir, json),
        Command::Scan { dir } => env::scan(vault, dir, json),
        Command::Audit { command, limit } => audit::audit(vault, command, limit, json),
        Command::Run { env_file, command } => env::run_child(vault, env_file.as_deref(), &command),
        Command::Import {
            path,
            provider,
            vars,
            replace,
        } => env::import(vault, &path, provider, &vars, replace, json).await,
        Command::Completions { shell } => Ok(completions::print(shell)),
    }
}
