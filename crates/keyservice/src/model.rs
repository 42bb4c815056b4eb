//! Keys as the service holds them and as it shows them.
//!
//! A [`StoredKey`] holds the prefix and the SHA-256 of the full key, never the
//! key itself; the full key exists only in [`NewKey`], which is returned once.

use std::fmt;

use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Length of `lk_` + 8 characters: the part of a key shown in listings.
pub const PREFIX_LEN: usize = 11;
/// Length of a whole key: `lk_` + 8 + `_` + 24.
pub const KEY_LEN: usize = 36;

/// Formats a time as RFC 3339 UTC with whole seconds (`2026-01-02T03:04:05Z`).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// A permission a key can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    Read,
    Write,
    Admin,
    Webhook,
}

impl Permission {
    pub const ALL: [Permission; 4] = [Self::Read, Self::Write, Self::Admin, Self::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
            Self::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// `n` base62 characters from the OS CSPRNG, without modulo bias.
fn random_base62(n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        OsRng.fill_bytes(&mut buf);
        for &b in buf.iter() {
            // 248 = 4 * 62: bytes at or above it would bias the low digits.
            if b < 248 && out.len() < n {
                out.push(BASE62[(b % 62) as usize] as char);
            }
        }
    }
    out
}

/// `n` random bytes from the OS CSPRNG, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A random token of 40 base62 characters, for a generated admin token.
pub fn random_token() -> String {
    format!("lkadm_{}", random_base62(40))
}

/// SHA-256 of a presented token.
pub fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Constant-time equality of two hashes.
pub fn hashes_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.ct_eq(b).into()
}

/// The full key of a freshly created key. Its `Debug` is redacted; it is
/// zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct FullKey(String);

impl Drop for FullKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl FullKey {
    pub fn generate() -> Self {
        Self(format!("lk_{}_{}", random_base62(8), random_base62(24)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn prefix(&self) -> &str {
        &self.0[..PREFIX_LEN]
    }

    /// `lk_a1b2c3d4_••••••••••••••••p6q7`: prefix, bullets, last four.
    pub fn preview(&self) -> String {
        format!(
            "{}_{}{}",
            self.prefix(),
            "•".repeat(16),
            &self.0[KEY_LEN - 4..]
        )
    }
}

impl fmt::Debug for FullKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FullKey({}_[redacted])", self.prefix())
    }
}

/// The prefix of a presented token, if it has the shape of a key.
pub fn key_prefix_of(token: &str) -> Option<&str> {
    let bytes = token.as_bytes();
    let shaped = bytes.len() == KEY_LEN
        && token.starts_with("lk_")
        && bytes[PREFIX_LEN] == b'_'
        && bytes[3..PREFIX_LEN].iter().all(u8::is_ascii_alphanumeric)
        && bytes[PREFIX_LEN + 1..]
            .iter()
            .all(u8::is_ascii_alphanumeric);
    shaped.then(|| &token[..PREFIX_LEN])
}

mod hex_hash {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(hash: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(hash))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(text).map_err(D::Error::custom)?;
        bytes
            .try_into()
            .map_err(|_| D::Error::custom("a SHA-256 hash is 32 bytes"))
    }
}

/// A key as the service stores it: metadata, prefix and hash, never the key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredKey {
    pub id: String,
    pub project: String,
    pub name: String,
    pub key_prefix: String,
    pub key_preview: String,
    #[serde(with = "hex_hash")]
    pub sha256: [u8; 32],
    pub permissions: Vec<Permission>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    pub request_count: u64,
    /// Creation order, for "newest first" among keys created in one second.
    pub seq: u64,
}

impl StoredKey {
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && !self.is_expired(now)
    }

    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// The key object of the contract; `key` only when just created.
    pub fn to_object(&self, key: Option<&FullKey>) -> KeyObject {
        KeyObject {
            id: self.id.clone(),
            name: self.name.clone(),
            key_prefix: self.key_prefix.clone(),
            key_preview: self.key_preview.clone(),
            permissions: self.permissions.clone(),
            created_at: rfc3339(self.created_at),
            expires_at: self.expires_at.map(rfc3339),
            last_used_at: self.last_used_at.map(rfc3339),
            revoked_at: self.revoked_at.map(rfc3339),
            request_count: self.request_count,
            key: key.map(|k| k.as_str().to_owned()),
        }
    }
}

/// The key object as it crosses HTTP.
#[derive(Debug, Clone, Serialize)]
pub struct KeyObject {
    pub id: String,
    pub name: String,
    pub key_prefix: String,
    pub key_preview: String,
    pub permissions: Vec<Permission>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub request_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A just-created key's object holds the full key: zeroized on drop.
impl Drop for KeyObject {
    fn drop(&mut self) {
        if let Some(key) = &mut self.key {
            zeroize::Zeroize::zeroize(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_contract_shape() {
        for _ in 0..200 {
            let k = FullKey::generate();
            assert_eq!(k.as_str().len(), KEY_LEN);
            assert_eq!(key_prefix_of(k.as_str()), Some(k.prefix()));
            let preview = k.preview();
            assert!(preview.starts_with(k.prefix()));
            assert!(preview.ends_with(&k.as_str()[32..]));
            assert_eq!(preview.chars().filter(|&c| c == '•').count(), 16);
        }
    }

    #[test]
    fn base62_is_spread_over_the_alphabet() {
        let sample = random_base62(62 * 200);
        for c in BASE62.iter() {
            let n = sample.bytes().filter(|b| b == c).count();
            assert!(n > 100 && n < 320, "{} appeared {n} times", *c as char);
        }
    }

    #[test]
    fn debug_of_a_full_key_is_redacted() {
        let k = FullKey::generate();
        let shown = format!("{k:?}");
        assert!(!shown.contains(&k.as_str()[PREFIX_LEN + 1..]));
    }

    #[test]
    fn shape_check_rejects_near_misses() {
        assert_eq!(
            key_prefix_of("lk_abcdefgh_abcdefghijklmnopqrstuvwx"),
            Some("lk_abcdefgh")
        );
        assert!(key_prefix_of("lk_abcdefgh_abcdefghijklmnopqrstuvw").is_none());
        assert!(key_prefix_of("lk_abcdefgh-abcdefghijklmnopqrstuvwx").is_none());
        assert!(key_prefix_of("xx_abcdefgh_abcdefghijklmnopqrstuvwx").is_none());
        assert!(key_prefix_of("lk_abcdéfg_abcdefghijklmnopqrstuvwx").is_none());
        assert!(key_prefix_of("").is_none());
    }
}
