//! The user's settings, kept in the catalog's `settings` table so the app and
//! the CLI share them: how long a copied key stays on the clipboard, after
//! how many days a key is due for rotation, and whether Latchkey may send the
//! daily rotation reminder. Missing or unreadable values fall back to the
//! defaults; writes are checked first and go in one transaction.

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::error::{Error, Result};

/// The range a clipboard timeout may take, in seconds.
pub const CLEAR_SECS_RANGE: std::ops::RangeInclusive<u32> = 5..=600;
/// The range a rotation policy may take, in days.
pub const POLICY_DAYS_RANGE: std::ops::RangeInclusive<u32> = 1..=3650;

const CLEAR_KEY: &str = "clipboard_clear_secs";
const POLICY_KEY: &str = "rotation_policy_days";
const REMINDERS_KEY: &str = "rotation_reminders";

/// What the user can change on the Settings screen (and `latchkey settings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Settings {
    /// Seconds before a copied key is cleared from the clipboard.
    pub clipboard_clear_secs: u32,
    /// Days after its creation at which a key is due for rotation.
    pub rotation_policy_days: u32,
    /// At most one desktop notification a day about keys due for rotation.
    pub rotation_reminders: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            clipboard_clear_secs: crate::clipboard::DEFAULT_CLEAR_AFTER.as_secs() as u32,
            rotation_policy_days: crate::vault::ROTATION_POLICY_DAYS as u32,
            rotation_reminders: true,
        }
    }
}

impl Settings {
    /// Refuses values outside their ranges, naming the field.
    pub fn check(&self) -> Result<()> {
        if !CLEAR_SECS_RANGE.contains(&self.clipboard_clear_secs) {
            return Err(Error::invalid(
                "clipboard_clear_secs",
                format!(
                    "Choose between {} and {} seconds for clearing the clipboard",
                    CLEAR_SECS_RANGE.start(),
                    CLEAR_SECS_RANGE.end()
                ),
            ));
        }
        if !POLICY_DAYS_RANGE.contains(&self.rotation_policy_days) {
            return Err(Error::invalid(
                "rotation_policy_days",
                format!(
                    "Choose a rotation policy between {} and {} days",
                    POLICY_DAYS_RANGE.start(),
                    POLICY_DAYS_RANGE.end()
                ),
            ));
        }
        Ok(())
    }

    /// The stored settings; a missing or out-of-range value is its default.
    pub fn load(catalog: &Catalog) -> Result<Self> {
        let d = Self::default();
        let number = |key: &str, range: &std::ops::RangeInclusive<u32>, default: u32| {
            Ok::<_, Error>(
                catalog
                    .setting(key)?
                    .and_then(|v| v.parse::<u32>().ok())
                    .filter(|v| range.contains(v))
                    .unwrap_or(default),
            )
        };
        Ok(Self {
            clipboard_clear_secs: number(CLEAR_KEY, &CLEAR_SECS_RANGE, d.clipboard_clear_secs)?,
            rotation_policy_days: number(POLICY_KEY, &POLICY_DAYS_RANGE, d.rotation_policy_days)?,
            rotation_reminders: match catalog.setting(REMINDERS_KEY)?.as_deref() {
                Some("off") => false,
                Some("on") => true,
                _ => d.rotation_reminders,
            },
        })
    }

    /// "on" or "off": how the reminder setting is stored and shown.
    pub fn reminders_word(&self) -> &'static str {
        if self.rotation_reminders {
            "on"
        } else {
            "off"
        }
    }

    /// Checks and stores every setting at once.
    pub fn save(&self, catalog: &mut Catalog) -> Result<()> {
        self.check()?;
        catalog.set_settings(&[
            (CLEAR_KEY, &self.clipboard_clear_secs.to_string()),
            (POLICY_KEY, &self.rotation_policy_days.to_string()),
            (REMINDERS_KEY, self.reminders_word()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_in_range() {
        Settings::default().check().expect("defaults");
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        for (s, field) in [
            (
                Settings {
                    clipboard_clear_secs: 4,
                    ..Settings::default()
                },
                "clipboard_clear_secs",
            ),
            (
                Settings {
                    clipboard_clear_secs: 601,
                    ..Settings::default()
                },
                "clipboard_clear_secs",
            ),
            (
                Settings {
                    rotation_policy_days: 0,
                    ..Settings::default()
                },
                "rotation_policy_days",
            ),
        ] {
            match s.check() {
                Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn stored_settings_round_trip_and_bad_rows_fall_back() {
        let dir = tempfile::tempdir().expect("dir");
        let mut catalog = Catalog::open(&dir.path().join("c.db")).expect("catalog");
        assert_eq!(Settings::load(&catalog).expect("load"), Settings::default());
        let s = Settings {
            clipboard_clear_secs: 12,
            rotation_policy_days: 30,
            rotation_reminders: false,
        };
        s.save(&mut catalog).expect("save");
        assert_eq!(Settings::load(&catalog).expect("load"), s);
        catalog.set_setting(CLEAR_KEY, "lots").expect("garbage row");
        catalog.set_setting(POLICY_KEY, "0").expect("bad row");
        let loaded = Settings::load(&catalog).expect("load");
        assert_eq!(loaded.clipboard_clear_secs, 30);
        assert_eq!(loaded.rotation_policy_days, 90);
        assert!(!loaded.rotation_reminders);
    }
}
