//! The web engine's tuning, and opening pages in the user's own browser
//! without passing that tuning on.
//!
//! On Linux, Latchkey's window runs JavaScriptCore without its optimising
//! DFG tier (and so without FTL, which builds on it). The UI's scripts are
//! small and short: the Baseline JIT keeps quick copy within its budget
//! (palette bench: p95 15 ms over 10,000 keys, against 14 ms with DFG),
//! while compiling with DFG costs the web process about 6 MiB at launch
//! (launch bench, PSS), for its compiler's code and work. JavaScriptCore
//! reads its options from the environment of the process it runs in, so the
//! setting is an environment variable that WebKit's web process inherits.
//! Set it yourself (`JSC_useDFGJIT=true`) to keep the tier.

/// JavaScriptCore's option for its DFG tier.
#[cfg(target_os = "linux")]
const DFG: &str = "JSC_useDFGJIT";

/// Before any thread starts (the environment is the process's): turns DFG
/// off for the web view, unless the variable is set already.
pub fn tune_web_engine() {
    #[cfg(target_os = "linux")]
    if std::env::var_os(DFG).is_none() {
        std::env::set_var(DFG, "false");
    }
}

/// [`open`] off the async runtime's threads (it may wait half a second).
pub async fn open_detached(url: String) -> std::io::Result<()> {
    tauri::async_runtime::spawn_blocking(move || open(&url))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
}

/// Opens `url` in the user's browser. On Linux the launcher runs without our
/// web engine's tuning (a WebKit browser started by it would inherit it); one
/// that fails at once (no handler on this desktop) gives way to the next, as
/// in the `open` crate, whose launchers these are.
pub fn open(url: &str) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        use std::process::Stdio;
        use std::time::{Duration, Instant};

        let mut failed = std::io::Error::new(std::io::ErrorKind::NotFound, "no URL launcher");
        for mut launcher in ::open::commands(url) {
            launcher
                .env_remove(DFG)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                // Not in our process group: a Ctrl+C meant for us spares it.
                .process_group(0);
            let mut child = match launcher.spawn() {
                Ok(child) => child,
                Err(e) => {
                    failed = e;
                    continue;
                }
            };
            let deadline = Instant::now() + Duration::from_millis(500);
            loop {
                match child.try_wait() {
                    Ok(Some(status)) if status.success() => return Ok(()),
                    Ok(Some(status)) => {
                        failed = std::io::Error::other(format!("URL launcher: {status}"));
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    // Still running (a browser it started in the foreground):
                    // taken as opened, and reaped when it ends.
                    Ok(None) => {
                        std::thread::spawn(move || child.wait());
                        return Ok(());
                    }
                    Err(e) => {
                        failed = e;
                        break;
                    }
                }
            }
        }
        Err(failed)
    }
    #[cfg(not(target_os = "linux"))]
    {
        ::open::that_detached(url)
    }
}
