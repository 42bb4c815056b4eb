//! The Twilio connector end to end against a fake IAM + Verify API on
//! loopback (testkit fakes::twilio): a key's whole life (create as
//! `SKSID:SECRET`, verify, list over pages, look up, revoke), keys owned by
//! their SID, a restricted key's 403 kept as an error (unknown, never
//! accepted), typed errors and 429 honoured.

use super::{quick, spec};
use latchkey_testkit::fakes::twilio as fake_twilio;

use std::sync::Arc;

use crate::common::*;
use latchkey_core::catalog::TargetSpec;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::rotation::driver::{no_progress, RotationRequest};
use latchkey_core::rotation::State;
use latchkey_core::vault::NewKey;

use fake_twilio::FakeTwilio;
use latchkey_core::providers::twilio::TwilioConnector;
use latchkey_core::providers::{Connector, Verification};
use latchkey_core::Secret;

#[tokio::test]
async fn a_key_from_create_to_revoke() {
    let fake = FakeTwilio::start().await;
    let conn =
        TwilioConnector::new(&fake.base, &Secret::new(&fake.credential), quick()).expect("open");
    conn.test().await.expect("connection test");
    let (remote, key) = conn
        .create(&spec("sms worker & co"), "i")
        .await
        .expect("create");
    let (sid, secret) = key.expose_secret().split_once(':').expect("a pair");
    assert!(sid.starts_with("SK") && sid.len() == 34, "{sid}");
    assert_eq!(secret.len(), 32);
    assert_eq!(remote.remote_id, sid);
    assert_eq!(remote.name, "sms worker & co", "form-encoded intact");
    assert!(remote.created_at.is_some());
    assert_eq!(
        conn.verify(&key).await.expect("verify"),
        Verification::Accepted
    );
    fake.seed_key("console key", false);
    let listed = conn.list().await.expect("list");
    assert_eq!(listed.len(), 2);
    let mine = listed
        .iter()
        .find(|k| conn.owns(&key, k))
        .expect("owned by SID");
    assert_eq!(mine.remote_id, remote.remote_id);
    assert_eq!(
        conn.get(&remote.remote_id)
            .await
            .expect("get")
            .expect("found")
            .name,
        "sms worker & co"
    );
    conn.revoke(&remote.remote_id).await.expect("revoke");
    conn.revoke(&remote.remote_id)
        .await
        .expect("a 404 is already gone");
    assert!(conn.get(&remote.remote_id).await.expect("get").is_none());
    assert_eq!(
        conn.verify(&key).await.expect("verify"),
        Verification::Rejected {
            code: "20003".into()
        }
    );
    assert!(matches!(
        conn.verify(&Secret::new("no colon")).await.expect("verify"),
        Verification::Rejected { .. }
    ));
}

#[tokio::test]
async fn pages_restricted_keys_and_errors() {
    let fake = FakeTwilio::start().await;
    let conn =
        TwilioConnector::new(&fake.base, &Secret::new(&fake.credential), quick()).expect("open");
    let token = fake.credential.split_once(':').expect("pair").1.to_owned();
    let code = |e: latchkey_core::Error| {
        assert!(!e.to_string().contains(&token), "{e}");
        e.code().as_str().to_owned()
    };
    for i in 0..120 {
        fake.seed_key(&format!("k{i}"), false);
    }
    let before = fake.call_count();
    assert_eq!(conn.list().await.expect("list").len(), 120);
    assert_eq!(fake.call_count() - before, 2);
    // A restricted key: 403 is not taken as accepted.
    let restricted = fake.seed_key("restricted", true);
    assert_eq!(
        code(conn.verify(&Secret::new(&restricted)).await.unwrap_err()),
        "provider_forbidden"
    );
    let wrong = TwilioConnector::new(
        &fake.base,
        &Secret::new(format!("{}:{}", fake.account, "0".repeat(32))),
        quick(),
    )
    .expect("open");
    assert_eq!(
        code(wrong.list().await.unwrap_err()),
        "provider_unauthorized"
    );
    let e = conn.create(&spec(&"x".repeat(65)), "i").await.unwrap_err();
    assert!(e.to_string().contains("too long"), "{e}");
    assert_eq!(code(e), "invalid_input");
    assert_eq!(
        code(conn.revoke("not-a-sid").await.unwrap_err()),
        "invalid_input"
    );
    fake.fail_next(200, &[("content-type", "text/html")], "<html>x</html>");
    let e = conn.list().await.unwrap_err();
    assert!(e.to_string().contains("HTML"), "{e}");
    fake.fail_next(201, &[], r#"{"sid":"SKnope","secret":"s"}"#);
    assert_eq!(
        code(conn.create(&spec("x"), "i").await.unwrap_err()),
        "bad_response"
    );
    fake.fail_next(
        429,
        &[("retry-after", "1")],
        r#"{"code":20429,"message":"Too Many Requests"}"#,
    );
    let before = fake.call_count();
    conn.get(&format!("SK{}", "0".repeat(32)))
        .await
        .expect("get after the wait");
    assert_eq!(fake.call_count() - before, 2);
    fake.fail_next(429, &[("retry-after", "90")], "{}");
    assert_eq!(code(conn.list().await.unwrap_err()), "rate_limited");
    let before = fake.call_count();
    fake.fail_next(429, &[("retry-after", "1")], "{}");
    assert_eq!(
        code(conn.create(&spec("x"), "i").await.unwrap_err()),
        "rate_limited"
    );
    assert_eq!(
        fake.call_count() - before,
        1,
        "a create is never sent twice"
    );
}

#[tokio::test]
async fn a_rotation_through_the_vault() {
    let fake = FakeTwilio::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    let provider = add_service(&vault, "twilio", "Twilio", &fake.base, &fake.credential);
    let old = vault
        .create_key(NewKey {
            provider_id: provider.id.clone(),
            name: "sms".into(),
            scopes: vec![],
            expires_in_days: None,
            environment: "dev".into(),
            env_var: "TWILIO_API_KEY".into(),
        })
        .await
        .expect("create");
    let old_secret = stored_secret(&old.id);
    let env_path = dir.path().join(".env");
    std::fs::write(
        &env_path,
        format!("TWILIO_API_KEY={}\n", old_secret.expose_secret()),
    )
    .expect("env");
    let plan = vault
        .plan_rotation(RotationRequest {
            key_id: old.id.clone(),
            targets: vec![TargetSpec::Dotenv {
                path: env_path.display().to_string(),
                var: "TWILIO_API_KEY".into(),
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
    assert_eq!(
        std::fs::read_to_string(&env_path).expect("env"),
        format!("TWILIO_API_KEY={}\n", new_secret.expose_secret())
    );
    assert_eq!(fake.key_count(), 1, "the old key was deleted");
    let token = fake.credential.split_once(':').expect("pair").1;
    let data = dir.path().join("data");
    assert!(files_containing(&data, token).is_empty());
    let secret_part = new_secret.expose_secret().split_once(':').expect("pair").1;
    assert!(files_containing(&data, secret_part).is_empty());
}
