//! End-to-end: the memory canary (issue 16 item 10). After a create, a copy
//! and the clipboard's clear in the real app (tauri-driver + WebKitWebDriver
//! under Xvfb, the real keychain via scripts/with-keyring.sh, the in-process
//! Demo key service), the app process's readable memory (/proc/PID/mem)
//! holds no copy of the new key, and neither do its WebKit processes (the key was never
//! revealed). This is the measure for the zeroization asked in the
//! hardening issue. The app is started with LATCHKEY_TEST_DUMPABLE=1
//! (debug builds only) so the scan also works when not run as root.
#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use latchkey_core::store::{key_account, KeychainStore, SecretStore};

use latchkey_testkit::memscan;
mod webdriver;
use webdriver::{clipboard_text, App, By};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_create_copy_and_clear_the_app_holds_no_copy_of_the_key() {
    let data = tempfile::tempdir().expect("data dir");
    let app = App::launch(
        env!("CARGO_BIN_EXE_latchkey-desktop"),
        data.path(),
        &[
            ("LATCHKEY_CLIPBOARD_CLEAR_SECS", "2"),
            ("LATCHKEY_TEST_DUMPABLE", "1"),
        ],
    )
    .await;

    app.click(By::button("New key")).await;
    app.type_into(By::labelled_input("Name"), "canary key")
        .await;
    app.type_into(By::labelled_input("Env var name"), "DEMO_API_KEY")
        .await;
    app.wait_for(
        By::xpath("//button[normalize-space()='Create key' and not(@disabled)]"),
        Duration::from_secs(20),
    )
    .await;
    app.click(By::button("Create key")).await;
    app.wait_for(By::button("Done"), Duration::from_secs(20))
        .await;
    let created = Instant::now();
    let key_id = app
        .attribute(By::xpath(&webdriver::key_row("canary key")), "data-key-id")
        .await;
    let stored = KeychainStore::open()
        .expect("the same keychain the app uses")
        .get(&key_account(&key_id))
        .expect("keychain read")
        .expect("key in keychain");
    let canary = stored.expose_secret().as_bytes().to_vec();
    assert!(canary.starts_with(b"lk_"));

    // For diagnosis: what the create alone left.
    let pid: u32 = app
        .app_pid()
        .expect("the app's process")
        .parse()
        .expect("pid");
    let after_create = memscan::scan(pid, &canary);
    eprintln!(
        "memory canary: app process {pid} after the create: {}",
        after_create.describe()
    );

    app.click(By::xpath(
        "//section[@aria-label='Show-once panel']//button[normalize-space()='Copy']",
    ))
    .await;
    app.wait_for(
        By::xpath("//*[contains(., 'The clipboard clears in 2 s')]"),
        Duration::from_secs(5),
    )
    .await;
    assert!(
        clipboard_text().as_bytes() == canary,
        "the copy did not land"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !clipboard_text().is_empty() {
        assert!(Instant::now() < deadline, "clipboard was not cleared");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.click(By::button("Done")).await;
    // Let the clear's and the panel's last work settle.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let after_clear = memscan::scan(pid, &canary);
    eprintln!(
        "memory canary: app process {pid} after the clear: {}",
        after_clear.describe()
    );
    // The Demo key service runs inside the app and, like any service of
    // the contract, holds a created key so a lost answer can be replayed;
    // the Demo only for DEMO_REPLAY_KEY_TTL (its clock tick drops it).
    // Latchkey's own code keeps none. So the verdict is read once that
    // time (and a tick) has passed.
    let settled = created + latchkey_keyservice::DEMO_REPLAY_KEY_TTL + Duration::from_secs(2);
    tokio::time::sleep(settled.saturating_duration_since(Instant::now())).await;
    let in_app = memscan::scan(pid, &canary);
    eprintln!("memory canary: app process {pid}: {}", in_app.describe());
    let mut in_webkit = Vec::new();
    for name in ["WebKitWebProcess", "WebKitNetworkProcess"] {
        for child in memscan::children_named(pid, name) {
            let scan = memscan::scan(child, &canary);
            eprintln!("memory canary: {name} {child}: {}", scan.describe());
            in_webkit.push((name, child, scan.count()));
        }
    }
    assert!(
        !in_webkit.is_empty(),
        "no WebKit process found under the app"
    );
    app.close().await;

    // Before the zeroizing allocator (harden::ZeroOnFree) this found 1 or
    // 2 copies (five runs), already there right after the create.
    assert_eq!(in_app.count(), 0, "the app process: {}", in_app.describe());
    for (name, child, count) in in_webkit {
        assert_eq!(count, 0, "{name} {child} holds the key");
    }
}
