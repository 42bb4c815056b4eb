//! The Dakora connector end to end against a fake Dakora server on loopback
//! (testkit fakes::dakora), with the real keychain and SQLite for the
//! vault parts: every call, the auth header rule, the expiry rules, the
//! 4-key limit, error answers (401/403/404/422/400/500 plain text/HTML),
//! the revocation cache, and a full rotation that completes despite it.

use super::quick;
use latchkey_testkit::fakes::dakora as fake_dakora;

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use fake_dakora::{FakeDakora, JWT};
use latchkey_core::catalog::{ProviderKind, TargetSpec};
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::providers::dakora::DakoraProvider;
use latchkey_core::providers::{Connector, KeySpec, Verification};
use latchkey_core::rotation::driver::{no_progress, RotationRequest};
use latchkey_core::rotation::State;
use latchkey_core::vault::{NewKey, NewServiceProvider};
use latchkey_core::Secret;

fn spec(name: &str, days: Option<u32>) -> KeySpec {
    KeySpec {
        name: name.into(),
        scopes: vec![],
        expires_in_days: days,
    }
}

fn connector(fake: &FakeDakora, credential: &str) -> DakoraProvider {
    DakoraProvider::new(&fake.base, &fake.project, Secret::new(credential), quick()).expect("open")
}

#[tokio::test]
async fn create_list_get_verify_revoke_with_a_jwt_and_with_a_key() {
    let fake = FakeDakora::start(Duration::ZERO).await;
    let admin_key = fake.seed_key("admin", None);
    for credential in [JWT.to_owned(), admin_key.clone()] {
        let conn = connector(&fake, &credential);
        let (remote, key) = conn
            .create(&spec("ci", None), "idem")
            .await
            .expect("create");
        assert!(key.expose_secret().starts_with("dkr_"));
        assert_eq!(remote.preview.len(), 15, "{}", remote.preview);
        assert!(!remote.preview.contains(&key.expose_secret()[8..40]));
        let listed = conn.list().await.expect("list");
        assert_eq!(listed[0].remote_id, remote.remote_id, "newest first");
        assert_eq!(listed[0].preview, remote.preview);
        let one = conn
            .get(&remote.remote_id)
            .await
            .expect("get")
            .expect("found");
        assert_eq!(one.name, "ci");
        assert_eq!(
            conn.verify(&key).await.expect("verify"),
            Verification::Accepted
        );
        assert!(conn
            .last_used(&remote.remote_id)
            .await
            .expect("last used")
            .is_some());
        conn.revoke(&remote.remote_id).await.expect("revoke");
        // A second DELETE is a 404 on the wire: already revoked, fine.
        conn.revoke(&remote.remote_id).await.expect("revoke again");
        assert!(conn.get(&remote.remote_id).await.expect("get").is_none());
        assert!(matches!(
            conn.verify(&key).await.expect("verify"),
            Verification::Rejected { .. }
        ));
    }
    assert!(fake.inner().calls.iter().any(|c| c == "DELETE"));
}

#[tokio::test]
async fn a_dkr_key_as_bearer_is_refused_so_keys_go_as_x_api_key() {
    let fake = FakeDakora::start(Duration::ZERO).await;
    let key = fake.seed_key("admin", None);
    // The raw server refuses a key as a bearer token...
    let status = reqwest::Client::new()
        .get(format!(
            "{}/api/projects/{}/api-keys",
            fake.base, fake.project
        ))
        .bearer_auth(&key)
        .send()
        .await
        .expect("send")
        .status();
    assert_eq!(status, 401);
    // ...and X-API-Key wins over a valid JWT: a bad key is 401 even so.
    let status = reqwest::Client::new()
        .get(format!("{}/api/me/context", fake.base))
        .bearer_auth(JWT)
        .header("X-API-Key", "dkr_bad")
        .send()
        .await
        .expect("send")
        .status();
    assert_eq!(status, 401);
    // The connector sends a dkr_ credential the right way.
    assert!(connector(&fake, &key).list().await.is_ok());
    let bad = connector(&fake, "dkr_1111111111111111111111111111111111111111111");
    assert_eq!(
        bad.list().await.unwrap_err().code(),
        "provider_unauthorized"
    );
}

#[tokio::test]
async fn expiries_are_30_90_365_or_none_and_expiring_keys_fail_with_a_clear_error() {
    let fake = FakeDakora::start(Duration::ZERO).await;
    let conn = connector(&fake, JWT);
    let refused = conn.create(&spec("x", Some(7)), "i").await.unwrap_err();
    assert_eq!(refused.code(), "invalid_input");
    assert!(refused.to_string().contains("30, 90 or 365"), "{refused}");
    assert!(fake.inner().calls.is_empty(), "refused before the call");
    let (remote, key) = conn
        .create(&spec("exp", Some(90)), "i")
        .await
        .expect("create");
    // No time zone on the wire: read as UTC.
    let expires = remote.expires_at.clone().expect("expiry");
    assert!(expires.ends_with('Z'), "{expires}");
    let listed = conn.list().await.expect("list");
    assert!(listed[0]
        .expires_at
        .as_deref()
        .is_some_and(|e| e.ends_with('Z')));
    let err = conn.verify(&key).await.unwrap_err();
    assert!(
        err.to_string().contains("keys with an expiry do not work"),
        "{err}"
    );
    assert_ne!(err.code(), "provider_unauthorized");
}

#[tokio::test]
async fn the_fifth_key_is_a_typed_limit_error_and_expired_keys_count() {
    let fake = FakeDakora::start(Duration::ZERO).await;
    fake.seed_key("expiring", Some(30));
    let conn = connector(&fake, JWT);
    for i in 0..3 {
        conn.create(&spec(&format!("k{i}"), None), "i")
            .await
            .expect("create");
    }
    let err = conn.create(&spec("k5", None), "i").await.unwrap_err();
    assert_eq!(err.code(), "provider_conflict");
    assert!(err.to_string().contains("Maximum 4 API keys"), "{err}");
    // {} is a valid body on the raw server (the limit answers here).
    let raw = reqwest::Client::new()
        .post(format!(
            "{}/api/projects/{}/api-keys",
            fake.base, fake.project
        ))
        .bearer_auth(JWT)
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("send");
    assert_eq!(raw.status(), 400);
}

#[tokio::test]
async fn error_answers_become_typed_readable_errors() {
    let fake = FakeDakora::start(Duration::ZERO).await;
    let conn = connector(&fake, JWT);
    // A non-UUID project is refused before any call.
    let err = DakoraProvider::new(&fake.base, "my-project", Secret::new(JWT), quick()).unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    assert!(err.to_string().contains("UUID"), "{err}");
    // The raw server: 422 with a detail list.
    let raw = reqwest::Client::new()
        .get(format!("{}/api/projects/not-a-uuid/api-keys", fake.base))
        .bearer_auth(JWT)
        .send()
        .await
        .expect("send");
    assert_eq!(raw.status(), 422);
    fake.fail_next(
        422,
        "application/json",
        r#"{"detail":[{"type":"string_too_long","loc":["body","name"],"msg":"String should have at most 255 characters","input":"x"}]}"#,
    );
    let err = conn.create(&spec("x", None), "i").await.unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    assert!(
        err.to_string()
            .contains("name: String should have at most 255"),
        "{err}"
    );
    fake.fail_next(
        400,
        "application/json",
        r#"{"detail":"Bad \u001b[31mthing"}"#,
    );
    let err = conn.create(&spec("x", None), "i").await.unwrap_err();
    assert!(err.to_string().contains("Bad [31mthing"), "{err}");
    fake.fail_next(
        403,
        "application/json",
        r#"{"detail":"You do not have access to this project"}"#,
    );
    assert_eq!(conn.list().await.unwrap_err().code(), "provider_forbidden");
    let other = DakoraProvider::new(
        &fake.base,
        &uuid::Uuid::new_v4().to_string(),
        Secret::new(JWT),
        quick(),
    )
    .expect("open");
    assert_eq!(other.list().await.unwrap_err().code(), "not_found");
    // A plain-text 500 and an HTML page.
    // (A POST is not retried: one 500 is the answer.)
    fake.fail_next(500, "text/plain", "Internal Server Error");
    assert_eq!(
        conn.create(&spec("x", None), "i").await.unwrap_err().code(),
        "provider_unavailable"
    );
    fake.fail_next(200, "text/html", "<html><body>Sign in</body></html>");
    let err = conn.list().await.unwrap_err();
    assert_eq!(err.code(), "bad_response");
    assert!(err.to_string().contains("HTML"), "{err}");
    // A restricted key (403 on verify) still authenticates.
    let (_, key) = conn.create(&spec("r", None), "i").await.expect("create");
    fake.fail_next(403, "application/json", r#"{"detail":"User not found"}"#);
    assert_eq!(
        conn.verify(&key).await.expect("verify"),
        Verification::Accepted
    );
}

#[tokio::test]
async fn a_revoked_key_still_accepted_by_the_cache_is_revoked_not_failed() {
    let fake = FakeDakora::start(Duration::from_secs(300)).await;
    let conn = connector(&fake, JWT);
    let (remote, key) = conn.create(&spec("c", None), "i").await.expect("create");
    conn.revoke(&remote.remote_id).await.expect("revoke");
    // The server's cache still accepts it; its records say it is gone.
    assert_eq!(
        conn.verify(&key).await.expect("verify"),
        Verification::Accepted
    );
    assert!(conn.get(&remote.remote_id).await.expect("get").is_none());
    assert_eq!(conn.revocation_cache(), Some(Duration::from_secs(300)));
}

/// A vault with a Dakora connection made the way `providers add` makes it.
async fn vault_setup(
    fake: &FakeDakora,
) -> (
    tempfile::TempDir,
    latchkey_core::Vault,
    latchkey_core::vault::ProviderView,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    let bad = vault.add_service_provider(NewServiceProvider {
        service: "dakora".into(),
        name: "Dakora".into(),
        base_url: Some(fake.base.clone()),
        project: Some("not-a-uuid".into()),
        credential: Some(Secret::new(JWT)),
        region: None,
        user: None,
    });
    assert_eq!(bad.unwrap_err().code(), "invalid_input");
    let provider = vault
        .add_service_provider(NewServiceProvider {
            service: "dakora".into(),
            name: "Dakora".into(),
            base_url: Some(fake.base.clone()),
            project: Some(fake.project.clone()),
            credential: Some(Secret::new(JWT)),
            region: None,
            user: None,
        })
        .expect("provider");
    (dir, vault, provider)
}

fn dakora_key(provider: &latchkey_core::vault::ProviderView, name: &str) -> NewKey {
    NewKey {
        provider_id: provider.id.clone(),
        name: name.into(),
        scopes: vec![],
        expires_in_days: None,
        environment: "dev".into(),
        env_var: "DAKORA_API_KEY".into(),
    }
}

#[tokio::test]
async fn the_vault_makes_an_api_connection_and_revokes_through_the_cache() {
    let fake = FakeDakora::start(Duration::from_secs(300)).await;
    let (dir, vault, provider) = vault_setup(&fake).await;
    let record = vault.providers().expect("providers");
    assert!(record.iter().any(|p| p.id == provider.id));
    let key = vault
        .create_key(dakora_key(&provider, "web"))
        .await
        .expect("create");
    let secret = stored_secret(&key.id);
    assert!(secret.expose_secret().starts_with("dkr_"));
    assert!(files_containing(dir.path(), secret.expose_secret()).is_empty());
    assert!(files_containing(dir.path(), JWT).is_empty());
    let revoked = vault
        .revoke_key(&key.id)
        .await
        .expect("revoke despite the cache");
    assert!(revoked.revoked_at.is_some());
    assert!(fake.live_ids().is_empty());
    let activity = vault.activity(50).expect("activity");
    assert!(
        activity.iter().any(|e| e.entry.action == "revoke_pending"),
        "{activity:?}"
    );
    let _ = ProviderKind::Dakora;
}

/// Issue 12: a revoke the service does not reject yet shows as "Revoked —
/// waiting for the service to confirm", and a later listing confirms it
/// once the service rejects the key; never confirmed early, never failed.
#[tokio::test]
async fn a_revoke_the_cache_still_honours_waits_until_a_later_listing_confirms_it() {
    use latchkey_core::vault::KeyStatus;
    let fake = FakeDakora::start(Duration::from_secs(2)).await;
    let (_dir, vault, provider) = vault_setup(&fake).await;
    let key = vault
        .create_key(dakora_key(&provider, "web"))
        .await
        .expect("create");
    let secret = stored_secret(&key.id);
    let revoked = vault
        .revoke_key(&key.id)
        .await
        .expect("revoked, not failed");
    assert_eq!(revoked.status, KeyStatus::Revoked);
    assert!(revoked.revoke_waiting, "confirmed early: {revoked:?}");
    let waiting = |listing: &latchkey_core::vault::KeyListing| {
        let k = listing
            .keys
            .iter()
            .find(|k| k.id == key.id)
            .expect("listed");
        assert_eq!(k.status, KeyStatus::Revoked);
        k.revoke_waiting
    };
    // Within the cache window the service still accepts the key: the
    // listing keeps waiting.
    let conn = connector(&fake, JWT);
    assert_eq!(
        conn.verify(&secret).await.expect("verify"),
        Verification::Accepted
    );
    assert!(waiting(&vault.list_keys().await.expect("list")));
    let activity = vault.activity(50).expect("activity");
    assert!(!activity
        .iter()
        .any(|e| e.entry.action == "revoke_confirmed"));
    // Past the window the service rejects it: the next listing confirms.
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert!(!waiting(&vault.list_keys().await.expect("list")));
    let activity = vault.activity(50).expect("activity");
    assert!(
        activity
            .iter()
            .any(|e| e.entry.action == "revoke_confirmed"),
        "{activity:?}"
    );
    // And the key is really rejected now.
    assert!(matches!(
        conn.verify(&secret).await.expect("verify"),
        Verification::Rejected { .. }
    ));
}

#[tokio::test]
async fn a_rotation_completes_despite_the_revocation_cache() {
    let fake = FakeDakora::start(Duration::from_secs(300)).await;
    let (dir, vault, provider) = vault_setup(&fake).await;
    let old = vault
        .create_key(dakora_key(&provider, "web"))
        .await
        .expect("create");
    let old_secret = stored_secret(&old.id);
    let env_path = dir.path().join(".env");
    std::fs::write(
        &env_path,
        format!("DAKORA_API_KEY={}\n", old_secret.expose_secret()),
    )
    .expect("env");
    let plan = vault
        .plan_rotation(RotationRequest {
            key_id: old.id.clone(),
            targets: vec![TargetSpec::Dotenv {
                path: env_path.display().to_string(),
                var: "DAKORA_API_KEY".into(),
                follow_symlink: false,
            }],
        })
        .await
        .expect("planned");
    let done = vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done);
    let new_secret = stored_secret(&done.new_key_id);
    let env = std::fs::read_to_string(&env_path).expect("env");
    assert_eq!(
        env,
        format!("DAKORA_API_KEY={}\n", new_secret.expose_secret())
    );
    assert!(vault.key(&old.id).expect("old").revoked_at.is_some());
    assert_eq!(fake.live_ids().len(), 1);
}
