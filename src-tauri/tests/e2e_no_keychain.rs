//! End-to-end: with no Secret Service reachable, the app opens and tells the
//! person what to do, instead of falling back to an insecure store.

use std::time::Duration;

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
    // Nothing was written in its place.
    assert!(app
        .try_text(By::button("New key"), Duration::from_millis(300))
        .await
        .is_none());
    app.close().await;
    assert!(
        !data.path().join("catalog.db").exists(),
        "no catalog without a keychain"
    );
}
