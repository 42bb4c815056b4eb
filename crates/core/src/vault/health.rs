//! Health at a glance: which keys need attention, by reason. The app shows
//! the counts above the keys list (each one a filter) and `latchkey status`
//! prints the same, from the same listing.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::{ExpiryBadge, KeyStatus, KeyView, ProviderWarning, EXPIRY_WARNING_DAYS};
use crate::clock::parse_rfc3339;

/// Days without use after which a key is flagged as unused.
pub const UNUSED_DAYS: i64 = 90;

/// The ids of the live (not revoked) keys that need attention, by reason. A
/// key can have several reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Health {
    /// Older than the rotation policy (or expiring soon).
    pub rotation_due: Vec<String>,
    /// Expiring within 14 days.
    pub expiring: Vec<String>,
    pub expired: Vec<String>,
    /// Not used for 90 days (or never, and made more than 90 days ago).
    pub unused: Vec<String>,
    /// Pasted keys their service could not be asked about.
    pub not_verified: Vec<String>,
    /// On a service that could not be reached at the last listing.
    pub unreachable: Vec<String>,
}

impl Health {
    pub fn of(keys: &[KeyView], warnings: &[ProviderWarning], now: OffsetDateTime) -> Self {
        let mut h = Health::default();
        let old = |at: &Option<String>| {
            at.as_deref()
                .and_then(parse_rfc3339)
                .is_some_and(|t| now - t > Duration::days(UNUSED_DAYS))
        };
        for k in keys.iter().filter(|k| k.status != KeyStatus::Revoked) {
            let id = || k.id.clone();
            if k.rotation_due {
                h.rotation_due.push(id());
            }
            match k.expiry {
                ExpiryBadge::Soon => h.expiring.push(id()),
                ExpiryBadge::Expired => h.expired.push(id()),
                ExpiryBadge::None if k.status == KeyStatus::Expired => h.expired.push(id()),
                ExpiryBadge::None => {}
            }
            let unused = match &k.last_used_at {
                Some(_) => old(&k.last_used_at),
                None => old(&k.created_at),
            };
            if unused {
                h.unused.push(id());
            }
            if !k.verified {
                h.not_verified.push(id());
            }
            if warnings.iter().any(|w| w.provider_id == k.provider_id) {
                h.unreachable.push(id());
            }
        }
        h
    }

    /// Every reason with its label and keys, in the order they are shown.
    pub fn reasons(&self) -> [(&'static str, &'static str, &[String]); 6] {
        [
            ("rotation_due", "rotation due", &self.rotation_due),
            ("expiring", "expiring within 14 days", &self.expiring),
            ("expired", "expired", &self.expired),
            ("unused", "unused for 90 days", &self.unused),
            ("not_verified", "not verified", &self.not_verified),
            ("unreachable", "on unreachable services", &self.unreachable),
        ]
    }

    /// Whether any key needs attention.
    pub fn needs_attention(&self) -> bool {
        self.reasons().iter().any(|(_, _, ids)| !ids.is_empty())
    }
}

const _: () = assert!(EXPIRY_WARNING_DAYS == 14, "the labels say 14 days");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::rfc3339;

    fn key(id: &str) -> KeyView {
        KeyView {
            id: id.into(),
            name: id.into(),
            provider_id: "p".into(),
            provider_name: "P".into(),
            preview: String::new(),
            scopes: vec![],
            environment: String::new(),
            env_var: String::new(),
            created_at: None,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            status: KeyStatus::Active,
            expiry: ExpiryBadge::None,
            has_secret: true,
            rotation_id: None,
            rotation_due: false,
            verified: true,
            superseded_by: None,
            revoke_waiting: false,
        }
    }

    #[test]
    fn each_reason_is_counted_and_revoked_keys_are_not() {
        let now = OffsetDateTime::now_utc();
        let ago = |d: i64| Some(rfc3339(now - Duration::days(d)));
        let fine = KeyView {
            created_at: ago(200),
            last_used_at: ago(89),
            ..key("fine")
        };
        let due = KeyView {
            rotation_due: true,
            created_at: ago(1),
            ..key("due")
        };
        let soon = KeyView {
            expiry: ExpiryBadge::Soon,
            created_at: ago(1),
            ..key("soon")
        };
        let gone = KeyView {
            expiry: ExpiryBadge::Expired,
            status: KeyStatus::Expired,
            created_at: ago(1),
            ..key("gone")
        };
        let idle = KeyView {
            created_at: ago(300),
            last_used_at: ago(91),
            ..key("idle")
        };
        let never = KeyView {
            created_at: ago(91),
            ..key("never")
        };
        let pasted = KeyView {
            verified: false,
            created_at: ago(1),
            ..key("pasted")
        };
        let far = KeyView {
            provider_id: "down".into(),
            created_at: ago(1),
            ..key("far")
        };
        let revoked = KeyView {
            status: KeyStatus::Revoked,
            rotation_due: true,
            verified: false,
            created_at: ago(400),
            ..key("revoked")
        };
        let keys = [fine, due, soon, gone, idle, never, pasted, far, revoked];
        let warnings = [ProviderWarning {
            provider_id: "down".into(),
            provider_name: "Down".into(),
            code: crate::ErrorCode::Network,
            message: String::new(),
        }];
        let h = Health::of(&keys, &warnings, now);
        assert_eq!(h.rotation_due, ["due"]);
        assert_eq!(h.expiring, ["soon"]);
        assert_eq!(h.expired, ["gone"]);
        assert_eq!(h.unused, ["idle", "never"]);
        assert_eq!(h.not_verified, ["pasted"]);
        assert_eq!(h.unreachable, ["far"]);
        assert!(h.needs_attention());
        assert!(!Health::of(&keys[..1], &warnings, now).needs_attention());
    }
}
