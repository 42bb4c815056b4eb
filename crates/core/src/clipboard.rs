//! Copying a key to the clipboard from Rust: the webview never holds it.
//! The copy is hidden from clipboard history/managers where the OS allows
//! (arboard's exclusion extensions) and cleared after a timeout (default
//! 30 s), but only if the clipboard still holds our value, compared by
//! fingerprint. The clear timer holds the fingerprint, never the key.
//!
//! A pending clear also runs when the process ends early: on the app's exit
//! ([`clear_pending`]) and on SIGTERM, SIGINT or SIGHUP once
//! [`clear_pending_on_exit_signals`] is enabled (by `harden::process`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::secret::{Fingerprint, Secret};

/// The default time before a copied key is cleared.
pub const DEFAULT_CLEAR_AFTER: Duration = Duration::from_secs(30);

/// `LATCHKEY_CLIPBOARD_CLEAR_SECS` (1 to 3600), which fixes the clipboard
/// timeout for the app and the CLI alike over the Settings' value.
pub fn clear_after_from_env() -> Option<Duration> {
    std::env::var("LATCHKEY_CLIPBOARD_CLEAR_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&s| (1..=3600).contains(&s))
        .map(Duration::from_secs)
}

/// A clipboard: the system one, or a test double.
pub trait Clipboard: Send + Sync {
    /// Puts a secret on the clipboard, excluded from history where possible.
    fn set_secret(&self, secret: &Secret) -> Result<()>;
    /// What the clipboard holds now, as a secret (it may be ours).
    fn current(&self) -> Result<Option<Secret>>;
    fn clear(&self) -> Result<()>;
}

type Job = Box<dyn FnOnce(&mut Option<arboard::Clipboard>) + Send>;

/// The OS clipboard, owned by one thread that keeps serving our copy
/// (on X11 a copy lives only while its owner does).
pub struct SystemClipboard {
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl SystemClipboard {
    pub fn new() -> Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("latchkey-clipboard".into())
            .spawn(move || {
                let mut clipboard = arboard::Clipboard::new().ok();
                while let Ok(job) = rx.recv() {
                    job(&mut clipboard);
                }
            })
            .map_err(|_| Error::Clipboard("could not start the clipboard thread".into()))?;
        Ok(Self {
            jobs: Mutex::new(tx),
        })
    }

    fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut arboard::Clipboard) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        let sent = self
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(Box::new(move |slot| {
                if slot.is_none() {
                    *slot = arboard::Clipboard::new().ok();
                }
                let result = match slot.as_mut() {
                    Some(clipboard) => job(clipboard),
                    None => Err(Error::Clipboard(
                        "no clipboard is available in this session".into(),
                    )),
                };
                let _ = tx.send(result);
            }));
        sent.map_err(|_| Error::Clipboard("the clipboard thread stopped".into()))?;
        rx.recv()
            .map_err(|_| Error::Clipboard("the clipboard thread stopped".into()))?
    }
}

impl Clipboard for SystemClipboard {
    fn set_secret(&self, secret: &Secret) -> Result<()> {
        let secret = secret.clone();
        self.run(move |clipboard| {
            let set = clipboard.set();
            #[cfg(any(target_os = "linux", target_os = "freebsd"))]
            let set = {
                use arboard::SetExtLinux;
                set.exclude_from_history()
            };
            // `ExcludeClipboardContentFromMonitorProcessing`: third-party
            // clipboard monitors skip it, and so do Win+V history and cloud
            // sync (arboard: the other two are then not needed).
            #[cfg(target_os = "windows")]
            let set = {
                use arboard::SetExtWindows;
                set.exclude_from_monitoring()
            };
            // Marks the copy concealed (nspasteboard.org), which clipboard
            // managers on macOS honour.
            #[cfg(target_os = "macos")]
            let set = {
                use arboard::SetExtApple;
                set.exclude_from_history()
            };
            set.text(secret.expose_secret().to_owned())
                .map_err(|_| Error::Clipboard("the clipboard refused the copy".into()))
        })
    }

    fn current(&self) -> Result<Option<Secret>> {
        self.run(|clipboard| match clipboard.get_text() {
            Ok(text) => Ok(Some(Secret::new(text))),
            Err(arboard::Error::ContentNotAvailable) => Ok(None),
            Err(_) => Err(Error::Clipboard("the clipboard could not be read".into())),
        })
    }

    fn clear(&self) -> Result<()> {
        self.run(|clipboard| {
            clipboard
                .clear()
                .map_err(|_| Error::Clipboard("the clipboard could not be cleared".into()))
        })
    }
}

/// Copies with auto-clear. A newer copy cancels the older copy's timer.
pub struct ClipboardGuard {
    clipboard: Arc<dyn Clipboard>,
    generation: Arc<AtomicU64>,
}

impl ClipboardGuard {
    pub fn new(clipboard: Arc<dyn Clipboard>) -> Self {
        Self {
            clipboard,
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Copies `secret`, and clears it after `clear_after` if it is still there.
    pub fn copy(&self, secret: &Secret, clear_after: Duration) -> Result<ClearTimer> {
        listen_for_exit_signals();
        self.clipboard.set_secret(secret)?;
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let pending = Arc::new(PendingClear {
            clipboard: self.clipboard.clone(),
            ours: secret.fingerprint(),
            generation,
            current: self.generation.clone(),
            outcome: Mutex::new(None),
        });
        register(&pending);
        let handle = thread::Builder::new()
            .name("latchkey-clipboard-clear".into())
            .spawn(move || {
                thread::sleep(clear_after);
                let outcome = pending.run();
                unregister(&pending);
                outcome
            })
            .map_err(|_| Error::Clipboard("could not start the clear timer".into()))?;
        Ok(ClearTimer {
            handle: Some(handle),
            after: clear_after,
        })
    }
}

/// One copy's clear, due later: the fingerprint of our value, never the key.
struct PendingClear {
    clipboard: Arc<dyn Clipboard>,
    ours: Fingerprint,
    generation: u64,
    current: Arc<AtomicU64>,
    /// Set by the first run: an early clear (on exit) is not repeated.
    outcome: Mutex<Option<ClearOutcome>>,
}

impl PendingClear {
    /// Runs the clear once; later calls return the first outcome.
    fn run(&self) -> ClearOutcome {
        let mut outcome = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        *outcome.get_or_insert_with(|| self.clear_if_ours())
    }

    /// Clears the clipboard if it still holds our value and no newer copy
    /// took over.
    fn clear_if_ours(&self) -> ClearOutcome {
        if self.current.load(Ordering::SeqCst) != self.generation {
            return ClearOutcome::Superseded;
        }
        match self.clipboard.current() {
            Ok(Some(now)) if now.fingerprint() == self.ours => match self.clipboard.clear() {
                Ok(()) => ClearOutcome::Cleared,
                Err(_) => ClearOutcome::Failed,
            },
            Ok(_) => ClearOutcome::ChangedByUser,
            Err(_) => ClearOutcome::Failed,
        }
    }
}

/// Every clear not yet run, process-wide.
fn pending() -> &'static Mutex<Vec<Arc<PendingClear>>> {
    static PENDING: OnceLock<Mutex<Vec<Arc<PendingClear>>>> = OnceLock::new();
    PENDING.get_or_init(Default::default)
}

fn register(clear: &Arc<PendingClear>) {
    pending()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(clear.clone());
}

fn unregister(clear: &Arc<PendingClear>) {
    pending()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|c| !Arc::ptr_eq(c, clear));
}

/// Runs every pending clear now (the app calls it on exit): a clipboard
/// still holding one of our copies is cleared, one the user changed since
/// is left alone. Returns what each did.
pub fn clear_pending() -> Vec<ClearOutcome> {
    let due: Vec<Arc<PendingClear>> =
        std::mem::take(&mut *pending().lock().unwrap_or_else(|p| p.into_inner()));
    due.iter().map(|c| c.run()).collect()
}

static EXIT_SIGNALS_WANTED: AtomicBool = AtomicBool::new(false);

/// From now on, SIGTERM, SIGINT and SIGHUP (Unix) run [`clear_pending`] and
/// then end the process with status 128 + the signal number, as the default
/// action would have ended it. The listener starts with the first copy, so
/// a process that never copies keeps the default signal behaviour.
pub fn clear_pending_on_exit_signals() {
    EXIT_SIGNALS_WANTED.store(true, Ordering::SeqCst);
}

/// Starts the exit-signal listener once, if wanted, and returns when the
/// signals are caught (so a copy is never left behind by an early signal).
fn listen_for_exit_signals() {
    #[cfg(unix)]
    {
        static STARTED: OnceLock<()> = OnceLock::new();
        if !EXIT_SIGNALS_WANTED.load(Ordering::SeqCst) {
            return;
        }
        STARTED.get_or_init(|| {
            let (ready_tx, ready_rx) = mpsc::sync_channel::<()>(1);
            let started = thread::Builder::new()
                .name("latchkey-exit-signals".into())
                .spawn(move || exit_signal_listener(ready_tx));
            if started.is_ok() {
                let _ = ready_rx.recv_timeout(Duration::from_secs(5));
            }
        });
    }
}

#[cfg(unix)]
fn exit_signal_listener(ready: mpsc::SyncSender<()>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    else {
        return;
    };
    runtime.block_on(async move {
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            return;
        };
        let _ = ready.send(());
        let signo = tokio::select! {
            _ = term.recv() => 15,
            _ = int.recv() => 2,
            _ = hup.recv() => 1,
        };
        clear_pending();
        std::process::exit(128 + signo);
    });
}

/// What the clear timer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClearOutcome {
    Cleared,
    /// The user copied something else meanwhile: left alone.
    ChangedByUser,
    /// A newer copy took over.
    Superseded,
    Failed,
}

/// The pending clear; `wait` blocks until it ran (the CLI stays until then).
#[derive(Debug)]
pub struct ClearTimer {
    handle: Option<thread::JoinHandle<ClearOutcome>>,
    after: Duration,
}

impl ClearTimer {
    /// How long after the copy the clipboard is cleared.
    pub fn after(&self) -> Duration {
        self.after
    }

    pub fn wait(mut self) -> ClearOutcome {
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or(ClearOutcome::Failed)
    }
}

/// An in-memory clipboard for pure unit tests.
#[derive(Debug, Default)]
pub struct MemoryClipboard(Mutex<Option<Secret>>);

impl MemoryClipboard {
    /// Simulates the user copying something else.
    pub fn user_copies(&self, text: &str) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(Secret::new(text));
    }
}

impl Clipboard for MemoryClipboard {
    fn set_secret(&self, secret: &Secret) -> Result<()> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(secret.clone());
        Ok(())
    }

    fn current(&self) -> Result<Option<Secret>> {
        Ok(self.0.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    fn clear(&self) -> Result<()> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clears_only_our_own_value() {
        let clip = Arc::new(MemoryClipboard::default());
        let guard = ClipboardGuard::new(clip.clone());
        let timer = guard
            .copy(&Secret::new("ours"), Duration::from_millis(20))
            .expect("copy");
        assert_eq!(timer.wait(), ClearOutcome::Cleared);
        assert!(clip.current().expect("read").is_none());

        let timer = guard
            .copy(&Secret::new("ours"), Duration::from_millis(20))
            .expect("copy");
        clip.user_copies("something else");
        assert_eq!(timer.wait(), ClearOutcome::ChangedByUser);
        assert_eq!(
            clip.current().expect("read"),
            Some(Secret::new("something else"))
        );
    }

    #[test]
    fn a_newer_copy_supersedes_the_older_timer() {
        let clip = Arc::new(MemoryClipboard::default());
        let guard = ClipboardGuard::new(clip.clone());
        let first = guard
            .copy(&Secret::new("one"), Duration::from_millis(10))
            .expect("copy");
        let second = guard
            .copy(&Secret::new("two"), Duration::from_millis(40))
            .expect("copy");
        assert_eq!(first.wait(), ClearOutcome::Superseded);
        assert_eq!(clip.current().expect("read"), Some(Secret::new("two")));
        assert_eq!(second.wait(), ClearOutcome::Cleared);
    }
}
