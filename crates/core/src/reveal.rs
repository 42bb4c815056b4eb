//! One-time reveal grants: the only way a key's secret leaves Rust for
//! display. Creating a key hands out a random token for that key, good for
//! one reveal within [`GRANT_TTL`] by the vault's clock; any other reveal is
//! refused. Grants live in this process's memory only.
//!
//! A grant is not a secret's copy and never holds one; it must never be
//! written to disk, logs or the catalog.

use std::collections::HashMap;
use std::sync::Mutex;

use rand::RngCore;
use serde::Serialize;
use time::OffsetDateTime;

/// How long a grant stays good.
pub const GRANT_TTL: time::Duration = time::Duration::minutes(2);

/// A token that allows one reveal of one key.
#[derive(Clone, PartialEq, Eq, ts_rs::TS)]
#[ts(export, type = "string")]
pub struct RevealGrant(String);

/// Crosses IPC as its token: the create_key answer carries it to the UI.
impl Serialize for RevealGrant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl RevealGrant {
    /// A token as it came back from the UI.
    pub fn from_token(token: impl Into<String>) -> Self {
        Self(token.into())
    }
}

impl std::fmt::Debug for RevealGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RevealGrant([redacted])")
    }
}

/// The grants handed out and not yet used.
#[derive(Debug, Default)]
pub(crate) struct RevealGrants(Mutex<HashMap<String, (String, OffsetDateTime)>>);

impl RevealGrants {
    /// A fresh grant for `key_id`, good until `now + GRANT_TTL`.
    pub(crate) fn issue(&self, key_id: &str, now: OffsetDateTime) -> RevealGrant {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        let mut grants = self.0.lock().unwrap_or_else(|p| p.into_inner());
        grants.retain(|_, (_, until)| *until > now);
        grants.insert(token.clone(), (key_id.to_owned(), now + GRANT_TTL));
        RevealGrant(token)
    }

    /// Uses up `grant` if it is for `key_id` and still good. A grant shown
    /// for another key is spent too: it was meant for one reveal.
    pub(crate) fn redeem(&self, grant: &RevealGrant, key_id: &str, now: OffsetDateTime) -> bool {
        let mut grants = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match grants.remove(&grant.0) {
            Some((for_key, until)) => for_key == key_id && now < until,
            None => false,
        }
    }
}
