//! Keys: list, create, copy, revoke.

use latchkey_core::clipboard::{ClearOutcome, ClearTimer};
use latchkey_core::vault::NewKey;
use latchkey_core::{Result, Vault};

use crate::output::{self, or_dash, EXIT_OK};

pub async fn list(vault: &Vault, json: bool) -> Result<u8> {
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

/// `latchkey create`: the key printed once on stdout, or copied.
pub async fn create(
    vault: &Vault,
    new: NewKey,
    provider: &str,
    copy: bool,
    json: bool,
) -> Result<u8> {
    let provider = vault.find_provider(provider)?;
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
    eprintln!("Revoked \"{}\"; the service now rejects it.", key.name);
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
