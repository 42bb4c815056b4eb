//! Rotations that must not lose a key when two Latchkeys act at once, when
//! a file changed after the deploy, or when the keychain lost the new key;
//! and that leave nothing beside the `.env`. Real key service, real
//! keychain, real files, a real SQLite journal shared by two vaults (as the
//! app and the CLI share one data directory).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use latchkey_core::catalog::TargetSpec;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::rotation::driver::{no_progress, RotationRequest};
use latchkey_core::rotation::State;
use latchkey_core::store::{key_account, KeychainStore, SecretStore};
use latchkey_core::vault::{KeyView, ProviderView};
use latchkey_core::{Fingerprint, Secret, Vault};
use rand::Rng;

const VAR: &str = "DEMO_API_KEY";

struct Bench {
    service: Service,
    dir: tempfile::TempDir,
    vault: Vault,
    provider: ProviderView,
    project: PathBuf,
}

async fn bench() -> Bench {
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    let provider = add_provider(&vault, &service);
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).expect("project");
    Bench {
        service,
        dir,
        vault,
        provider,
        project,
    }
}

impl Bench {
    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A second vault on the same data directory: another Latchkey.
    fn other_vault(&self) -> Vault {
        open_vault(&self.data_dir(), Arc::new(MemoryClipboard::default()))
    }

    async fn key(&self, name: &str) -> (KeyView, Secret) {
        let key = self
            .vault
            .create_key(new_key(&self.provider, name))
            .await
            .expect("key");
        let secret = stored_secret(&key.id);
        (key, secret)
    }

    async fn plan(&self, key: &KeyView, env: &Path, var: &str, checklist: bool) -> String {
        let mut targets = vec![TargetSpec::Dotenv {
            path: env.display().to_string(),
            var: var.into(),
            follow_symlink: false,
        }];
        if checklist {
            // Holds the rotation after its deploy until confirmed.
            targets.push(TargetSpec::Manual {
                items: vec!["CI secret".into()],
            });
        }
        self.vault
            .plan_rotation(RotationRequest {
                key_id: key.id.clone(),
                targets,
            })
            .await
            .expect("planned")
            .id
    }
}

fn value_of(env: &Path, var: &str) -> Option<String> {
    dotenvy::from_path_iter(env)
        .expect("read .env")
        .filter_map(Result::ok)
        .find(|(k, _)| k == var)
        .map(|(_, v)| v)
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The app and the CLI (two vaults on one data directory) race a run and
/// a rollback of the same rotation, at random moments, 200 times: one of
/// them wins, the other stops with `rotation_in_progress` (or finds the
/// rotation finished), and the service, the `.env` and the journal agree
/// on exactly one working key every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_a_run_and_a_rollback_never_loses_a_key() {
    let b = bench().await;
    let other = Arc::new(b.other_vault());
    let env = b.project.join(".env");
    let rounds: usize = std::env::var("LK_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for round in 0..rounds {
        let (key, secret) = b.key(&format!("race {round}")).await;
        std::fs::write(&env, format!("# app\n{VAR}={}\n", secret.expose_secret())).expect("env");
        let id = b.plan(&key, &env, VAR, false).await;
        // Either may start first, by up to 25 ms.
        let (run_delay, rollback_delay) = {
            let mut rng = rand::thread_rng();
            (rng.gen_range(0..25u64), rng.gen_range(0..25u64))
        };
        let pause = |ms| tokio::time::sleep(std::time::Duration::from_millis(ms));
        let (run, rollback) = tokio::join!(
            async {
                pause(run_delay).await;
                b.vault.run_rotation(&id, &no_progress).await
            },
            async {
                pause(rollback_delay).await;
                other.rollback_rotation(&id, &no_progress).await
            }
        );
        let view = b.vault.rotation(&id).expect("rotation");
        *outcomes
            .entry(format!(
                "{:?} / run {} / rollback {}",
                view.state,
                run.as_ref()
                    .map(|_| "ok")
                    .unwrap_or_else(|e| e.code().as_str()),
                rollback
                    .as_ref()
                    .map(|_| "ok")
                    .unwrap_or_else(|e| e.code().as_str())
            ))
            .or_default() += 1;
        assert!(
            matches!(view.state, State::Done | State::RolledBack),
            "round {round}: left in {:?} (run {:?}, rollback {:?})",
            view.state,
            run.err(),
            rollback.err()
        );
        // Exactly one live key of this rotation on the service, and it is
        // the one the journal and the .env say.
        let remote = b.service.remote_keys().await;
        let live: Vec<&serde_json::Value> = remote
            .iter()
            .filter(|k| {
                k["revoked_at"].is_null()
                    && k["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with(&format!("race {round}")))
            })
            .collect();
        assert_eq!(live.len(), 1, "round {round}: live keys {live:?}");
        let in_env = value_of(&env, VAR).expect("variable kept");
        assert_eq!(
            b.service.verify_status(&in_env).await,
            200,
            "round {round}: the .env holds a dead key ({:?})",
            view.state
        );
        match view.state {
            State::Done => {
                assert_eq!(b.service.verify_status(secret.expose_secret()).await, 401);
                assert_ne!(in_env, secret.expose_secret());
            }
            _ => assert_eq!(in_env, secret.expose_secret(), "round {round}"),
        }
        // Room for the next round (10 live keys per project).
        let id = live[0]["id"].as_str().expect("id").to_owned();
        b.service.revoke_directly(&id).await;
    }
    eprintln!("race outcomes over {rounds} rounds: {outcomes:#?}");
}

/// Rolling back sets the one variable back: a second rotation's change in
/// the same file survives, and so does an edit the person made; a file
/// changed since the deploy is not written at all.
#[tokio::test]
async fn rollback_keeps_a_second_rotation_and_the_persons_edit() {
    let b = bench().await;
    let (first, first_secret) = b.key("first").await;
    let (second, second_secret) = b.key("second").await;
    let env = b.project.join(".env");
    std::fs::write(
        &env,
        format!(
            "FIRST={}\nSECOND={}\n",
            first_secret.expose_secret(),
            second_secret.expose_secret()
        ),
    )
    .expect("env");
    let r1 = b.plan(&first, &env, "FIRST", true).await;
    b.vault
        .run_rotation(&r1, &no_progress)
        .await
        .expect("r1 deployed");
    let r2 = b.plan(&second, &env, "SECOND", true).await;
    b.vault
        .run_rotation(&r2, &no_progress)
        .await
        .expect("r2 deployed");
    let new_first = value_of(&env, "FIRST").expect("FIRST");
    let new_second = value_of(&env, "SECOND").expect("SECOND");
    assert_ne!(new_first, first_secret.expose_secret());
    assert_ne!(new_second, second_secret.expose_secret());

    // The file changed after r1's deploy (r2 wrote it): r1's rollback
    // writes nothing, so r2's new key stays where r2 put it.
    let before = std::fs::read(&env).expect("read");
    let err = b
        .vault
        .rollback_rotation(&r1, &no_progress)
        .await
        .expect_err("refused");
    assert_eq!(err.code(), "rollback_failed", "{err}");
    assert!(err.to_string().contains("changed since"), "{err}");
    assert_eq!(
        std::fs::read(&env).expect("read"),
        before,
        "nothing written"
    );

    // r2 rolls back: only SECOND changes, r1's new key stays.
    b.vault
        .rollback_rotation(&r2, &no_progress)
        .await
        .expect("r2 rolled back");
    assert_eq!(
        value_of(&env, "SECOND").as_deref(),
        Some(second_secret.expose_secret())
    );
    assert_eq!(value_of(&env, "FIRST").as_deref(), Some(new_first.as_str()));

    // The person edits another line; r1's rollback still refuses to touch
    // the file, and the edit survives.
    let edited = format!(
        "{}EXTRA=kept\n",
        String::from_utf8(std::fs::read(&env).expect("read")).expect("utf-8")
    );
    std::fs::write(&env, &edited).expect("edit");
    let err = b
        .vault
        .rollback_rotation(&r1, &no_progress)
        .await
        .expect_err("refused again");
    assert!(err.to_string().contains("changed since"), "{err}");
    assert_eq!(std::fs::read_to_string(&env).expect("read"), edited);
    // Putting the old key back by hand lets the rollback finish (the file
    // no longer holds the new key) and revoke the new key.
    std::fs::write(
        &env,
        edited.replace(&new_first, first_secret.expose_secret()),
    )
    .expect("by hand");
    let view = b
        .vault
        .rollback_rotation(&r1, &no_progress)
        .await
        .expect("r1 rolled back");
    assert_eq!(view.state, State::RolledBack);
    assert_eq!(b.service.verify_status(&new_first).await, 401);
    assert_eq!(
        b.service.verify_status(first_secret.expose_secret()).await,
        200
    );
    assert!(std::fs::read_to_string(&env)
        .expect("read")
        .contains("EXTRA=kept"));
}

/// A finished and a rolled-back rotation leave the project folder as the
/// person had it, and nothing of the rotation in the data directory
/// (backups and lock gone); the backups never sat beside the `.env`.
#[tokio::test]
async fn rotations_leave_nothing_beside_the_env_file() {
    let b = bench().await;
    let env = b.project.join(".env");
    std::fs::write(b.project.join("README.md"), "project\n").expect("readme");
    for rollback in [false, true] {
        let (key, secret) = b.key(if rollback { "rolled" } else { "done" }).await;
        std::fs::write(&env, format!("{VAR}={}\n", secret.expose_secret())).expect("env");
        let before = listing(&b.project);
        let id = b.plan(&key, &env, VAR, rollback).await;
        let view = b.vault.run_rotation(&id, &no_progress).await.expect("run");
        if rollback {
            assert_eq!(
                listing(&b.project),
                before,
                "nothing beside the .env while deployed"
            );
            let backups = b.data_dir().join("backups").join(&id);
            assert_eq!(
                listing(&backups).len(),
                1,
                "the backup is in the data directory"
            );
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode =
                    |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
                assert_eq!(mode(&backups), 0o700);
                assert_eq!(mode(&backups.join(&listing(&backups)[0])), 0o600);
            }
            let view = b
                .vault
                .rollback_rotation(&id, &no_progress)
                .await
                .expect("rollback");
            assert_eq!(view.state, State::RolledBack);
            assert_eq!(
                std::fs::read_to_string(&env).expect("read"),
                format!("{VAR}={}\n", secret.expose_secret()),
                "byte for byte"
            );
        } else {
            assert_eq!(view.state, State::Done);
        }
        assert_eq!(listing(&b.project), before, "rollback {rollback}");
        assert!(
            !b.data_dir().join("backups").join(&id).exists(),
            "backups deleted"
        );
        assert!(
            !b.data_dir()
                .join("locks")
                .join(format!("rotation-{id}.lock"))
                .exists(),
            "lock file removed"
        );
        assert!(
            files_containing(&b.data_dir(), secret.expose_secret()).is_empty(),
            "the old key is in no file of the data directory"
        );
    }
}

/// The new key's keychain entry is gone (deleted by hand, another
/// machine's keychain): the rollback still finds the `.env` that holds it,
/// by the fingerprint journaled when it was stored.
#[tokio::test]
async fn rollback_without_the_new_keys_secret_still_restores_the_file() {
    let b = bench().await;
    let (key, secret) = b.key("lost").await;
    let env = b.project.join(".env");
    let original = format!("A=1\n{VAR}='{}' # note\n", secret.expose_secret());
    std::fs::write(&env, &original).expect("env");
    let id = b.plan(&key, &env, VAR, true).await;
    let view = b
        .vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("deployed");
    let new_value = value_of(&env, VAR).expect("new");
    assert_ne!(new_value, secret.expose_secret());
    let store = KeychainStore::open_service("latchkey-test").expect("keychain");
    store
        .delete(&key_account(&view.new_key_id))
        .expect("deleted");
    let view = b
        .vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect("rolled back");
    assert_eq!(view.state, State::RolledBack);
    assert_eq!(std::fs::read_to_string(&env).expect("read"), original);
    assert_eq!(
        b.service.verify_status(&new_value).await,
        401,
        "new key revoked"
    );
    let _ = Fingerprint::of(&new_value);
}

/// A rotation another Latchkey holds shows as such, and every change to it
/// here is refused with `rotation_in_progress` until that one lets go.
#[tokio::test]
async fn a_rotation_held_by_another_latchkey_is_shown_and_left_alone() {
    let b = bench().await;
    let (key, secret) = b.key("held").await;
    let env = b.project.join(".env");
    std::fs::write(&env, format!("{VAR}={}\n", secret.expose_secret())).expect("env");
    let id = b.plan(&key, &env, VAR, true).await;
    let lock = latchkey_core::rotation::lock::RotationLock::acquire(&b.data_dir(), &id)
        .expect("the other process's lock");
    let other = b.other_vault();
    assert!(other.rotation(&id).expect("view").held_elsewhere);
    for result in [
        other.run_rotation(&id, &no_progress).await.err(),
        other.rollback_rotation(&id, &no_progress).await.err(),
        other.confirm_manual_item(&id, 1, 0).err(),
        other.confirm_done_by_hand(&id).err(),
    ] {
        let e = result.expect("refused");
        assert_eq!(e.code(), "rotation_in_progress");
        assert!(
            e.to_string()
                .contains("another Latchkey window or terminal"),
            "{e}"
        );
    }
    assert_eq!(other.rotation(&id).expect("view").state, State::Planned);
    drop(lock);
    assert!(!other.rotation(&id).expect("view").held_elsewhere);
    let view = other
        .run_rotation(&id, &no_progress)
        .await
        .expect("runs now");
    assert_eq!(view.state, State::Stored);
}
