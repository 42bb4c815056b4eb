//! More edges of the rotation driver that `cargo mutants` showed no other
//! test of its area would notice (`scripts/mutants.sh driver-fast`), with
//! the services whose rotations differ from the key service's: a
//! dashboard-only service (the person makes and revokes keys) and Cloudflare
//! (deactivate first, against the test kit's fake). Each test names the
//! changes it fails on. Real keychain, files and SQLite.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::*;
use latchkey_core::catalog::TargetSpec;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::rotation::driver::{no_progress, RotationRequest};
use latchkey_core::rotation::State;
use latchkey_core::Secret;

const VAR: &str = "DEMO_API_KEY";

fn dotenv(path: &Path, var: &str) -> TargetSpec {
    TargetSpec::Dotenv {
        path: path.display().to_string(),
        var: var.into(),
        follow_symlink: false,
    }
}

fn steps(journal: &[latchkey_core::catalog::JournalEntry]) -> Vec<String> {
    journal
        .iter()
        .map(|e| format!("{}:{}", e.step, e.phase))
        .collect()
}

/// A dashboard-only service: the rotation waits for the new key with the
/// dashboard's link; a paste is taken only by such a rotation, only while
/// it waits, only as a key (not blank, no control characters, not a key
/// the vault holds); the new key can be copied once stored, not before;
/// the person confirms the dashboard revoke and the run checks it.
/// (`provide_new_key`: `manual` with `!=`, its `||` as `&&`, `!` deleted,
/// `!=` as `==`, the secret check's `||` as `&&`; `copy_rotation_key`'s
/// `!` deleted; `confirm_done_by_hand` as a default view.)
#[tokio::test]
async fn a_pasted_key_is_taken_only_by_a_waiting_manual_rotation() {
    use latchkey_core::clipboard::Clipboard;
    use latchkey_core::rotation::driver::RotationNeed;
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let clipboard = Arc::new(MemoryClipboard::default());
    let vault = open_vault(&dir.path().join("data"), clipboard.clone());
    let manual = vault
        .add_manual_provider(latchkey_core::vault::NewManualProvider {
            name: "Dashboard-only".into(),
            dashboard_url: format!("{}/dashboard", service.base),
            verify_url: format!("{}/v1/verify", service.base),
        })
        .expect("manual provider");
    let first = service.create_directly("by hand").await;
    let old_secret = first["key"].as_str().expect("key").to_owned();
    let old = vault
        .add_existing_key(latchkey_core::vault::ExistingKey {
            provider_id: manual.id.clone(),
            name: "by hand".into(),
            secret: Secret::new(old_secret.as_str()),
            environment: String::new(),
            env_var: VAR.into(),
            replace: false,
        })
        .await
        .expect("added");
    let env = dir.path().join("manual.env");
    std::fs::write(&env, format!("{VAR}={old_secret}\n")).expect("env");
    let id = vault
        .plan_rotation(RotationRequest {
            key_id: old.id.clone(),
            targets: vec![dotenv(&env, VAR)],
        })
        .await
        .expect("planned")
        .id;
    let waiting = vault.run_rotation(&id, &no_progress).await.expect("waits");
    assert_eq!(waiting.needs, Some(RotationNeed::PasteNewKey));
    assert_eq!(
        waiting.dashboard_url.as_deref(),
        Some(format!("{}/dashboard", service.base).as_str())
    );
    let e = vault
        .copy_rotation_key(&id)
        .expect_err("nothing to copy yet");
    assert_eq!(e.code().as_str(), "invalid_input", "{e}");
    // A rotation of a service with an API takes no paste.
    let provider = add_provider(&vault, &service);
    let api_key = vault
        .create_key(new_key(&provider, "api"))
        .await
        .expect("api key");
    std::fs::write(dir.path().join("api.env"), format!("{VAR}=x\n")).expect("env");
    let api = vault
        .plan_rotation(RotationRequest {
            key_id: api_key.id.clone(),
            targets: vec![dotenv(&dir.path().join("api.env"), VAR)],
        })
        .await
        .expect("planned")
        .id;
    let e = vault
        .provide_new_key(&api, Secret::new("lk_pasted_0123456789abcdef"))
        .expect_err("not manual");
    assert_eq!(e.code().as_str(), "invalid_input", "{e}");
    for (bad, why) in [
        ("   ", "blank"),
        ("lk_pasted\u{7}0123456789", "a control character"),
    ] {
        let e = vault.provide_new_key(&id, Secret::new(bad)).expect_err(why);
        assert_eq!(e.code().as_str(), "invalid_input", "{why}: {e}");
    }
    let e = vault
        .provide_new_key(&id, Secret::new(old_secret.as_str()))
        .expect_err("the old key");
    assert_eq!(e.code().as_str(), "duplicate_key", "{e}");
    assert_eq!(vault.rotation(&id).expect("view").state, State::Planned);

    let second = service.create_directly("by hand 2").await;
    let new_secret = second["key"].as_str().expect("key").to_owned();
    let stored = vault
        .provide_new_key(&id, Secret::new(new_secret.as_str()))
        .expect("pasted");
    assert_eq!(stored.state, State::Stored);
    let e = vault
        .provide_new_key(&id, Secret::new("lk_pasted_again_0123456789"))
        .expect_err("no longer waiting");
    assert_eq!(e.code().as_str(), "invalid_input", "{e}");
    let _timer = vault.copy_rotation_key(&id).expect("copied");
    assert_eq!(
        clipboard
            .current()
            .expect("clipboard")
            .as_ref()
            .map(Secret::expose_secret),
        Some(new_secret.as_str())
    );

    let verified = vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("verified");
    assert_eq!(verified.needs, Some(RotationNeed::RevokeOldByHand));
    service
        .revoke_directly(first["id"].as_str().expect("id"))
        .await;
    let confirmed = vault.confirm_done_by_hand(&id).expect("confirmed");
    assert_eq!(confirmed.id, id);
    assert_eq!(confirmed.needs, None);
    let done = vault.run_rotation(&id, &no_progress).await.expect("done");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    assert_eq!(
        std::fs::read_to_string(&env).expect("env"),
        format!("{VAR}={new_secret}\n")
    );
}

/// A `.env` is added to its work tree's `.gitignore` (`add_to_gitignore`
/// as `Ok(())`).
#[tokio::test]
async fn an_env_file_is_added_to_its_work_trees_gitignore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join(".git")).expect("work tree");
    let env = tree.join(".env");
    std::fs::write(&env, "A=1\n").expect("env");
    vault
        .add_to_gitignore(&env.display().to_string())
        .expect("added");
    let ignore = std::fs::read_to_string(tree.join(".gitignore")).expect(".gitignore");
    assert!(ignore.lines().any(|l| l == "/.env"), "{ignore}");
}

/// Deactivate first (Cloudflare can switch a token off): a rollback before
/// the old key was touched switches nothing on; one after a switch-off that
/// failed switches the old key on again first; from "Old key deactivated"
/// the reactivation undoes it; a hold names its step; a roll in place is
/// audited as one. (`rollback_rotation`'s
/// deactivate check: either `&&` as `||`, `==` as `!=`, `!=` as `==`, `>`
/// as `==`, `<` or `>=`; `run_rotation_with`'s `DeactivateFirst` arm;
/// `finish_step`'s `RollInPlace` arm.)
#[tokio::test]
async fn a_deactivate_first_rollback_switches_the_old_key_on_only_when_touched() {
    use latchkey_core::rotation::Strategy;
    use latchkey_core::vault::{NewKey, NewServiceProvider};
    use latchkey_testkit::fakes::cloudflare::FakeCloudflare;
    const CF_VAR: &str = "CLOUDFLARE_API_TOKEN";
    let fake = FakeCloudflare::start().await;
    let admin = fake.seed_token("latchkey", true);
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    let provider = vault
        .add_service_provider(NewServiceProvider {
            service: "cloudflare".into(),
            name: "Cloudflare".into(),
            base_url: Some(fake.base.clone()),
            project: None,
            credential: Some(Secret::new(&admin)),
            region: None,
            user: None,
        })
        .expect("provider");
    let env = dir.path().join(".env");
    let status_of = |value: &str| {
        fake.inner()
            .tokens
            .iter()
            .find(|t| t.value == value)
            .map(|t| t.status.clone())
            .expect("token")
    };
    // A new old key in the .env and a planned rotation of it.
    let start = |name: &'static str, checklist: bool| {
        let (vault, provider_id, env) = (&vault, provider.id.clone(), env.clone());
        async move {
            let old = vault
                .create_key(NewKey {
                    provider_id,
                    name: name.into(),
                    scopes: vec![],
                    expires_in_days: None,
                    environment: "dev".into(),
                    env_var: CF_VAR.into(),
                })
                .await
                .expect("create");
            let secret = stored_secret(&old.id);
            let before = format!("{CF_VAR}={}\n", secret.expose_secret());
            std::fs::write(&env, &before).expect("env");
            let mut targets = vec![dotenv(&env, CF_VAR)];
            if checklist {
                targets.push(TargetSpec::Manual {
                    items: vec!["CI secret".into()],
                });
            }
            let plan = vault
                .plan_rotation(RotationRequest {
                    key_id: old.id.clone(),
                    targets,
                })
                .await
                .expect("planned");
            assert_eq!(plan.strategy, Strategy::DeactivateFirst);
            (plan.id, secret, before)
        }
    };
    let journal = |id: &str| steps(&vault.rotation_journal(id).expect("journal"));

    // Rolled back while waiting on the checklist: the old key was never off.
    let (id, old, before) = start("untouched", true).await;
    let waiting = vault.run_rotation(&id, &no_progress).await.expect("waits");
    assert_eq!(waiting.state, State::Stored);
    let rolled = vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect("rolled back");
    assert_eq!(rolled.state, State::RolledBack, "{:?}", rolled.error);
    assert_eq!(std::fs::read_to_string(&env).expect("env"), before);
    let order = journal(&id);
    assert!(
        !order.iter().any(|o| o.starts_with("reactivate_old")),
        "{order:?}"
    );
    assert_eq!(status_of(old.expose_secret()), "active");

    // The switch-off failed (the service refused it): its intent is in the
    // journal, so the rollback switches the old key on again first.
    let (id, old, before) = start("touched", false).await;
    let refusal = r#"{"success":false,"errors":[{"code":1000,"message":"refused"}],"messages":[],"result":null}"#;
    let e = vault
        .run_rotation(&id, &|v| {
            if v.state == State::Verified {
                for _ in 0..3 {
                    fake.fail_next(400, &[("content-type", "application/json")], refusal);
                }
            }
        })
        .await
        .expect_err("switch-off refused");
    fake.inner().failures.clear();
    assert_eq!(
        vault.rotation(&id).expect("view").state,
        State::Verified,
        "{e}"
    );
    assert!(journal(&id).contains(&"deactivate_old:intent".to_owned()));
    let rolled = vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect("rolled back");
    assert_eq!(rolled.state, State::RolledBack, "{:?}", rolled.error);
    let order = journal(&id);
    let at = |x: &str| {
        order
            .iter()
            .position(|o| o == x)
            .unwrap_or_else(|| panic!("{x} not in {order:?}"))
    };
    assert!(at("reactivate_old:ok") < at("revoke_new:ok"), "{order:?}");
    assert_eq!(status_of(old.expose_secret()), "active");
    assert_eq!(std::fs::read_to_string(&env).expect("env"), before);

    // Used after the deploy: the switch-off is held, and the journal names
    // the step held (`run_rotation_with`'s `DeactivateFirst` arm deleted).
    let (id, old, _) = start("in use", false).await;
    let e = vault
        .run_rotation(&id, &|v| {
            if v.state == State::Verified {
                let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
                let mut inner = fake.inner();
                let token = inner
                    .tokens
                    .iter_mut()
                    .find(|t| t.value == old.expose_secret())
                    .expect("old token");
                token.last_used_on = Some(latchkey_core::clock::rfc3339(later));
            }
        })
        .await
        .expect_err("held");
    assert_eq!(e.code().as_str(), "still_in_use", "{e}");
    let order = journal(&id);
    assert_eq!(
        order.last().map(String::as_str),
        Some("deactivate_old:failed"),
        "{order:?}"
    );
    vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect("rolled back");

    // Switched off, then reactivated: the old key is on, the rest undone.
    let (id, old, before) = start("reactivated", false).await;
    let off = vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("switched off");
    assert_eq!(off.state, State::OldDeactivated);
    assert_ne!(status_of(old.expose_secret()), "active");
    let back = vault
        .reactivate_rotation(&id, &no_progress)
        .await
        .expect("reactivated");
    assert_eq!(back.state, State::RolledBack, "{:?}", back.error);
    assert_eq!(status_of(old.expose_secret()), "active");
    assert_eq!(std::fs::read_to_string(&env).expect("env"), before);

    // Rolled in place: the audit says the service replaced the old key, not
    // that it was revoked (`finish_step`'s `RollInPlace` arm deleted).
    let rolled_key = vault
        .create_key(NewKey {
            provider_id: provider.id.clone(),
            name: "rolled".into(),
            scopes: vec![],
            expires_in_days: None,
            environment: "dev".into(),
            env_var: CF_VAR.into(),
        })
        .await
        .expect("create");
    let secret = stored_secret(&rolled_key.id);
    std::fs::write(&env, format!("{CF_VAR}={}\n", secret.expose_secret())).expect("env");
    let plan = vault
        .plan_rotation_with(
            RotationRequest {
                key_id: rolled_key.id.clone(),
                targets: vec![dotenv(&env, CF_VAR)],
            },
            Some(Strategy::RollInPlace),
        )
        .await
        .expect("planned");
    let done = vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("rolled");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    let log = vault.audit_log(50).expect("audit");
    let finished: Vec<&str> = log
        .iter()
        .filter(|e| e.action == "rotate" && e.detail.contains(&plan.id))
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(
        finished,
        [format!(
            "rotation {} done; the service replaced the old key",
            plan.id
        )],
        "{log:#?}"
    );
}
