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
        .copy(&Secret::new("ours-early"), TIMER)
        .expect("copy");
    let theirs_timer = ClipboardGuard::new(theirs.clone())
        .copy(&Secret::new("theirs-early"), TIMER)
        .expect("copy");
    theirs.user_copies("the user's text");

    // The timers are far off: they have not fired yet (else there would be
    // nothing pending to run early), and a clear_pending that waited for
    // them would not return within half their time.
    let started = Instant::now();
    let mut outcomes = clear_pending();
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert!(started.elapsed() < TIMER / 2, "waited for the timers");
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
    assert_eq!(within(move || ours_timer.wait()), ClearOutcome::Cleared);
    assert_eq!(
        within(move || theirs_timer.wait()),
        ClearOutcome::ChangedByUser
    );
}

/// The timers' delay: thousands of times what the steps before
/// `clear_pending` take, however loaded the machine.
const TIMER: Duration = Duration::from_secs(10);
/// How long a timer may take to report, past its delay.
const BOUND: Duration = Duration::from_secs(60);

/// `f()`, which must return within `TIMER + BOUND` (a timer that never
/// reports fails the test instead of hanging it).
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(TIMER + BOUND)
        .expect("the timer never reported")
}
