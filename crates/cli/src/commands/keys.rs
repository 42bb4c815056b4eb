//! Keys: list, create, copy, revoke.

use latchkey_core::clipboard::{ClearOutcome, ClearTimer};
use latchkey_core::vault::{KeyView, NewKey};
use latchkey_core::{Result, Vault};

use crate::output::{self, or_dash, EXIT_CHECK_PROBLEMS, EXIT_OK};

/// Where to start, on standard error (standard output stays the table or
/// the status line scripts read).
const NO_KEYS_HINT: &str = "latchkey: add a connection (`latchkey providers add`), make a key there (`latchkey create`), or bring a .env file's keys under management (`latchkey import FILE`). The desktop app also offers its built-in Demo service.";

/// `latchkey status`: the health counts above the app's keys list.
pub async fn status(vault: &Vault, json: bool) -> Result<u8> {
    let listing = vault.list_keys().await?;
    let health = &listing.health;
    let live = listing
        .keys
        .iter()
        .filter(|k| k.revoked_at.is_none())
        .count();
    if json {
        let mut reasons = serde_json::Map::new();
        for (id, label, ids) in health.reasons() {
            let keys: Vec<_> = ids
                .iter()
                .map(|k| {
                    let (n, p) = named(&listing.keys, k);
                    serde_json::json!({ "id": k, "name": n, "service": p })
                })
                .collect();
            reasons.insert(
                id.into(),
                serde_json::json!({ "label": label, "count": ids.len(), "keys": keys }),
            );
        }
        output::json(&serde_json::json!({
            "needs_attention": health.needs_attention(),
            "keys": live,
            "reasons": reasons,
            "unreachable_services": listing.warnings.iter().map(|w| &w.provider_name).collect::<Vec<_>>(),
        }));
    } else if live == 0 && !health.needs_attention() {
        println!("No keys yet.");
        eprintln!("{NO_KEYS_HINT}");
    } else if !health.needs_attention() {
        println!(
            "{} fine.",
            if live == 1 {
                "The one key is".to_owned()
            } else {
                format!("All {live} keys are")
            }
        );
    } else {
        for (_, label, ids) in health.reasons() {
            let names: Vec<String> = ids
                .iter()
                .map(|k| match named(&listing.keys, k) {
                    (n, "") => n.to_owned(),
                    (n, p) => format!("{n} ({p})"),
                })
                .collect();
            println!(
                "{:>3} {label}{}{}",
                ids.len(),
                if ids.is_empty() { "" } else { ": " },
                names.join(", ")
            );
        }
    }
    Ok(if health.needs_attention() {
        EXIT_CHECK_PROBLEMS
    } else {
        EXIT_OK
    })
}

/// A key's name and service, or its id when it is not in the listing.
fn named<'a>(keys: &'a [KeyView], id: &'a str) -> (&'a str, &'a str) {
    keys.iter()
        .find(|k| k.id == id)
        .map(|k| (k.name.as_str(), k.provider_name.as_str()))
        .unwrap_or((id, ""))
}

pub async fn list(vault: &Vault, all: bool, json: bool) -> Result<u8> {
    let mut listing = vault.list_keys().await?;
    if !all {
        listing.keys.retain(|k| k.superseded_by.is_none());
    }
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
                if k.revoke_waiting {
                    "revoked (waiting for the service to confirm)".to_owned()
                } else {
                    serde_json::to_value(k.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                },
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
    if rows.is_empty() {
        eprintln!("{NO_KEYS_HINT}");
    }
    Ok(EXIT_OK)
}

/// `latchkey create`: the key printed once on stdout, or copied.
pub async fn create(
    vault: &Vault,
    new: NewKey,
    provider: &str,
    copy: bool,
    json: bool,
) -> Result<u8> {
    let provider = vault.find_provider(provider)?;
    let aws = provider.kind == latchkey_core::catalog::ProviderKind::Aws;
    let created = vault
        .create_key_revealable(NewKey {
            provider_id: provider.id,
            ..new
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
        } else if let (true, Some((id, secret_key))) = (aws, secret.expose_secret().split_once(':'))
        {
            // An AWS pair, as the AWS tools read it.
            println!("AWS_ACCESS_KEY_ID={id}");
            println!("AWS_SECRET_ACCESS_KEY={secret_key}");
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

/// `latchkey copy`: stays until the clipboard is cleared.
pub fn copy(vault: &Vault, name: &str, provider: Option<&str>) -> Result<u8> {
    let key = vault.find_key(name, provider)?;
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

/// `latchkey revoke`: revoked, then confirmed rejected.
pub async fn revoke(vault: &Vault, name: &str, provider: Option<&str>) -> Result<u8> {
    let key = vault.find_key(name, provider)?;
    let key = vault.revoke_key(&key.id).await?;
    if key.revoke_waiting {
        eprintln!(
            "Revoked \"{}\" — waiting for the service to confirm: it took the key off its records but may accept it a few minutes longer (its cache). `latchkey list` confirms it once the service rejects it.",
            key.name
        );
    } else {
        eprintln!("Revoked \"{}\"; the service now rejects it.", key.name);
    }
    Ok(EXIT_OK)
}

fn wait_clear(timer: ClearTimer) {
    match timer.wait() {
        ClearOutcome::Cleared => eprintln!("Clipboard cleared."),
        ClearOutcome::ChangedByUser => {
            eprintln!("The clipboard holds something else now; left as it is.")
        }
        ClearOutcome::Superseded => eprintln!("A newer copy took over the clipboard."),
        ClearOutcome::Failed => eprintln!("Could not clear the clipboard; clear it by hand."),
    }
}
