//! End-to-end: the Settings screen in the real app. A person shortens the
//! rotation policy and sees an older key turn "Rotation due", shortens the
//! clipboard timeout and sees a copied key cleared after it (read from
//! another process with xclip), turns the daily reminder off, and finds
//! the values still there after a restart. Nothing fixes the timeout from
//! the environment here.

use std::time::{Duration, Instant};

use latchkey_core::catalog::{Catalog, KeyRecord, ProviderKind, ProviderRecord};
use latchkey_core::clock::rfc3339;

mod webdriver;
use webdriver::{clipboard_text, App, By};

/// A key made 45 days ago on a provider that cannot be reached.
fn seed_old_key(dir: &std::path::Path) {
    let mut catalog = Catalog::open(&dir.join("catalog.db")).expect("catalog");
    catalog
        .insert_provider(&ProviderRecord {
            id: "settings-provider".into(),
            kind: ProviderKind::Keyservice,
            name: "Elsewhere".into(),
            base_url: "http://127.0.0.1:9".into(),
            project: "web".into(),
            is_demo: false,
            created_at: "2026-01-01T00:00:00Z".into(),
            dashboard_url: String::new(),
        })
        .expect("provider");
    let created = time::OffsetDateTime::now_utc() - time::Duration::days(45);
    catalog
        .insert_keys(&[KeyRecord {
            id: "settings-old-key".into(),
            provider_id: "settings-provider".into(),
            remote_id: None,
            name: "forty-five days old".into(),
            preview: "lk_aaaaaaaa_••••wxyz".into(),
            fingerprint: None,
            secret_len: None,
            scopes: vec!["read".into()],
            environment: "production".into(),
            env_var: "OLD_API_KEY".into(),
            created_at: Some(rfc3339(created)),
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            has_secret: false,
            pending_rotation: None,
        }])
        .expect("key");
}

const OLD_ROW: &str = "//div[@role='row' and @data-key-id='settings-old-key']";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_change_the_policy_and_the_clipboard_timeout() {
    let data = tempfile::tempdir().expect("data dir");
    seed_old_key(data.path());
    let binary = env!("CARGO_BIN_EXE_latchkey-desktop");
    let app = App::launch(binary, data.path(), &[]).await;
    app.wait_for(By::xpath(OLD_ROW), Duration::from_secs(20))
        .await;
    let row = app.text(By::xpath(OLD_ROW)).await;
    assert!(!row.contains("Rotation due"), "45 < 90 days: {row}");

    app.click(By::button("Settings")).await;
    let shown_dir = app.text(By::xpath("//*[@data-testid='data-dir']")).await;
    assert_eq!(shown_dir, data.path().display().to_string());
    assert_eq!(
        app.property(
            By::labelled_input("Clear the clipboard after (seconds)"),
            "value"
        )
        .await,
        "30"
    );
    app.replace_text(
        By::labelled_input("Clear the clipboard after (seconds)"),
        "5",
    )
    .await;
    app.replace_text(By::labelled_input("Rotate keys after (days)"), "30")
        .await;
    app.click(By::xpath(
        "//label[contains(., 'Daily reminder')]//input[@type='checkbox']",
    ))
    .await;
    app.click(By::button("Save settings")).await;
    app.wait_for(
        By::xpath("//*[@role='status' and normalize-space()='Settings saved']"),
        Duration::from_secs(10),
    )
    .await;

    // The older key is now due.
    app.click(By::button("Keys")).await;
    app.wait_for(
        By::xpath(&format!(
            "{OLD_ROW}[.//*[normalize-space()='Rotation due']]"
        )),
        Duration::from_secs(20),
    )
    .await;
    // At the default window size the badge is seen whole, not cut off by
    // its column.
    let cut = app
        .badge_outside_its_cell("settings-old-key", "Rotation due")
        .await;
    assert_eq!(cut, "", "the Rotation due badge is cut off");

    // A new key, copied: cleared after the 5 s the Settings say.
    app.open_key_dialog("New key").await;
    app.type_into(By::labelled_input("Name"), "settings copy key")
        .await;
    // Enabled once the providers arrived (the vault may still be opening).
    app.wait_for(
        By::xpath("//button[normalize-space()='Create key' and not(@disabled)]"),
        Duration::from_secs(20),
    )
    .await;
    app.click(By::button("Create key")).await;
    app.wait_for(By::button("Done"), Duration::from_secs(20))
        .await;
    app.click(By::xpath(
        "//section[@aria-label='Show-once panel']//button[normalize-space()='Copy']",
    ))
    .await;
    let copied = Instant::now();
    app.wait_for(
        By::xpath("//*[contains(., 'The clipboard clears in 5 s')]"),
        Duration::from_secs(5),
    )
    .await;
    assert!(clipboard_text().starts_with("lk_"), "copied");
    while !clipboard_text().is_empty() {
        assert!(
            copied.elapsed() < Duration::from_secs(15),
            "clipboard not cleared"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cleared = copied.elapsed();
    assert!(
        cleared >= Duration::from_millis(4_500),
        "cleared after {cleared:?}, before the 5 s setting"
    );
    app.click(By::button("Done")).await;
    app.close().await;

    // After a restart the values are still there.
    let app = App::launch(binary, data.path(), &[]).await;
    app.click(By::button("Settings")).await;
    assert_eq!(
        app.property(
            By::labelled_input("Clear the clipboard after (seconds)"),
            "value"
        )
        .await,
        "5"
    );
    assert_eq!(
        app.property(By::labelled_input("Rotate keys after (days)"), "value")
            .await,
        "30"
    );
    let checked = app
        .property(
            By::xpath("//label[contains(., 'Daily reminder')]//input[@type='checkbox']"),
            "checked",
        )
        .await;
    assert_eq!(checked, serde_json::Value::Bool(false), "reminders off");
    app.click(By::button("Activity")).await;
    app.wait_for(
        By::xpath("//*[contains(., 'keys due for rotation after 30 days')]"),
        Duration::from_secs(10),
    )
    .await;
    app.close().await;
}
