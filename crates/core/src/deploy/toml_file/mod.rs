//! Lossless TOML editing with `toml_edit` (format-preserving): set one
//! string value at a dotted key path and change nothing else. The old
//! value's comments and blanks around it stay; the edit must change bytes
//! on the value's own line only, and `toml` must read the new value with
//! every other value unchanged, or it is refused. A path that is not in the
//! file or does not hold a string is refused. Nothing here logs a value.

use super::file::EditError;
use super::json::valid_key_path;
use super::key_path::{check, KeyPathFormat, Tree};
use crate::catalog::TargetSpec;

/// The bytes with the string at `key` set to `value`; every other byte kept.
pub fn set_value(bytes: &[u8], key: &str, value: &str) -> std::result::Result<Vec<u8>, EditError> {
    if !valid_key_path(key) {
        return Err(EditError::BadKey(format!(
            "'{}' is not a key path (dotted names of letters, digits, '_' and '-')",
            key.chars()
                .filter(|c| !c.is_control())
                .take(64)
                .collect::<String>()
        )));
    }
    let refused = |why: String| Err(EditError::Refused(why));
    let Ok(text) = std::str::from_utf8(bytes) else {
        return refused("the file is not valid UTF-8".into());
    };
    if text.contains('\r') {
        // toml_edit writes line breaks back as LF.
        return refused(
            "Latchkey cannot yet edit a TOML file with CRLF line breaks; change it by hand".into(),
        );
    }
    let Ok(mut doc) = text.parse::<toml_edit::Document>() else {
        return refused("the file is not valid TOML".into());
    };
    let mut item = doc.as_item_mut();
    for segment in key.split('.') {
        match item.get_mut(segment) {
            Some(next) => item = next,
            None => {
                return refused(format!(
                    "'{key}' is not in the file; add it (any string) by hand first"
                ))
            }
        }
    }
    let Some(old) = item.as_value_mut().filter(|v| v.is_str()) else {
        return refused(format!("'{key}' holds something other than a string"));
    };
    let old_len = old.as_str().map_or(0, |_| old.to_string().trim().len());
    let decor = old.decor().clone();
    let mut new = toml_edit::Value::from(value);
    *new.decor_mut() = decor;
    let new_len = new.to_string().trim().len();
    *old = new;
    let mut out = doc.to_string().into_bytes();
    if !text.ends_with('\n') && out.ends_with(b"\n") {
        out.pop();
    }
    if !only_the_token_changed(bytes, &out, old_len, new_len)
        || !check::<toml::Value>(bytes, &out, key, Some(value))
    {
        return refused(format!(
            "'{key}' cannot be changed in this file without changing other text; change it by hand"
        ));
    }
    Ok(out)
}

/// The bytes of `before` that differ from `after` lie on one line and are
/// no longer than the old value's token.
fn only_the_token_changed(before: &[u8], after: &[u8], old_len: usize, new_len: usize) -> bool {
    let prefix = before.iter().zip(after).take_while(|(a, b)| a == b).count();
    let suffix = before[prefix..]
        .iter()
        .rev()
        .zip(after[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = suffix.min(before.len() - prefix).min(after.len() - prefix);
    let changed = &before[prefix..before.len() - suffix];
    let added = &after[prefix..after.len() - suffix];
    changed.len() <= old_len
        && added.len() <= new_len
        && !changed.contains(&b'\n')
        && !added.contains(&b'\n')
}

/// TOML files as a file target's [`Editor`]: the key is a dotted path.
#[derive(Debug, Clone, Copy)]
pub struct TomlEditor;

impl Tree for toml::Value {
    fn parse(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        toml::from_str::<toml::Table>(text)
            .ok()
            .map(toml::Value::Table)
    }
    fn child(&self, k: &str) -> Option<&Self> {
        self.as_table()?.get(k)
    }
    fn child_mut(&mut self, k: &str) -> Option<&mut Self> {
        self.as_table_mut()?.get_mut(k)
    }
    fn put(&mut self, k: &str, value: Option<&str>) -> bool {
        let Some(table) = self.as_table_mut() else {
            return false;
        };
        match value {
            Some(v) => table.insert(k.to_owned(), toml::Value::String(v.to_owned())),
            None => table.remove(k),
        };
        true
    }
    fn as_str(&self) -> Option<&str> {
        toml::Value::as_str(self)
    }
}

impl KeyPathFormat for TomlEditor {
    type Tree = toml::Value;
    const NAME: &'static str = "TOML";

    fn edit(bytes: &[u8], key: &str, value: &str) -> std::result::Result<Vec<u8>, EditError> {
        set_value(bytes, key, value)
    }

    fn spec(path: String, key: String, follow_symlink: bool) -> TargetSpec {
        TargetSpec::Toml {
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
    fn only_the_value_changes() {
        assert_eq!(
            set("# top\n[a]\nb = \"old\"  # c\nx = 1\n", "a.b", "new"),
            "# top\n[a]\nb = \"new\"  # c\nx = 1\n"
        );
        assert_eq!(set("k='x'", "k", "y"), "k=\"y\"");
        assert_eq!(set("a.b = \"x\"\n", "a.b", "y"), "a.b = \"y\"\n");
    }

    #[test]
    fn values_are_escaped_and_read_back() {
        for value in [" a\"b\\c#d:é", "it's", "  lead"] {
            let out = set("k = \"x\"\n", "k", value);
            assert_eq!(
                TomlEditor::read_value(out.as_bytes(), "k").map(|s| s.expose_secret().to_owned()),
                Some(value.to_owned())
            );
        }
    }

    #[test]
    fn unsafe_edits_are_refused() {
        for (text, key) in [
            ("a = 1\n", "a"),
            ("a = \"x\"\r\n", "a"),
            ("a = \"x\"\n", "b"),
            ("a = ", "a"),
        ] {
            assert!(
                matches!(
                    set_value(text.as_bytes(), key, "v"),
                    Err(EditError::Refused(_))
                ),
                "{text}"
            );
        }
        let err = set_value(b"a = 1\n", "a", "sk-SECRET").unwrap_err();
        assert!(!format!("{err:?}").contains("SECRET"));
    }
}
