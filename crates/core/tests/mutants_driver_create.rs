//! Edges of the rotation driver's create step (`rotation/driver/steps/
//! create.rs`) that `cargo mutants` showed no other test of its area would
//! notice: a new key a crash left in the keychain, a create the restarted
//! service cannot replay, a key the keychain refused. Each test names the
//! changes it fails on. Against the real key service on loopback, the real
//! keychain, real files and SQLite. (The rest of the driver's edges are in
//! `mutants_driver.rs`.)

mod common;
mod driver_bench;

use std::sync::Arc;

use common::*;
use driver_bench::*;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::rotation::driver::{no_progress, RotationView};
use latchkey_core::rotation::State;
use latchkey_core::{Secret, Vault};

/// Puts `secret` in the keychain as the new key of rotation `view`, as a
/// run that crashed after its keychain write but before its journal row
/// would have left it.
fn leave_in_keychain(view: &RotationView, secret: &str) {
    use latchkey_core::store::{key_account, KeychainStore, SecretStore};
    KeychainStore::open_service("latchkey-test")
        .expect("keychain")
        .put(&key_account(&view.new_key_id), &Secret::new(secret))
        .expect("keychain write");
}

/// Runs rotation `id` once while every call to the service fails before it
/// is carried out: its create's intent is journaled, nothing is made.
async fn fail_the_first_create(b: &Bench, id: &str) -> RotationView {
    b.service
        .chaos(serde_json::json!({ "fail_next": 50, "status": 503 }))
        .await;
    b.vault
        .run_rotation(id, &no_progress)
        .await
        .expect_err("the service is down");
    b.service.chaos(serde_json::json!({ "fail_next": 0 })).await;
    let view = b.vault.rotation(id).expect("view");
    assert_eq!(view.state, State::Planned);
    assert_eq!(b.journal(id)[1..], ["create:intent", "create:failed"]);
    view
}

/// A run that crashed after its keychain write, before the journal caught
/// up, left the new key on the service and its secret in the keychain, the
/// rotation still planned: the next run adopts that key, makes no second
/// one, and deploys it. (`create_step`: `tried_before`'s `>` as `==` or
/// `<`; the held check's `||` as `&&`; the adopted key's `k.name ==` as
/// `!=`, its `|| !named` as `&& !named`, its preview `==` as `!=` and its
/// `|| owns` as `&& owns`.)
#[tokio::test]
async fn a_new_key_a_crash_left_in_the_keychain_is_adopted_not_made_again() {
    let b = bench_with(key_service(true).await).await;
    let id = b.plan().await;
    let view = fail_the_first_create(&b, &id).await;
    let made = b
        .service
        .create_directly(&format!("web (rotation {})", &id[..8]))
        .await;
    let (made_id, made_key) = (
        made["id"].as_str().expect("id"),
        made["key"].as_str().expect("key"),
    );
    leave_in_keychain(&view, made_key);
    let done = b
        .vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    assert_eq!(
        std::fs::read_to_string(&b.env).expect("env"),
        format!("{VAR}={made_key}\n")
    );
    let live: Vec<String> = b
        .service
        .remote_keys()
        .await
        .into_iter()
        .filter(|k| k["revoked_at"].is_null())
        .map(|k| k["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(live, [made_id], "one new key, the adopted one");
    let journal = b.vault.rotation_journal(&id).expect("journal");
    assert!(
        journal
            .iter()
            .any(|e| e.step == "create" && e.detail == format!("adopted {made_id}")),
        "{journal:#?}"
    );
    assert_eq!(b.service.verify_status(made_key).await, 200);
}

/// The keychain holds, for the new key, a secret that is no live key named
/// after the rotation, though its preview is the old key's, and a key named
/// after the rotation is there whose secret Latchkey never saw: nothing is
/// adopted (least of all the old key), the run makes the new key afresh
/// and revokes the other. (`create_step`: the adopted key's `!named`
/// without its `!`, its first `&&` as `||`, its second `&&` as `||`, its
/// preview `==` as `!=`; a planned rotation's `== State::Created` as `!=`
/// after no key was found.)
#[tokio::test]
async fn a_keychain_secret_that_is_no_key_of_the_rotation_is_not_adopted() {
    let b = bench_with(key_service(true).await).await;
    let id = b.plan().await;
    let view = fail_the_first_create(&b, &id).await;
    // The old key's prefix and last four: the same preview, another key.
    let old = b.old_secret.expose_secret();
    let (head, tail) = (&old[..12], &old[old.len() - 4..]);
    let other = format!("{head}{}{tail}", "0".repeat(old.len() - 16));
    assert_ne!(other, old);
    assert_eq!(Secret::new(other.as_str()).masked(), b.old_secret.masked());
    leave_in_keychain(&view, &other);
    let unseen = b
        .service
        .create_directly(&format!("web (rotation {})", &id[..8]))
        .await;
    let done = b
        .vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    let new = stored_secret(&done.new_key_id);
    assert_ne!(new.expose_secret(), other);
    assert_eq!(
        std::fs::read_to_string(&b.env).expect("env"),
        format!("{VAR}={}\n", new.expose_secret())
    );
    assert_eq!(b.service.verify_status(new.expose_secret()).await, 200);
    assert_eq!(
        b.service
            .verify_status(unseen["key"].as_str().expect("key"))
            .await,
        401,
        "the unseen key is revoked"
    );
    let journal = b.vault.rotation_journal(&id).expect("journal");
    assert!(
        journal
            .iter()
            .any(|e| e.step == "create" && e.phase == "ok" && e.detail.starts_with("created ")),
        "{journal:#?}"
    );
}

/// The service restarted after a create whose answer was lost: it can no
/// longer replay that create (409). The next run revokes the key the lost
/// create made and creates afresh under a new idempotency key.
/// (`create_step`'s conflict guard `tried_before` as `false`;
/// `revoke_orphans`' `+=` as `*=`.)
#[tokio::test]
async fn a_create_a_restarted_service_cannot_replay_is_revoked_and_made_afresh() {
    let data = tempfile::tempdir().expect("tempdir");
    let service = Service::start(ADMIN, true, Some(&data.path().join("keyservice.json"))).await;
    let b = bench_with(service).await;
    let (id, name) = b.lose_a_first_run().await;
    let named = |keys: &[serde_json::Value]| -> Vec<(String, bool)> {
        keys.iter()
            .filter(|k| k["name"] == name.as_str())
            .map(|k| {
                (
                    k["id"].as_str().expect("id").to_owned(),
                    k["revoked_at"].is_null(),
                )
            })
            .collect()
    };
    let lost = named(&b.service.remote_keys().await);
    assert_eq!(lost.len(), 1, "{lost:?}");
    let Bench {
        service,
        vault,
        env,
        ..
    } = b;
    let service = service.restart().await;
    let done = vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    let after = named(&service.remote_keys().await);
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(
        after.contains(&(lost[0].0.clone(), false)),
        "the lost one is revoked: {after:?}"
    );
    assert!(after.iter().any(|(_, live)| *live), "{after:?}");
    let new = stored_secret(&done.new_key_id);
    assert_eq!(service.verify_status(new.expose_secret()).await, 200);
    assert_eq!(
        std::fs::read_to_string(&env).expect("env"),
        format!("{VAR}={}\n", new.expose_secret())
    );
    let order = steps(&vault.rotation_journal(&id).expect("journal"));
    assert!(order.contains(&"revoke_orphan:ok".to_owned()), "{order:?}");
}

/// The service replays a create whose key was revoked since (its answer
/// was lost, then someone revoked the key): never a key to deploy; the run
/// fails, and the next one asks with a fresh idempotency key and rotates.
/// (`create_step`'s revoked-replay `+=` as `-=` or `*=`.)
#[tokio::test]
async fn a_replayed_create_of_a_key_revoked_since_is_asked_again_afresh() {
    let b = bench_with(key_service(true).await).await;
    let (id, name) = b.lose_a_first_run().await;
    let made: Vec<serde_json::Value> = b
        .service
        .remote_keys()
        .await
        .into_iter()
        .filter(|k| k["name"] == name.as_str())
        .collect();
    assert_eq!(made.len(), 1, "{made:#?}");
    b.service
        .revoke_directly(made[0]["id"].as_str().expect("id"))
        .await;
    let e = b
        .vault
        .run_rotation(&id, &no_progress)
        .await
        .expect_err("a revoked key is never deployed");
    assert!(e.to_string().contains("already revoked"), "{e}");
    let done = b
        .vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    let new = stored_secret(&done.new_key_id);
    assert_eq!(b.service.verify_status(new.expose_secret()).await, 200);
}

/// A keychain that refuses one write (to `account`), then works.
struct RefusesOnce {
    inner: latchkey_core::store::KeychainStore,
    account: String,
    refused: std::sync::atomic::AtomicBool,
}

impl latchkey_core::store::SecretStore for RefusesOnce {
    fn put(&self, account: &str, secret: &Secret) -> latchkey_core::Result<()> {
        use std::sync::atomic::Ordering;
        if account == self.account && !self.refused.swap(true, Ordering::SeqCst) {
            return Err(latchkey_core::Error::KeychainLocked);
        }
        self.inner.put(account, secret)
    }

    fn get(&self, account: &str) -> latchkey_core::Result<Option<Secret>> {
        self.inner.get(account)
    }

    fn delete(&self, account: &str) -> latchkey_core::Result<()> {
        self.inner.delete(account)
    }
}

/// The keychain refused the new key: the run revokes it on the service
/// and fails; the next run asks with a fresh idempotency key (a replay
/// would answer with the revoked key) and rotates. (`create_step`'s
/// failed-store `+=` as `-=` or `*=`.)
#[tokio::test]
async fn a_new_key_the_keychain_refused_is_revoked_and_the_next_run_makes_another() {
    use latchkey_core::store::{key_account, KeychainStore};
    let b = bench().await;
    let id = b.plan().await;
    let view = b.vault.rotation(&id).expect("view");
    let vault = Vault::open(
        &b.data_dir(),
        Arc::new(RefusesOnce {
            inner: KeychainStore::open_service("latchkey-test").expect("keychain"),
            account: key_account(&view.new_key_id),
            refused: false.into(),
        }),
        Arc::new(MemoryClipboard::default()),
        Arc::new(latchkey_core::clock::SystemClock),
    )
    .expect("vault");
    let e = vault
        .run_rotation(&id, &no_progress)
        .await
        .expect_err("the keychain refused");
    assert_eq!(e.code().as_str(), "keychain_locked", "{e}");
    let name = format!("web (rotation {})", &id[..8]);
    let made: Vec<serde_json::Value> = b
        .service
        .remote_keys()
        .await
        .into_iter()
        .filter(|k| k["name"] == name.as_str())
        .collect();
    assert_eq!(made.len(), 1, "{made:#?}");
    assert!(!made[0]["revoked_at"].is_null(), "{made:#?}");
    let done = vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    let new = stored_secret(&done.new_key_id);
    assert_eq!(b.service.verify_status(new.expose_secret()).await, 200);
}
