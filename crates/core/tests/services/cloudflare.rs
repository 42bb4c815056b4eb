//! The Cloudflare API token connector end to end against a fake API on
//! loopback (testkit fakes::cloudflare): a token's whole life
//! (create, verify, list, last used, roll, off and on, revoke), error
//! answers mapped to typed codes, and Cloudflare's rate limit honoured.

use super::{quick, spec};
use latchkey_testkit::fakes::cloudflare as fake_cloudflare;

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use fake_cloudflare::FakeCloudflare;
use latchkey_core::catalog::TargetSpec;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::providers::cloudflare::CloudflareConnector;
use latchkey_core::providers::{Connector, KeySpec, Verification};
use latchkey_core::rotation::driver::{no_progress, RotationRequest};
use latchkey_core::rotation::{State, Strategy};
use latchkey_core::vault::NewKey;
use latchkey_core::Secret;

fn rejected(v: Verification) -> bool {
    matches!(v, Verification::Rejected { .. })
}

#[tokio::test]
async fn a_token_from_create_to_revoke() {
    let fake = FakeCloudflare::start().await;
    let admin = fake.seed_token("latchkey", true);
    let conn = CloudflareConnector::new(&fake.base, Secret::new(&admin), quick()).expect("open");
    conn.test().await.expect("connection test");
    let (remote, key) = conn
        .create(
            &KeySpec {
                expires_in_days: Some(30),
                ..spec("ci")
            },
            "i",
        )
        .await
        .expect("create");
    assert!(key.expose_secret().starts_with("cfut_"));
    assert_eq!(remote.name, "ci");
    assert_eq!(remote.remote_id.len(), 32);
    assert_eq!(remote.preview, key.masked());
    assert!(remote.expires_at.is_some(), "expiry sent");
    // The new token copies the connection token's policies.
    let policies = fake.inner().tokens.last().expect("made").policies.clone();
    assert_eq!(
        policies[0]["permission_groups"][0]["name"],
        fake_cloudflare::WRITE_GROUP
    );
    assert_eq!(
        conn.verify(&key).await.expect("verify"),
        Verification::Accepted
    );
    let listed = conn.list().await.expect("list");
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|k| k.remote_id == remote.remote_id));
    let used = conn
        .last_used(&remote.remote_id)
        .await
        .expect("last used")
        .expect("used by the verify");
    assert!(used.ends_with('Z'), "{used}");
    assert_eq!(
        conn.get(&remote.remote_id)
            .await
            .expect("get")
            .expect("found")
            .name,
        "ci"
    );

    // Roll: a new value for the same token; the old one dies at once.
    let (rolled, new_key) = conn.roll(&remote.remote_id).await.expect("roll");
    assert_eq!(rolled.remote_id, remote.remote_id);
    assert_ne!(new_key.expose_secret(), key.expose_secret());
    assert!(rejected(conn.verify(&key).await.expect("verify old")));
    assert_eq!(
        conn.verify(&new_key).await.expect("verify new"),
        Verification::Accepted
    );

    // Off, then on again.
    conn.set_active(&remote.remote_id, false)
        .await
        .expect("off");
    assert_eq!(
        conn.verify(&new_key).await.expect("verify"),
        Verification::Rejected {
            code: "DISABLED".into()
        }
    );
    let off = conn
        .get(&remote.remote_id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(off.scopes, ["status:disabled"]);
    conn.set_active(&remote.remote_id, true).await.expect("on");
    assert_eq!(
        conn.verify(&new_key).await.expect("verify"),
        Verification::Accepted
    );

    conn.revoke(&remote.remote_id).await.expect("revoke");
    conn.revoke(&remote.remote_id)
        .await
        .expect("a second revoke (404) is already done");
    assert!(conn.get(&remote.remote_id).await.expect("get").is_none());
    assert_eq!(
        conn.verify(&new_key).await.expect("verify"),
        Verification::Rejected {
            code: "1000".into()
        }
    );
    assert_eq!(
        conn.last_used(&remote.remote_id)
            .await
            .unwrap_err()
            .code()
            .as_str(),
        "not_found"
    );
    assert_eq!(
        conn.roll(&remote.remote_id)
            .await
            .unwrap_err()
            .code()
            .as_str(),
        "not_found"
    );
}

#[tokio::test]
async fn errors_are_typed_and_never_carry_a_token() {
    let fake = FakeCloudflare::start().await;
    let admin = fake.seed_token("latchkey", true);
    let conn = CloudflareConnector::new(&fake.base, Secret::new(&admin), quick()).expect("open");
    let code = |e: latchkey_core::Error| {
        assert!(!e.to_string().contains(&admin), "{e}");
        e.code().as_str().to_owned()
    };

    let stranger = CloudflareConnector::new(
        &fake.base,
        Secret::new("cfut_0000000000000000000000000000000000000000deadbeef"),
        quick(),
    )
    .expect("open");
    assert_eq!(
        code(stranger.list().await.unwrap_err()),
        "provider_unauthorized"
    );
    let reader = fake.seed_token("read only", false);
    let reader = CloudflareConnector::new(&fake.base, Secret::new(&reader), quick()).expect("open");
    assert_eq!(code(reader.list().await.unwrap_err()), "provider_forbidden");
    assert_eq!(
        code(conn.create(&spec(""), "i").await.unwrap_err()),
        "invalid_input"
    );
    assert_eq!(
        code(
            conn.create(
                &KeySpec {
                    scopes: vec!["zone:read".into()],
                    ..spec("x")
                },
                "i"
            )
            .await
            .unwrap_err()
        ),
        "invalid_input"
    );
    assert_eq!(
        code(conn.revoke("../tokens").await.unwrap_err()),
        "invalid_input"
    );
    assert_eq!(
        code(conn.set_active(&"0".repeat(32), false).await.unwrap_err()),
        "not_found"
    );
    fake.fail_next(
        422,
        &[("content-type", "application/json")],
        r#"{"success":false,"errors":[{"code":1005,"message":"unprocessable"}],"result":null}"#,
    );
    let e = conn.list().await.unwrap_err();
    assert!(e.to_string().contains("unprocessable"), "{e}");
    assert_eq!(code(e), "invalid_input");
    fake.fail_next(
        200,
        &[("content-type", "text/html")],
        "<html>sign in</html>",
    );
    let e = conn.list().await.unwrap_err();
    assert!(e.to_string().contains("HTML"), "{e}");
    assert_eq!(code(e), "bad_response");
    // A 200 that does not say it succeeded is not success.
    fake.fail_next(
        200,
        &[("content-type", "application/json")],
        r#"{"success":false,"errors":[],"result":{"status":"active"}}"#,
    );
    assert_eq!(
        code(conn.verify(&Secret::new(&admin)).await.unwrap_err()),
        "bad_response"
    );
    fake.fail_next(503, &[], "upstream down");
    fake.fail_next(503, &[], "upstream down");
    fake.fail_next(503, &[], "upstream down");
    fake.fail_next(503, &[], "upstream down");
    assert_eq!(code(conn.list().await.unwrap_err()), "provider_unavailable");
    // A made-up value is rejected, not an error.
    assert!(rejected(
        conn.verify(&Secret::new("not a token"))
            .await
            .expect("verify")
    ));
}

#[tokio::test]
async fn the_rate_limit_is_honoured() {
    let fake = FakeCloudflare::start().await;
    let admin = fake.seed_token("latchkey", true);
    let conn = CloudflareConnector::new(&fake.base, Secret::new(&admin), quick()).expect("open");
    let body =
        r#"{"success":false,"errors":[{"code":10000,"message":"Rate limited"}],"result":null}"#;
    // A short Retry-After is waited out, then the call is made again.
    fake.fail_next(429, &[("retry-after", "1")], body);
    let before = fake.call_count();
    let started = std::time::Instant::now();
    assert_eq!(conn.list().await.expect("list after the wait").len(), 1);
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(fake.call_count() - before, 2, "one 429, one retry");
    // Cloudflare's 5-minute block is reported, not waited out.
    fake.fail_next(429, &[("retry-after", "300")], body);
    let before = fake.call_count();
    match conn.list().await.unwrap_err() {
        latchkey_core::Error::RateLimited { retry_after_secs } => {
            assert_eq!(retry_after_secs, 300)
        }
        other => panic!("{other}"),
    }
    assert_eq!(fake.call_count() - before, 1, "no retry into the block");
}

#[tokio::test]
async fn a_rotation_through_the_vault() {
    let fake = FakeCloudflare::start().await;
    let admin = fake.seed_token("latchkey", true);
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    let provider = add_service(&vault, "cloudflare", "Cloudflare", &fake.base, &admin);
    vault
        .test_provider(&provider.id)
        .await
        .expect("connection test");
    let old = vault
        .create_key(NewKey {
            provider_id: provider.id.clone(),
            name: "deploy".into(),
            scopes: vec![],
            expires_in_days: None,
            environment: "dev".into(),
            env_var: "CLOUDFLARE_API_TOKEN".into(),
        })
        .await
        .expect("create");
    let old_secret = stored_secret(&old.id);
    assert!(files_containing(dir.path(), old_secret.expose_secret()).is_empty());
    assert!(files_containing(dir.path(), &admin).is_empty());
    let env_path = dir.path().join(".env");
    std::fs::write(
        &env_path,
        format!("CLOUDFLARE_API_TOKEN={}\n", old_secret.expose_secret()),
    )
    .expect("env");
    let plan = vault
        .plan_rotation(RotationRequest {
            key_id: old.id.clone(),
            targets: vec![TargetSpec::Dotenv {
                path: env_path.display().to_string(),
                var: "CLOUDFLARE_API_TOKEN".into(),
                follow_symlink: false,
            }],
        })
        .await
        .expect("planned");
    // Cloudflare can switch a token off: deactivate first, then delete.
    assert_eq!(plan.strategy, Strategy::DeactivateFirst);
    let off = vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("switched off");
    assert_eq!(off.state, State::OldDeactivated);
    let conn = CloudflareConnector::new(&fake.base, Secret::new(&admin), quick()).expect("open");
    assert!(rejected(
        conn.verify(&old_secret).await.expect("verify off")
    ));
    let done = vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done);
    let new_secret = stored_secret(&done.new_key_id);
    let env = std::fs::read_to_string(&env_path).expect("env");
    assert_eq!(
        env,
        format!("CLOUDFLARE_API_TOKEN={}\n", new_secret.expose_secret())
    );
    let conn = CloudflareConnector::new(&fake.base, Secret::new(&admin), quick()).expect("open");
    assert!(rejected(
        conn.verify(&old_secret).await.expect("verify old")
    ));
    assert_eq!(
        conn.verify(&new_secret).await.expect("verify new"),
        Verification::Accepted
    );
    assert!(files_containing(
        dir.path().join("data").as_path(),
        new_secret.expose_secret()
    )
    .is_empty());

    // The same token rolled in place, by the person's choice: one call, the
    // old value dead at once, the new one in the file.
    let choices: Vec<Strategy> = vault
        .rotation_strategies(&done.new_key_id)
        .expect("strategies")
        .into_iter()
        .map(|c| c.strategy)
        .collect();
    assert_eq!(
        choices,
        [
            Strategy::DeactivateFirst,
            Strategy::Overlap,
            Strategy::RollInPlace
        ]
    );
    let plan = vault
        .plan_rotation_with(
            RotationRequest {
                key_id: done.new_key_id.clone(),
                targets: vec![TargetSpec::Dotenv {
                    path: env_path.display().to_string(),
                    var: "CLOUDFLARE_API_TOKEN".into(),
                    follow_symlink: false,
                }],
            },
            Some(Strategy::RollInPlace),
        )
        .await
        .expect("planned");
    let rolled = vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("rolled");
    assert_eq!(rolled.state, State::Done, "{rolled:?}");
    let rolled_secret = stored_secret(&rolled.new_key_id);
    assert_ne!(rolled_secret, new_secret);
    assert!(rejected(
        conn.verify(&new_secret).await.expect("verify rolled-over")
    ));
    assert_eq!(
        conn.verify(&rolled_secret).await.expect("verify rolled"),
        Verification::Accepted
    );
    assert_eq!(
        std::fs::read_to_string(&env_path).expect("env"),
        format!("CLOUDFLARE_API_TOKEN={}\n", rolled_secret.expose_secret())
    );
}
