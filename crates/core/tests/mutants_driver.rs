//! Edges of the rotation driver (`rotation/driver/`) that `cargo mutants`
//! showed no other test of its area would notice (`scripts/mutants.sh
//! driver-fast`): each test names the changes it fails on. Against the real
//! key service on loopback, the real keychain, real files and SQLite.

mod common;
mod driver_bench;

use std::sync::Arc;

use common::*;
use driver_bench::*;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::rotation::driver::{no_progress, RotationRequest, RunOptions};
use latchkey_core::rotation::lock::RotationLock;
use latchkey_core::rotation::State;
use latchkey_core::{Secret, Vault};

/// A rotation is listed, and listed as unfinished, until it is done; it
/// shows as held elsewhere only while another Latchkey holds its lock and
/// it is unfinished, never while this process runs it; a service with an
/// API has no dashboard link. (`rotations` and `unfinished_rotations` as
/// empty lists, `unfinished` without its `!`, `dashboard_url` for a
/// non-manual service, both `held_elsewhere`s: `&&` as `||`, `!` deleted,
/// as `true` or `false`; `clean_up_finished` as `()`.)
#[tokio::test]
async fn a_rotation_is_listed_unfinished_until_done_and_held_only_by_another() {
    let b = bench().await;
    let id = b.plan().await;
    let view = b.vault.rotation(&id).expect("view");
    assert!(view.unfinished);
    assert!(!view.held_elsewhere);
    assert_eq!(view.dashboard_url, None);
    assert_eq!(ids(&b.vault.rotations().expect("rotations")), [id.as_str()]);
    assert_eq!(
        ids(&b.vault.unfinished_rotations().expect("unfinished")),
        [id.as_str()]
    );
    let other = open_vault(&b.data_dir(), Arc::new(MemoryClipboard::default()));
    let lock = RotationLock::acquire(&b.data_dir(), &id).expect("another's lock");
    assert!(other.rotation(&id).expect("view").held_elsewhere);
    drop(lock);
    assert!(!other.rotation(&id).expect("view").held_elsewhere);

    // This process holds the lock while it runs: not "elsewhere".
    let seen = std::sync::Mutex::new(Vec::new());
    let backups = b.data_dir().join("backups").join(&id);
    let lock_file = b
        .data_dir()
        .join("locks")
        .join(format!("rotation-{id}.lock"));
    let done = b
        .vault
        .run_rotation(&id, &|v| {
            let kept = backups.exists() && lock_file.exists();
            seen.lock()
                .expect("seen")
                .push((v.state, v.held_elsewhere, kept))
        })
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    let seen = seen.into_inner().expect("seen");
    assert!(seen.len() >= 4, "{seen:?}");
    assert!(seen.iter().all(|(_, held, _)| !held), "{seen:?}");
    assert!(
        seen.iter()
            .any(|&(s, _, kept)| s == State::Verified && kept),
        "{seen:?}"
    );
    assert!(!done.unfinished);
    // A finished rotation leaves neither its backups (the old key) nor its
    // lock file (`clean_up_finished` as `()`).
    assert!(!backups.exists());
    assert!(!lock_file.exists());
    let listed = b.vault.rotations().expect("rotations");
    assert_eq!(ids(&listed), [id.as_str()]);
    assert_eq!(listed[0].state, State::Done);
    assert!(b
        .vault
        .unfinished_rotations()
        .expect("unfinished")
        .is_empty());
    // A finished rotation is never held, whoever has its lock file.
    let _lock = RotationLock::acquire(&b.data_dir(), &id).expect("a stale lock");
    assert!(!other.rotation(&id).expect("view").held_elsewhere);
}

/// An old key used after the deploy holds its revoke (`still_in_use`);
/// "Revoke anyway" checks the new key again, journals that it went past the
/// guard, and journals the revoke's intent anew before revoking (`intent`
/// as `Ok(())`; `last_used_guard` as `Ok(())`, its `!` deleted, its time
/// match arm deleted, `>` as `==` or `<`; `deployed_at` as `None` or a
/// bad time, its `&&` as `||`, either `==` as `!=`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_key_used_after_the_deploy_holds_the_revoke_until_forced() {
    let b = bench().await;
    let id = b.plan().await;
    let old = b.old_secret.expose_secret().to_owned();
    let held = b
        .vault
        .run_rotation(&id, &|v| {
            if v.state == State::Verified {
                assert_eq!(use_key_a_second_later(&b.service, &old), 200);
            }
        })
        .await
        .expect_err("held");
    assert_eq!(held.code().as_str(), "still_in_use", "{held}");
    let view = b.vault.rotation(&id).expect("view");
    assert_eq!(view.state, State::Verified);
    assert_eq!(
        b.service.verify_status(&old).await,
        200,
        "the old key stays"
    );

    let done = b
        .vault
        .run_rotation_with(&id, RunOptions { force_revoke: true }, &no_progress)
        .await
        .expect("revoked anyway");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    assert_eq!(b.service.verify_status(&old).await, 401);
    let order = b.journal(&id);
    let last = |x: &str| {
        order
            .iter()
            .rposition(|o| o == x)
            .unwrap_or_else(|| panic!("{x} not in {order:?}"))
    };
    // The forced run's guard found the use after the deploy's own row.
    assert!(last("reverify:ok") < last("last_used:ok"), "{order:?}");
    assert!(
        last("last_used:ok") < last("revoke_old:intent"),
        "{order:?}"
    );
    assert!(
        last("revoke_old:intent") < last("revoke_old:ok"),
        "{order:?}"
    );
    assert_eq!(
        order.iter().filter(|o| *o == "verify:intent").count(),
        1,
        "{order:?}"
    );
}

/// A verify that could not run (the service answered 503 to every try) is
/// journaled as failed, and the next run writes its intent again before it
/// checks (`intent`'s `&&` as `||`); the rotation then finishes.
#[tokio::test]
async fn a_verify_that_could_not_run_writes_its_intent_again_on_the_next_run() {
    let b = bench_with(key_service(true).await).await;
    let (id, waiting) = b.run_to_checklist().await;
    assert_eq!(waiting.state, State::Stored);
    b.vault.confirm_manual_item(&id, 1, 0).expect("confirmed");
    // Deploying makes no call; the verify's every attempt gets a 503.
    b.service
        .chaos(serde_json::json!({ "fail_next": 50, "status": 503 }))
        .await;
    let e = b
        .vault
        .run_rotation(&id, &no_progress)
        .await
        .expect_err("verify could not run");
    assert_ne!(e.code().as_str(), "verify_failed", "{e}");
    assert_eq!(b.vault.rotation(&id).expect("view").state, State::Deployed);
    b.service.chaos(serde_json::json!({ "fail_next": 0 })).await;
    let done = b
        .vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    let order = b.journal(&id);
    let verify: Vec<&str> = order
        .iter()
        .filter(|o| o.starts_with("verify:"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        verify,
        [
            "verify:intent",
            "verify:failed",
            "verify:intent",
            "verify:ok"
        ],
        "{order:?}"
    );
}

/// The service's strategies are offered with the first chosen; a plan takes
/// one of them and refuses any other before anything is written; a key not
/// linked to a key on the service (pasted, not found in its listing) is
/// refused. (`rotation_strategies`' `chosen` with `!=`, the strategy guard
/// as `true`/`false` and its `==` as `!=`, `manual` with `!=`, `!manual`
/// without its `!`.)
#[tokio::test]
async fn a_plan_takes_only_a_strategy_the_service_can_do_and_a_linked_key() {
    use latchkey_core::rotation::Strategy;
    let b = bench().await;
    let choices = b.vault.rotation_strategies(&b.old.id).expect("choices");
    let offered: Vec<Strategy> = choices.iter().map(|c| c.strategy).collect();
    assert_eq!(offered, [Strategy::Overlap], "{choices:?}");
    assert!(choices[0].chosen, "{choices:?}");
    let request = || RotationRequest {
        key_id: b.old.id.clone(),
        targets: vec![dotenv(&b.env)],
    };
    for refused in [Strategy::DeactivateFirst, Strategy::RollInPlace] {
        let e = b
            .vault
            .plan_rotation_with(request(), Some(refused))
            .await
            .expect_err("not offered");
        assert_eq!(e.code().as_str(), "invalid_input", "{e}");
        assert!(
            e.to_string().contains("cannot rotate a key that way"),
            "{e}"
        );
    }
    assert!(b.vault.rotations().expect("rotations").is_empty());
    let plan = b
        .vault
        .plan_rotation_with(request(), Some(Strategy::Overlap))
        .await
        .expect("offered");
    assert_eq!(plan.strategy, Strategy::Overlap);

    let pasted = b
        .vault
        .add_existing_key(latchkey_core::vault::ExistingKey {
            provider_id: b.old.provider_id.clone(),
            name: "pasted".into(),
            secret: Secret::new("lk_live_not_a_key_of_this_service_0123456789"),
            environment: String::new(),
            env_var: VAR.into(),
            replace: false,
        })
        .await
        .expect("kept, not verified");
    let e = b
        .vault
        .plan_rotation(RotationRequest {
            key_id: pasted.id.clone(),
            targets: vec![dotenv(&b.env)],
        })
        .await
        .expect_err("not linked");
    assert_eq!(e.code().as_str(), "invalid_input", "{e}");
    assert!(e.to_string().contains("not linked"), "{e}");
}

/// Rolling back: a planned rotation revokes a key a crash left on the
/// service under its name and makes nothing; a rotation waiting on its
/// checklist restores the file and revokes the new key, without taking it
/// for an orphan; rolling back again says the same; a finished rotation is
/// refused. (`rollback_rotation`: each `==`/`!=` on the state and strategy,
/// the orphan check's `&&` as `||`.)
#[tokio::test]
async fn a_rollback_undoes_what_each_state_made_and_no_more() {
    let b = bench().await;
    let env_before = std::fs::read_to_string(&b.env).expect("env");
    let id = b.plan().await;
    // A create that reached the service before a crash.
    let leftover = b
        .service
        .create_directly(&format!("web (rotation {})", &id[..8]))
        .await;
    let cancelled = b
        .vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect("cancelled");
    assert_eq!(cancelled.state, State::RolledBack);
    assert_eq!(
        b.service
            .verify_status(leftover["key"].as_str().expect("key"))
            .await,
        401,
        "the leftover is revoked"
    );
    assert_eq!(
        b.service.verify_status(b.old_secret.expose_secret()).await,
        200
    );
    assert!(b.journal(&id).contains(&"revoke_orphan:ok".to_owned()));

    let (id, waiting) = b.run_to_checklist().await;
    assert_eq!(waiting.state, State::Stored);
    let new = stored_secret(&waiting.new_key_id);
    assert_ne!(std::fs::read_to_string(&b.env).expect("env"), env_before);
    let rolled = b
        .vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect("rolled back");
    assert_eq!(rolled.state, State::RolledBack, "{:?}", rolled.error);
    assert_eq!(std::fs::read_to_string(&b.env).expect("env"), env_before);
    assert_eq!(b.service.verify_status(new.expose_secret()).await, 401);
    assert_eq!(
        b.service.verify_status(b.old_secret.expose_secret()).await,
        200
    );
    let order = b.journal(&id);
    assert!(order.contains(&"revoke_new:ok".to_owned()), "{order:?}");
    assert!(
        !order.iter().any(|o| o.starts_with("revoke_orphan")),
        "{order:?}"
    );
    let again = b
        .vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect("already rolled back");
    assert_eq!(again.state, State::RolledBack);
    assert_eq!(b.journal(&id), order, "nothing more happened");

    let id = b.plan().await;
    let done = b
        .vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    let e = b
        .vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect_err("too late");
    assert_eq!(e.code().as_str(), "invalid_input", "{e}");
    assert_eq!(b.vault.rotation(&id).expect("view").state, State::Done);
}

/// A use of the old key in the very second the deploy finished may have
/// come before it (the journal keeps whole seconds): not held on
/// (`last_used_guard`'s `>` as `>=` or `==`). The vault's clock is set to
/// the second the service saw the use.
#[tokio::test]
async fn a_use_in_the_second_of_the_deploy_does_not_hold_the_revoke() {
    use latchkey_core::clock::{Clock, ManualClock};
    use latchkey_core::store::KeychainStore;
    let b = bench().await;
    let clock = Arc::new(ManualClock::new(time::OffsetDateTime::now_utc()));
    let store = Arc::new(KeychainStore::open_service("latchkey-test").expect("keychain"));
    let vault = Vault::open(
        &b.data_dir(),
        store,
        Arc::new(MemoryClipboard::default()),
        clock.clone(),
    )
    .expect("vault");
    assert_eq!(
        b.service.verify_status(b.old_secret.expose_secret()).await,
        200
    );
    let keys = b.service.remote_keys().await;
    let used = keys
        .iter()
        .find(|k| k["name"] == "web")
        .and_then(|k| k["last_used_at"].as_str())
        .and_then(latchkey_core::clock::parse_rfc3339)
        .unwrap_or_else(|| panic!("last used: {keys:#?}"));
    clock.advance(used - clock.now());
    let id = vault
        .plan_rotation(RotationRequest {
            key_id: b.old.id.clone(),
            targets: vec![dotenv(&b.env)],
        })
        .await
        .expect("planned")
        .id;
    let done = vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("not held");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
}

/// A deploy first sweeps the temp files a killed writer left beside its
/// files; the `.env` it wrote is journaled as written; a checklist the run
/// waits for is marked as waiting for confirmation and journaled once,
/// however often the run comes back to it (`sweep_beside_targets` as `()`;
/// `deploy_concurrently`'s `!ok_rows.is_empty()` without its `!`;
/// `deploy_step`'s `!=` as `==`).
#[tokio::test]
async fn a_deploy_sweeps_journals_its_writes_and_marks_a_waiting_checklist_once() {
    use latchkey_core::catalog::TargetStatus;
    let b = bench().await;
    // No process has this id (Linux's pid_max is at most 4194304).
    let dead = b.dir.path().join(".env.4194999-0abc.latchkey-tmp");
    std::fs::write(&dead, "half a write").expect("temp file");
    let (id, waiting) = b.run_to_checklist().await;
    assert!(!dead.exists(), "the dead writer's temp file is swept");
    assert!(b.journal(&id).contains(&"deploy:0:ok".to_owned()));
    assert_eq!(waiting.state, State::Stored);
    assert_eq!(
        waiting.targets[1].status,
        TargetStatus::AwaitingConfirmation
    );
    let again = b
        .vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("still waiting");
    assert_eq!(again.state, State::Stored);
    assert_eq!(again.targets[1].status, TargetStatus::AwaitingConfirmation);
    let order = b.journal(&id);
    assert_eq!(
        order.iter().filter(|o| *o == "deploy:1:intent").count(),
        1,
        "{order:?}"
    );
}

/// Two `.env` files, the second changed behind Latchkey's back after the
/// plan: the first is written, the second refused. Once the change is
/// undone, the next run writes the second expecting what its own plan saw,
/// not what the write of the first file left
/// (`deploy_concurrently`'s search for an earlier write to the same file:
/// either `&&` as `||`, its `==` as `!=`).
#[tokio::test]
async fn a_resumed_deploy_expects_each_file_as_its_own_plan_saw_it() {
    use latchkey_core::catalog::TargetStatus;
    let b = bench().await;
    let second = b.dir.path().join("second.env");
    let before = format!("{VAR}={}\n", b.old_secret.expose_secret());
    std::fs::write(&second, &before).expect("second");
    let id = b
        .vault
        .plan_rotation(RotationRequest {
            key_id: b.old.id.clone(),
            targets: vec![dotenv(&b.env), dotenv(&second)],
        })
        .await
        .expect("planned")
        .id;
    std::fs::write(&second, format!("{before}EDITED=1\n")).expect("edited");
    b.vault
        .run_rotation(&id, &no_progress)
        .await
        .expect_err("the second file changed");
    let view = b.vault.rotation(&id).expect("view");
    assert_eq!(view.state, State::Stored);
    assert_eq!(view.targets[0].status, TargetStatus::Deployed);
    assert_ne!(view.targets[1].status, TargetStatus::Deployed);
    std::fs::write(&second, &before).expect("undone");
    let done = b
        .vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    let new = stored_secret(&done.new_key_id);
    for file in [&b.env, &second] {
        assert_eq!(
            std::fs::read_to_string(file).expect("env"),
            format!("{VAR}={}\n", new.expose_secret())
        );
    }
}

/// Rolling back marks the checklist as rolled back (the person puts the
/// old key back there), and leaves a `.env` that no longer holds the new
/// key (someone changed it since the deploy) as it is, saying so
/// (`rollback_steps`' two `!= TargetStatus::Pending` as `==`).
#[tokio::test]
async fn a_rollback_marks_the_checklist_and_leaves_a_changed_file_alone() {
    use latchkey_core::catalog::TargetStatus;
    let b = bench().await;
    let (id, waiting) = b.run_to_checklist().await;
    assert_eq!(waiting.state, State::Stored);
    std::fs::write(&b.env, "SOMETHING_ELSE=1\n").expect("changed");
    let rolled = b
        .vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect("rolled back");
    assert_eq!(rolled.state, State::RolledBack, "{:?}", rolled.error);
    let file = &rolled.targets[0];
    assert_eq!(file.status, TargetStatus::RolledBack, "{file:?}");
    assert!(
        file.message
            .as_deref()
            .is_some_and(|m| m.contains("does not hold the new key")),
        "{file:?}"
    );
    assert_eq!(
        rolled.targets[1].status,
        TargetStatus::RolledBack,
        "{:?}",
        rolled.targets[1]
    );
    assert_eq!(
        std::fs::read_to_string(&b.env).expect("env"),
        "SOMETHING_ELSE=1\n"
    );
}
