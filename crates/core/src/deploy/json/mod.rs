//! Lossless JSON editing: set one string value at a dotted object path
//! (`a.b.c`) and change nothing else. Only the string token's bytes are
//! replaced; every other byte (whitespace, order, CRLF) stays. A path that
//! is not in the file, a value that is not a string, or a key that appears
//! twice is refused. Pure: no I/O here, and nothing here logs a value.

use super::file::EditError;
use super::key_path::{check, KeyPathFormat, Tree};
use crate::catalog::TargetSpec;
use crate::error::{Error, Result};

/// `[A-Za-z0-9_-]+` segments joined by `.`.
pub fn valid_key_path(key: &str) -> bool {
    !key.is_empty()
        && key.split('.').all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

fn bad_key(key: &str) -> EditError {
    EditError::BadKey(format!(
        "'{}' is not a key path (dotted names of letters, digits, '_' and '-')",
        key.chars()
            .filter(|c| !c.is_control())
            .take(64)
            .collect::<String>()
    ))
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    target: Vec<&'a str>,
    path: Vec<String>,
    /// Byte spans of every value found at the target path.
    hits: Vec<(usize, usize, bool)>,
}

impl<'a> Scanner<'a> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\r' | b'\n') {
            self.i += 1;
        }
    }

    fn string(&mut self) -> Option<String> {
        let start = self.i;
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    let raw = std::str::from_utf8(&self.b[start..self.i]).ok()?;
                    return serde_json::from_str::<String>(raw).ok();
                }
                _ => self.i += 1,
            }
        }
        None
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > 128 {
            return None;
        }
        self.ws();
        let start = self.i;
        let at_target = self.path.len() == self.target.len()
            && self.path.iter().zip(&self.target).all(|(a, b)| a == b);
        let is_string = self.b.get(self.i) == Some(&b'"');
        match *self.b.get(self.i)? {
            b'{' => {
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        let key = self.string()?;
                        self.ws();
                        if self.b.get(self.i) != Some(&b':') {
                            return None;
                        }
                        self.i += 1;
                        self.path.push(key);
                        self.value(depth + 1)?;
                        self.path.pop();
                        self.ws();
                        match self.b.get(self.i)? {
                            b',' => self.i += 1,
                            b'}' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
            }
            b'[' => {
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    // Values inside arrays are never at an object path.
                    self.path.push("\0[]".to_owned());
                    loop {
                        self.value(depth + 1)?;
                        self.ws();
                        match self.b.get(self.i)? {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                    self.path.pop();
                }
            }
            b'"' => {
                self.string()?;
            }
            _ => {
                while self.i < self.b.len()
                    && !matches!(
                        self.b[self.i],
                        b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n'
                    )
                {
                    self.i += 1;
                }
                if self.i == start {
                    return None;
                }
            }
        }
        if at_target {
            self.hits.push((start, self.i, is_string));
        }
        Some(())
    }
}

/// The bytes with the string at `key` set to `value`; every other byte kept.
pub fn set_value(bytes: &[u8], key: &str, value: &str) -> std::result::Result<Vec<u8>, EditError> {
    if !valid_key_path(key) {
        return Err(bad_key(key));
    }
    let refused = |why: &str| Err(EditError::Refused(why.to_owned()));
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => return refused("the file is not valid UTF-8"),
    };
    let offset = if text.starts_with('\u{feff}') { 3 } else { 0 };
    if <serde_json::Value as Tree>::parse(bytes).is_none() {
        return refused("the file is not valid JSON");
    }
    let mut s = Scanner {
        b: &bytes[offset..],
        i: 0,
        target: key.split('.').collect(),
        path: Vec::new(),
        hits: Vec::new(),
    };
    if s.value(0).is_none() {
        return refused("the file is not JSON Latchkey can edit safely");
    }
    let (start, end) = match s.hits.as_slice() {
        [] => {
            return Err(EditError::Refused(format!(
                "'{key}' is not in the file; add it (any string) by hand first"
            )))
        }
        [(start, end, true)] => (start + offset, end + offset),
        [_] => {
            return Err(EditError::Refused(format!(
                "'{key}' holds something other than a string"
            )))
        }
        _ => {
            return Err(EditError::Refused(format!(
                "'{key}' appears more than once"
            )))
        }
    };
    let token = serde_json::to_string(value).map_err(|_| EditError::Refused("bad value".into()))?;
    let mut out = Vec::with_capacity(bytes.len() + token.len());
    out.extend_from_slice(&bytes[..start]);
    out.extend_from_slice(token.as_bytes());
    out.extend_from_slice(&bytes[end..]);
    if !check::<serde_json::Value>(bytes, &out, key, Some(value)) {
        return refused("the edited file did not read back as expected");
    }
    Ok(out)
}

/// A dotted key path (`services.openai.key`), as the JSON, TOML and YAML
/// editors take it.
pub(crate) fn check_key_path(key: &str) -> Result<String> {
    if !valid_key_path(key) {
        return Err(Error::invalid(
            "key_path",
            "Name the key as a dotted path of letters, digits, '_' and '-' (services.openai.key)",
        ));
    }
    Ok(key.to_owned())
}

/// JSON files as a file target's [`Editor`]: the key is a dotted object path.
#[derive(Debug, Clone, Copy)]
pub struct JsonEditor;

impl Tree for serde_json::Value {
    fn parse(bytes: &[u8]) -> Option<Self> {
        let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        serde_json::from_slice(body).ok()
    }
    fn child(&self, k: &str) -> Option<&Self> {
        self.as_object()?.get(k)
    }
    fn child_mut(&mut self, k: &str) -> Option<&mut Self> {
        self.as_object_mut()?.get_mut(k)
    }
    fn put(&mut self, k: &str, value: Option<&str>) -> bool {
        let Some(obj) = self.as_object_mut() else {
            return false;
        };
        match value {
            Some(v) => obj.insert(k.to_owned(), serde_json::Value::String(v.to_owned())),
            None => obj.remove(k),
        };
        true
    }
    fn as_str(&self) -> Option<&str> {
        serde_json::Value::as_str(self)
    }
}

impl KeyPathFormat for JsonEditor {
    type Tree = serde_json::Value;
    const NAME: &'static str = "JSON";

    fn edit(bytes: &[u8], key: &str, value: &str) -> std::result::Result<Vec<u8>, EditError> {
        set_value(bytes, key, value)
    }

    fn spec(path: String, key: String, follow_symlink: bool) -> TargetSpec {
        TargetSpec::Json {
            path,
            key,
            follow_symlink,
        }
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
    fn only_the_string_token_changes() {
        assert_eq!(
            set(
                "{\n  \"a\": {\"b\" :  \"old\" },\r\n  \"c\": 1\n}\n",
                "a.b",
                "new"
            ),
            "{\n  \"a\": {\"b\" :  \"new\" },\r\n  \"c\": 1\n}\n"
        );
        assert_eq!(set("{\"k\":\"\"}", "k", "v"), "{\"k\":\"v\"}");
        assert_eq!(
            set("\u{feff}{ \"k\" : \"x\" }", "k", "y"),
            "\u{feff}{ \"k\" : \"y\" }"
        );
    }

    #[test]
    fn values_are_escaped() {
        assert_eq!(
            set("{\"k\":\"x\"}", "k", " a\"b\\c#d:é\u{1}"),
            "{\"k\":\" a\\\"b\\\\c#d:é\\u0001\"}"
        );
        let out = set("{\"k\":\"x\"}", "k", " a\"b\\c#d:é");
        assert_eq!(
            JsonEditor::read_value(out.as_bytes(), "k").map(|s| s.expose_secret().to_owned()),
            Some(" a\"b\\c#d:é".to_owned())
        );
    }

    #[test]
    fn strings_in_arrays_and_other_keys_are_not_the_target() {
        assert_eq!(
            set("{\"l\":[{\"k\":\"no\"}],\"k\":\"yes\"}", "k", "v"),
            "{\"l\":[{\"k\":\"no\"}],\"k\":\"v\"}"
        );
    }

    #[test]
    fn unsafe_edits_are_refused() {
        for (text, key) in [
            ("{\"a\":1}", "a"),
            ("{\"a\":\"x\"}", "b"),
            ("{\"a\":\"x\",\"a\":\"y\"}", "a"),
            ("{\"a\":", "a"),
            ("[\"a\"]", "a"),
        ] {
            assert!(
                matches!(
                    set_value(text.as_bytes(), key, "v"),
                    Err(EditError::Refused(_))
                ),
                "{text}"
            );
        }
        assert!(matches!(
            set_value(b"{}", "a..b", "v"),
            Err(EditError::BadKey(_))
        ));
    }

    #[test]
    fn errors_never_carry_the_value() {
        let err = set_value(b"{\"a\":1}", "a", "sk-SECRET").unwrap_err();
        assert!(!format!("{err:?}").contains("SECRET"));
    }
}
