//! End-to-end: with no Secret Service reachable, the app opens and tells the
//! person what to do, instead of falling back to an insecure store.

mod webdriver;
use webdriver::{App, By};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explains_a_missing_keychain() {
    let data = tempfile::tempdir().expect("data dir");
    let app = App::launch_until(
        env!("CARGO_BIN_EXE_latchkey-desktop"),
        data.path(),
        &[(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/latchkey-no-bus",
        )],
        By::xpath("//h1[normalize-space()='Latchkey cannot open your vault']"),
    )
    .await;
    let text = app.text(By::xpath("//section[@role='alert']")).await;
    assert!(text.contains("gnome-keyring"), "{text}");
    assert!(text.contains("keychain_unavailable"), "{text}");
    // The screen comes from the one startup answer: with the alert drawn,
    // a vault screen would be drawn too. None is.
    let buttons = app
        .execute("return [...document.querySelectorAll('button')].map(b => b.textContent.trim());")
        .await;
    let buttons = buttons.as_array().expect("button texts");
    assert!(
        !buttons
            .iter()
            .any(|b| b == "New key" || b == "Add existing key"),
        "{buttons:?}"
    );
    // And the vault really is closed, whatever the screen shows: a command
    // that needs it fails with the same code (no insecure store behind it).
    let answer = app
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__.invoke('list_local_keys')
               .then(v => done({ ok: v }), e => done({ err: e }));",
            &[],
        )
        .await;
    assert_eq!(answer["err"]["code"], "keychain_unavailable", "{answer}");
    app.close().await;
    assert!(
        !data.path().join("catalog.db").exists(),
        "no catalog without a keychain"
    );
}
