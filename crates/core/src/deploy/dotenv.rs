//! Lossless `.env` editing: set one variable's value and change nothing
//! else — comments, order, blank lines, `export ` prefixes, quoting style,
//! CRLF/LF, a UTF-8 BOM and the trailing-newline state are all kept, byte
//! for byte. Pure: no I/O here, and nothing here logs a value.

/// Why an edit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DotenvError {
    #[error("'{0}' is not a valid environment variable name")]
    BadName(String),
    #[error("a key cannot contain line breaks or NUL characters")]
    BadValue,
    #[error("the file is not valid UTF-8")]
    NotUtf8,
}

const BOM: &str = "\u{feff}";

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// The parts of one assignment line: `prefix` + value + `suffix` == line.
struct Assignment<'a> {
    name: &'a str,
    /// Everything up to the value (indent, `export `, name, `=`, quote).
    prefix_len: usize,
    /// Byte range of the raw value inside the line (without quotes).
    value_end: usize,
    quote: Option<char>,
    /// Whether the quoted value closes on this line.
    closed: bool,
}

fn parse_assignment(line: &str) -> Option<Assignment<'_>> {
    let body = line.trim_start_matches([' ', '\t']);
    let indent = line.len() - body.len();
    let (after_export, export_len) = match body.strip_prefix("export") {
        Some(rest) if rest.starts_with([' ', '\t']) => {
            let trimmed = rest.trim_start_matches([' ', '\t']);
            (trimmed, body.len() - trimmed.len())
        }
        _ => (body, 0),
    };
    let name_len = after_export
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(after_export.len());
    let name = &after_export[..name_len];
    if !valid_name(name) {
        return None;
    }
    let rest = &after_export[name_len..];
    let before_eq = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let rest_eq = &rest[before_eq..];
    let after_eq = rest_eq.strip_prefix('=')?;
    let ws = after_eq.len() - after_eq.trim_start_matches([' ', '\t']).len();
    let value_part = &after_eq[ws..];
    let start = indent + export_len + name_len + before_eq + 1 + ws;
    match value_part.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let inner = &value_part[1..];
            let close = if q == '"' {
                find_unescaped(inner, '"')
            } else {
                inner.find('\'')
            };
            let (end, closed) = match close {
                Some(i) => (start + 1 + i, true),
                None => (line.len(), false),
            };
            Some(Assignment {
                name,
                prefix_len: start + 1,
                value_end: end,
                quote: Some(q),
                closed,
            })
        }
        _ => {
            // Unquoted: up to a ` #` comment, trailing blanks excluded.
            let mut end = value_part.len();
            if let Some(i) = value_part.find(" #").or_else(|| value_part.find("\t#")) {
                end = i;
            }
            if value_part.starts_with('#') {
                end = 0;
            }
            let trimmed = value_part[..end].trim_end_matches([' ', '\t']).len();
            Some(Assignment {
                name,
                prefix_len: start,
                value_end: start + trimmed,
                quote: None,
                closed: true,
            })
        }
    }
}

fn find_unescaped(s: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            return Some(i);
        }
    }
    None
}

/// Characters an unquoted value may hold and still parse to itself.
fn plain_safe(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./+=:@,%~".contains(c))
}

/// How `value` is written in a line of the given quoting style.
fn render(value: &str, quote: Option<char>) -> (Option<char>, String) {
    match quote {
        Some('\'') if !value.contains('\'') => (Some('\''), value.to_owned()),
        None if plain_safe(value) => (None, value.to_owned()),
        _ => {
            let mut out = String::with_capacity(value.len() + 2);
            for c in value.chars() {
                if matches!(c, '"' | '\\' | '$') {
                    out.push('\\');
                }
                out.push(c);
            }
            (Some('"'), out)
        }
    }
}

/// Splits into lines, each keeping its own ending ("\n", "\r\n" or none).
fn split_lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

fn ending(line: &str) -> (&str, &str) {
    if let Some(body) = line.strip_suffix("\r\n") {
        (body, "\r\n")
    } else if let Some(body) = line.strip_suffix('\n') {
        (body, "\n")
    } else {
        (line, "")
    }
}

/// Sets `name` to `value` in a `.env` file's bytes. Every assignment of
/// `name` gets the new value in its own quoting style (double quotes when
/// the style cannot hold it); when there is none, `NAME=value` is appended
/// in the file's line-ending style. Returns the new bytes.
pub fn set_value(original: &[u8], name: &str, value: &str) -> Result<Vec<u8>, DotenvError> {
    if !valid_name(name) {
        return Err(DotenvError::BadName(
            name.chars().filter(|c| !c.is_control()).take(64).collect(),
        ));
    }
    if value.contains(['\n', '\r', '\0']) {
        return Err(DotenvError::BadValue);
    }
    let text = std::str::from_utf8(original).map_err(|_| DotenvError::NotUtf8)?;
    let (bom, body) = match text.strip_prefix(BOM) {
        Some(rest) => (BOM, rest),
        None => ("", text),
    };
    let lines = split_lines(body);
    let newline = lines
        .iter()
        .find_map(|l| Some(ending(l).1).filter(|e| !e.is_empty()))
        .unwrap_or("\n");
    let mut out = String::with_capacity(text.len() + value.len() + name.len() + 4);
    out.push_str(bom);
    let mut found = false;
    let mut open_quote: Option<char> = None;
    for line in &lines {
        let (content, end) = ending(line);
        if let Some(q) = open_quote {
            // Inside a multi-line quoted value: copy until it closes.
            let closes = if q == '"' {
                find_unescaped(content, '"')
            } else {
                content.find('\'')
            };
            if closes.is_some() {
                open_quote = None;
            }
            out.push_str(line);
            continue;
        }
        match parse_assignment(content) {
            Some(a) if !a.closed => {
                open_quote = a.quote;
                out.push_str(line);
            }
            Some(a) if a.name == name => {
                found = true;
                let (quote, rendered) = render(value, a.quote);
                let prefix_end = if a.quote.is_some() {
                    a.prefix_len - 1
                } else {
                    a.prefix_len
                };
                out.push_str(&content[..prefix_end]);
                if let Some(q) = quote {
                    out.push(q);
                }
                out.push_str(&rendered);
                let suffix_start = match a.quote {
                    Some(_) => a.value_end + 1,
                    None => a.value_end,
                };
                if let Some(q) = quote {
                    out.push(q);
                }
                out.push_str(&content[suffix_start..]);
                out.push_str(end);
            }
            _ => out.push_str(line),
        }
    }
    if !found {
        let (_, rendered) = render(value, None);
        let needs_break = !body.is_empty() && !body.ends_with('\n');
        if needs_break {
            out.push_str(newline);
        }
        out.push_str(name);
        out.push('=');
        if plain_safe(value) {
            out.push_str(&rendered);
        } else {
            out.push('"');
            out.push_str(&rendered);
            out.push('"');
        }
        if body.is_empty() || !needs_break {
            out.push_str(newline);
        }
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str, name: &str, value: &str) -> String {
        String::from_utf8(set_value(text.as_bytes(), name, value).expect("edit")).expect("utf-8")
    }

    #[test]
    fn only_the_value_changes_in_every_style() {
        let cases = [
            ("API_KEY=old\n", "API_KEY=new-key\n"),
            (
                "export API_KEY=old # prod\n",
                "export API_KEY=new-key # prod\n",
            ),
            ("API_KEY=\"old\"\r\n", "API_KEY=\"new-key\"\r\n"),
            ("  API_KEY = 'old'  # c", "  API_KEY = 'new-key'  # c"),
            (
                "\u{feff}# top\nA=1\nAPI_KEY=old\nB=2",
                "\u{feff}# top\nA=1\nAPI_KEY=new-key\nB=2",
            ),
        ];
        for (before, after) in cases {
            assert_eq!(set(before, "API_KEY", "new-key"), after, "{before:?}");
        }
    }

    #[test]
    fn missing_variables_are_appended_in_the_files_style() {
        assert_eq!(set("A=1\r\nB=2\r\n", "K", "v"), "A=1\r\nB=2\r\nK=v\r\n");
        assert_eq!(set("A=1", "K", "v"), "A=1\nK=v");
        assert_eq!(set("", "K", "v"), "K=v\n");
    }

    #[test]
    fn values_a_style_cannot_hold_are_double_quoted_and_escaped() {
        assert_eq!(set("K=old\n", "K", "a b$c\"d"), "K=\"a b\\$c\\\"d\"\n");
        assert_eq!(set("K='old'\n", "K", "it's"), "K=\"it's\"\n");
    }

    #[test]
    fn multi_line_values_of_other_variables_are_not_mistaken_for_assignments() {
        let text = "CERT=\"line1\nK=inside\nline3\"\nK=old\n";
        assert_eq!(
            set(text, "K", "new"),
            "CERT=\"line1\nK=inside\nline3\"\nK=new\n"
        );
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(matches!(
            set_value(b"A=1", "1BAD", "v"),
            Err(DotenvError::BadName(_))
        ));
        assert_eq!(set_value(b"A=1", "K", "a\nb"), Err(DotenvError::BadValue));
        assert_eq!(set_value(b"\xff\xfe", "K", "v"), Err(DotenvError::NotUtf8));
    }
}
