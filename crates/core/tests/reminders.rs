//! Keys due for rotation (older than the policy, 90 days unless the
//! Settings say otherwise, or expiring within 14) are reminded at most once a
//! day, with the real catalog, keychain and key service; and the Settings
//! that change the policy, the reminders and the clipboard timeout.

mod common;

use std::sync::Arc;

use common::*;
use latchkey_core::catalog::KeyRecord;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::clock::{rfc3339, ManualClock};
use latchkey_core::store::KeychainStore;
use latchkey_core::Vault;
use time::{Duration, OffsetDateTime};

#[tokio::test]
async fn due_keys_are_reminded_once_a_day() {
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let now = OffsetDateTime::now_utc();
    let clock = Arc::new(ManualClock::new(now));
    let store = Arc::new(KeychainStore::open_service("latchkey-test").expect("keychain"));
    let vault = Vault::open(
        dir.path(),
        store,
        Arc::new(MemoryClipboard::default()),
        clock.clone(),
    )
    .expect("vault");
    let provider = add_provider(&vault, &service);

    // A fresh key with a year to live: not due, no reminder.
    let mut fresh = new_key(&provider, "fresh");
    fresh.expires_in_days = Some(365);
    vault.create_key(fresh).await.expect("fresh");
    assert_eq!(vault.rotation_reminder().expect("reminder"), None);

    // Expiring in 7 days: due.
    let mut soon = new_key(&provider, "expiring soon");
    soon.expires_in_days = Some(7);
    let soon = vault.create_key(soon).await.expect("soon");
    assert!(soon.rotation_due);
    // 120 days old, no expiry: due by the 90-day policy.
    let created = vault
        .create_key(new_key(&provider, "old"))
        .await
        .expect("old");
    vault
        .with_catalog(|c| {
            let mut r: KeyRecord = c.key(&created.id)?.expect("row");
            r.created_at = Some(rfc3339(now - Duration::days(120)));
            r.expires_at = None;
            c.update_remote_fields(&r)
        })
        .expect("age it");
    assert!(vault.key(&created.id).expect("old").rotation_due);

    let first = vault
        .rotation_reminder()
        .expect("reminder")
        .expect("two keys are due");
    assert_eq!(first.count, 2);
    assert!(
        first.body.contains("“old”") && first.body.contains("“expiring soon”"),
        "{}",
        first.body
    );
    // Not shown (say the notification service was missing): offered again.
    assert_eq!(
        vault.rotation_reminder().expect("not shown yet"),
        Some(first.clone()),
        "a reminder that was never shown still counts as due"
    );
    vault.reminder_shown(&first).expect("shown");
    assert_eq!(
        vault.rotation_reminder().expect("again"),
        None,
        "once a day"
    );
    clock.advance(Duration::hours(25));
    assert!(vault.rotation_reminder().expect("next day").is_some());
}

/// The Settings decide the rotation policy, whether reminders are sent and
/// how long a copy stays on the clipboard; a second vault on the same data
/// directory (the CLI beside the app) sees the same values.
#[tokio::test]
async fn settings_change_policy_reminders_and_clipboard_timeout() {
    use latchkey_core::clipboard::Clipboard;
    use latchkey_core::settings::Settings;

    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let now = OffsetDateTime::now_utc();
    let clock = Arc::new(ManualClock::new(now));
    let store = Arc::new(KeychainStore::open_service("latchkey-test").expect("keychain"));
    let clipboard = Arc::new(MemoryClipboard::default());
    let vault =
        Vault::open(dir.path(), store.clone(), clipboard.clone(), clock.clone()).expect("vault");
    assert_eq!(vault.settings().expect("settings"), Settings::default());
    let provider = add_provider(&vault, &service);
    let key = vault
        .create_key(new_key(&provider, "forty days old"))
        .await
        .expect("create");
    vault
        .with_catalog(|c| {
            let mut r: KeyRecord = c.key(&key.id)?.expect("row");
            r.created_at = Some(rfc3339(now - Duration::days(40)));
            r.expires_at = None;
            c.update_remote_fields(&r)
        })
        .expect("age it");
    assert!(
        !vault.key(&key.id).expect("key").rotation_due,
        "40 < 90 days"
    );

    let mut s = vault.settings().expect("settings");
    s.rotation_policy_days = 30;
    s.rotation_reminders = false;
    s.clipboard_clear_secs = 5;
    vault.update_settings(s).expect("save");
    assert!(
        vault.key(&key.id).expect("key").rotation_due,
        "40 > 30 days"
    );
    assert!(vault.local_keys().expect("keys")[0].rotation_due);
    assert_eq!(vault.rotation_reminder().expect("reminder"), None, "off");

    // Out of range: refused, nothing changed.
    let mut bad = s;
    bad.clipboard_clear_secs = 4;
    bad.rotation_policy_days = 7;
    assert_eq!(
        vault.update_settings(bad).expect_err("refused").code(),
        "invalid_input"
    );
    assert_eq!(vault.settings().expect("settings"), s);

    // Another process on the same data directory sees the same settings.
    let other = Vault::open(
        dir.path(),
        store,
        Arc::new(MemoryClipboard::default()),
        clock.clone(),
    )
    .expect("second vault");
    assert_eq!(other.settings().expect("settings"), s);
    assert!(other.key(&key.id).expect("key").rotation_due);

    // Reminders back on: the due key is reminded.
    s.rotation_reminders = true;
    other.update_settings(s).expect("save");
    assert_eq!(
        vault
            .rotation_reminder()
            .expect("reminder")
            .expect("due")
            .count,
        1
    );

    // The copy is cleared after the Settings' 5 s, not the default 30 s.
    assert_eq!(
        vault.clear_after().expect("timeout"),
        std::time::Duration::from_secs(5)
    );
    let started = std::time::Instant::now();
    let timer = vault.copy_key(&key.id).expect("copy");
    assert!(clipboard.current().expect("read").is_some());
    timer.wait();
    let waited = started.elapsed();
    assert!(clipboard.current().expect("read").is_none(), "cleared");
    assert!(
        (4_900..9_000).contains(&waited.as_millis()),
        "cleared after {waited:?}"
    );
    let audit = vault.audit_log(50).expect("audit");
    assert!(audit.iter().any(|e| e.action == "settings"
        && e.detail.contains("after 30 days")
        && e.detail.contains("reminders off")));
    assert!(audit
        .iter()
        .any(|e| e.action == "copy" && e.detail.contains("clears in 5 s")));
}
