//! Text from a remote service is untrusted: key names, previews, ids, error
//! codes and messages are cleaned here, at parse time, before anything shows
//! or stores them. [`clean`] drops control characters (C0, DEL, C1, so no
//! ANSI/OSC escape reaches a terminal) and bidi overrides, redacts any run
//! of 8+ characters of a secret the service might echo back, and caps the
//! length.
//!
//! It never returns, logs or keeps any part of the secrets it redacts.

use crate::secret::Secret;

/// Longest run of a secret's characters that may pass through unredacted.
const MAX_ECHO: usize = 7;

/// What replaces an echoed piece of a secret.
pub const REDACTED: &str = "[redacted]";

/// Caps for the fields services send.
pub const MAX_NAME: usize = 200;
pub const MAX_ID: usize = 128;
pub const MAX_PREVIEW: usize = 64;
pub const MAX_CODE: usize = 64;
pub const MAX_MESSAGE: usize = 200;
pub const MAX_TIMESTAMP: usize = 64;

/// `s` without control or bidi-override characters, with every run of 8+
/// consecutive characters of any of `secrets` replaced by `[redacted]`, and
/// at most `max` characters long (an ellipsis marks a cut).
pub fn clean(s: &str, max: usize, secrets: &[&Secret]) -> String {
    // Most fields (a key list's names, times and ids) hold nothing to drop
    // and echo no secret: they are copied once, without the char-by-char
    // redaction scan.
    let visible: String = if s.chars().any(is_hidden) {
        s.chars().filter(|&c| !is_hidden(c)).collect()
    } else {
        s.to_owned()
    };
    let redacted = if secrets
        .iter()
        .any(|k| may_echo(&visible, k.expose_secret()))
    {
        redact(&visible.chars().collect::<Vec<char>>(), secrets)
    } else {
        visible
    };
    if redacted.chars().count() <= max {
        return redacted;
    }
    let mut out: String = redacted.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// As [`clean`], for a service's error message or code: also redacts any
/// key-shaped run (24+ letters, digits, `_` or `-`, mixing letters and
/// digits, not a UUID), since a message may echo a key we did not send in
/// this call (e.g. a revoke naming the key it refuses to revoke).
pub fn clean_message(s: &str, max: usize, secrets: &[&Secret]) -> String {
    let visible: String = s.chars().filter(|&c| !is_hidden(c)).collect();
    let mut out = String::with_capacity(visible.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if looks_like_a_key(run) {
            out.push_str(REDACTED);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in visible.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    clean(&out, max, secrets)
}

fn looks_like_a_key(run: &str) -> bool {
    let uuid = run.len() == 36
        && run.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    run.len() >= 24
        && !uuid
        && run.bytes().any(|b| b.is_ascii_digit())
        && run.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Control characters (`Cc`: C0, DEL, C1) and the bidi controls that can
/// make text read differently than it is stored.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// Whether `text` holds a run of more than `MAX_ECHO` characters found in
/// `key`, i.e. whether [`redact`] would change it: some window of
/// `MAX_ECHO + 1` characters of `text` occurs in `key`.
fn may_echo(text: &str, key: &str) -> bool {
    let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    (0..starts.len().saturating_sub(MAX_ECHO)).any(|w| {
        let end = starts.get(w + MAX_ECHO + 1).copied().unwrap_or(text.len());
        key.contains(&text[starts[w]..end])
    })
}

fn redact(text: &[char], secrets: &[&Secret]) -> String {
    let keys: Vec<Vec<char>> = secrets
        .iter()
        .map(|s| s.expose_secret().chars().collect::<Vec<char>>())
        .filter(|k| k.len() > MAX_ECHO)
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let longest = keys
            .iter()
            .map(|k| longest_common_run_at(&text[i..], k))
            .max()
            .unwrap_or(0);
        if longest > MAX_ECHO {
            out.push_str(REDACTED);
            i += longest;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

/// The longest prefix of `text` that occurs somewhere in `key`.
fn longest_common_run_at(text: &[char], key: &[char]) -> usize {
    (0..key.len())
        .map(|start| {
            text.iter()
                .zip(&key[start..])
                .take_while(|(a, b)| a == b)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_dropped() {
        assert_eq!(
            clean(
                "\u{1b}[31mred\u{1b}[0m \u{1b}]0;title\u{7}x\u{9b}2J",
                100,
                &[]
            ),
            "[31mred[0m ]0;titlex2J"
        );
        assert_eq!(clean("a\u{202E}b\u{2066}c\r\nd\0", 100, &[]), "abcd");
        assert!(!clean("\u{1b}\u{7f}\u{85}", 100, &[]).contains(|c: char| c.is_control()));
    }

    #[test]
    fn length_is_capped_in_characters() {
        assert_eq!(clean(&"é".repeat(50), 10, &[]).chars().count(), 10);
        assert_eq!(clean("short", 10, &[]), "short");
        assert_eq!(clean("abcdef", 4, &[]), "abc…");
    }

    #[test]
    fn echoed_secrets_are_redacted_from_eight_characters() {
        let key = Secret::new("lk_abcdefgh_0123456789ABCDEFGHIJKLMN");
        let whole = clean(
            &format!("invalid key {} given", key.expose_secret()),
            200,
            &[&key],
        );
        assert_eq!(whole, "invalid key [redacted] given");
        assert_eq!(
            clean("tail 89ABCDEF here", 200, &[&key]),
            "tail [redacted] here"
        );
        // Seven characters are not a usable piece of a key.
        assert_eq!(clean("see 89ABCDE", 200, &[&key]), "see 89ABCDE");
        // Escapes slipped between the characters do not hide an echo.
        assert_eq!(
            clean("k=0123\u{1b}4567\u{7}89", 200, &[&key]),
            "k=[redacted]"
        );
        // Redaction happens before the cap, so a cut cannot leave a piece.
        let capped = clean(&format!("x{}", key.expose_secret()), 6, &[&key]);
        assert!(!capped.contains("abcdefgh"), "{capped}");
    }

    #[test]
    fn messages_also_lose_key_shaped_runs_but_keep_uuids_and_words() {
        let other_key = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
        assert_eq!(
            clean_message(&format!("cannot revoke {other_key}: in use"), 200, &[]),
            "cannot revoke [redacted]: in use"
        );
        let id = "3f2a9c1e-0b7d-4e8f-9a6b-1c2d3e4f5a6b";
        assert_eq!(
            clean_message(&format!("key {id} not found"), 200, &[]),
            format!("key {id} not found")
        );
        assert_eq!(
            clean_message("permissions_must_be_a_non_empty_list", 200, &[]),
            "permissions_must_be_a_non_empty_list"
        );
        assert_eq!(clean_message("\u{1b}[2Jbad", 200, &[]), "[2Jbad");
    }

    proptest::proptest! {
        /// The quick check decides exactly when the full scan would redact:
        /// texts built from pieces of the key (runs of every length around
        /// the 8-character limit), other letters and multi-byte characters.
        #[test]
        fn the_quick_echo_check_agrees_with_the_full_scan(
            pieces in proptest::collection::vec((0usize..30, 0usize..12, "[a-zé€ _]{0,4}"), 0..6)
        ) {
            let key = Secret::new("lk_abcdefgh_0123456789ABCDEFGHIJKLMN");
            let k: Vec<char> = key.expose_secret().chars().collect();
            let mut text = String::new();
            for (start, len, other) in &pieces {
                let start = (*start).min(k.len());
                let end = (start + len).min(k.len());
                text.extend(&k[start..end]);
                text.push_str(other);
            }
            let chars: Vec<char> = text.chars().collect();
            let full = redact(&chars, &[&key]);
            proptest::prop_assert_eq!(may_echo(&text, key.expose_secret()), full != text);
            proptest::prop_assert_eq!(clean(&text, 1000, &[&key]), full);
        }
    }
}
