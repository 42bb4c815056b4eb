//! `Secret`, the one type that holds an API key, and `Fingerprint`, the
//! SHA-256 that lets us match a key without holding it.
//!
//! A `Secret` never prints (redacted `Debug`, no `Display`), never
//! serializes (no `Serialize`), and is zeroized on drop. Reading it takes an
//! explicit `expose_secret()`, which must end in the keychain, the
//! clipboard, an HTTP header or a deploy target.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

/// An API key or token. Zeroized on drop; never logged or serialized.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Takes the key from `value`: the secret gets its own exact-size copy
    /// (no spare capacity, no reallocation leaving old bytes behind) and
    /// the whole buffer of `value`, spare capacity included, is zeroized.
    pub fn new(value: impl Into<String>) -> Self {
        let mut value: String = value.into();
        let secret = Self::copy_of(&value);
        value.zeroize();
        secret
    }

    /// An exact-size copy of `value`; the caller wipes its own buffer.
    pub fn copy_of(value: &str) -> Self {
        Self(SecretString::from(Box::<str>::from(value)))
    }

    /// Takes the key out of `value`, zeroizing its whole buffer in place
    /// (`value` is left empty, its capacity wiped).
    pub fn take_from(value: &mut String) -> Self {
        let secret = Self::copy_of(value);
        value.zeroize();
        secret
    }

    /// The key itself. Every call site is a place a key leaves our hands.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(self.expose_secret())
    }

    /// The secret's length in bytes (kept in the catalog: a scan reads
    /// only words of a vault key's length).
    pub fn len(&self) -> usize {
        self.expose_secret().len()
    }

    /// The length the catalog keeps (`keys.secret_len`): `None` for a
    /// secret too long for the column, which a scan treats as unknown.
    pub fn stored_len(&self) -> Option<u32> {
        u32::try_from(self.len()).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.expose_secret().is_empty()
    }

    /// The same secret without surrounding whitespace (a pasted or piped
    /// key's newline), as its own exact-size copy.
    pub fn trimmed(&self) -> Self {
        Self::copy_of(self.expose_secret().trim())
    }

    /// `lk_a1b2…p6q7`: enough to recognise a key, never enough to use it.
    pub fn masked(&self) -> String {
        mask(self.expose_secret())
    }
}

/// Masks a key for display. A reference-service key (`lk_{8}_{24}`) shows
/// its public prefix and last four, exactly like the service's preview. Any
/// other key shows its first and last four characters only from 32
/// characters on, just its last four from 16 to 31, and nothing below 16,
/// so a stored preview never holds a usable share of a short key.
pub fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let bullets = "•".repeat(16);
    let reference_shape = chars.len() == 36
        && key.starts_with("lk_")
        && chars[11] == '_'
        && chars[3..11]
            .iter()
            .chain(&chars[12..])
            .all(char::is_ascii_alphanumeric);
    if reference_shape {
        let tail: String = chars[32..].iter().collect();
        return format!("{}_{bullets}{tail}", &key[..11]);
    }
    if chars.len() < 16 {
        return "•".repeat(8);
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    if chars.len() < 32 {
        return format!("{bullets}{tail}");
    }
    let head: String = chars[..4].iter().collect();
    format!("{head}{bullets}{tail}")
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint() == other.fingerprint()
    }
}

impl Eq for Secret {}

/// Pasted keys arrive from the UI as JSON strings; that direction is fine.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

/// SHA-256 of a key, lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

/// The vault's fingerprint key, set once per process by `Vault::open`.
static FINGERPRINT_KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();

/// Keys every fingerprint this process makes (HMAC-SHA-256 with the
/// vault's key, kept in the keychain), so a stolen catalog or journal
/// cannot be checked against guessed keys. The first key set stays:
/// `false` when another was set before.
pub fn set_fingerprint_key(key: [u8; 32]) -> bool {
    FINGERPRINT_KEY.set(key).is_ok() || FINGERPRINT_KEY.get() == Some(&key)
}

impl Fingerprint {
    /// HMAC-SHA-256 of the key under the vault's fingerprint key; plain
    /// SHA-256 only before a vault was opened (pure unit tests).
    pub fn of(key: &str) -> Self {
        use hmac::{Hmac, Mac};
        match FINGERPRINT_KEY.get() {
            Some(k) => match <Hmac<Sha256> as Mac>::new_from_slice(k) {
                Ok(mut mac) => {
                    mac.update(key.as_bytes());
                    Self(hex::encode(mac.finalize().into_bytes()))
                }
                // HMAC takes a key of any length: not reached.
                Err(_) => Self(hex::encode(Sha256::digest(key.as_bytes()))),
            },
            None => Self(hex::encode(Sha256::digest(key.as_bytes()))),
        }
    }

    pub fn from_hex(hex: impl Into<String>) -> Self {
        Self(hex.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Fingerprints many words in a row (the folder scan): the same digest as
/// `Fingerprint::of`, raw, with the HMAC's keyed state made once and no
/// allocation per word.
#[derive(Clone)]
pub(crate) struct Fingerprinter(Option<hmac::Hmac<Sha256>>);

impl Fingerprinter {
    pub(crate) fn new() -> Self {
        use hmac::Mac;
        Self(
            FINGERPRINT_KEY
                .get()
                .and_then(|k| <hmac::Hmac<Sha256> as Mac>::new_from_slice(k).ok()),
        )
    }

    pub(crate) fn of(&self, word: &[u8]) -> [u8; 32] {
        use hmac::Mac;
        match &self.0 {
            Some(mac) => {
                let mut mac = mac.clone();
                mac.update(word);
                mac.finalize().into_bytes().into()
            }
            None => Sha256::digest(word).into(),
        }
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let s = Secret::new("lk_abcdefgh_SUPERSECRETVALUE1234567890");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret([redacted]))");
    }

    #[test]
    fn fingerprint_is_sha256_hex() {
        assert_eq!(
            Fingerprint::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn fingerprinter_gives_the_fingerprint_raw() {
        let raw = Fingerprinter::new().of(b"lk_a1b2c3d4_abcdefghijklmnopqrstp6q7");
        assert_eq!(
            hex::encode(raw),
            Fingerprint::of("lk_a1b2c3d4_abcdefghijklmnopqrstp6q7").as_str()
        );
    }

    #[test]
    fn masking_keeps_head_and_last_four_only() {
        let m = mask("lk_a1b2c3d4_abcdefghijklmnopqrstp6q7");
        assert_eq!(m, "lk_a1b2c3d4_••••••••••••••••p6q7");
        assert_eq!(mask("short"), "••••••••");
        let other = mask("sk-proj-0123456789abcdefghijklmnopqr");
        assert_eq!(other, "sk-p••••••••••••••••opqr");
        assert_eq!(mask("fifteen-chars!!"), "••••••••");
    }

    #[test]
    fn a_short_pasted_key_shows_only_its_last_four() {
        // 28 characters: the first four would be a seventh of the key.
        assert_eq!(mask("sk-proj-0123456789abcdefghij"), "••••••••••••••••ghij");
        assert_eq!(mask("0123456789abcdef"), "••••••••••••••••cdef");
        let thirty_one = "a".repeat(27) + "wxyz";
        assert_eq!(mask(&thirty_one), "••••••••••••••••wxyz");
        assert!(mask(&("b".repeat(28) + "wxyz")).starts_with("bbbb•"));
    }

    #[test]
    fn deserializes_from_a_json_string() {
        let s: Secret = serde_json::from_str("\"pasted\"").expect("parses");
        assert_eq!(s.expose_secret(), "pasted");
    }
}
