//! Process hardening, called first thing in `main` by the desktop app and
//! the CLI, before any thread, webview helper or child process starts.
//!
//! - No core dumps: `RLIMIT_CORE` is set to 0 (soft and hard), so a crash
//!   never writes the keys in memory to a core file.
//! - Not dumpable (Linux): `PR_SET_DUMPABLE` 0, so the kernel's core handler
//!   skips the process even when `core_pattern` pipes to a handler (which
//!   ignores `RLIMIT_CORE`), and other processes of the same user cannot
//!   ptrace it or read its `/proc/PID/mem` and `environ`.
//! - A copied key is cleared on the way out: SIGTERM, SIGINT and SIGHUP run
//!   the pending clipboard clears before the process ends (see
//!   [`crate::clipboard::clear_pending`]).
//!
//! - Freed memory is wiped: both binaries install [`ZeroOnFree`] as their
//!   global allocator, so a buffer that held a key (an HTTP answer, a parsed
//!   `.env`, a D-Bus reply, a JSON string) is zeroed when it is freed or
//!   moved by a reallocation, not left in the heap for a later reader.
//!   `Secret` zeroizes itself too; this covers the copies other crates make.
//!
//! Test-only escape (debug builds only): `LATCHKEY_TEST_DUMPABLE=1` keeps the
//! process dumpable (core limit 0 still applies), so the memory canary tests
//! (src-tauri/tests/e2e_memory.rs, crates/cli/tests/memory_canary.rs) can
//! read `/proc/PID/mem` as the same non-root user. Release builds
//! (`debug_assertions` off) ignore the variable.
//!
//! It never fails the program: a platform that refuses a setting keeps
//! running with what it got (the calls cannot fail on Linux as used here).

/// The global allocator of both binaries: the system allocator, with every
/// block zeroed when it is freed (and when a reallocation moves it). In
/// `main.rs`: `#[global_allocator] static ALLOC: ZeroOnFree = ZERO_ON_FREE;`
pub type ZeroOnFree = zalloc::ZeroizingAlloc<std::alloc::System>;

/// See [`ZeroOnFree`].
pub const ZERO_ON_FREE: ZeroOnFree = zalloc::ZeroizingAlloc(std::alloc::System);

/// Hardens the current process; see the module docs.
pub fn process() {
    no_core_dumps();
    crate::clipboard::clear_pending_on_exit_signals();
}

#[cfg(unix)]
fn no_core_dumps() {
    use rustix::process::{setrlimit, Resource, Rlimit};
    let _ = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    #[cfg(target_os = "linux")]
    if !test_keeps_dumpable() {
        use rustix::process::{set_dumpable_behavior, DumpableBehavior};
        let _ = set_dumpable_behavior(DumpableBehavior::NotDumpable);
    }
}

#[cfg(not(unix))]
fn no_core_dumps() {}

/// `LATCHKEY_TEST_DUMPABLE=1` in a debug build; always false in release.
#[cfg(target_os = "linux")]
fn test_keeps_dumpable() -> bool {
    cfg!(debug_assertions) && std::env::var_os("LATCHKEY_TEST_DUMPABLE").is_some_and(|v| v == "1")
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_process_is_not_dumpable_and_has_no_core_limit() {
        super::no_core_dumps();
        assert_eq!(
            rustix::process::dumpable_behavior().expect("prctl"),
            rustix::process::DumpableBehavior::NotDumpable
        );
        let limit = rustix::process::getrlimit(rustix::process::Resource::Core);
        assert_eq!((limit.current, limit.maximum), (Some(0), Some(0)));
    }
}
