//! Rotations against the real key service, the real keychain, real `.env`
//! files and a real SQLite journal: the happy path, the key lock, a failed
//! verify rolling back, a manual checklist, the .gitignore warning, and
//! every step again under key-service chaos.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::*;
use latchkey_core::catalog::{TargetSpec, TargetStatus};
use latchkey_core::clipboard::{Clipboard, MemoryClipboard};
use latchkey_core::rotation::driver::{display_name, no_progress, RotationRequest};
use latchkey_core::rotation::State;
use latchkey_core::vault::{KeyStatus, KeyView, ProviderView};
use latchkey_core::{Secret, Vault};
use serde_json::json;

struct Setup {
    service: Service,
    dir: tempfile::TempDir,
    clipboard: Arc<MemoryClipboard>,
    vault: Vault,
    provider: ProviderView,
    old: KeyView,
    old_secret: Secret,
    env_path: std::path::PathBuf,
    env_before: Vec<u8>,
}

const ENV_TEMPLATE: &str = "# app settings\r\nexport DEBUG=1\r\nDEMO_API_KEY='{KEY}' # rotated by Latchkey\r\nOTHER=\"x y\"";

async fn setup(chaos: bool) -> Setup {
    let service = key_service(chaos).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let clipboard = Arc::new(MemoryClipboard::default());
    let vault = open_vault(&dir.path().join("data"), clipboard.clone());
    let provider = add_provider(&vault, &service);
    let old = vault
        .create_key(new_key(&provider, "web backend"))
        .await
        .expect("old key");
    let old_secret = stored_secret(&old.id);
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).expect("project dir");
    let env_path = project.join(".env");
    let env_before = ENV_TEMPLATE
        .replace("{KEY}", old_secret.expose_secret())
        .into_bytes();
    std::fs::write(&env_path, &env_before).expect("write .env");
    Setup {
        service,
        dir,
        clipboard,
        vault,
        provider,
        old,
        old_secret,
        env_path,
        env_before,
    }
}

fn dotenv_target(path: &Path) -> TargetSpec {
    TargetSpec::Dotenv {
        path: path.display().to_string(),
        var: "DEMO_API_KEY".into(),
        follow_symlink: false,
    }
}

/// Live keys on the service, by name.
async fn live_names(service: &Service) -> Vec<String> {
    service
        .remote_keys()
        .await
        .into_iter()
        .filter(|k| k["revoked_at"].is_null())
        .map(|k| k["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_rotation_replaces_the_key_everywhere_and_revokes_the_old_one() {
    let s = setup(false).await;
    let plan = s
        .vault
        .plan_rotation(RotationRequest {
            key_id: s.old.id.clone(),
            targets: vec![dotenv_target(&s.env_path)],
        })
        .await
        .expect("planned");
    assert_eq!(plan.state, State::Planned);
    assert!(plan.unfinished);

    // The key is locked while the rotation is unfinished.
    let again = s
        .vault
        .plan_rotation(RotationRequest {
            key_id: s.old.id.clone(),
            targets: vec![dotenv_target(&s.env_path)],
        })
        .await;
    match again {
        Err(e) => {
            assert_eq!(e.code(), "rotation_in_progress");
            assert!(e.to_string().contains(&plan.id), "{e}");
        }
        Ok(_) => panic!("a second rotation of a locked key was planned"),
    }
    let revoke = s.vault.revoke_key(&s.old.id).await;
    assert_eq!(
        revoke.err().map(|e| e.code().as_str()),
        Some("rotation_in_progress")
    );

    let seen = std::sync::Mutex::new(Vec::new());
    let done = s
        .vault
        .run_rotation(&plan.id, &|v| {
            seen.lock().expect("lock").push(v.state);
        })
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done);
    assert!(!done.unfinished);
    let seen = seen.into_inner().expect("seen");
    for st in [
        State::Planned,
        State::Stored,
        State::Deployed,
        State::Verified,
        State::OldRevoked,
    ] {
        assert!(seen.contains(&st), "progress never showed {st:?}: {seen:?}");
    }

    // The new key: in the keychain, in the file, accepted; the old: rejected.
    let new = s.vault.key(&done.new_key_id).expect("new key");
    assert_eq!(new.status, KeyStatus::Active);
    assert_eq!(new.env_var, "DEMO_API_KEY");
    assert_eq!(new.environment, "dev");
    // The key keeps its name (the rotation tag stays on the service's side);
    // the old key is the new one's older generation.
    assert_eq!(new.name, "web backend");
    assert_eq!(
        s.vault
            .key(&s.old.id)
            .expect("old key")
            .superseded_by
            .as_deref(),
        Some(done.new_key_id.as_str())
    );
    let new_secret = stored_secret(&new.id);
    assert_ne!(new_secret, s.old_secret);
    assert_eq!(
        s.service.verify_status(new_secret.expose_secret()).await,
        200
    );
    assert_eq!(
        s.service.verify_status(s.old_secret.expose_secret()).await,
        401
    );
    assert_eq!(
        s.vault.key(&s.old.id).expect("old").status,
        KeyStatus::Revoked
    );
    let after = std::fs::read(&s.env_path).expect("read .env");
    assert_eq!(
        after,
        ENV_TEMPLATE
            .replace("{KEY}", new_secret.expose_secret())
            .into_bytes(),
        "only the value changed"
    );
    // The one live key on the service is the new one: its service name
    // carries the rotation tag, the vault shows it without.
    let live = live_names(&s.service).await;
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(display_name(&live[0]), new.name);
    assert!(
        live[0].contains(&format!("(rotation {})", &plan.id[..8])),
        "{live:?}"
    );

    // Activity names the new key as the list does: without the tag.
    let named: Vec<String> = s
        .vault
        .activity(100)
        .expect("activity")
        .into_iter()
        .filter(|r| r.entry.key_id.as_deref() == Some(new.id.as_str()))
        .map(|r| r.key_name)
        .collect();
    assert!(!named.is_empty());
    assert!(named.iter().all(|n| *n == new.name), "{named:?}");

    // The journal: every effect's intent before its result; old revoked
    // only after verify passed.
    let journal = s.vault.rotation_journal(&plan.id).expect("journal");
    let order: Vec<String> = journal
        .iter()
        .map(|e| format!("{}:{}", e.step, e.phase))
        .collect();
    let pos = |x: &str| {
        order
            .iter()
            .position(|o| o == x)
            .unwrap_or_else(|| panic!("{x} not in {order:?}"))
    };
    assert!(pos("create:intent") < pos("create:ok"));
    assert!(pos("create:ok") < pos("store:ok"));
    assert!(pos("store:ok") < pos("deploy:0:intent"));
    assert!(pos("deploy:0:intent") < pos("deploy:0:ok"));
    assert!(pos("deploy:0:ok") < pos("verify:intent"));
    assert!(pos("verify:ok") < pos("revoke_old:intent"));
    assert!(pos("revoke_old:ok") < pos("finish:ok"));

    // Neither key is anywhere in the data directory (db, -wal, -shm).
    let data = s.dir.path().join("data");
    for secret in [&new_secret, &s.old_secret] {
        assert_eq!(
            files_containing(&data, secret.expose_secret()),
            Vec::<String>::new()
        );
    }
    // After it is done, the key can be rotated again.
    s.vault
        .plan_rotation(RotationRequest {
            key_id: new.id.clone(),
            targets: vec![dotenv_target(&s.env_path)],
        })
        .await
        .expect("a finished rotation releases the lock");
    assert!(s
        .vault
        .with_catalog(|c| c.audit_chain_intact())
        .expect("chain"));
}

#[tokio::test]
async fn a_failed_verify_restores_the_files_revokes_the_new_key_and_keeps_the_old() {
    let mut s = setup(false).await;
    // The copy below is read back at once; no 200 ms race with the clear.
    s.vault.set_clear_after(std::time::Duration::from_secs(60));
    let plan = s
        .vault
        .plan_rotation(RotationRequest {
            key_id: s.old.id.clone(),
            targets: vec![
                dotenv_target(&s.env_path),
                TargetSpec::Manual {
                    items: vec!["GitHub Actions secret DEMO_API_KEY".into()],
                },
            ],
        })
        .await
        .expect("planned");
    // Runs up to the checklist: the .env file is deployed, the manual target waits.
    let waiting = s
        .vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("paused");
    assert_eq!(waiting.state, State::Stored);
    assert_eq!(waiting.targets[0].status, TargetStatus::Deployed);
    assert_eq!(
        waiting.targets[1].status,
        TargetStatus::AwaitingConfirmation
    );
    // The checklist's copy: the new key, from Rust, to the clipboard.
    let new_secret = stored_secret(&waiting.new_key_id);
    let _timer = s.vault.copy_rotation_key(&plan.id).expect("copy new key");
    assert_eq!(
        s.clipboard.current().expect("clip"),
        Some(new_secret.clone())
    );
    assert_ne!(std::fs::read(&s.env_path).expect("read"), s.env_before);

    // Someone revokes the new key on the service before verify.
    let remote = s
        .service
        .remote_keys()
        .await
        .into_iter()
        .find(|k| k["name"].as_str().unwrap_or("").contains("(rotation "))
        .expect("new key on the service");
    s.service
        .revoke_directly(remote["id"].as_str().expect("id"))
        .await;
    s.vault
        .confirm_manual_item(&plan.id, 1, 0)
        .expect("confirmed");
    let result = s.vault.run_rotation(&plan.id, &no_progress).await;
    let err = result.expect_err("verify must fail");
    assert_eq!(err.code(), "verify_failed");

    let view = s.vault.rotation(&plan.id).expect("view");
    assert_eq!(view.state, State::RolledBack);
    assert!(!view.unfinished);
    assert_eq!(view.targets[0].status, TargetStatus::RolledBack);
    assert_eq!(
        std::fs::read(&s.env_path).expect("read"),
        s.env_before,
        "the .env file is byte-identical to before"
    );
    assert_eq!(
        s.service.verify_status(s.old_secret.expose_secret()).await,
        200,
        "the old key still works"
    );
    assert_eq!(
        s.vault.key(&s.old.id).expect("old").status,
        KeyStatus::Active
    );
    assert_eq!(
        s.vault.key(&view.new_key_id).expect("new").status,
        KeyStatus::Revoked
    );
    assert_eq!(live_names(&s.service).await, vec!["web backend".to_owned()]);
}

#[tokio::test]
async fn rolling_back_on_request_restores_and_a_done_rotation_cannot_roll_back() {
    let s = setup(false).await;
    let plan = s
        .vault
        .plan_rotation(RotationRequest {
            key_id: s.old.id.clone(),
            targets: vec![
                dotenv_target(&s.env_path),
                TargetSpec::Manual {
                    items: vec!["the staging server".into()],
                },
            ],
        })
        .await
        .expect("planned");
    s.vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("paused at the checklist");
    let view = s
        .vault
        .rollback_rotation(&plan.id, &no_progress)
        .await
        .expect("rolled back");
    assert_eq!(view.state, State::RolledBack);
    assert_eq!(std::fs::read(&s.env_path).expect("read"), s.env_before);
    assert_eq!(live_names(&s.service).await, vec!["web backend".to_owned()]);

    // A finished rotation is final.
    let plan = s
        .vault
        .plan_rotation(RotationRequest {
            key_id: s.old.id.clone(),
            targets: vec![dotenv_target(&s.env_path)],
        })
        .await
        .expect("the lock was released");
    s.vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("done");
    let refused = s.vault.rollback_rotation(&plan.id, &no_progress).await;
    assert_eq!(
        refused.err().map(|e| e.code().as_str()),
        Some("invalid_input")
    );
}

#[tokio::test]
async fn a_file_changed_behind_our_back_is_refused_and_left_alone() {
    let s = setup(false).await;
    let plan = s
        .vault
        .plan_rotation(RotationRequest {
            key_id: s.old.id.clone(),
            targets: vec![dotenv_target(&s.env_path)],
        })
        .await
        .expect("planned");
    let mut edited = s.env_before.clone();
    edited.extend_from_slice(b"\r\nNEW_SETTING=1\r\n");
    std::fs::write(&s.env_path, &edited).expect("edit");
    let err = s
        .vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect_err("refused");
    assert_eq!(err.code(), "dotenv_changed_on_disk");
    assert_eq!(std::fs::read(&s.env_path).expect("read"), edited);
    let view = s.vault.rotation(&plan.id).expect("view");
    assert_eq!(view.state, State::Stored);
    assert_eq!(
        view.error.as_ref().map(|e| e.code.as_str()),
        Some("dotenv_changed_on_disk")
    );
    // Rolling back revokes the new key; the user's edit stays.
    s.vault
        .rollback_rotation(&plan.id, &no_progress)
        .await
        .expect("rolled back");
    assert_eq!(std::fs::read(&s.env_path).expect("read"), edited);
    assert_eq!(live_names(&s.service).await, vec!["web backend".to_owned()]);
}

/// A file target whose path was left empty (the wizard's blank row) is
/// refused by name before anything is planned, not "Could not update :".
#[tokio::test]
async fn a_file_target_without_a_path_is_refused_before_planning() {
    let s = setup(false).await;
    for path in ["", "  "] {
        let err = s
            .vault
            .plan_rotation(RotationRequest {
                key_id: s.old.id.clone(),
                targets: vec![
                    dotenv_target(&s.env_path),
                    TargetSpec::Dotenv {
                        path: path.into(),
                        var: "WEB_KEY".into(),
                        follow_symlink: false,
                    },
                ],
            })
            .await
            .expect_err("refused");
        assert_eq!(err.code(), "invalid_input");
        assert_eq!(
            err.to_string(),
            "Enter the path of the file that should hold WEB_KEY: it is empty"
        );
    }
    assert!(s.vault.rotations().expect("rotations").is_empty());
    assert_eq!(std::fs::read(&s.env_path).expect("read"), s.env_before);
}

#[tokio::test]
async fn an_env_file_git_would_commit_gets_a_warning_and_can_be_ignored() {
    let s = setup(false).await;
    let project = s.env_path.parent().expect("dir");
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(project)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|mut child| {
            common::process::wait_within(&mut child, common::process::CHILD_TIMEOUT, "git init")
        });
    if !git.map(|st| st.success()).unwrap_or(false) {
        std::fs::create_dir_all(project.join(".git")).expect(".git");
    }
    let plan = s
        .vault
        .plan_rotation(RotationRequest {
            key_id: s.old.id.clone(),
            targets: vec![dotenv_target(&s.env_path)],
        })
        .await
        .expect("planned");
    let warning = plan.targets[0]
        .gitignore_warning
        .clone()
        .expect("a warning for a tracked-looking .env");
    assert!(warning.contains(".gitignore"), "{warning}");
    s.vault
        .add_to_gitignore(&s.env_path.display().to_string())
        .expect("added");
    assert_eq!(
        std::fs::read_to_string(project.join(".gitignore")).expect("gitignore"),
        "/.env\n*.latchkey-tmp\n"
    );
    s.vault
        .rollback_rotation(&plan.id, &no_progress)
        .await
        .expect("rolled back");
    let plan = s
        .vault
        .plan_rotation(RotationRequest {
            key_id: s.old.id.clone(),
            targets: vec![dotenv_target(&s.env_path)],
        })
        .await
        .expect("planned again");
    assert_eq!(plan.targets[0].gitignore_warning, None);
}

/// Chaos at the create step, and again at verify: each run either finishes
/// or stops with a typed error; the next run carries on. Never a lost key,
/// never an orphan, never two live keys.
#[tokio::test]
async fn every_step_survives_key_service_chaos() {
    for fault in [
        json!({"status": 500}),
        json!({"status": 503}),
        json!({"status": 429}),
        json!({"drop_connection": true}),
        json!({"status": 503, "delay_ms": 300}),
    ] {
        let s = setup(true).await;
        let plan = s
            .vault
            .plan_rotation(RotationRequest {
                key_id: s.old.id.clone(),
                targets: vec![
                    dotenv_target(&s.env_path),
                    TargetSpec::Manual {
                        items: vec!["CI".into()],
                    },
                ],
            })
            .await
            .expect("planned");
        // Five failures in a row: more than one run's retries absorb.
        let mut arm = fault.clone();
        arm["fail_next"] = json!(5);
        s.service.chaos(arm.clone()).await;
        let mut runs = 0;
        let paused = loop {
            runs += 1;
            assert!(runs <= 4, "{fault}: no progress after {runs} runs");
            match s.vault.run_rotation(&plan.id, &no_progress).await {
                Ok(v) => break v,
                Err(e) => assert!(
                    matches!(
                        e.code().as_str(),
                        "provider_unavailable" | "rate_limited" | "network" | "timeout"
                    ),
                    "{fault}: {e}"
                ),
            }
        };
        assert_eq!(paused.state, State::Stored, "{fault}");
        s.service.chaos(arm).await;
        s.vault
            .confirm_manual_item(&plan.id, 1, 0)
            .expect("confirm");
        let mut runs = 0;
        let done = loop {
            runs += 1;
            assert!(runs <= 4, "{fault}: no progress after {runs} runs");
            match s.vault.run_rotation(&plan.id, &no_progress).await {
                Ok(v) => break v,
                Err(e) => assert!(
                    matches!(
                        e.code().as_str(),
                        "provider_unavailable" | "rate_limited" | "network" | "timeout"
                    ),
                    "{fault}: {e}"
                ),
            }
        };
        assert_eq!(done.state, State::Done, "{fault}");
        let new_secret = stored_secret(&done.new_key_id);
        assert_eq!(
            s.service.verify_status(new_secret.expose_secret()).await,
            200
        );
        assert_eq!(
            s.service.verify_status(s.old_secret.expose_secret()).await,
            401
        );
        let live = live_names(&s.service).await;
        assert_eq!(live.len(), 1, "{fault}: live keys {live:?}");
        let _ = &s.provider;
    }
}

/// A dashboard-only service (the manual connector): the person makes the new
/// key in the dashboard and pastes it, Latchkey stores and deploys it and
/// checks it through the verify URL; the person revokes the old key by hand
/// and Latchkey marks the step done only once the service rejects it.
#[tokio::test]
async fn a_manual_provider_rotates_with_the_person_doing_the_dashboard_steps() {
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    let provider = vault
        .add_manual_provider(latchkey_core::vault::NewManualProvider {
            name: "Dashboard-only".into(),
            dashboard_url: format!("{}/dashboard", service.base),
            verify_url: format!("{}/v1/verify", service.base),
        })
        .expect("manual provider");
    vault.test_provider(&provider.id).await.expect("reachable");
    // The person made a key in the dashboard and pastes it into Latchkey.
    let first = service.create_directly("web").await;
    let old_secret = first["key"].as_str().expect("key").to_owned();
    let old = vault
        .add_existing_key(latchkey_core::vault::ExistingKey {
            provider_id: provider.id.clone(),
            name: "dashboard key".into(),
            secret: Secret::new(old_secret.as_str()),
            environment: String::new(),
            env_var: "DEMO_API_KEY".into(),
            replace: false,
        })
        .await
        .expect("added");
    let created = vault.create_key(new_key(&provider, "x")).await;
    assert_eq!(created.err().map(|e| e.code().as_str()), Some("by_hand"));
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).expect("dir");
    let env_path = project.join(".env");
    let before = ENV_TEMPLATE.replace("{KEY}", &old_secret);
    std::fs::write(&env_path, &before).expect("write");

    let plan = vault
        .plan_rotation(RotationRequest {
            key_id: old.id.clone(),
            targets: vec![dotenv_target(&env_path)],
        })
        .await
        .expect("planned");
    let waiting = vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("waits");
    assert_eq!(
        waiting.needs,
        Some(latchkey_core::rotation::driver::RotationNeed::PasteNewKey)
    );
    assert_eq!(
        waiting.dashboard_url.as_deref(),
        Some(format!("{}/dashboard", service.base).as_str())
    );
    let second = service.create_directly("web 2").await;
    let new_secret = second["key"].as_str().expect("key").to_owned();
    let stored = vault
        .provide_new_key(&plan.id, Secret::new(new_secret.as_str()))
        .expect("pasted");
    assert_eq!(stored.state, State::Stored);
    let held = stored_secret(&stored.new_key_id);
    assert_eq!(held.expose_secret(), new_secret);

    let revoke_by_hand = vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("deployed and verified");
    assert_eq!(revoke_by_hand.state, State::Verified);
    assert_eq!(
        revoke_by_hand.needs,
        Some(latchkey_core::rotation::driver::RotationNeed::RevokeOldByHand)
    );
    assert_eq!(
        std::fs::read_to_string(&env_path).expect("read"),
        ENV_TEMPLATE.replace("{KEY}", &new_secret)
    );
    // Says it is revoked, but it is not: Latchkey does not believe it.
    vault.confirm_done_by_hand(&plan.id).expect("confirmed");
    let err = vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect_err("still accepted");
    assert_eq!(err.code(), "by_hand");
    assert_eq!(service.verify_status(&old_secret).await, 200);
    // Now really revoked in the "dashboard".
    service
        .revoke_directly(first["id"].as_str().expect("id"))
        .await;
    vault.confirm_done_by_hand(&plan.id).expect("confirmed");
    let done = vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("done");
    assert_eq!(done.state, State::Done);
    assert_eq!(vault.key(&old.id).expect("old").status, KeyStatus::Revoked);
    let new = vault.key(&done.new_key_id).expect("new");
    assert_eq!(new.status, KeyStatus::Active);
    assert_eq!(new.env_var, "DEMO_API_KEY");
}
