//! Lossless YAML editing: set one scalar at a dotted mapping path (`a.b.c`)
//! of a block-style YAML file and change nothing else. The file is walked
//! line by line (indentation gives the path); only the old scalar's bytes on
//! its own line are replaced: a quoted value stays quoted the same way
//! (single quotes where the value needs no escape); otherwise a plain scalar
//! when that reads back as the same string in every YAML reader, else a
//! double-quoted one with escapes. So a rollback of a usual key gives the
//! file back byte for byte.
//! Anything that cannot be edited that way is refused: flow collections,
//! anchors, aliases or tags on the path, a block or multi-line scalar at the
//! key, tabs, CR line breaks, several documents, a key that appears twice or
//! is not in the file (it is never added). `serde_yaml` must then read the
//! new value and every other value unchanged. Open Animate's credentials
//! file (`~/.oanim/credentials.yaml`, key `api_key`) is the one file this
//! editor may make when it is missing. Nothing here logs a value.

use std::path::Path;

use super::file::EditError;
use super::json::valid_key_path;
use super::key_path::{check, KeyPathFormat, Tree};
use crate::catalog::TargetSpec;

fn bad_key(key: &str) -> EditError {
    EditError::BadKey(format!(
        "'{}' is not a key path (dotted names of letters, digits, '_' and '-')",
        key.chars()
            .filter(|c| !c.is_control())
            .take(64)
            .collect::<String>()
    ))
}

/// Words some YAML readers (1.1 and 1.2) take for booleans or null.
const SPECIAL: &[&str] = &["true", "false", "yes", "no", "on", "off", "y", "n", "null"];

/// Whether `value` can be written as a plain scalar that every YAML reader
/// takes for this very string: a letter first (so never a number, `.inf`
/// or an indicator), then letters, digits and `_ - . / + = @`, and not a
/// word read as a boolean or null.
fn plain_is_safe(value: &str) -> bool {
    let mut bytes = value.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"_-./+=@".contains(&b))
        && !SPECIAL.contains(&value.to_ascii_lowercase().as_str())
}

/// The scalar token for `value`: plain when safe, else double-quoted with
/// every character YAML does not print as itself escaped.
pub fn token(value: &str) -> String {
    if plain_is_safe(value) {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Whether YAML prints `c` as itself inside a quoted scalar.
fn printable(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// The token for `value` in the style of the token it replaces (`old`):
/// a quoted value stays quoted the same way where the value allows it (a
/// single-quoted one needs no escapes), else [`token`].
pub fn token_like(old: &str, value: &str) -> String {
    if old.starts_with('"') {
        let t = token(value);
        return if t.starts_with('"') {
            t
        } else {
            format!("\"{t}\"")
        };
    }
    if old.starts_with('\'') && value.chars().all(printable) {
        return format!("'{}'", value.replace('\'', "''"));
    }
    token(value)
}

/// A plain key at the start of `content` (`key:` followed by a space or the
/// end of the line): the key and the rest after the colon.
fn split_key(content: &str) -> Option<(&str, &str)> {
    let bytes = content.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' ') {
            return Some((content[..i].trim_end(), &content[i + 1..]));
        }
        if bytes[i] == b'#' && i > 0 && bytes[i - 1] == b' ' {
            return None;
        }
        i += 1;
    }
    None
}

/// The end (byte index in `rest`) of a scalar token starting at 0, and
/// whether only spaces and a comment follow it on the line.
fn scalar_end(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let end = match b.first()? {
        b'"' => {
            let mut i = 1;
            loop {
                match b.get(i)? {
                    b'\\' => i += 2,
                    b'"' => break i + 1,
                    _ => i += 1,
                }
            }
        }
        b'\'' => {
            let mut i = 1;
            loop {
                match b.get(i)? {
                    b'\'' if b.get(i + 1) == Some(&b'\'') => i += 2,
                    b'\'' => break i + 1,
                    _ => i += 1,
                }
            }
        }
        _ => {
            let comment = rest.find(" #").unwrap_or(rest.len());
            rest[..comment].trim_end().len()
        }
    };
    let after = &rest[end..];
    let after = after.trim_start_matches(' ');
    (after.is_empty() || after.starts_with('#')).then_some(end)
}

/// One value found at the target path: its token's byte span.
struct Hit {
    start: usize,
    end: usize,
}

/// Walks the block structure; returns the spans of the target's scalar.
fn find(text: &str, target: &[&str]) -> std::result::Result<Vec<Hit>, String> {
    // (column, key) of the mappings the current line is nested in; a
    // sequence entry is "\0-" (nothing under it is at a mapping path).
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut hits = Vec::new();
    // Lines more indented than this belong to the last key's scalar.
    let mut continuation: Option<usize> = None;
    let mut continues_target = false;
    let mut seen_content = false;
    for line in text.split_inclusive('\n') {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let indent = line.len() - line.trim_start_matches(' ').len();
        let content = &line[indent..];
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if let Some(col) = continuation {
            if indent > col {
                if continues_target {
                    return Err("its value goes on over several lines".into());
                }
                continue;
            }
            continuation = None;
            continues_target = false;
        }
        if indent == 0 && (content.starts_with("---") || content.starts_with("...")) {
            let rest = content[3..].trim_start_matches(' ');
            if seen_content
                || !(rest.is_empty() || rest.starts_with('#'))
                || content.starts_with('.')
            {
                return Err("the file holds more than one YAML document".into());
            }
            continue;
        }
        if indent == 0 && content.starts_with('%') {
            return Err("the file has YAML directives".into());
        }
        seen_content = true;
        // Sequence entries: `- ` (maybe several) before the content.
        let mut col = indent;
        let mut content = content;
        loop {
            while stack.last().is_some_and(|(c, _)| *c >= col) {
                stack.pop();
            }
            if content == "-" || content.starts_with("- ") {
                stack.push((col, "\0-".into()));
                let rest = &content[1..];
                let pad = rest.len() - rest.trim_start_matches(' ').len();
                col += 1 + pad;
                content = &rest[pad..];
                if content.is_empty() || content.starts_with('#') {
                    break;
                }
                continue;
            }
            break;
        }
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let under_target = stack
            .iter()
            .map(|(_, k)| k.as_str())
            .eq(target.iter().take(stack.len()).copied())
            && stack.len() < target.len();
        let Some((key, rest)) = split_key(content) else {
            if stack.is_empty() && matches!(content.as_bytes()[0], b'{' | b'[') {
                return Err("the file is a flow collection ({…} or […])".into());
            }
            if under_target && !stack.is_empty() {
                return Err("a key on the path is not a plain block mapping".into());
            }
            continuation = Some(col.saturating_sub(1));
            continue;
        };
        let value = rest.trim_start_matches(' ');
        // `value` is a slice of `text`: its place is its distance from it.
        let value_at = value.as_ptr() as usize - text.as_ptr() as usize;
        let path_here = under_target && key == target[stack.len()];
        let is_target = path_here && stack.len() + 1 == target.len();
        let nested = value.is_empty() || value.starts_with('#');
        if is_target {
            match value.as_bytes().first() {
                None | Some(b'#') => {
                    return Err("it has no value on its own line (add any string by hand)".into())
                }
                Some(b'&' | b'*') => return Err("its value is an anchor or an alias".into()),
                Some(b'!') => return Err("its value has a tag".into()),
                Some(b'|' | b'>') => return Err("its value is a block scalar".into()),
                Some(b'{' | b'[') => return Err("its value is a flow collection".into()),
                _ => {}
            }
            let Some(len) = scalar_end(value) else {
                return Err("its value goes on over several lines".into());
            };
            hits.push(Hit {
                start: value_at,
                end: value_at + len,
            });
            continuation = Some(col);
            continues_target = true;
        } else if path_here {
            match value.as_bytes().first() {
                Some(b'&' | b'*') => return Err("a key on the path has an anchor or alias".into()),
                Some(b'!') => return Err("a key on the path has a tag".into()),
                Some(b'{' | b'[') => return Err("a key on the path holds a flow mapping".into()),
                _ => {}
            }
            if nested {
                stack.push((col, key.to_owned()));
            } else {
                continuation = Some(col);
            }
        } else if nested {
            stack.push((col, key.to_owned()));
        } else {
            continuation = Some(col);
        }
    }
    Ok(hits)
}

/// The bytes with the scalar at `key` set to `value`; every other byte kept.
pub fn set_value(bytes: &[u8], key: &str, value: &str) -> std::result::Result<Vec<u8>, EditError> {
    if !valid_key_path(key) {
        return Err(bad_key(key));
    }
    let refused = |why: &str| EditError::Refused(why.to_owned());
    let cannot = |why: String| {
        EditError::Refused(format!(
            "'{key}' cannot be changed safely in this YAML file: {why}; change it by hand"
        ))
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(refused("the file is not valid UTF-8"));
    };
    let offset = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let body = &text[offset..];
    if body.contains('\t') {
        return Err(cannot("the file has tabs".into()));
    }
    if body.contains('\r') {
        return Err(cannot("the file has CR line breaks".into()));
    }
    if <serde_yaml::Value as Tree>::parse(bytes).is_none() {
        return Err(refused(
            "the file is not valid YAML (or holds several documents)",
        ));
    }
    let target: Vec<&str> = key.split('.').collect();
    let hits = find(body, &target).map_err(cannot)?;
    let (start, end) = match hits.as_slice() {
        [] => {
            return Err(EditError::Refused(format!(
                "'{key}' is not in the file; add it (any string) by hand first"
            )))
        }
        [hit] => (hit.start + offset, hit.end + offset),
        _ => return Err(cannot("it appears more than once".into())),
    };
    let mut out = Vec::with_capacity(bytes.len() + value.len() + 2);
    out.extend_from_slice(&bytes[..start]);
    let old = &text[start..end];
    out.extend_from_slice(token_like(old, value).as_bytes());
    out.extend_from_slice(&bytes[end..]);
    if !check::<serde_yaml::Value>(bytes, &out, key, Some(value)) {
        return Err(cannot(
            "the edited file did not read back as expected".into(),
        ));
    }
    Ok(out)
}

/// Whether `path` is Open Animate's credentials file (`.oanim/credentials.yaml`).
fn is_oanim_credentials(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "credentials.yaml")
        && path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == ".oanim")
}

/// YAML files as a file target's [`Editor`]: the key is a dotted path.
#[derive(Debug, Clone, Copy)]
pub struct YamlEditor;

impl Tree for serde_yaml::Value {
    fn parse(bytes: &[u8]) -> Option<Self> {
        let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        serde_yaml::from_slice(body).ok()
    }
    fn child(&self, k: &str) -> Option<&Self> {
        self.as_mapping()?.get(k)
    }
    fn child_mut(&mut self, k: &str) -> Option<&mut Self> {
        self.as_mapping_mut()?.get_mut(k)
    }
    fn put(&mut self, k: &str, value: Option<&str>) -> bool {
        let Some(map) = self.as_mapping_mut() else {
            return false;
        };
        match value {
            Some(v) => map.insert(
                serde_yaml::Value::String(k.to_owned()),
                serde_yaml::Value::String(v.to_owned()),
            ),
            None => map.remove(k),
        };
        true
    }
    fn as_str(&self) -> Option<&str> {
        serde_yaml::Value::as_str(self)
    }
}

impl KeyPathFormat for YamlEditor {
    type Tree = serde_yaml::Value;
    const NAME: &'static str = "YAML";

    fn edit(bytes: &[u8], key: &str, value: &str) -> std::result::Result<Vec<u8>, EditError> {
        set_value(bytes, key, value)
    }

    fn spec(path: String, key: String, follow_symlink: bool) -> TargetSpec {
        TargetSpec::Yaml {
            path,
            key,
            follow_symlink,
        }
    }

    /// Open Animate's CLI credentials (`api_key: …`), made when missing.
    fn file_when_missing(path: &Path, key: &str, value: &str) -> Option<Vec<u8>> {
        (is_oanim_credentials(path) && key == "api_key")
            .then(|| format!("api_key: {}\n", token(value)).into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::Editor;

    fn set(text: &str, key: &str, value: &str) -> String {
        String::from_utf8(set_value(text.as_bytes(), key, value).expect("edit")).expect("utf-8")
    }

    #[test]
    fn only_the_scalar_changes() {
        assert_eq!(
            set("api_key: old\n", "api_key", "sk-new"),
            "api_key: sk-new\n"
        );
        assert_eq!(
            set(
                "# top\na:\n  b:   'old'  # c\n  x: 1\nb: keep\n",
                "a.b",
                "new"
            ),
            "# top\na:\n  b:   'new'  # c\n  x: 1\nb: keep\n"
        );
        assert_eq!(
            set("---\nl:\n- k: no\nk: \"x\"", "k", "v 1"),
            "---\nl:\n- k: no\nk: \"v 1\""
        );
        assert_eq!(set("k: 12\n", "k", "true"), "k: \"true\"\n");
        assert_eq!(set("k: \"x\"\n", "k", "plain"), "k: \"plain\"\n");
        assert_eq!(set("k: 'x'\n", "k", "it's"), "k: 'it''s'\n");
        assert_eq!(set("k: 'x'\n", "k", "a\u{1}"), "k: \"a\\u0001\"\n");
    }

    #[test]
    fn values_are_quoted_and_read_back() {
        for value in [
            " a\"b\\c#d:é",
            "it's",
            "",
            "123",
            "yes",
            "- x",
            "a: b",
            "\u{1}\u{85}\u{2028}😀",
            "~",
        ] {
            let out = set("k: x\n", "k", value);
            assert_eq!(
                YamlEditor::read_value(out.as_bytes(), "k").map(|s| s.expose_secret().to_owned()),
                Some(value.to_owned()),
                "{out}"
            );
        }
    }

    #[test]
    fn unsafe_edits_are_refused() {
        for (text, key) in [
            ("a: {b: x}\n", "a.b"),
            ("{a: x}\n", "a"),
            ("a: &x y\n", "a"),
            ("a: *x\n", "a"),
            ("b: &x\n  c: 1\na: *x\n", "a"),
            ("a: &x\n  b: y\n", "a.b"),
            ("a: |\n  x\n", "a"),
            ("a: >-\n  x\n", "a"),
            ("a: x\n  y\n", "a"),
            ("a:\tx\n", "a"),
            ("a: x\r\n", "a"),
            ("a: x\n---\na: y\n", "a"),
            ("a: x\n", "b"),
            ("a: x\na: y\n", "a"),
            ("a:\n  b: x\n", "a"),
            ("a: !!str x\n", "a"),
            ("a: \"x\n  y\"\n", "a"),
        ] {
            assert!(
                matches!(
                    set_value(text.as_bytes(), key, "v"),
                    Err(EditError::Refused(_))
                ),
                "{text}"
            );
        }
        let err = set_value(b"a: |\n x\n", "a", "sk-SECRET").unwrap_err();
        assert!(!format!("{err:?}").contains("SECRET"));
        assert!(matches!(
            set_value(b"a: x\n", "a..b", "v"),
            Err(EditError::BadKey(_))
        ));
    }

    #[test]
    fn only_open_animates_credentials_file_is_made() {
        let new = YamlEditor::new_file(Path::new("/h/.oanim/credentials.yaml"), "api_key", "k 1");
        assert_eq!(new.as_deref(), Some(&b"api_key: \"k 1\"\n"[..]));
        assert!(YamlEditor::new_file(Path::new("/h/.oanim/other.yaml"), "api_key", "k").is_none());
        assert!(YamlEditor::new_file(Path::new("/h/credentials.yaml"), "api_key", "k").is_none());
        assert!(
            YamlEditor::new_file(Path::new("/h/.oanim/credentials.yaml"), "token", "k").is_none()
        );
    }
}
