//! The system clipboard under X11 (Xvfb in tests), read back by another
//! process (xclip), as a user's paste would.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use latchkey_core::clipboard::{ClearOutcome, ClipboardGuard, SystemClipboard};
use latchkey_core::Secret;

fn xclip(args: &[&str]) -> Option<String> {
    let out = Command::new("xclip")
        .args(args)
        .output()
        .expect("xclip installed");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_copy_is_pasteable_elsewhere_hidden_from_history_and_cleared() {
    if std::env::var_os("DISPLAY").is_none() {
        panic!("no DISPLAY: run the tests through scripts/test.sh (xvfb-run)");
    }
    let guard = ClipboardGuard::new(Arc::new(SystemClipboard::new().expect("clipboard")));
    let secret = Secret::new("lk_CLIPTEST_abcdefghijklmnopqrstuvwx");
    let timer = guard
        .copy(&secret, Duration::from_millis(1500))
        .expect("copy");
    assert_eq!(
        xclip(&["-selection", "clipboard", "-o"]).as_deref(),
        Some(secret.expose_secret())
    );
    let targets = xclip(&["-selection", "clipboard", "-o", "-t", "TARGETS"]).unwrap_or_default();
    assert!(
        targets.contains("x-kde-passwordManagerHint"),
        "no history exclusion hint: {targets}"
    );
    assert_eq!(timer.wait(), ClearOutcome::Cleared);
    let after = xclip(&["-selection", "clipboard", "-o"]).unwrap_or_default();
    assert!(after.is_empty(), "still on the clipboard: {after:?}");
}
