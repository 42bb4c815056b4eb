//! End-to-end: with no Secret Service reachable, the app opens and tells the
//! person what to do, instead of falling back to an insecure store.

use serde_json::json;

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
    // The blocked screen is the app's answer to how the vault opened, and
    // that answer is final: the vault's own commands refuse, with the same
    // code, instead of working from some other store...
    let status = app.invoke("startup_status").await.expect("startup_status");
    assert_eq!(status["ready"], json!(false), "{status}");
    assert_eq!(
        status["error"]["code"],
        json!("keychain_unavailable"),
        "{status}"
    );
    for command in ["list_local_keys", "list_providers", "audit_log"] {
        let refused = app
            .invoke(command)
            .await
            .expect_err(&format!("{command} worked without a keychain"));
        assert_eq!(
            refused["code"],
            json!("keychain_unavailable"),
            "{command}: {refused}"
        );
    }
    // ...and the keys screen is not there.
    assert!(!app.shown_now(By::button("New key")).await);
    app.close().await;
    assert!(
        !data.path().join("catalog.db").exists(),
        "no catalog without a keychain"
    );
}
