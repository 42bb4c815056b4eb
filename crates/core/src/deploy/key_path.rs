//! What the JSON, TOML and YAML editors share: the document as the
//! format's own reader sees it, a dotted key path into it, and the check
//! that an edit changed that one string and nothing else. Each format
//! brings its lossless text edit ([`KeyPathFormat::edit`]); the
//! [`Editor`] a file target uses is the same for all three.

use std::path::Path;

use super::file::{EditError, Editor};
use super::json::check_key_path;
use crate::catalog::TargetSpec;
use crate::error::Result;
use crate::secret::Secret;

/// A document read by the format's standard reader.
pub trait Tree: Sized + PartialEq {
    fn parse(bytes: &[u8]) -> Option<Self>;
    /// The value under `k` when this is a map.
    fn child(&self, k: &str) -> Option<&Self>;
    fn child_mut(&mut self, k: &str) -> Option<&mut Self>;
    /// Sets `k` to the string `value`, or removes it (`None`); `false`
    /// when this is not a map.
    fn put(&mut self, k: &str, value: Option<&str>) -> bool;
    fn as_str(&self) -> Option<&str>;
}

/// The value at the dotted `key`.
pub fn lookup<'v, T: Tree>(doc: &'v T, key: &str) -> Option<&'v T> {
    key.split('.').try_fold(doc, |v, k| v.child(k))
}

/// After an edit from `before` to `after`: the string at `key` reads as
/// `value` (absent for `None`) and every other value is as it was.
pub fn check<T: Tree>(before: &[u8], after: &[u8], key: &str, value: Option<&str>) -> bool {
    let (Some(mut want), Some(got)) = (T::parse(before), T::parse(after)) else {
        return false;
    };
    let segments: Vec<&str> = key.split('.').collect();
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut node = &mut want;
    for k in parents {
        match node.child_mut(k) {
            Some(n) => node = n,
            None => return value.is_none() && lookup(&got, key).is_none() && want == got,
        }
    }
    node.put(last, value) && want == got
}

/// A file format whose values sit at dotted key paths.
pub trait KeyPathFormat {
    type Tree: Tree;
    /// The format's name, as messages say it ("JSON").
    const NAME: &'static str;

    /// The bytes with the string at `key` set to `value`; every other byte kept.
    fn edit(bytes: &[u8], key: &str, value: &str) -> std::result::Result<Vec<u8>, EditError>;

    /// The journal's spec of a target of this format.
    fn spec(path: String, key: String, follow_symlink: bool) -> TargetSpec;

    /// The file to make when it is missing: see [`Editor::new_file`].
    fn file_when_missing(_path: &Path, _key: &str, _value: &str) -> Option<Vec<u8>> {
        None
    }
}

impl<F: KeyPathFormat> Editor for F {
    const KEY_FIELD: &'static str = "key_path";

    fn read_value(bytes: &[u8], key: &str) -> Option<Secret> {
        let doc = F::Tree::parse(bytes)?;
        lookup(&doc, key)?
            .as_str()
            .map(|s| Secret::new(s.to_owned()))
    }

    fn set_value(bytes: &[u8], key: &str, value: &str) -> std::result::Result<Vec<u8>, EditError> {
        F::edit(bytes, key, value)
    }

    fn remove_value(_bytes: &[u8], key: &str) -> std::result::Result<Vec<u8>, EditError> {
        Err(EditError::Refused(format!(
            "Latchkey does not remove '{key}' from a {} file; change it by hand",
            F::NAME
        )))
    }

    fn check_edit(before: &[u8], after: &[u8], key: &str, value: Option<&str>) -> bool {
        check::<F::Tree>(before, after, key, value)
    }

    fn check_key(key: &str) -> Result<String> {
        check_key_path(key)
    }

    fn spec(path: String, key: String, follow_symlink: bool) -> TargetSpec {
        F::spec(path, key, follow_symlink)
    }

    fn new_file(path: &Path, key: &str, value: &str) -> Option<Vec<u8>> {
        F::file_when_missing(path, key, value)
    }
}
