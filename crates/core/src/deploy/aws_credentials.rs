//! Lossless editing of the AWS CLI's shared credentials file
//! (`~/.aws/credentials`, INI as Python's `configparser` reads it for
//! botocore): the "key" is a profile, the value an AWS key pair as Latchkey
//! keeps it (`ACCESS_KEY_ID:SECRET_ACCESS_KEY`), and an edit sets the
//! profile's `aws_access_key_id` and `aws_secret_access_key` lines, every
//! other byte kept (comments, other profiles and keys, the spacing around
//! `=`). A missing profile is appended as a new section; a missing line is
//! added at the end of its section. Duplicate sections or keys, keys before
//! any section, lines that are none of header / `key = value` / comment,
//! and a multi-line value at one of the two keys are refused. Nothing here
//! logs a value.

use std::collections::BTreeMap;

use super::file::{EditError, Editor};
use crate::catalog::TargetSpec;
use crate::error::{Error, Result};
use crate::secret::Secret;

const ID: &str = "aws_access_key_id";
const SECRET: &str = "aws_secret_access_key";

/// `[A-Za-z0-9_.-]+`, and not configparser's special `DEFAULT`.
pub fn valid_profile(profile: &str) -> bool {
    !profile.is_empty()
        && profile != "DEFAULT"
        && profile
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

struct Section {
    name: String,
    /// End of the header line (after its line break, if any).
    header_end: usize,
    /// End of the section's last key or continuation line.
    content_end: usize,
}

struct Opt {
    section: usize,
    /// The name as configparser keys it (lower case).
    name: String,
    line_start: usize,
    line_end: usize,
    /// What lies between the name and the value (` = `, `=`, `: `).
    separator: String,
    value_start: usize,
    value_end: usize,
    value: String,
    indent: usize,
    multiline: bool,
}

/// The file as configparser (strict, `=` and `:` delimiters, full-line `#`
/// and `;` comments, indented continuation lines) reads it; `None` where it
/// would fail or where a line is not plainly one of those.
fn scan(text: &str) -> Option<(Vec<Section>, Vec<Opt>)> {
    let mut sections: Vec<Section> = Vec::new();
    let mut opts: Vec<Opt> = Vec::new();
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let stripped = line.trim();
        if stripped.is_empty() || stripped.starts_with('#') || stripped.starts_with(';') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if let Some(last) = opts.last_mut() {
            if Some(last.section) == sections.len().checked_sub(1) && indent > last.indent {
                last.multiline = true;
                last.value.push('\n');
                last.value.push_str(stripped);
                if let Some(s) = sections.last_mut() {
                    s.content_end = offset;
                }
                continue;
            }
        }
        if stripped.starts_with('[') {
            let name = stripped.strip_prefix('[')?.strip_suffix(']')?;
            if name.is_empty() || sections.iter().any(|s| s.name == name) {
                return None;
            }
            sections.push(Section {
                name: name.to_owned(),
                header_end: offset,
                content_end: offset,
            });
            continue;
        }
        let section = sections.len().checked_sub(1)?;
        let at = stripped.find(['=', ':'])?;
        let name = stripped[..at].trim_end();
        if name.is_empty() {
            return None;
        }
        let name = name.to_lowercase();
        if opts.iter().any(|o| o.section == section && o.name == name) {
            return None;
        }
        let line_start = start + indent;
        let name_end = line_start + stripped[..at].trim_end().len();
        let after = &stripped[at + 1..];
        let value = after.trim_start();
        let value_start = line_start + at + 1 + (after.len() - value.len());
        let value = value.trim_end();
        opts.push(Opt {
            section,
            name,
            line_start: start,
            line_end: offset,
            separator: text[name_end..value_start].to_owned(),
            value_start,
            value_end: value_start + value.len(),
            value: value.to_owned(),
            indent,
            multiline: false,
        });
        sections[section].content_end = offset;
    }
    Some((sections, opts))
}

type Profiles = BTreeMap<String, BTreeMap<String, String>>;

fn parse(bytes: &[u8]) -> Option<Profiles> {
    let text = std::str::from_utf8(bytes).ok()?;
    let (sections, opts) = scan(text)?;
    let mut out: Profiles = sections
        .iter()
        .map(|s| (s.name.clone(), BTreeMap::new()))
        .collect();
    for o in opts {
        out.get_mut(&sections[o.section].name)?
            .insert(o.name, o.value);
    }
    Some(out)
}

fn pair(value: &str) -> std::result::Result<(&str, &str), EditError> {
    let ok = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    match value.split_once(':') {
        Some((id, secret)) if ok(id) && ok(secret) => Ok((id, secret)),
        _ => Err(EditError::Refused(
            "the key is not an AWS key pair (ACCESS_KEY_ID:SECRET_ACCESS_KEY, no spaces)".into(),
        )),
    }
}

fn bad_profile(profile: &str) -> EditError {
    EditError::BadKey(format!(
        "'{}' is not a profile name (letters, digits, '_', '.' and '-')",
        profile
            .chars()
            .filter(|c| !c.is_control())
            .take(64)
            .collect::<String>()
    ))
}

/// The bytes with `profile`'s two lines set to the pair `value`
/// (`ID:SECRET`); every other byte kept.
pub fn set_value(
    bytes: &[u8],
    profile: &str,
    value: &str,
) -> std::result::Result<Vec<u8>, EditError> {
    if !valid_profile(profile) {
        return Err(bad_profile(profile));
    }
    let (id, secret) = pair(value)?;
    let refused = |why: &str| EditError::Refused(why.to_owned());
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(refused("the file is not valid UTF-8"));
    };
    let Some((sections, opts)) = scan(text) else {
        return Err(refused(
            "the file is not an AWS credentials file Latchkey can edit safely (a duplicate profile or key, a key outside a [profile], or a line that is not `key = value`); change it by hand",
        ));
    };
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = text.to_owned();
    match sections.iter().position(|s| s.name == profile) {
        None => {
            if !out.is_empty() {
                if !out.ends_with('\n') {
                    out.push_str(nl);
                }
                out.push_str(nl);
            }
            out.push_str(&format!(
                "[{profile}]{nl}{ID} = {id}{nl}{SECRET} = {secret}{nl}"
            ));
        }
        Some(index) => {
            let mine: Vec<&Opt> = opts.iter().filter(|o| o.section == index).collect();
            let find = |name: &str| mine.iter().find(|o| o.name == name).copied();
            let (old_id, old_secret) = (find(ID), find(SECRET));
            if old_id.is_some_and(|o| o.multiline) || old_secret.is_some_and(|o| o.multiline) {
                return Err(refused(&format!(
                    "a key of [{profile}] goes on over several lines; change it by hand"
                )));
            }
            let separator = old_id
                .or(old_secret)
                .or(mine.first().copied())
                .map_or(" = ", |o| o.separator.as_str())
                .to_owned();
            let mut missing = String::new();
            let section = &sections[index];
            let at = section.content_end;
            if at == out.len() && !out.ends_with('\n') {
                missing.push_str(nl);
            }
            for (name, old, new) in [(ID, old_id, id), (SECRET, old_secret, secret)] {
                if old.is_none() {
                    missing.push_str(&format!("{name}{separator}{new}{nl}"));
                }
            }
            // Replace from the end so earlier offsets stay right.
            let mut edits: Vec<(usize, usize, String)> = Vec::new();
            if old_id.is_none() || old_secret.is_none() {
                edits.push((at, at, missing));
            }
            for (old, new) in [(old_id, id), (old_secret, secret)] {
                if let Some(o) = old {
                    edits.push((o.value_start, o.value_end, new.to_owned()));
                }
            }
            edits.sort_by_key(|e| std::cmp::Reverse(e.0));
            for (start, end, with) in edits {
                out.replace_range(start..end, &with);
            }
        }
    }
    let out = out.into_bytes();
    if !check(bytes, &out, profile, Some(value)) {
        return Err(refused(
            "the edited file did not read back as expected; change it by hand",
        ));
    }
    Ok(out)
}

/// The bytes without `profile`'s two lines (and without the section when
/// nothing else is left in it): the undo of a `set_value` that added them.
pub fn remove_value(bytes: &[u8], profile: &str) -> std::result::Result<Vec<u8>, EditError> {
    if !valid_profile(profile) {
        return Err(bad_profile(profile));
    }
    let refused = |why: &str| EditError::Refused(why.to_owned());
    let text = std::str::from_utf8(bytes).map_err(|_| refused("the file is not valid UTF-8"))?;
    let (sections, opts) = scan(text).ok_or_else(|| {
        refused("the file is not an AWS credentials file Latchkey can edit safely")
    })?;
    let Some(index) = sections.iter().position(|s| s.name == profile) else {
        return Ok(bytes.to_vec());
    };
    let mine: Vec<&Opt> = opts.iter().filter(|o| o.section == index).collect();
    let mut out = text.to_owned();
    let others = mine
        .iter()
        .filter(|o| o.name != ID && o.name != SECRET)
        .count();
    let section = &sections[index];
    let header_start = text[..section.header_end]
        .trim_end_matches(['\n', '\r'])
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let body = &text[section.header_end..section.content_end];
    let only_ours = body.lines().all(|l| {
        l.trim().is_empty()
            || l.trim_start().to_lowercase().starts_with(ID)
            || l.trim_start().to_lowercase().starts_with(SECRET)
    });
    if others == 0 && only_ours {
        // The whole section, and the blank line an append put before it.
        let mut start = header_start;
        let before = &text[..start];
        if let Some(trimmed) = before
            .strip_suffix("\r\n\r\n")
            .map(|t| t.len() + 2)
            .or_else(|| before.strip_suffix("\n\n").map(|t| t.len() + 1))
        {
            start = trimmed;
        }
        out.replace_range(start..section.content_end, "");
    } else {
        let mut lines: Vec<&&Opt> = mine
            .iter()
            .filter(|o| o.name == ID || o.name == SECRET)
            .collect();
        lines.sort_by_key(|o| std::cmp::Reverse(o.line_start));
        for o in lines {
            if o.multiline {
                return Err(refused("a key of the profile goes on over several lines"));
            }
            out.replace_range(o.line_start..o.line_end, "");
        }
    }
    let out = out.into_bytes();
    if !check(bytes, &out, profile, None) {
        return Err(refused(
            "the edited file did not read back as expected; change it by hand",
        ));
    }
    Ok(out)
}

fn check(before: &[u8], after: &[u8], profile: &str, value: Option<&str>) -> bool {
    let (Some(mut want), Some(mut got)) = (parse(before), parse(after)) else {
        return false;
    };
    match value {
        Some(value) => {
            let Ok((id, secret)) = pair(value) else {
                return false;
            };
            let p = want.entry(profile.to_owned()).or_default();
            p.insert(ID.to_owned(), id.to_owned());
            p.insert(SECRET.to_owned(), secret.to_owned());
        }
        None => {
            if let Some(p) = want.get_mut(profile) {
                p.remove(ID);
                p.remove(SECRET);
            }
            // An emptied profile and a removed one read the same.
            for map in [&mut want, &mut got] {
                if map.get(profile).is_some_and(BTreeMap::is_empty) {
                    map.remove(profile);
                }
            }
        }
    }
    want == got
}

/// The AWS CLI's credentials file as a file target's [`Editor`]: the key is
/// a profile name, the value `ACCESS_KEY_ID:SECRET_ACCESS_KEY`.
#[derive(Debug, Clone, Copy)]
pub struct AwsCredentialsEditor;

impl Editor for AwsCredentialsEditor {
    const KEY_FIELD: &'static str = "profile";

    fn read_value(bytes: &[u8], profile: &str) -> Option<Secret> {
        let p = parse(bytes)?.remove(profile)?;
        Some(Secret::new(format!("{}:{}", p.get(ID)?, p.get(SECRET)?)))
    }

    fn set_value(bytes: &[u8], key: &str, value: &str) -> std::result::Result<Vec<u8>, EditError> {
        set_value(bytes, key, value)
    }

    fn remove_value(bytes: &[u8], key: &str) -> std::result::Result<Vec<u8>, EditError> {
        remove_value(bytes, key)
    }

    fn check_edit(before: &[u8], after: &[u8], key: &str, value: Option<&str>) -> bool {
        check(before, after, key, value)
    }

    fn check_key(key: &str) -> Result<String> {
        if !valid_profile(key) {
            return Err(Error::invalid(
                "profile",
                "Name the AWS profile with letters, digits, '_', '.' and '-' (default, work-dev)",
            ));
        }
        Ok(key.to_owned())
    }

    fn spec(path: String, key: String, follow_symlink: bool) -> TargetSpec {
        TargetSpec::AwsCredentials {
            path,
            profile: key,
            follow_symlink,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAIR: &str = "AKIANEWNEWNEWNEWNEW2:new/secret+x";

    fn set(text: &str, profile: &str) -> String {
        String::from_utf8(set_value(text.as_bytes(), profile, PAIR).expect("edit")).expect("utf-8")
    }

    #[test]
    fn only_the_two_values_change() {
        let file = "# mine\n[default]\naws_access_key_id=AKIAOLD\n; note\naws_secret_access_key   =  old  \nregion = eu-west-1\n\n[other]\naws_access_key_id = AKIAOTHER\n";
        assert_eq!(
            set(file, "default"),
            "# mine\n[default]\naws_access_key_id=AKIANEWNEWNEWNEWNEW2\n; note\naws_secret_access_key   =  new/secret+x  \nregion = eu-west-1\n\n[other]\naws_access_key_id = AKIAOTHER\n"
        );
        assert_eq!(
            AwsCredentialsEditor::read_value(set(file, "default").as_bytes(), "default")
                .map(|s| s.expose_secret().to_owned()),
            Some(PAIR.to_owned())
        );
    }

    #[test]
    fn missing_profiles_and_lines_are_added() {
        assert_eq!(
            set("[a]\nx = 1", "b"),
            format!("[a]\nx = 1\n\n[b]\naws_access_key_id = AKIANEWNEWNEWNEWNEW2\naws_secret_access_key = new/secret+x\n")
        );
        assert_eq!(
            set("", "b"),
            "[b]\naws_access_key_id = AKIANEWNEWNEWNEWNEW2\naws_secret_access_key = new/secret+x\n"
        );
        assert_eq!(
            set("[b]\r\naws_access_key_id=AKIAOLD\r\n\r\n[c]\r\n", "b"),
            "[b]\r\naws_access_key_id=AKIANEWNEWNEWNEWNEW2\r\naws_secret_access_key=new/secret+x\r\n\r\n[c]\r\n"
        );
    }

    #[test]
    fn an_added_profile_is_removed_again() {
        for file in ["[a]\nx = 1\n", "[a]\nx = 1", "", "[b]\nregion = x\n"] {
            let set = set_value(file.as_bytes(), "b", PAIR).expect("set");
            let back = remove_value(&set, "b").expect("remove");
            assert!(check(&set, &back, "b", None), "{file}");
            assert!(AwsCredentialsEditor::read_value(&back, "b").is_none());
        }
        let back = remove_value(&set_value(b"[a]\nx = 1\n", "b", PAIR).unwrap(), "b").unwrap();
        assert_eq!(back, b"[a]\nx = 1\n");
    }

    #[test]
    fn unsafe_edits_are_refused() {
        for text in [
            "[b]\n[b]\n",
            "[b]\nx = 1\nX = 2\n",
            "x = 1\n[b]\n",
            "[b]\njunk\n",
            "[b]\naws_access_key_id = a\n  b\n",
        ] {
            assert!(
                matches!(
                    set_value(text.as_bytes(), "b", PAIR),
                    Err(EditError::Refused(_))
                ),
                "{text}"
            );
        }
        for value in ["nocolon", ":x", "x:", "a b:c", "a:b\nc"] {
            let err = set_value(b"", "b", value).unwrap_err();
            assert!(!format!("{err:?}").contains(value), "{value}");
        }
        for profile in ["", "a b", "DEFAULT", "a]", "p:q"] {
            assert!(matches!(
                set_value(b"", profile, PAIR),
                Err(EditError::BadKey(_))
            ));
        }
    }
}
