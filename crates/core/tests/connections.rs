//! Connections against the real key service and the real keychain:
//! replacing a connection's credential ("Change token") and removing a
//! connection, alone or with the keys it holds; the Demo is never removed.

mod common;

use std::sync::Arc;

use common::*;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::vault::NewProvider;
use latchkey_core::Secret;

/// "Change token": a connection's credential is replaced only once the
/// service accepts the new one, a lost one is named with the way back, and
/// neither the old nor the new credential lands anywhere but the keychain.
#[tokio::test]
async fn a_connection_credential_is_replaced_only_when_the_service_accepts_it() {
    use latchkey_core::store::{provider_account, KeychainStore, SecretStore};
    const MISTYPED: &str = "core-test-mistyped-admin";
    const WRONG_AGAIN: &str = "core-test-second-wrong-admin";
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let keychain = KeychainStore::open_service("latchkey-test").expect("real keychain");
    let held = |id: &str| {
        keychain
            .get(&provider_account(id))
            .expect("keychain read")
            .map(|s| s.expose_secret().to_owned())
    };
    let acme = vault
        .add_provider(NewProvider {
            name: "Acme".into(),
            base_url: service.base.clone(),
            admin_token: Secret::new(MISTYPED),
            project: "demo".into(),
        })
        .expect("added");
    let refused = vault.test_provider(&acme.id).await.expect_err("401");
    assert!(refused.to_string().contains("Change token"), "{refused}");

    // The service refuses the new one too: the old one stays.
    let err = vault
        .set_provider_credential(&acme.id, Secret::new(WRONG_AGAIN))
        .await
        .expect_err("refused by the service");
    assert_eq!(err.code(), "provider_unauthorized");
    assert_eq!(held(&acme.id).as_deref(), Some(MISTYPED));
    let err = vault
        .set_provider_credential(&acme.id, Secret::new(" \n"))
        .await
        .expect_err("empty");
    assert_eq!(err.code(), "invalid_input");
    assert_eq!(held(&acme.id).as_deref(), Some(MISTYPED));

    // The right one: kept (trimmed), and used from now on, also by the
    // connection the vault had cached with the old one.
    vault
        .set_provider_credential(&acme.id, Secret::new(format!("{ADMIN}\n")))
        .await
        .expect("accepted");
    assert_eq!(held(&acme.id).as_deref(), Some(ADMIN));
    vault.test_provider(&acme.id).await.expect("connected");
    let made = vault
        .create_key(new_key(&acme, "after the new token"))
        .await
        .expect("created with the new token");

    // Lost from this keychain: the listing says it is the connection's
    // credential and the way back, and keeps the keys; putting it back
    // clears the warning.
    keychain
        .delete(&provider_account(&acme.id))
        .expect("deleted");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let listing = vault.list_keys().await.expect("listing");
    assert_eq!(listing.keys.len(), 1);
    assert_eq!(listing.keys[0].id, made.id);
    let warning = listing
        .warnings
        .iter()
        .find(|w| w.provider_id == acme.id)
        .expect("a warning for Acme");
    assert_eq!(warning.code.as_str(), "secret_missing");
    assert!(
        warning.message.contains("connection's credential")
            && warning.message.contains("Change token"),
        "{}",
        warning.message
    );
    vault
        .set_provider_credential(&acme.id, Secret::new(ADMIN))
        .await
        .expect("put back");
    let listing = vault.list_keys().await.expect("listing");
    assert!(listing.warnings.is_empty(), "{:?}", listing.warnings);

    // Only connections that hold a credential have one to change.
    let manual = vault
        .add_manual_provider(latchkey_core::vault::NewManualProvider {
            name: "Dashboard only".into(),
            dashboard_url: "https://dashboard.example.com/keys".into(),
            verify_url: format!("{}/v1/projects/demo/keys", service.base),
        })
        .expect("manual added");
    let err = vault
        .set_provider_credential(&manual.id, Secret::new(ADMIN))
        .await
        .expect_err("no credential to change");
    assert_eq!(err.code(), "invalid_input");
    let err = vault
        .set_provider_credential("no-such-provider", Secret::new(ADMIN))
        .await
        .expect_err("unknown");
    assert_eq!(err.code(), "not_found");

    let actions = audit_actions(&vault);
    assert_eq!(
        actions.iter().filter(|a| *a == "provider_token").count(),
        2,
        "{actions:?}"
    );
    for token in [MISTYPED, WRONG_AGAIN, ADMIN] {
        assert_eq!(
            files_containing(dir.path(), token),
            Vec::<String>::new(),
            "{token} written to the data folder"
        );
    }
}

/// "Remove": a connection added by mistake goes, with its credential; one
/// that holds keys (revoked ones are its history) stays.
#[tokio::test]
async fn only_a_connection_without_keys_is_removed_with_its_credential() {
    use latchkey_core::store::{provider_account, KeychainStore, SecretStore};
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let keychain = KeychainStore::open_service("latchkey-test").expect("real keychain");
    let used = add_provider(&vault, &service);
    let key = vault
        .create_key(new_key(&used, "held"))
        .await
        .expect("created");
    let mistaken = vault
        .add_provider(NewProvider {
            name: "Mistaken".into(),
            base_url: "http://127.0.0.1:9".into(),
            admin_token: Secret::new("core-test-mistaken-token"),
            project: "demo".into(),
        })
        .expect("added");
    assert!(keychain
        .get(&provider_account(&mistaken.id))
        .expect("read")
        .is_some());

    // A create journaled on it (another window's, in flight) keeps it.
    let pending = latchkey_core::catalog::PendingCreate {
        id: "in-flight".into(),
        provider_id: mistaken.id.clone(),
        name: "in flight".into(),
        scopes: vec![],
        expires_in_days: None,
        environment: String::new(),
        env_var: String::new(),
        started_at: "2026-12-05T12:00:00Z".into(),
    };
    vault
        .with_catalog(|c| c.begin_create(&pending))
        .expect("journaled");
    let err = vault.remove_provider(&mistaken.id).expect_err("in flight");
    assert!(err.to_string().contains("being created"), "{err}");
    vault
        .with_catalog(|c| c.drop_create(&pending.id))
        .expect("settled");
    vault.remove_provider(&mistaken.id).expect("removed");
    assert!(
        keychain
            .get(&provider_account(&mistaken.id))
            .expect("read")
            .is_none(),
        "its credential stays in the keychain"
    );
    let names: Vec<String> = vault
        .providers()
        .expect("providers")
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["Test service"]);
    let listing = vault.list_keys().await.expect("listing");
    assert!(listing.warnings.is_empty(), "{:?}", listing.warnings);
    assert_eq!(
        vault
            .remove_provider(&mistaken.id)
            .expect_err("gone")
            .code(),
        "not_found"
    );

    // Keys keep their connection, revoked ones too.
    let err = vault.remove_provider(&used.id).expect_err("has a key");
    assert_eq!(err.code(), "invalid_input");
    assert!(err.to_string().contains("has 1 key in Latchkey"), "{err}");
    vault.revoke_key(&key.id).await.expect("revoked");
    let err = vault.remove_provider(&used.id).expect_err("has history");
    assert_eq!(err.code(), "invalid_input");
    assert!(keychain
        .get(&provider_account(&used.id))
        .expect("read")
        .is_some());
    vault
        .test_provider(&used.id)
        .await
        .expect("still connected");

    let removed: Vec<String> = vault
        .audit_log(50)
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "provider_remove")
        .map(|e| e.detail)
        .collect();
    assert_eq!(removed, ["removed provider \"Mistaken\""]);
    // Activity still names it, on every one of its lines (added, removed).
    let named: Vec<(String, String)> = vault
        .activity(50)
        .expect("activity")
        .into_iter()
        .filter(|r| r.entry.provider_id.as_deref() == Some(mistaken.id.as_str()))
        .map(|r| (r.entry.action, r.service_name))
        .collect();
    assert_eq!(
        named,
        [
            ("provider_remove".to_owned(), "Mistaken".to_owned()),
            ("provider_add".to_owned(), "Mistaken".to_owned()),
        ]
    );
}

/// "Remove" with keys: the connection goes, and Latchkey forgets its keys
/// (secrets out of the keychain, generations and rotations out of the
/// catalog) once the person confirmed how many; the service keeps them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_is_removed_with_the_keys_it_was_shown_to_hold() {
    use latchkey_core::catalog::TargetSpec;
    use latchkey_core::rotation::driver::RotationRequest;
    use latchkey_core::rotation::State;
    use latchkey_core::store::{key_account, provider_account, KeychainStore, SecretStore};
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let keychain = KeychainStore::open_service("latchkey-test").expect("real keychain");
    let gone = add_provider(&vault, &service);
    let kept = vault
        .add_provider(NewProvider {
            name: "Other".into(),
            base_url: service.base.clone(),
            admin_token: Secret::new(ADMIN),
            project: "other".into(),
        })
        .expect("added");
    let other_key = vault
        .create_key(new_key(&kept, "other key"))
        .await
        .expect("created");
    let key = vault
        .create_key(new_key(&gone, "rotated"))
        .await
        .expect("created");
    let revoked = vault
        .create_key(new_key(&gone, "revoked"))
        .await
        .expect("created");
    vault.revoke_key(&revoked.id).await.expect("revoked");
    // One finished rotation: a second generation, a journal, a target.
    let env = dir.path().join(".env");
    std::fs::write(&env, "ROTATED=x\n").expect("env");
    let plan = vault
        .plan_rotation(RotationRequest {
            key_id: key.id.clone(),
            targets: vec![TargetSpec::Dotenv {
                path: env.display().to_string(),
                var: "ROTATED".into(),
                follow_symlink: false,
            }],
        })
        .await
        .expect("plan");
    let done = vault.run_rotation(&plan.id, &|_| {}).await.expect("run");
    assert_eq!(done.state, State::Done, "{done:?}");
    let held: Vec<String> = vault
        .local_keys()
        .expect("keys")
        .into_iter()
        .filter(|k| k.provider_id == gone.id)
        .map(|k| k.id)
        .collect();
    assert_eq!(held.len(), 3, "two generations and the revoked key");
    let new_secret = keychain.get(&key_account(&done.new_key_id)).expect("read");
    assert!(new_secret.is_some());

    // A rotation under way keeps it.
    let again = vault
        .plan_rotation(RotationRequest {
            key_id: done.new_key_id.clone(),
            targets: vec![TargetSpec::Dotenv {
                path: env.display().to_string(),
                var: "ROTATED".into(),
                follow_symlink: false,
            }],
        })
        .await
        .expect("plan");
    let err = vault
        .remove_provider_and_keys(&gone.id, 3)
        .expect_err("rotating");
    assert!(err.to_string().contains("is being rotated"), "{err}");
    vault
        .rollback_rotation(&again.id, &|_| {})
        .await
        .expect("rolled back");

    // Shown two keys, it holds three: nothing happens.
    let err = vault
        .remove_provider_and_keys(&gone.id, 2)
        .expect_err("a key nobody saw");
    assert_eq!(err.code(), "invalid_input");
    assert!(err.to_string().contains("now has 3 keys, not 2"), "{err}");
    assert_eq!(vault.local_keys().expect("keys").len(), 4);
    assert!(keychain
        .get(&provider_account(&gone.id))
        .expect("read")
        .is_some());

    assert_eq!(
        vault
            .remove_provider_and_keys(&gone.id, 3)
            .expect("removed"),
        3
    );
    let left: Vec<String> = vault
        .local_keys()
        .expect("keys")
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(left, [other_key.id]);
    assert!(vault
        .providers()
        .expect("providers")
        .iter()
        .all(|p| p.id != gone.id));
    assert!(vault.rotations().expect("rotations").is_empty());
    for id in &held {
        assert!(
            keychain.get(&key_account(id)).expect("read").is_none(),
            "{id}: its secret stayed in the keychain"
        );
    }
    assert!(keychain
        .get(&provider_account(&gone.id))
        .expect("read")
        .is_none());
    // The service still has the live key: forgetting is not revoking.
    assert_eq!(
        service
            .verify_status(new_secret.expect("secret").expose_secret())
            .await,
        200,
        "the service lost the key"
    );
    // Activity names each forgotten key and the connection, and the log
    // still verifies.
    let rows = vault.activity(100).expect("activity");
    for id in &held {
        let names: Vec<&str> = rows
            .iter()
            .filter(|r| r.entry.key_id.as_deref() == Some(id.as_str()))
            .map(|r| r.key_name.as_str())
            .collect();
        assert!(names.len() >= 2, "{id}: {names:?}");
        assert!(
            names
                .iter()
                .all(|n| n.starts_with("rotated") || *n == "revoked"),
            "{id} is not named in Activity: {names:?}"
        );
    }
    assert!(rows
        .iter()
        .filter(|r| r.entry.provider_id.as_deref() == Some(gone.id.as_str()))
        .all(|r| r.service_name == gone.name));
    assert_eq!(
        common::audit_actions(&vault)
            .iter()
            .filter(|a| *a == "key_forget")
            .count(),
        3
    );
    let verified = vault.verify_audit().expect("verify");
    assert!(verified.is_verified(), "{verified:?}");
    // The other connection and its key are untouched.
    vault
        .test_provider(&kept.id)
        .await
        .expect("still connected");
    assert_eq!(
        vault
            .remove_provider_and_keys(&gone.id, 0)
            .expect_err("gone")
            .code(),
        "not_found"
    );
}

/// The built-in Demo service is refused by both removals, whatever count
/// is given, and its credential stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_connection_is_never_removed() {
    use latchkey_core::store::{provider_account, KeychainStore, SecretStore};
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let keychain = KeychainStore::open_service("latchkey-test").expect("real keychain");
    let demo = vault
        .ensure_demo_provider("http://127.0.0.1:9", &Secret::new("core-test-demo-token"))
        .expect("demo");
    let refusals = [
        vault.remove_provider(&demo.id).expect_err("plain"),
        vault
            .remove_provider_and_keys(&demo.id, 0)
            .expect_err("with keys"),
    ];
    for err in refusals {
        assert_eq!(err.code(), "invalid_input");
        assert!(
            err.to_string().contains("Demo service cannot be removed"),
            "{err}"
        );
    }
    assert_eq!(vault.providers().expect("providers").len(), 1);
    assert!(keychain
        .get(&provider_account(&demo.id))
        .expect("read")
        .is_some());
}
