//! Provider connections: add, list, test, set-token, remove.

use std::io::{IsTerminal, Read, Write};

use latchkey_core::vault::NewServiceProvider;
use latchkey_core::{Error, Result, Secret, Vault};

use crate::args::ProvidersCommand;
use crate::output::{self, EXIT_OK};

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

pub async fn providers(vault: &Vault, command: ProvidersCommand, json: bool) -> Result<u8> {
    match command {
        ProvidersCommand::Add {
            kind,
            service,
            name,
            base_url,
            project,
            region,
            user,
        } => {
            let service = service.or(kind).unwrap_or_default();
            let needs_credential =
                matches!(
                    service.as_str(),
                    "keyservice" | "aws" | "dakora" | "open-animate"
                ) || latchkey_core::providers::registry::is_api_service(&service);
            if service == "dakora" && project.is_none() {
                return Err(Error::invalid(
                    "project",
                    "Dakora needs --project: the UUID of the project whose keys Latchkey manages",
                ));
            }
            if service == "keyservice" && (base_url.is_none() || project.is_none()) {
                return Err(Error::invalid(
                    "base_url",
                    "The Latchkey key service needs --base-url and --project",
                ));
            }
            // A GitHub connection's token writes Actions secrets (stdin or
            // LATCHKEY_ADMIN_TOKEN, never an argument).
            let takes_token = needs_credential
                || matches!(service.as_str(), "github" | "gitlab" | "vercel" | "netlify");
            let credential = if takes_token {
                Some(read_admin_token()?)
            } else {
                None
            };
            // A service with its own connector given no credential is a
            // manual connection, as before its connector existed.
            let credential = credential.filter(|c| {
                !(c.is_empty() && latchkey_core::providers::registry::is_api_service(&service))
            });
            let takes_token = takes_token && credential.is_some();
            let p = vault.add_service_provider(NewServiceProvider {
                service,
                name,
                base_url,
                project,
                credential,
                region,
                user,
            })?;
            if takes_token {
                eprintln!(
                    "Added provider \"{}\"; its management credential is in the keychain.",
                    p.name
                );
            } else {
                eprintln!(
                    "Added \"{}\": keys are made and revoked at {}; Latchkey keeps, deploys and checks them.",
                    p.name, p.dashboard_url
                );
            }
            match vault.test_provider(&p.id).await {
                Ok(()) => eprintln!("Connection test passed."),
                Err(e) => eprintln!("Connection test failed: {e} [{}]", e.code()),
            }
            Ok(EXIT_OK)
        }
        ProvidersCommand::List => {
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
        ProvidersCommand::SetToken { name } => {
            let p = vault.find_provider(&name)?;
            let credential = read_admin_token()?;
            let p = vault.set_provider_credential(&p.id, credential).await?;
            eprintln!(
                "\"{}\": the service accepted the new credential; it replaced the old one in the keychain.",
                p.name
            );
            Ok(EXIT_OK)
        }
        ProvidersCommand::Remove { name, forget_keys } => {
            let p = vault.find_provider(&name)?;
            match forget_keys {
                None => {
                    vault.remove_provider(&p.id)?;
                    eprintln!("Removed \"{}\" and its credential in the keychain.", p.name);
                }
                Some(expected) => {
                    let n = vault.remove_provider_and_keys(&p.id, expected)?;
                    eprintln!(
                        "Removed \"{}\" and its credential; forgot its {n} key{} (their secrets left the keychain; the service still has them).",
                        p.name,
                        if n == 1 { "" } else { "s" }
                    );
                }
            }
            Ok(EXIT_OK)
        }
    }
}

pub fn only_provider(vault: &Vault) -> Result<latchkey_core::vault::ProviderView> {
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

/// `latchkey services`: the catalogue.
pub fn services(json: bool) -> Result<u8> {
    let all = latchkey_core::services::catalogue();
    if json {
        output::json(&all);
    } else {
        let rows: Vec<Vec<String>> = all
            .iter()
            .map(|s| {
                vec![
                    s.id.clone(),
                    s.name.clone(),
                    match s.connector {
                        latchkey_core::services::Connector::Api => "api".into(),
                        latchkey_core::services::Connector::Manual => "manual".into(),
                    },
                    s.env_vars.join(","),
                    s.credential.clone(),
                ]
            })
            .collect();
        output::table(&["ID", "SERVICE", "KIND", "ENV VARS", "CREDENTIAL"], &rows);
    }
    Ok(EXIT_OK)
}
