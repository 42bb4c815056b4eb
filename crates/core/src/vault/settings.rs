//! Settings shared by the app and the CLI, and the daily rotation reminder.

use super::*;

impl SettingOps<'_> {
    /// How long a copied key stays on the clipboard: the override, else the
    /// Settings.
    pub fn clear_after(&self) -> Result<Duration> {
        match self.clear_after_override {
            Some(after) => Ok(after),
            None => Ok(Duration::from_secs(u64::from(
                self.settings()?.clipboard_clear_secs,
            ))),
        }
    }

    /// Whether the clipboard timeout is fixed by the environment, so the
    /// Settings' value does not apply.
    pub fn clear_after_overridden(&self) -> bool {
        self.clear_after_override.is_some()
    }

    /// The user's settings (defaults for anything never set).
    pub fn settings(&self) -> Result<Settings> {
        Settings::load(&self.catalog())
    }

    /// Checks and stores the settings, and audits the change.
    pub fn update_settings(&self, settings: Settings) -> Result<Settings> {
        let before = self.settings()?;
        self.catalog().batch(|catalog| settings.save(catalog))?;
        if before != settings {
            self.audit(
                "settings",
                None,
                None,
                &format!(
                    "settings: clipboard clears after {} s, keys due for rotation after {} days, reminders {}",
                    settings.clipboard_clear_secs,
                    settings.rotation_policy_days,
                    settings.reminders_word()
                ),
            )?;
        }
        Ok(settings)
    }

    /// The keys due for rotation (older than the policy or expiring within
    /// 14 days), at most once per calendar day (UTC): `None` when there are
    /// none or the day's reminder was already shown. Records nothing: a
    /// reminder that could not be shown is offered again.
    pub fn rotation_reminder(&self) -> Result<Option<RotationReminder>> {
        let today = self.clock.now().date().to_string();
        if !self.settings()?.rotation_reminders {
            return Ok(None);
        }
        if self.catalog().setting(REMINDER_DAY)?.as_deref() == Some(today.as_str()) {
            return Ok(None);
        }
        let due: Vec<String> = self
            .local_keys()?
            .into_iter()
            .filter(|k| k.rotation_due && k.has_secret)
            .map(|k| k.name)
            .collect();
        if due.is_empty() {
            return Ok(None);
        }
        let shown: Vec<String> = due.iter().take(3).map(|n| format!("“{n}”")).collect();
        let more = due.len().saturating_sub(3);
        let body = format!(
            "{} {} due for rotation: {}{}. Open Latchkey and choose Rotate.",
            due.len(),
            if due.len() == 1 { "key is" } else { "keys are" },
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        Ok(Some(RotationReminder {
            count: due.len(),
            body,
            day: today,
        }))
    }

    /// Records that the day's reminder reached the person (e.g. the desktop
    /// notification was shown): no other is offered that day.
    pub fn reminder_shown(&self, reminder: &RotationReminder) -> Result<()> {
        self.catalog().set_setting(REMINDER_DAY, &reminder.day)
    }
}

/// The catalog setting that holds the last day a reminder was shown.
const REMINDER_DAY: &str = "rotation_reminder_day";
