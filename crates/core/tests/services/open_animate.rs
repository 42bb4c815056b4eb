//! The Open Animate connector end to end against a fake server on loopback
//! (testkit fakes::open_animate), with the real keychain and SQLite
//! for the vault parts: every call, duds replaced after create, the
//! connection's own key refused, the 10-key limit, error answers, and a
//! full rotation.

use super::{quick, spec};
use latchkey_testkit::fakes::open_animate as fake_open_animate;

use std::sync::Arc;

use crate::common::*;
use fake_open_animate::FakeOpenAnimate;
use latchkey_core::catalog::TargetSpec;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::providers::open_animate::{OpenAnimateProvider, CREATE_ATTEMPTS};
use latchkey_core::providers::{Connector, Verification};
use latchkey_core::rotation::driver::{no_progress, RotationRequest};
use latchkey_core::rotation::State;
use latchkey_core::vault::{KeyStatus, NewKey};
use latchkey_core::Secret;

const KEY_SHAPE: fn(&str) -> bool = |k| {
    k.len() == 49
        && k.starts_with("anim_")
        && k.as_bytes()[13] == b'_'
        && k[5..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
};

#[tokio::test]
async fn create_list_get_verify_revoke() {
    let fake = FakeOpenAnimate::start().await;
    let admin = fake.seed_key("admin");
    let conn = OpenAnimateProvider::new(&fake.base, Secret::new(&admin), quick()).expect("open");
    let (remote, key) = conn.create(&spec("ci"), "i").await.expect("create");
    assert!(
        KEY_SHAPE(key.expose_secret()),
        "{}",
        key.expose_secret().len()
    );
    assert_eq!(remote.preview, format!("{}…", &key.expose_secret()[..13]));
    let listed = conn.list().await.expect("list");
    assert_eq!(listed.len(), 2);
    let mine = listed
        .iter()
        .find(|k| k.remote_id == remote.remote_id)
        .expect("listed");
    assert!(mine.created_at.as_deref().is_some_and(|t| t.ends_with('Z')));
    assert!(mine.last_used_at.is_some(), "verified right after create");
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
    conn.revoke(&remote.remote_id).await.expect("revoke");
    conn.revoke(&remote.remote_id)
        .await
        .expect("a 404 is already gone");
    assert!(conn.get(&remote.remote_id).await.expect("get").is_none());
    assert!(matches!(
        conn.verify(&key).await.expect("verify"),
        Verification::Rejected { .. }
    ));
    // The raw server: X-API-Key is ignored, no get-one route, no-body POST 500.
    let http = reqwest::Client::new();
    let s = http
        .get(format!("{}/api/v1/auth/me", fake.base))
        .header("X-API-Key", &admin)
        .send()
        .await
        .expect("send")
        .status();
    assert_eq!(s, 401);
    let r = http
        .get(format!("{}/api/v1/api-keys/{}", fake.base, one.remote_id))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
    assert_eq!(r.text().await.expect("text"), "404 Not Found");
    let r = http
        .post(format!("{}/api/v1/api-keys", fake.base))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 500);
}

#[tokio::test]
async fn a_new_key_the_service_rejects_is_deleted_and_replaced() {
    let fake = FakeOpenAnimate::start().await;
    let admin = fake.seed_key("admin");
    let conn = OpenAnimateProvider::new(&fake.base, Secret::new(&admin), quick()).expect("open");
    fake.force_underscore_ids(2);
    let (_, key) = conn.create(&spec("ci"), "i").await.expect("create");
    assert_eq!(
        conn.verify(&key).await.expect("verify"),
        Verification::Accepted
    );
    assert!(!key.expose_secret()[5..13].contains('_'));
    assert_eq!(fake.key_count(), 2, "the two duds were deleted");
    let posts = fake.inner().calls.iter().filter(|c| *c == "POST").count();
    assert_eq!(posts, 3);
    // Every try a dud: bounded, nothing left behind.
    fake.force_underscore_ids(100);
    let err = conn.create(&spec("ci"), "i").await.unwrap_err();
    assert_eq!(err.code(), "bad_response");
    assert_eq!(fake.key_count(), 2);
    let posts = fake.inner().calls.iter().filter(|c| *c == "POST").count();
    assert_eq!(posts, 3 + CREATE_ATTEMPTS as usize);
}

#[tokio::test]
async fn the_connections_own_key_is_not_revoked() {
    let fake = FakeOpenAnimate::start().await;
    let admin = fake.seed_key("admin");
    let conn = OpenAnimateProvider::new(&fake.base, Secret::new(&admin), quick()).expect("open");
    let own = conn.list().await.expect("list").remove(0);
    let err = conn.revoke(&own.remote_id).await.unwrap_err();
    assert_eq!(err.code(), "provider_conflict");
    assert!(err.to_string().contains("switch the connection"), "{err}");
    assert!(conn.test().await.is_ok(), "still connected");
}

#[tokio::test]
async fn limits_and_errors_are_typed() {
    let fake = FakeOpenAnimate::start().await;
    let admin = fake.seed_key("admin");
    let conn = OpenAnimateProvider::new(&fake.base, Secret::new(&admin), quick()).expect("open");
    for i in 0..9 {
        conn.create(&spec(&format!("k{i}")), "i")
            .await
            .expect("create");
    }
    let err = conn.create(&spec("k11"), "i").await.unwrap_err();
    assert_eq!(err.code(), "provider_conflict");
    assert!(err.to_string().contains("Maximum of 10 API keys"), "{err}");
    let bad =
        OpenAnimateProvider::new(&fake.base, Secret::new("anim_nope"), quick()).expect("open");
    assert_eq!(
        bad.list().await.unwrap_err().code(),
        "provider_unauthorized"
    );
    fake.fail_next(403, "application/json", r#"{"error":"Not authorized"}"#);
    assert_eq!(conn.list().await.unwrap_err().code(), "provider_forbidden");
    fake.fail_next(500, "text/plain", "Internal Server Error");
    assert_eq!(
        conn.create(&spec("x"), "i").await.unwrap_err().code(),
        "provider_unavailable"
    );
    fake.fail_next(200, "text/html", "<html>login</html>");
    assert!(conn.list().await.unwrap_err().to_string().contains("HTML"));
    assert_eq!(
        conn.revoke("not-a-uuid").await.unwrap_err().code(),
        "invalid_input"
    );
}

#[tokio::test]
async fn a_rotation_through_the_vault() {
    let fake = FakeOpenAnimate::start().await;
    let admin = fake.seed_key("admin");
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    let provider = add_service(&vault, "open-animate", "Animate", &fake.base, &admin);
    let old = vault
        .create_key(NewKey {
            provider_id: provider.id.clone(),
            name: "render".into(),
            scopes: vec![],
            expires_in_days: None,
            environment: "dev".into(),
            env_var: "ANIMATE_API_KEY".into(),
        })
        .await
        .expect("create");
    let old_secret = stored_secret(&old.id);
    assert!(files_containing(dir.path(), old_secret.expose_secret()).is_empty());
    assert!(files_containing(dir.path(), &admin).is_empty());
    let env_path = dir.path().join(".env");
    std::fs::write(
        &env_path,
        format!("ANIMATE_API_KEY={}\n", old_secret.expose_secret()),
    )
    .expect("env");
    fake.force_underscore_ids(1);
    let plan = vault
        .plan_rotation(RotationRequest {
            key_id: old.id.clone(),
            targets: vec![TargetSpec::Dotenv {
                path: env_path.display().to_string(),
                var: "ANIMATE_API_KEY".into(),
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
    assert!(
        !new_secret.expose_secret()[5..13].contains('_'),
        "no dud deployed"
    );
    let env = std::fs::read_to_string(&env_path).expect("env");
    assert_eq!(
        env,
        format!("ANIMATE_API_KEY={}\n", new_secret.expose_secret())
    );
    assert_eq!(fake.key_count(), 2, "admin + new; old deleted, dud deleted");
}

/// A vault with an Open Animate connection signed in with `admin` (a key
/// the vault never made: the listing shows it), and a `.env` holding it.
async fn signed_in_with_a_listed_key(
    fake: &FakeOpenAnimate,
    admin: &str,
    dir: &std::path::Path,
) -> (
    latchkey_core::vault::Vault,
    String,
    String,
    std::path::PathBuf,
) {
    let vault = open_vault(&dir.join("data"), Arc::new(MemoryClipboard::default()));
    let provider = add_service(&vault, "open-animate", "Animate", &fake.base, admin);
    let listing = vault.list_keys().await.expect("list");
    let own = listing
        .keys
        .iter()
        .find(|k| k.name == "admin")
        .expect("the connection's key is listed");
    assert_eq!(own.status, KeyStatus::NoLocalSecret, "{own:?}");
    let env_path = dir.join("admin.env");
    std::fs::write(&env_path, format!("ANIMATE_ADMIN={admin}\n")).expect("env");
    (vault, provider.id, own.id.clone(), env_path)
}

fn to_env(key_id: &str, env_path: &std::path::Path) -> RotationRequest {
    RotationRequest {
        key_id: key_id.into(),
        targets: vec![TargetSpec::Dotenv {
            path: env_path.display().to_string(),
            var: "ANIMATE_ADMIN".into(),
            follow_symlink: false,
        }],
    }
}

/// Issue 12: rotating the key the connection itself uses switches the
/// connection to the new key before the old one is deleted, also when the
/// vault never held the old key (no fingerprint to compare: the connector
/// tells by the key's prefix). Fails when the revoke is refused as "the
/// key the connection itself uses", or when the connection is left on the
/// deleted key.
#[tokio::test]
async fn a_rotation_of_the_connections_own_listed_key() {
    let fake = FakeOpenAnimate::start().await;
    let admin = fake.seed_key("admin");
    let dir = tempfile::tempdir().expect("tempdir");
    let (vault, provider_id, own_id, env_path) =
        signed_in_with_a_listed_key(&fake, &admin, dir.path()).await;
    let plan = vault
        .plan_rotation(to_env(&own_id, &env_path))
        .await
        .expect("planned");
    let done = vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{done:?}");
    let new = stored_secret(&done.new_key_id);
    let live: Vec<String> = fake.inner().keys.iter().map(|k| k.key.clone()).collect();
    assert_eq!(live, vec![new.expose_secret().to_owned()], "old deleted");
    assert_eq!(
        std::fs::read_to_string(&env_path).expect("env"),
        format!("ANIMATE_ADMIN={}\n", new.expose_secret())
    );
    vault
        .test_provider(&provider_id)
        .await
        .expect("the connection signs in with the new key");
    let log = vault.audit_log(50).expect("audit");
    assert!(
        log.iter().any(|e| e.action == "provider_token"),
        "switch audited"
    );
    // The old key is gone from the service; no file outside the .env
    // deploy target holds either key.
    assert!(files_containing(dir.path(), &admin).is_empty());
    assert_eq!(
        files_containing(dir.path(), new.expose_secret()),
        vec![env_path.display().to_string()]
    );
}

/// The same rotation stopped after the switch (the service refuses the
/// delete) and rolled back: the connection goes back to the old key, which
/// the vault kept when it switched, and the new key is deleted.
#[tokio::test]
async fn a_rolled_back_rotation_of_the_connections_own_listed_key() {
    let fake = FakeOpenAnimate::start().await;
    let admin = fake.seed_key("admin");
    let dir = tempfile::tempdir().expect("tempdir");
    let (vault, provider_id, own_id, env_path) =
        signed_in_with_a_listed_key(&fake, &admin, dir.path()).await;
    let plan = vault
        .plan_rotation(to_env(&own_id, &env_path))
        .await
        .expect("planned");
    fake.inner().refuse_deletes = 1;
    let err = vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect_err("the delete is refused");
    assert_eq!(err.code(), "provider_forbidden", "{err}");
    assert_eq!(fake.key_count(), 2, "both keys live");
    let back = vault
        .rollback_rotation(&plan.id, &no_progress)
        .await
        .expect("rolled back");
    assert_eq!(back.state, State::RolledBack, "{back:?}");
    let live: Vec<String> = fake.inner().keys.iter().map(|k| k.key.clone()).collect();
    assert_eq!(
        live,
        vec![admin.clone()],
        "the new key deleted, the old kept"
    );
    assert_eq!(
        std::fs::read_to_string(&env_path).expect("env"),
        format!("ANIMATE_ADMIN={admin}\n")
    );
    vault
        .test_provider(&provider_id)
        .await
        .expect("the connection signs in with the old key again");
    // The token kept as the old key's secret before the switch is known to
    // the catalog too: the key is shown with its local secret, which copies.
    let listing = vault.list_keys().await.expect("list");
    let own = listing
        .keys
        .iter()
        .find(|k| k.id == own_id)
        .expect("the old key listed");
    assert!(own.has_secret, "{own:?}");
    assert_eq!(own.status, KeyStatus::Active, "{own:?}");
}

/// A listed key the vault holds no secret for, revoked: Open Animate
/// deletes it outright, so "gone from the listing after the delete it
/// accepted" is the confirmation (there is no secret to try). Fails when
/// only a key listed as revoked counts (`revoke_not_confirmed`).
#[tokio::test]
async fn a_listed_key_without_a_secret_is_revoked_and_confirmed() {
    let fake = FakeOpenAnimate::start().await;
    let admin = fake.seed_key("admin");
    fake.seed_key("seat");
    let dir = tempfile::tempdir().expect("tempdir");
    let (vault, _, _, _) = signed_in_with_a_listed_key(&fake, &admin, dir.path()).await;
    let listing = vault.list_keys().await.expect("list");
    let seat = listing
        .keys
        .iter()
        .find(|k| k.name == "seat")
        .expect("listed");
    vault.revoke_key(&seat.id).await.expect("revoked");
    assert_eq!(fake.key_count(), 1);
    let listing = vault.list_keys().await.expect("list");
    let status = |name: &str| {
        listing
            .keys
            .iter()
            .find(|k| k.name == name)
            .map(|k| k.status)
    };
    assert_eq!(status("seat"), Some(KeyStatus::Revoked));
    assert_eq!(status("admin"), Some(KeyStatus::NoLocalSecret));
}
