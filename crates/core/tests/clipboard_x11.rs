//! The system clipboard under X11 (Xvfb in tests), read back by another
//! process (xclip), as a user's paste would.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use latchkey_testkit::process;

use latchkey_core::clipboard::{ClearOutcome, ClipboardGuard, SystemClipboard};
use latchkey_core::Secret;

fn xclip(args: &[&str]) -> Option<String> {
    let out = process::output_within(Command::new("xclip").args(args), process::CHILD_TIMEOUT);
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
    // Read back while its clear is far off: no race with the timer however
    // slow xclip is to start.
    let secret = Secret::new("lk_CLIPTEST_abcdefghijklmnopqrstuvwx");
    let _held = guard.copy(&secret, Duration::from_secs(600)).expect("copy");
    assert_eq!(
        xclip(&["-selection", "clipboard", "-o"]).as_deref(),
        Some(secret.expose_secret())
    );
    let targets = xclip(&["-selection", "clipboard", "-o", "-t", "TARGETS"]).unwrap_or_default();
    assert!(
        targets.contains("x-kde-passwordManagerHint"),
        "no history exclusion hint: {targets}"
    );
    // A copy that is cleared: once its timer says so, another process finds
    // the clipboard empty (the event, not a guess at how long it takes).
    let cleared = Secret::new("lk_CLIPTEST_clearedclearedclearedcle");
    let timer = guard
        .copy(&cleared, Duration::from_millis(200))
        .expect("copy");
    assert_eq!(timer.wait(), ClearOutcome::Cleared);
    let after = xclip(&["-selection", "clipboard", "-o"]).unwrap_or_default();
    assert!(after.is_empty(), "still on the clipboard: {after:?}");
}
