//! The vault's key flows against the real key service and the real keychain.

mod common;

use std::sync::Arc;

use common::*;
use latchkey_core::clipboard::{ClearOutcome, Clipboard, MemoryClipboard};
use latchkey_core::vault::{ExistingKey, KeyStatus, NewProvider};
use latchkey_core::Secret;

#[tokio::test]
async fn creates_copies_reveals_and_revokes_a_key_leaving_no_trace_of_it() {
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let clipboard = Arc::new(MemoryClipboard::default());
    let mut vault = open_vault(dir.path(), clipboard.clone());
    let provider = add_provider(&vault, &service);

    let latchkey_core::vault::CreatedKey {
        key: created,
        reveal_grant,
    } = vault
        .create_key_revealable(new_key(&provider, "ci deploy"))
        .await
        .expect("created");
    assert_eq!(created.status, KeyStatus::Active);
    assert!(created.has_secret);
    assert_eq!(created.env_var, "DEMO_API_KEY");
    assert!(created.preview.contains('•'));

    let secret = vault
        .reveal_key(&created.id, &reveal_grant)
        .expect("reveal");
    let canary = secret.expose_secret().to_owned();
    assert!(canary.starts_with("lk_") && canary.len() == 36);
    assert_eq!(service.verify_status(&canary).await, 200);

    // Cleared after long enough that the read below cannot lose a race
    // with it, however loaded the machine.
    vault.set_clear_after(std::time::Duration::from_secs(3));
    let timer = vault.copy_key(&created.id).expect("copy");
    assert_eq!(clipboard.current().expect("read"), Some(secret.clone()));
    assert_eq!(timer.wait(), ClearOutcome::Cleared);
    assert_eq!(clipboard.current().expect("read"), None);
    // The tray offers it again ("Copy …") while it can be copied.
    let recent = vault.recent_copies(5).expect("recent");
    assert_eq!(
        recent.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
        [created.id.as_str()]
    );

    let revoked = vault.revoke_key(&created.id).await.expect("revoked");
    assert!(vault.recent_copies(5).expect("recent").is_empty());
    assert_eq!(revoked.status, KeyStatus::Revoked);
    assert!(revoked.revoked_at.is_some());
    assert_eq!(service.verify_status(&canary).await, 401);

    assert_eq!(
        audit_actions(&vault),
        ["revoke", "copy", "reveal", "create", "provider_add"]
    );
    assert!(vault
        .with_catalog(|c| c.audit_chain_intact())
        .expect("chain"));

    // The canary appears nowhere on disk: not the db, not -wal, not -shm.
    let listing = vault.list_keys().await.expect("list");
    drop(vault);
    assert_eq!(files_containing(dir.path(), &canary), Vec::<String>::new());
    assert_eq!(
        files_containing(dir.path(), &canary[12..]),
        Vec::<String>::new()
    );
    assert!(!serde_json::to_string(&listing)
        .expect("json")
        .contains(&canary));
}

#[tokio::test]
async fn listing_merges_keys_made_or_revoked_elsewhere() {
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let provider = add_provider(&vault, &service);
    let ours = vault
        .create_key(new_key(&provider, "ours"))
        .await
        .expect("created");
    let elsewhere = service.create_directly("made in the dashboard").await;
    let remote_ours = service
        .remote_keys()
        .await
        .into_iter()
        .find(|k| k["name"] == "ours")
        .expect("ours remote");
    service
        .revoke_directly(remote_ours["id"].as_str().expect("id"))
        .await;

    let listing = vault.list_keys().await.expect("list");
    assert!(listing.warnings.is_empty());
    assert_eq!(listing.keys.len(), 2);
    let by_name = |n: &str| {
        listing
            .keys
            .iter()
            .find(|k| k.name == n)
            .expect("listed")
            .clone()
    };
    assert_eq!(by_name("ours").status, KeyStatus::Revoked);
    assert_eq!(by_name("ours").id, ours.id);
    let foreign = by_name("made in the dashboard");
    assert_eq!(foreign.status, KeyStatus::NoLocalSecret);
    assert!(!foreign.has_secret);
    assert_eq!(
        vault.copy_key(&foreign.id).map(|_| ()).unwrap_err().code(),
        "secret_missing"
    );

    // Pasting the key we hold attaches it to the listed row.
    let pasted = vault
        .add_existing_key(ExistingKey {
            provider_id: provider.id.clone(),
            name: "made in the dashboard".into(),
            secret: Secret::new(elsewhere["key"].as_str().expect("key")),
            environment: "prod".into(),
            env_var: String::new(),
            replace: false,
        })
        .await
        .expect("added");
    assert_eq!(pasted.id, foreign.id);
    assert_eq!(pasted.status, KeyStatus::Active);
    let again = vault
        .add_existing_key(ExistingKey {
            provider_id: provider.id.clone(),
            name: "again".into(),
            secret: Secret::new(elsewhere["key"].as_str().expect("key")),
            environment: String::new(),
            env_var: String::new(),
            replace: false,
        })
        .await
        .expect_err("duplicate");
    assert_eq!(again.code(), "duplicate_key");
    // Listing twice changes nothing.
    assert_eq!(vault.list_keys().await.expect("list").keys.len(), 2);
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_written() {
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let provider = add_provider(&vault, &service);
    for name in [
        "",
        "tab\tname",
        "line\nbreak",
        "esc\u{1b}[2J",
        &"x".repeat(65),
    ] {
        let err = vault
            .create_key(new_key(&provider, name))
            .await
            .expect_err("refused");
        assert_eq!(err.code(), "invalid_input", "{name:?}");
    }
    let mut bad_var = new_key(&provider, "ok name");
    bad_var.env_var = "1BAD-VAR".into();
    assert_eq!(
        vault.create_key(bad_var).await.expect_err("refused").code(),
        "invalid_input"
    );
    assert!(service.remote_keys().await.is_empty());
    assert!(vault.local_keys().expect("local").is_empty());

    let err = vault
        .add_provider(NewProvider {
            name: "Remote".into(),
            base_url: "http://example.com".into(),
            admin_token: Secret::new("t"),
            project: "demo".into(),
        })
        .expect_err("plain http refused");
    assert_eq!(err.code(), "insecure_url");
}

#[tokio::test]
async fn provider_errors_are_typed_and_unreachable_providers_do_not_hide_keys() {
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let provider = add_provider(&vault, &service);
    vault
        .create_key(new_key(&provider, "kept"))
        .await
        .expect("created");
    let wrong = vault
        .add_provider(NewProvider {
            name: "Wrong token".into(),
            base_url: service.base.clone(),
            admin_token: Secret::new("not-the-token"),
            project: "demo".into(),
        })
        .expect("added");
    assert_eq!(
        vault
            .test_provider(&wrong.id)
            .await
            .expect_err("401")
            .code(),
        "provider_unauthorized"
    );
    vault
        .test_provider(&provider.id)
        .await
        .expect("the right token works");

    let dead = vault
        .add_provider(NewProvider {
            name: "Gone".into(),
            base_url: "http://127.0.0.1:9".into(),
            admin_token: Secret::new("t"),
            project: "demo".into(),
        })
        .expect("added");
    let listing = vault.list_keys().await.expect("listing still works");
    assert_eq!(listing.keys.len(), 1);
    let codes: Vec<(&str, &str)> = listing
        .warnings
        .iter()
        .map(|w| (w.provider_id.as_str(), w.code.as_str()))
        .collect();
    assert!(codes.contains(&(dead.id.as_str(), "network")), "{codes:?}");
    assert!(
        codes.contains(&(wrong.id.as_str(), "provider_unauthorized")),
        "{codes:?}"
    );

    for i in 1..10 {
        vault
            .create_key(new_key(&provider, &format!("k{i}")))
            .await
            .expect("created");
    }
    let err = vault
        .create_key(new_key(&provider, "eleventh"))
        .await
        .expect_err("limit");
    assert_eq!(err.code(), "provider_conflict");
    assert!(err.to_string().contains("10 active keys"), "{err}");
}

#[tokio::test]
async fn creates_survive_5xx_429_and_dropped_connections_without_duplicates() {
    let service = key_service(true).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let provider = add_provider(&vault, &service);

    service
        .chaos(serde_json::json!({ "fail_next": 2, "status": 503 }))
        .await;
    vault
        .create_key(new_key(&provider, "after 503s"))
        .await
        .expect("retried past 503");
    service
        .chaos(serde_json::json!({ "fail_next": 1, "status": 429 }))
        .await;
    vault
        .create_key(new_key(&provider, "after 429"))
        .await
        .expect("waited out Retry-After");
    service
        .chaos(serde_json::json!({ "fail_next": 1, "drop_connection": true }))
        .await;
    vault
        .create_key(new_key(&provider, "after a drop"))
        .await
        .expect("retried with the same Idempotency-Key");

    let remote = service.remote_keys().await;
    assert_eq!(remote.len(), 3, "no duplicate creates: {remote:?}");
    assert_eq!(vault.list_keys().await.expect("list").keys.len(), 3);

    service
        .chaos(serde_json::json!({ "fail_next": 10, "status": 500 }))
        .await;
    let err = vault
        .create_key(new_key(&provider, "never"))
        .await
        .expect_err("gives up");
    assert_eq!(err.code(), "provider_unavailable");
}

/// A paste never replaces a held secret: a one-character-off copy of a key
/// Latchkey holds (same preview) is refused and the keychain keeps the
/// working key; with "Replace" a paste the service rejects is still
/// refused, and one it accepts takes the place of the held secret.
#[tokio::test]
async fn a_paste_never_replaces_a_held_secret_unasked() {
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let provider = add_provider(&vault, &service);
    let held = vault
        .create_key(new_key(&provider, "held"))
        .await
        .expect("created");
    let secret = stored_secret(&held.id);
    let key = secret.expose_secret().to_owned();
    // Change one character in the middle: the preview (prefix + last 4)
    // stays the same.
    let mut off: Vec<char> = key.chars().collect();
    let i = off.len() - 10;
    off[i] = if off[i] == 'a' { 'b' } else { 'a' };
    let off: String = off.into_iter().collect();
    let paste = |secret: &str, replace: bool| ExistingKey {
        provider_id: provider.id.clone(),
        name: "pasted".into(),
        secret: Secret::new(secret),
        environment: String::new(),
        env_var: String::new(),
        replace,
    };
    let err = vault
        .add_existing_key(paste(&off, false))
        .await
        .expect_err("refused");
    assert_eq!(err.code(), "key_already_held", "{err}");
    let err = vault
        .add_existing_key(paste(&off, true))
        .await
        .expect_err("the service rejects it");
    assert_eq!(err.code(), "invalid_input", "{err}");
    assert_eq!(
        stored_secret(&held.id).expose_secret(),
        key,
        "the keychain keeps the working key"
    );
    assert_eq!(service.verify_status(&key).await, 200);

    // A key made elsewhere and pasted is verified; a paste for a provider
    // that cannot be reached is kept as "not verified".
    let elsewhere = service.create_directly("elsewhere").await;
    let pasted = vault
        .add_existing_key(paste(elsewhere["key"].as_str().expect("key"), false))
        .await
        .expect("added");
    assert!(pasted.verified);
    // A key of some other service: the service does not confirm it, so it
    // is kept as "not verified".
    let foreign = vault
        .add_existing_key(paste("sk-other-service-0123456789abcdefghij", false))
        .await
        .expect("kept");
    assert!(!foreign.verified);
}

/// Fingerprints in the catalog are keyed with the vault's key (kept in the
/// keychain), never a plain SHA-256 of the key; a catalog written with
/// plain ones moves over when it is opened.
#[tokio::test]
async fn fingerprints_are_keyed_and_old_catalogs_move_over() {
    use sha2::Digest;
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let provider = add_provider(&vault, &service);
    let key = vault
        .create_key(new_key(&provider, "keyed"))
        .await
        .expect("created");
    let secret = stored_secret(&key.id);
    let plain = hex::encode(sha2::Sha256::digest(secret.expose_secret().as_bytes()));
    let stored = |vault: &latchkey_core::Vault| {
        vault
            .with_catalog(|c| Ok(c.key(&key.id)?.and_then(|k| k.fingerprint)))
            .expect("catalog")
            .expect("a fingerprint")
    };
    assert_ne!(
        stored(&vault),
        plain,
        "a plain SHA-256 of the key is stored"
    );
    assert_eq!(stored(&vault), secret.fingerprint().as_str());
    // An older Latchkey's catalog: plain fingerprints, no scheme mark.
    vault
        .with_catalog(|c| {
            c.set_fingerprint(&key.id, Some(&plain))?;
            c.set_setting("fingerprint_scheme", "")
        })
        .expect("made old");
    drop(vault);
    let reopened = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    assert_eq!(stored(&reopened), secret.fingerprint().as_str());
}

/// A folder scan is kept: the key's details list where it was found, its
/// next rotation is offered those places (a `.env` line by its variable,
/// another file as a checklist item), and a later scan of the folder
/// replaces what the earlier one found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_a_scan_found_a_key_is_kept_for_its_details_and_rotation() {
    use latchkey_core::catalog::TargetSpec;
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let provider = add_provider(&vault, &service);
    let latchkey_core::vault::CreatedKey { key, reveal_grant } = vault
        .create_key_revealable(new_key(&provider, "scanned"))
        .await
        .expect("created");
    let secret = vault.reveal_key(&key.id, &reveal_grant).expect("reveal");
    let project = tempfile::tempdir().expect("project");
    let root = std::fs::canonicalize(project.path()).expect("canonical");
    std::fs::create_dir_all(root.join("app")).expect("mkdir");
    let env = root.join("app/.env");
    let yaml = root.join("deploy.yaml");
    std::fs::write(
        &env,
        format!(
            "PORT=1\nexport DEMO_API_KEY=\"{}\"\n",
            secret.expose_secret()
        ),
    )
    .expect("write");
    std::fs::write(&yaml, format!("api:\n  key: {}\n", secret.expose_secret())).expect("write");

    vault.scan_folder(project.path()).expect("scan");
    let details = vault.key_details(&key.id).expect("details");
    let found: Vec<(String, u32)> = details
        .found_in
        .iter()
        .map(|f| (f.path.clone(), f.line))
        .collect();
    assert_eq!(
        found,
        [
            (env.display().to_string(), 2),
            (yaml.display().to_string(), 2)
        ]
    );
    assert!(details
        .found_in
        .iter()
        .all(|f| !f.tracked && !f.older_generation));
    assert_eq!(
        details.found_targets,
        [
            TargetSpec::Dotenv {
                path: env.display().to_string(),
                var: "DEMO_API_KEY".into(),
                follow_symlink: false
            },
            TargetSpec::Manual {
                items: vec![format!("Replace the key in {} (line 2)", yaml.display())]
            },
        ]
    );

    // Taken out of the YAML file: a new scan of the folder forgets it there.
    std::fs::write(&yaml, "api:\n  key: elsewhere\n").expect("write");
    vault.scan_folder(&root.join(".")).expect("scan again");
    let details = vault.key_details(&key.id).expect("details");
    assert_eq!(details.found_in.len(), 1, "{:?}", details.found_in);
    assert_eq!(details.found_targets.len(), 1);
    // Nothing the scan keeps holds the key.
    assert_eq!(
        latchkey_testkit::files::files_containing(dir.path(), secret.expose_secret()),
        Vec::<String>::new()
    );
}
