//! How the CLI reports: tables for people, `--json` for scripts, errors as
//! `latchkey: <message> [<code>]` (the app's codes) and exit codes by kind.
//!
//! It never writes a raw control character: text that may come from a
//! service or a file is escaped (`\u{1b}`), so no ANSI/OSC sequence reaches
//! the terminal.

use latchkey_core::catalog::TargetStatus;
use latchkey_core::rotation::driver::RotationView;
use latchkey_core::{Error, ExitKind};
use serde::Serialize;

pub const EXIT_OK: u8 = 0;
/// The operation failed (the service refused, a file changed, …).
pub const EXIT_FAILED: u8 = 1;
/// Bad usage or input: a missing or ambiguous name, an invalid value.
pub const EXIT_USAGE: u8 = 2;
/// The keychain is locked, missing or not persistent.
pub const EXIT_KEYCHAIN: u8 = 3;
/// A provider could not be reached or answered badly.
pub const EXIT_PROVIDER: u8 = 4;
/// The key already has an unfinished rotation.
pub const EXIT_ROTATION_IN_PROGRESS: u8 = 5;
/// `check`: some variable is not set, or set to a revoked or unknown key.
pub const EXIT_CHECK_PROBLEMS: u8 = 6;
/// `audit verify`: the audit log was altered, cut short or cannot be checked.
pub const EXIT_AUDIT_BROKEN: u8 = 7;

/// Derived from the error code's one line in `latchkey_core::error`.
pub fn exit_code(e: &Error) -> u8 {
    match e.code().exit_kind() {
        ExitKind::Failed => EXIT_FAILED,
        ExitKind::Usage => EXIT_USAGE,
        ExitKind::Keychain => EXIT_KEYCHAIN,
        ExitKind::Provider => EXIT_PROVIDER,
        ExitKind::RotationInProgress => EXIT_ROTATION_IN_PROGRESS,
    }
}

pub fn error(e: &Error, json: bool) {
    if json {
        let wire = serde_json::json!({ "error": e.to_wire() });
        eprintln!("{}", json_safe(&wire.to_string()));
    } else {
        eprintln!("latchkey: {} [{}]", safe(&e.to_string()), e.code());
    }
}

pub fn json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{}", json_safe(&s)),
        Err(e) => eprintln!("latchkey: cannot write JSON: {e}"),
    }
}

/// `text` with every control character (C0, DEL, C1) written as `\u{..}`.
pub fn safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// serde_json escapes C0 controls in strings but writes DEL and C1 (e.g.
/// U+009B, a one-byte CSI) raw; these become `\u00XX`. Outside strings
/// JSON holds only its own whitespace, which is kept.
fn json_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// A plain text table, columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| safe(cell)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row);
    }
}

/// `None` as "—".
pub fn or_dash(v: &Option<String>) -> String {
    v.as_deref()
        .map(|s| s.get(..10).unwrap_or(s).to_owned())
        .unwrap_or_else(|| "—".into())
}

/// One line per step of a running rotation, on stderr.
pub fn print_progress(view: &RotationView) {
    if let Some(w) = &view.waiting {
        eprintln!(
            "[{}] The service has not accepted the new key yet (new keys can take a while to work there): attempt {} after {} s of up to {} s; asking again in {} s",
            view.state.as_str(),
            w.attempt,
            w.waited_secs,
            w.up_to_secs,
            w.next_in_secs
        );
        return;
    }
    let targets: Vec<String> = view
        .targets
        .iter()
        .map(|t| {
            let label = t.spec.describe();
            let status = serde_json::to_value(t.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{label}: {status}")
        })
        .collect();
    eprintln!(
        "[{}] {}{}",
        view.state.as_str(),
        view.summary,
        if targets.is_empty() {
            String::new()
        } else {
            format!(" ({})", targets.join("; "))
        }
    );
}

/// How a rotation run ended, and what is left to do by hand.
pub fn report_end(view: &RotationView) {
    eprintln!("Rotation {}: {}", view.id, view.summary);
    if view.needs.is_some() {
        eprintln!(
            "This step is done by hand in the service's dashboard{}: finish it in the desktop app's Rotate wizard.",
            view.dashboard_url
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        );
    }
    if view.state == latchkey_core::rotation::State::OldDeactivated {
        eprintln!(
            "Delete the old key once nothing broke: latchkey rotate --resume {id}\nUndo the rotation (the old key is switched on again): latchkey rotate --reactivate {id}",
            id = view.id
        );
    }
    if view
        .targets
        .iter()
        .any(|t| t.status == TargetStatus::AwaitingConfirmation)
    {
        eprintln!(
            "Finish the checklist in the desktop app, then run: latchkey rotate --resume {}",
            view.id
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            safe("a\u{1b}[31mb\u{7}\u{9b}"),
            "a\\u{1b}[31mb\\u{7}\\u{9b}"
        );
        assert_eq!(safe("plain • text"), "plain • text");
        let json = serde_json::to_string_pretty(&serde_json::json!({"n": "x\u{1b}\u{9b}\u{7f}"}))
            .expect("json");
        let out = json_safe(&json);
        assert!(
            !out.contains(|c: char| c.is_control() && c != '\n'),
            "{out}"
        );
        let back: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
        assert_eq!(back["n"], "x\u{1b}\u{9b}\u{7f}");
    }
}
