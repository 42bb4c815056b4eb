//! Revealing a key needs the one-time grant its creation handed out: no
//! grant, a used one, another key's, or an expired one (by the vault's
//! clock) is refused with `reveal_not_allowed`, and each refusal is audited.
//! Real keychain (scripts/with-keyring.sh), real key service on loopback.

mod common;

use std::sync::Arc;

use common::*;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::clock::ManualClock;
use latchkey_core::reveal::RevealGrant;
use latchkey_core::store::KeychainStore;
use latchkey_core::Vault;

#[tokio::test]
async fn a_key_is_revealed_once_with_a_fresh_grant_and_never_otherwise() {
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(ManualClock::new(time::OffsetDateTime::now_utc()));
    let vault = Vault::open(
        dir.path(),
        Arc::new(KeychainStore::open_service("latchkey-test").expect("keychain")),
        Arc::new(MemoryClipboard::default()),
        clock.clone(),
    )
    .expect("vault");
    let provider = add_provider(&vault, &service);
    let first = vault
        .create_key_revealable(new_key(&provider, "first"))
        .await
        .expect("created");
    let second = vault
        .create_key_revealable(new_key(&provider, "second"))
        .await
        .expect("created");

    // No grant (a made-up token) is refused.
    let refused = vault
        .reveal_key(&first.key.id, &RevealGrant::from_token("0".repeat(64)))
        .expect_err("no grant");
    assert_eq!(refused.code(), "reveal_not_allowed");

    // Another key's grant is refused (and spent).
    let refused = vault
        .reveal_key(&first.key.id, &second.reveal_grant)
        .expect_err("another key's grant");
    assert_eq!(refused.code(), "reveal_not_allowed");
    assert_eq!(
        vault
            .reveal_key(&second.key.id, &second.reveal_grant)
            .expect_err("spent")
            .code(),
        "reveal_not_allowed"
    );

    // A fresh grant works once.
    let shown = vault
        .reveal_key(&first.key.id, &first.reveal_grant)
        .expect("revealed");
    assert_eq!(shown, stored_secret(&first.key.id));
    let again = vault
        .reveal_key(&first.key.id, &first.reveal_grant)
        .expect_err("used grant");
    assert_eq!(again.code(), "reveal_not_allowed");

    // An expired grant is refused: the vault's clock moved on 2 minutes.
    let third = vault
        .create_key_revealable(new_key(&provider, "third"))
        .await
        .expect("created");
    clock.advance(time::Duration::seconds(119));
    let late = vault
        .create_key_revealable(new_key(&provider, "fourth"))
        .await
        .expect("created");
    clock.advance(time::Duration::seconds(2));
    assert_eq!(
        vault
            .reveal_key(&third.key.id, &third.reveal_grant)
            .expect_err("expired")
            .code(),
        "reveal_not_allowed"
    );
    vault
        .reveal_key(&late.key.id, &late.reveal_grant)
        .expect("still fresh");

    let actions = audit_actions(&vault);
    assert_eq!(actions.iter().filter(|a| *a == "reveal").count(), 2);
    assert_eq!(actions.iter().filter(|a| *a == "reveal_refused").count(), 5);
    assert!(vault.verify_audit().expect("verify").is_verified());
}
