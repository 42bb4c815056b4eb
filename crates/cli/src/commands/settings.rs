//! `latchkey settings`: shown, and changed by its options.

use latchkey_core::{Result, Vault};

use crate::output::{self, EXIT_OK};

pub fn settings(
    vault: &Vault,
    clipboard_clear_secs: Option<u32>,
    rotation_policy_days: Option<u32>,
    reminders: Option<String>,
    json: bool,
) -> Result<u8> {
    let mut settings = vault.settings()?;
    let changing =
        clipboard_clear_secs.is_some() || rotation_policy_days.is_some() || reminders.is_some();
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
