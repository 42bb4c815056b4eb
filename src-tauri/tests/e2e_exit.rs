//! End-to-end: the real app hardened at start and leaving no key behind on
//! the way out. With core dumps allowed for the test process (children
//! inherit the limit), the app still runs with a core limit of 0; a copied
//! key is cleared when the app gets SIGTERM (the exit handler runs: the
//! process ends at once, before the clipboard timeout); and a SIGABRT
//! leaves no core file.

use std::time::{Duration, Instant};

mod webdriver;
use webdriver::{clipboard_text, key_row, keychain_secret, output_within, App, By};

fn core_limit(pid: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .expect("limits")
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .map(|l| {
            l.split_whitespace()
                .skip(4)
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .expect("core line")
}

fn gone(pid: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or a zombie waiting for its parent.
        if state.is_empty() || state.split_whitespace().nth(2) == Some("Z") {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn cores_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n == "core" || n.starts_with("core."))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_dumps_no_core_and_clears_the_clipboard_on_sigterm() {
    // Allow core files for this process and its children, as `ulimit -c
    // unlimited` would: only the app's own hardening can bring it to 0.
    let raised =
        output_within(
            std::process::Command::new(std::env::var("LK_PRLIMIT").unwrap_or("prlimit".into()))
                .args(["--pid", &std::process::id().to_string(), "--core=unlimited"]),
            Duration::from_secs(10),
        );
    assert!(
        raised.status.success(),
        "cannot raise the core limit (prlimit, util-linux)"
    );

    let data = tempfile::tempdir().expect("data dir");
    let app = App::launch(env!("CARGO_BIN_EXE_latchkey-desktop"), data.path(), &[]).await;
    let pid = app.app_pid().expect("the app's pid");
    assert_eq!(core_limit(&pid), "0 0", "the app may write core files");

    let key_id = app.create_key("exit key", "EXIT_KEY").await;
    let canary = keychain_secret(&key_id);
    app.click(By::xpath(&format!(
        "{}//button[normalize-space()='Copy']",
        key_row("exit key")
    )))
    .await;
    app.wait_for(
        By::xpath("//*[@role='status' and contains(., 'Copied')]"),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(clipboard_text(), canary);
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).expect("app cwd");

    let killed = output_within(
        std::process::Command::new("kill").args(["-TERM", &pid]),
        Duration::from_secs(10),
    );
    assert!(killed.status.success());
    assert!(
        gone(&pid, Duration::from_secs(10)),
        "the app ignored SIGTERM"
    );
    assert_ne!(
        clipboard_text(),
        canary,
        "the key outlived the app on the clipboard"
    );
    let _ = app.close().await;

    // A crash: SIGABRT writes no core file where the app ran.
    let app = App::launch(env!("CARGO_BIN_EXE_latchkey-desktop"), data.path(), &[]).await;
    let pid = app.app_pid().expect("the app's pid");
    let before = cores_in(&cwd);
    let killed = output_within(
        std::process::Command::new("kill").args(["-ABRT", &pid]),
        Duration::from_secs(10),
    );
    assert!(killed.status.success());
    assert!(
        gone(&pid, Duration::from_secs(10)),
        "SIGABRT did not end the app"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(cores_in(&cwd), before, "a core file was written");
    let _ = app.close().await;
}
