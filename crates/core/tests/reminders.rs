//! Keys due for rotation (older than 90 days, or expiring within 14) are
//! reminded at most once a day, with the real catalog and keychain.

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
    assert_eq!(
        vault.rotation_reminder().expect("again"),
        None,
        "once a day"
    );
    clock.advance(Duration::hours(25));
    assert!(vault.rotation_reminder().expect("next day").is_some());
}
