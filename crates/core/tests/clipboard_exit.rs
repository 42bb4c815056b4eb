//! Pending clipboard clears run early when the process is about to end
//! (the app's exit, a signal): our copy is cleared, a clipboard the user
//! changed meanwhile is left alone, and the timer reports the early outcome.
//! Its own test binary: `clear_pending` is process-wide.

use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_core::clipboard::{
    clear_pending, ClearOutcome, Clipboard, ClipboardGuard, MemoryClipboard,
};
use latchkey_core::Secret;

#[test]
fn pending_clears_run_on_exit_and_spare_a_changed_clipboard() {
    let ours = Arc::new(MemoryClipboard::default());
    let theirs = Arc::new(MemoryClipboard::default());
    let ours_timer = ClipboardGuard::new(ours.clone())
        .copy(&Secret::new("ours-early"), Duration::from_millis(1500))
        .expect("copy");
    let theirs_timer = ClipboardGuard::new(theirs.clone())
        .copy(&Secret::new("theirs-early"), Duration::from_millis(1500))
        .expect("copy");
    theirs.user_copies("the user's text");

    let started = Instant::now();
    let mut outcomes = clear_pending();
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "waited for the timers"
    );
    assert_eq!(
        outcomes,
        [ClearOutcome::ChangedByUser, ClearOutcome::Cleared]
    );
    assert!(ours.current().expect("read").is_none());
    assert_eq!(
        theirs.current().expect("read"),
        Some(Secret::new("the user's text"))
    );
    // Nothing is left pending, and the timers report what the early run did.
    assert!(clear_pending().is_empty());
    assert_eq!(ours_timer.wait(), ClearOutcome::Cleared);
    assert_eq!(theirs_timer.wait(), ClearOutcome::ChangedByUser);
}
