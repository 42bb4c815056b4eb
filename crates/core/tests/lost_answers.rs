//! Lost answers: the key service carries a create out in full, but its answer
//! never reaches the client (chaos `"phase": "after"`: a 500 in place of the
//! 201, or the connection dropped). The client's retry must not make a second
//! key: exactly one key exists on the service afterwards, and the vault holds
//! its secret. This is what the `Idempotency-Key` on creates is for.
//!
//! Proof that these tests catch a client that sends no `Idempotency-Key`
//! (a test-only feature makes the keyservice connector omit it):
//!
//! ```text
//! xvfb-run -a scripts/with-keyring.sh cargo test -p latchkey-core \
//!     --features mutation-omit-idempotency --test lost_answers
//! ```
//!
//! must FAIL (every test); without the feature they pass.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::*;
use latchkey_core::catalog::TargetSpec;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::rotation::driver::{no_progress, RotationRequest};
use latchkey_core::rotation::State;
use latchkey_core::vault::{KeyStatus, KeyView};
use latchkey_core::Vault;
use serde_json::{json, Value};

/// Keys of the test project that are not revoked.
async fn live(service: &Service) -> Vec<Value> {
    service
        .remote_keys()
        .await
        .into_iter()
        .filter(|k| k["revoked_at"].is_null())
        .collect()
}

/// The vault holds `key`'s secret, and it is the one live key on the service.
async fn held_and_alone(service: &Service, vault: &Vault, key: &KeyView, what: &str) {
    let all = service.remote_keys().await;
    assert_eq!(all.len(), 1, "{what}: keys on the service: {all:#?}");
    assert!(all[0]["revoked_at"].is_null(), "{what}: {all:#?}");
    assert_eq!(all[0]["key_preview"], json!(key.preview), "{what}");
    assert_eq!(key.status, KeyStatus::Active, "{what}");
    assert!(key.has_secret, "{what}");
    assert!(
        vault.key(&key.id).expect("in the vault").has_secret,
        "{what}"
    );
    let secret = stored_secret(&key.id);
    assert_eq!(
        service.verify_status(secret.expose_secret()).await,
        200,
        "{what}: the held secret works"
    );
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_makes_exactly_one_key() {
    for (lost, faults) in [
        (
            "one 500 after the create",
            json!({ "fail_next": 1, "status": 500 }),
        ),
        (
            "two 503s after the create",
            json!({ "fail_next": 2, "status": 503 }),
        ),
        (
            "a dropped connection after the create",
            json!({ "fail_next": 1, "drop_connection": true }),
        ),
    ] {
        let service = key_service(true).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let vault = open_vault(
            &dir.path().join("data"),
            Arc::new(MemoryClipboard::default()),
        );
        let provider = add_provider(&vault, &service);
        let mut arm = faults.clone();
        arm["phase"] = json!("after");
        service.chaos(arm).await;
        let key = vault
            .create_key(new_key(&provider, "lost answer"))
            .await
            .unwrap_or_else(|e| panic!("{lost}: the retry should succeed: {e}"));
        held_and_alone(&service, &vault, &key, lost).await;
        let listed = vault.local_keys().expect("keys");
        assert_eq!(listed.len(), 1, "{lost}: {listed:#?}");
    }
}

const ENV_TEMPLATE: &str = "# app\nDEMO_API_KEY={KEY}\nPORT=8080\n";

fn dotenv_target(path: &Path) -> TargetSpec {
    TargetSpec::Dotenv {
        path: path.display().to_string(),
        var: "DEMO_API_KEY".into(),
        follow_symlink: false,
    }
}

#[tokio::test]
async fn a_rotation_whose_create_answer_is_lost_makes_exactly_one_new_key() {
    for (lost, faults) in [
        (
            "one 500 after the create",
            json!({ "fail_next": 1, "status": 500 }),
        ),
        (
            "a dropped connection after the create",
            json!({ "fail_next": 1, "drop_connection": true }),
        ),
    ] {
        let service = key_service(true).await;
        let OneKey {
            dir,
            vault,
            key: old,
            secret: old_secret,
            ..
        } = one_key_vault(&service, "web backend").await;
        let env_path = dir.path().join(".env");
        std::fs::write(
            &env_path,
            ENV_TEMPLATE.replace("{KEY}", old_secret.expose_secret()),
        )
        .expect("write .env");
        let plan = vault
            .plan_rotation(RotationRequest {
                key_id: old.id.clone(),
                targets: vec![dotenv_target(&env_path)],
            })
            .await
            .expect("planned");
        // The rotation's first call to the service is its create.
        let mut arm = faults.clone();
        arm["phase"] = json!("after");
        service.chaos(arm).await;
        let done = vault
            .run_rotation(&plan.id, &no_progress)
            .await
            .unwrap_or_else(|e| panic!("{lost}: the retry should succeed: {e}"));
        assert_eq!(done.state, State::Done, "{lost}");

        // The old key is revoked; exactly one new key was made, and it is the
        // vault's and the file's.
        let all = service.remote_keys().await;
        assert_eq!(all.len(), 2, "{lost}: old + one new: {all:#?}");
        let live = live(&service).await;
        assert_eq!(live.len(), 1, "{lost}: live keys: {live:#?}");
        let new = vault.key(&done.new_key_id).expect("new key");
        assert_eq!(live[0]["key_preview"], json!(new.preview), "{lost}");
        let new_secret = stored_secret(&new.id);
        assert_eq!(
            service.verify_status(new_secret.expose_secret()).await,
            200,
            "{lost}"
        );
        assert_eq!(
            service.verify_status(old_secret.expose_secret()).await,
            401,
            "{lost}"
        );
        assert_eq!(
            std::fs::read_to_string(&env_path).expect("read .env"),
            ENV_TEMPLATE.replace("{KEY}", new_secret.expose_secret()),
            "{lost}"
        );
    }
}
