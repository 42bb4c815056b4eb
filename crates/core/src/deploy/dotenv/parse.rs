//! The `.env` line reader the editor stands on: where an assignment's name,
//! quotes and value sit in a line, as dotenvy reads them. Pure, and it
//! never copies a value out of the line.

pub(super) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// The parts of one assignment line: `prefix` + value + `suffix` == line.
pub(super) struct Assignment<'a> {
    pub(super) name: &'a str,
    /// Everything up to the value (indent, `export `, name, `=`, quote).
    pub(super) prefix_len: usize,
    /// Byte range of the raw value inside the line (without quotes).
    pub(super) value_end: usize,
    pub(super) quote: Option<char>,
    /// Whether the quoted value closes on this line.
    pub(super) closed: bool,
}

pub(super) fn parse_assignment(line: &str) -> Option<Assignment<'_>> {
    // Blanks as dotenvy reads them: any whitespace (a lone CR included).
    let body = line.trim_start_matches(char::is_whitespace);
    let indent = line.len() - body.len();
    let (after_export, export_len) = match body.strip_prefix("export") {
        Some(rest) if rest.starts_with(char::is_whitespace) => {
            let trimmed = rest.trim_start_matches(char::is_whitespace);
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
    let before_eq = rest.len() - rest.trim_start_matches(char::is_whitespace).len();
    let rest_eq = &rest[before_eq..];
    let after_eq = rest_eq.strip_prefix('=')?;
    let ws = after_eq.len() - after_eq.trim_start_matches(char::is_whitespace).len();
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
            // Unquoted, read as dotenvy reads it: a `#` first is a comment,
            // else the value ends at the first unescaped blank outside quotes.
            let len = if value_part.starts_with('#') {
                0
            } else {
                unquoted_len(value_part)
            };
            // An empty value: the blanks after `=` belong to what follows.
            let start = if len == 0 { start - ws } else { start };
            Some(Assignment {
                name,
                prefix_len: start,
                value_end: start + len,
                quote: None,
                closed: true,
            })
        }
    }
}

/// The length of an unquoted value as dotenvy reads it: `\` escapes the
/// next character, quotes may open inside it, a blank outside them ends it.
fn unquoted_len(value: &str) -> usize {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        if escaped {
            escaped = false;
        } else if quote == Some('\'') {
            if c == '\'' {
                quote = None;
            }
        } else if c == '\\' {
            escaped = true;
        } else if quote == Some('"') {
            if c == '"' {
                quote = None;
            }
        } else if c == '\'' || c == '"' {
            quote = Some(c);
        } else if c == ' ' || c == '\t' {
            return i;
        }
    }
    value.len()
}

/// Where a value opened with `q` closes on this line, if it does.
pub(super) fn closing_quote(content: &str, q: char) -> Option<usize> {
    if q == '"' {
        find_unescaped(content, '"')
    } else {
        content.find('\'')
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

/// Splits into lines, each keeping its own ending ("\n", "\r\n" or none).
pub(super) fn split_lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

pub(super) fn ending(line: &str) -> (&str, &str) {
    if let Some(body) = line.strip_suffix("\r\n") {
        (body, "\r\n")
    } else if let Some(body) = line.strip_suffix('\n') {
        (body, "\n")
    } else {
        (line, "")
    }
}
