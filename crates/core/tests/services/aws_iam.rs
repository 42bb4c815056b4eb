//! AWS IAM access keys against `moto_server` with credential checking on:
//! every call is SigV4-signed by our own signer and checked by moto, a
//! deleted or switched-off key really fails STS `GetCallerIdentity`, and
//! the two-keys-per-user limit is AWS's own. The connector's calls one by
//! one, then an AWS connection, key and rotation through the vault with the
//! real keychain.

use super::spec;
use std::sync::Arc;

use crate::common::moto::{set_up, Moto, SET_UP_CALLS};
use crate::common::*;
use latchkey_core::aws::{AwsClient, Credentials};
use latchkey_core::catalog::{ProviderKind, ProviderRecord, TargetSpec};
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::http::HttpPolicy;
use latchkey_core::providers::{registry, Connector, Verification};
use latchkey_core::rotation::driver::RotationRequest;
use latchkey_core::rotation::{State, Strategy};
use latchkey_core::vault::{NewKey, NewServiceProvider};
use latchkey_core::Secret;

fn record(moto: &Moto, project: &str) -> ProviderRecord {
    ProviderRecord {
        id: "aws-test".into(),
        kind: ProviderKind::Aws,
        name: "aws".into(),
        base_url: moto.base.clone(),
        project: project.into(),
        is_demo: false,
        created_at: "2026-12-04T00:00:00Z".into(),
        dashboard_url: String::new(),
    }
}

async fn accepted(conn: &dyn Connector, key: &Secret) -> bool {
    match conn.verify(key).await.expect("verify ran") {
        Verification::Accepted => true,
        Verification::Rejected { code } => {
            assert_eq!(code, "InvalidClientTokenId");
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connector_manages_a_users_keys_on_a_checking_aws() {
    let moto = Moto::start(SET_UP_CALLS);
    let admin = set_up(&moto).await;
    let conn = registry::open(
        &record(&moto, "region=us-east-1 user=app"),
        admin.to_secret(),
        HttpPolicy::default(),
    )
    .expect("open");
    let caps = conn.capabilities();
    assert!(caps.list && caps.create && caps.revoke && caps.verify);
    assert!(caps.get && caps.set_active && caps.last_used && !caps.roll);
    conn.test().await.expect("the admin pair works");
    assert!(conn.list().await.expect("list").is_empty());

    // Created: a pair that works at once on moto, listed by its id.
    let (first, first_key) = conn.create(&spec("web"), "idem-1").await.expect("create");
    assert_eq!(first.name, "web");
    assert!(first_key
        .expose_secret()
        .starts_with(&format!("{}:", first.remote_id)));
    assert!(!first
        .preview
        .contains(first_key.expose_secret().split(':').nth(1).unwrap_or("x")));
    assert!(accepted(conn.as_ref(), &first_key).await);
    let listed = conn.list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].remote_id, first.remote_id);
    assert!(listed[0].created_at.is_some());
    assert_eq!(
        conn.get(&first.remote_id)
            .await
            .expect("get")
            .map(|k| k.remote_id),
        Some(first.remote_id.clone())
    );
    assert_eq!(conn.get("AKIA0000000000000000").await.expect("get"), None);

    // AWS's limit of two: the third create names the two keys in the way.
    let (second, second_key) = conn
        .create(&spec("worker"), "idem-2")
        .await
        .expect("create 2");
    let third = conn
        .create(&spec("extra"), "idem-3")
        .await
        .expect_err("over the limit");
    assert_eq!(third.code().as_str(), "provider_conflict", "{third}");
    let said = third.to_string();
    assert!(
        said.contains(&first.remote_id) && said.contains(&second.remote_id),
        "{said}"
    );
    assert_eq!(conn.list().await.expect("list").len(), 2);

    // Switched off and on again, as IAM lists it. (Real AWS then rejects
    // the key; moto's STS does not look at a key's status, so that part
    // is not checked here.)
    conn.set_active(&first.remote_id, false)
        .await
        .expect("deactivate");
    assert_eq!(status_of(&moto, &admin, &first.remote_id).await, "Inactive");
    let off = third_error(conn.create(&spec("still two"), "idem-4").await);
    assert_eq!(off, "provider_conflict", "an inactive key still counts");
    conn.set_active(&first.remote_id, true)
        .await
        .expect("reactivate");
    assert_eq!(status_of(&moto, &admin, &first.remote_id).await, "Active");
    assert!(accepted(conn.as_ref(), &first_key).await);
    // Last used: moto answers the call (its date may be absent).
    conn.last_used(&first.remote_id).await.expect("last used");

    // Deleted: rejected after, and a second delete is not an error.
    conn.revoke(&first.remote_id).await.expect("revoke");
    assert!(!accepted(conn.as_ref(), &first_key).await);
    conn.revoke(&first.remote_id).await.expect("already gone");
    assert_eq!(conn.list().await.expect("list").len(), 1);
    assert!(accepted(conn.as_ref(), &second_key).await);

    // A made-up pair, and a malformed one.
    assert!(
        !accepted(
            conn.as_ref(),
            &Secret::new("AKIAABCDEFGHIJKLMNOP:not-the-secret")
        )
        .await
    );
    let malformed = conn
        .verify(&Secret::new("no-colon-here"))
        .await
        .expect_err("refused");
    assert_eq!(malformed.code().as_str(), "invalid_input");
    assert!(!malformed.to_string().contains("no-colon-here"));
}

/// A key's status as IAM lists it, asked with the admin pair.
async fn status_of(moto: &Moto, admin: &Credentials, id: &str) -> String {
    let client =
        AwsClient::new(Some(&moto.base), "us-east-1", HttpPolicy::default()).expect("client");
    let answer = client
        .iam(admin, "ListAccessKeys", &[("UserName", "app")], true)
        .await
        .expect("list");
    let status = answer
        .at(&["ListAccessKeysResult", "AccessKeyMetadata"])
        .expect("keys")
        .all("member")
        .find(|m| m.text_at(&["AccessKeyId"]) == Some(id))
        .and_then(|m| m.text_at(&["Status"]))
        .expect("listed")
        .to_owned();
    status
}

fn third_error<T>(r: latchkey_core::Result<T>) -> &'static str {
    r.err().map(|e| e.code().as_str()).unwrap_or("ok")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_deleted_admin_pair_is_unauthorized_not_a_crash() {
    let moto = Moto::start(SET_UP_CALLS);
    let admin = set_up(&moto).await;
    let wrong = Secret::new(format!("{}:wrong-secret", admin.access_key_id));
    let conn =
        registry::open(&record(&moto, "user=app"), wrong, HttpPolicy::default()).expect("open");
    let e = conn.test().await.expect_err("refused");
    assert_eq!(e.code().as_str(), "provider_unauthorized", "{e}");
    let e = conn.list().await.expect_err("refused");
    assert_eq!(e.code().as_str(), "provider_unauthorized", "{e}");
    assert!(!e.to_string().contains("wrong-secret"));
    // An emulator that is not there: a network error, not a panic.
    let gone = ProviderRecord {
        base_url: "http://127.0.0.1:9".into(),
        ..record(&moto, "user=app")
    };
    let conn = registry::open(
        &gone,
        admin.to_secret(),
        HttpPolicy {
            max_attempts: 1,
            ..HttpPolicy::default()
        },
    )
    .expect("open");
    assert_eq!(third_error(conn.list().await), "network");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_key_is_created_and_rotated_through_the_vault() {
    let moto = Moto::start(SET_UP_CALLS);
    let admin = set_up(&moto).await;
    let dir = tempfile::tempdir().expect("tmp");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));

    // Malformed pairs, regions and users are refused before anything is kept.
    for (credential, region, user, field) in [
        ("no-colon", None, None, "admin_token"),
        ("AKIA:x", Some("US EAST"), None, "region"),
        ("AKIA:x", None, Some("no spaces"), "user"),
    ] {
        let e = vault
            .add_service_provider(NewServiceProvider {
                service: "aws".into(),
                name: "bad".into(),
                base_url: Some(moto.base.clone()),
                project: None,
                credential: Some(Secret::new(credential)),
                region: region.map(Into::into),
                user: user.map(Into::into),
            })
            .err()
            .unwrap_or_else(|| panic!("{credential} {region:?} {user:?} was kept"));
        assert_eq!(e.code().as_str(), "invalid_input", "{e}");
        assert_eq!(
            e.to_wire().details.and_then(|d| d.field).as_deref(),
            Some(field)
        );
    }
    assert!(vault
        .providers()
        .expect("providers")
        .iter()
        .all(|p| p.name != "bad"));

    let provider = vault
        .add_service_provider(NewServiceProvider {
            service: "aws".into(),
            name: "prod aws".into(),
            base_url: Some(moto.base.clone()),
            project: None,
            credential: Some(admin.to_secret()),
            region: Some("eu-west-1".into()),
            user: Some("app".into()),
        })
        .expect("added");
    assert_eq!(provider.kind, ProviderKind::Aws);
    vault
        .test_provider(&provider.id)
        .await
        .expect("connection works");

    let key = vault
        .create_key(NewKey {
            provider_id: provider.id.clone(),
            name: "deploy bot".into(),
            scopes: vec![],
            expires_in_days: None,
            environment: "prod".into(),
            env_var: "AWS_KEY_PAIR".into(),
        })
        .await
        .expect("created");
    // IAM keys have no name: a listing shows the key under the name the
    // person gave it, not its access key id.
    let listed = vault.list_keys().await.expect("list");
    let named: Vec<&str> = listed
        .keys
        .iter()
        .filter(|k| k.id == key.id)
        .map(|k| k.name.as_str())
        .collect();
    assert_eq!(named, ["deploy bot"]);
    let old_secret = stored_secret(&key.id);
    let conn = registry::open(
        &record(&moto, "user=app"),
        admin.to_secret(),
        HttpPolicy::default(),
    )
    .expect("open");
    assert!(accepted(conn.as_ref(), &old_secret).await);

    let project = tempfile::tempdir().expect("project");
    let env_path = project.path().join(".env");
    std::fs::write(
        &env_path,
        format!("AWS_KEY_PAIR={}\n", old_secret.expose_secret()),
    )
    .expect("write");
    let plan = vault
        .plan_rotation(RotationRequest {
            key_id: key.id.clone(),
            targets: vec![TargetSpec::Dotenv {
                path: env_path.display().to_string(),
                var: "AWS_KEY_PAIR".into(),
                follow_symlink: false,
            }],
        })
        .await
        .expect("planned");
    // AWS can switch a key off: the rotation deactivates the old key first
    // and stops; the old key is still on the user, switched off.
    assert_eq!(plan.strategy, Strategy::DeactivateFirst);
    let off = vault
        .run_rotation(&plan.id, &|_| {})
        .await
        .expect("rotated up to the deactivation");
    assert_eq!(off.state, State::OldDeactivated, "{off:?}");
    assert_eq!(conn.list().await.expect("list").len(), 2);
    let old_id = old_secret
        .expose_secret()
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(status_of(&moto, &admin, &old_id).await, "Inactive");
    // "Delete it": the next run deletes the switched-off key.
    let done = vault
        .run_rotation(&plan.id, &|_| {})
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{done:?}");
    let new_secret = stored_secret(&done.new_key_id);
    assert_ne!(new_secret, old_secret);
    assert_eq!(
        std::fs::read_to_string(&env_path).expect("read"),
        format!("AWS_KEY_PAIR={}\n", new_secret.expose_secret())
    );
    assert!(accepted(conn.as_ref(), &new_secret).await);
    assert!(!accepted(conn.as_ref(), &old_secret).await);
    // One key left on the user: the new one.
    let left = conn.list().await.expect("list");
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(new_secret
        .expose_secret()
        .starts_with(&format!("{}:", left[0].remote_id)));
    // No secret half of either pair in the catalog.
    for secret in [&old_secret, &new_secret] {
        let half = secret
            .expose_secret()
            .split(':')
            .nth(1)
            .expect("secret half");
        assert!(files_containing(dir.path(), half).is_empty());
    }
}

/// Deactivate first, undone: "Reactivate" switches the old key on again,
/// puts the old key back in the file and deletes the new key. The person
/// can pick overlap instead; a strategy AWS cannot do is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_old_key_is_reactivated_and_overlap_can_be_chosen() {
    let moto = Moto::start(SET_UP_CALLS);
    let admin = set_up(&moto).await;
    let dir = tempfile::tempdir().expect("tmp");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let provider = vault
        .add_service_provider(NewServiceProvider {
            service: "aws".into(),
            name: "aws".into(),
            base_url: Some(moto.base.clone()),
            project: None,
            credential: Some(admin.to_secret()),
            region: None,
            user: Some("app".into()),
        })
        .expect("added");
    let key = vault
        .create_key(NewKey {
            provider_id: provider.id.clone(),
            name: "bot".into(),
            scopes: vec![],
            expires_in_days: None,
            environment: String::new(),
            env_var: "AWS_PAIR".into(),
        })
        .await
        .expect("created");
    let old_secret = stored_secret(&key.id);
    let old_id = old_secret
        .expose_secret()
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    let choices = vault.rotation_strategies(&key.id).expect("strategies");
    let offered: Vec<Strategy> = choices.iter().map(|c| c.strategy).collect();
    assert_eq!(offered, [Strategy::DeactivateFirst, Strategy::Overlap]);
    assert!(choices[0].chosen && !choices[1].chosen);

    let project = tempfile::tempdir().expect("project");
    let env_path = project.path().join(".env");
    let before = format!("# bot\nAWS_PAIR={}\n", old_secret.expose_secret());
    std::fs::write(&env_path, &before).expect("write");
    let target = || {
        vec![TargetSpec::Dotenv {
            path: env_path.display().to_string(),
            var: "AWS_PAIR".into(),
            follow_symlink: false,
        }]
    };
    let request = || RotationRequest {
        key_id: key.id.clone(),
        targets: target(),
    };
    let refused = vault
        .plan_rotation_with(request(), Some(Strategy::RollInPlace))
        .await
        .expect_err("AWS cannot roll a key");
    assert_eq!(refused.code().as_str(), "invalid_input");
    assert!(vault.rotations().expect("rotations").is_empty());

    let plan = vault.plan_rotation(request()).await.expect("planned");
    let off = vault.run_rotation(&plan.id, &|_| {}).await.expect("run");
    assert_eq!(off.state, State::OldDeactivated);
    assert_eq!(status_of(&moto, &admin, &old_id).await, "Inactive");
    // Nothing else may happen to it but "Delete it" or "Reactivate".
    let undone = vault
        .reactivate_rotation(&plan.id, &|_| {})
        .await
        .expect("reactivated");
    assert_eq!(undone.state, State::RolledBack, "{undone:?}");
    assert_eq!(status_of(&moto, &admin, &old_id).await, "Active");
    assert_eq!(std::fs::read_to_string(&env_path).unwrap(), before);
    let conn = registry::open(
        &record(&moto, "user=app"),
        admin.to_secret(),
        HttpPolicy::default(),
    )
    .expect("open");
    let left = conn.list().await.expect("list");
    assert_eq!(left.len(), 1, "the new key is deleted: {left:?}");
    assert_eq!(left[0].remote_id, old_id);
    assert!(accepted(conn.as_ref(), &old_secret).await);
    let again = vault
        .reactivate_rotation(&plan.id, &|_| {})
        .await
        .expect_err("only from Old key deactivated");
    assert_eq!(again.code().as_str(), "invalid_input");

    // Overlap, chosen: straight to done, the old key deleted.
    let plan = vault
        .plan_rotation_with(request(), Some(Strategy::Overlap))
        .await
        .expect("planned");
    assert_eq!(plan.strategy, Strategy::Overlap);
    let done = vault.run_rotation(&plan.id, &|_| {}).await.expect("run");
    assert_eq!(done.state, State::Done, "{done:?}");
    assert!(!accepted(conn.as_ref(), &old_secret).await);
    assert_eq!(conn.list().await.expect("list").len(), 1);
}

/// A stand-in STS whose new key is refused for its first `refusals` checks
/// (how AWS behaves for 10-20 s after a create), then accepted.
async fn slow_sts(refusals: usize) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move || {
            let seen = seen.clone();
            async move {
                let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
                if n <= refusals {
                    (
                        axum::http::StatusCode::FORBIDDEN,
                        "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>",
                    )
                } else {
                    (
                        axum::http::StatusCode::OK,
                        "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::1:user/app</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>",
                    )
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, calls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_key_aws_is_slow_to_accept_is_waited_for_within_bounds() {
    use latchkey_core::providers::aws::AwsConnector;
    use latchkey_core::providers::{verify_new, PropagationWait};
    use std::sync::atomic::Ordering;
    let pair = Secret::new("AKIAABCDEFGHIJKLMNOP:secret");
    // Refused twice, then accepted: verify_new asks again and succeeds.
    let (base, calls) = slow_sts(2).await;
    let conn = AwsConnector::new(&base, "", &pair, HttpPolicy::default())
        .expect("open")
        .with_propagation_wait(std::time::Duration::from_secs(10));
    let started = std::time::Instant::now();
    let waits = std::sync::Mutex::new(Vec::new());
    let note = |w: &PropagationWait| waits.lock().expect("waits").push(w.clone());
    assert_eq!(
        verify_new(&conn, &pair, &note).await.expect("verify"),
        Verification::Accepted
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(started.elapsed() >= std::time::Duration::from_secs(3));
    // Each pause was reported: attempt, time waited, the longest wait and
    // the next pause (growing by a second).
    let waits = waits.into_inner().expect("waits");
    assert_eq!(
        waits
            .iter()
            .map(|w| (w.attempt, w.up_to_secs, w.next_in_secs))
            .collect::<Vec<_>>(),
        vec![(1, 10, 1), (2, 10, 2)]
    );
    assert!(waits[1].waited_secs >= 1, "{waits:?}");
    // A plain verify (a revoke's confirmation) asks once.
    let (base, calls) = slow_sts(usize::MAX).await;
    let conn = AwsConnector::new(&base, "", &pair, HttpPolicy::default())
        .expect("open")
        .with_propagation_wait(std::time::Duration::from_secs(2));
    assert!(matches!(
        conn.verify(&pair).await.expect("verify"),
        Verification::Rejected { .. }
    ));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Never accepted: rejected once the wait is over, not forever.
    let started = std::time::Instant::now();
    assert!(matches!(
        verify_new(&conn, &pair, &|_| {}).await.expect("verify"),
        Verification::Rejected { .. }
    ));
    assert!(calls.load(Ordering::SeqCst) >= 2);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// The connection's own key (an AWS connection managing its own user):
/// pasted into the vault it is recognised as that IAM key, and rotating it
/// moves the connection to the new pair before the old one is deleted, so
/// the connection still works afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_connections_own_key_moves_the_connection_first() {
    use latchkey_core::vault::ExistingKey;
    let moto = Moto::start(SET_UP_CALLS);
    let admin = set_up(&moto).await;
    let dir = tempfile::tempdir().expect("tmp");
    let vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    let provider = vault
        .add_service_provider(NewServiceProvider {
            service: "aws".into(),
            name: "self".into(),
            base_url: Some(moto.base.clone()),
            project: None,
            credential: Some(admin.to_secret()),
            region: None,
            user: None,
        })
        .expect("added");
    let own = vault
        .add_existing_key(ExistingKey {
            provider_id: provider.id.clone(),
            name: "admin key".into(),
            secret: admin.to_secret(),
            environment: String::new(),
            env_var: "AWS_ADMIN".into(),
            replace: false,
        })
        .await
        .expect("pasted");
    let project = tempfile::tempdir().expect("project");
    let env_path = project.path().join(".env");
    std::fs::write(&env_path, "AWS_ADMIN=\n").expect("write");
    let plan = vault
        .plan_rotation(RotationRequest {
            key_id: own.id.clone(),
            targets: vec![TargetSpec::Dotenv {
                path: env_path.display().to_string(),
                var: "AWS_ADMIN".into(),
                follow_symlink: false,
            }],
        })
        .await
        .expect("planned (the pasted pair is linked to its IAM key)");
    let off = vault
        .run_rotation(&plan.id, &|_| {})
        .await
        .expect("deactivated");
    assert_eq!(off.state, State::OldDeactivated, "{off:?}");
    let done = vault
        .run_rotation(&plan.id, &|_| {})
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{done:?}");
    let new_pair = stored_secret(&done.new_key_id);
    // The connection works with the new pair; the old one is gone.
    vault
        .test_provider(&provider.id)
        .await
        .expect("still connected");
    let conn =
        registry::open(&record(&moto, ""), new_pair.clone(), HttpPolicy::default()).expect("open");
    assert!(accepted(conn.as_ref(), &new_pair).await);
    assert!(!accepted(conn.as_ref(), &admin.to_secret()).await);
    assert_eq!(conn.list().await.expect("list").len(), 1);
    let log = vault.audit_log(50).expect("audit");
    assert!(
        log.iter().any(|e| e.action == "provider_token"),
        "the switch is audited"
    );
}

/// Secrets Manager and SSM Parameter Store (a team's shared store, the
/// deploy targets of issue 14) through the same signer, on moto with
/// credential checking on: write, read back, overwrite, and the errors of
/// a name that is not there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_manager_and_ssm_take_a_value_and_give_it_back() {
    use latchkey_core::aws::JsonService::{SecretsManager, Ssm};
    use serde_json::json;
    let moto = Moto::start(SET_UP_CALLS);
    let admin = set_up(&moto).await;
    let client =
        AwsClient::new(Some(&moto.base), "eu-west-1", HttpPolicy::default()).expect("client");
    let created = client
        .json(
            &admin,
            SecretsManager,
            "CreateSecret",
            &json!({"Name": "team/api-key", "SecretString": "first"}),
            false,
        )
        .await
        .expect("create secret");
    assert!(created["ARN"].as_str().is_some(), "{created}");
    client
        .json(
            &admin,
            SecretsManager,
            "PutSecretValue",
            &json!({"SecretId": "team/api-key", "SecretString": "second"}),
            true,
        )
        .await
        .expect("put");
    let read = client
        .json(
            &admin,
            SecretsManager,
            "GetSecretValue",
            &json!({"SecretId": "team/api-key"}),
            true,
        )
        .await
        .expect("get");
    assert_eq!(read["SecretString"], "second");
    let missing = client
        .json(
            &admin,
            SecretsManager,
            "GetSecretValue",
            &json!({"SecretId": "nope"}),
            true,
        )
        .await
        .expect_err("missing");
    assert_eq!(missing.code().as_str(), "not_found", "{missing}");

    for value in ["one", "two"] {
        client
            .json(
                &admin,
                Ssm,
                "PutParameter",
                &json!({"Name": "/team/api-key", "Value": value, "Type": "SecureString", "Overwrite": true}),
                true,
            )
            .await
            .expect("put parameter");
    }
    let read = client
        .json(
            &admin,
            Ssm,
            "GetParameter",
            &json!({"Name": "/team/api-key", "WithDecryption": true}),
            true,
        )
        .await
        .expect("get parameter");
    assert_eq!(read["Parameter"]["Value"], "two");
    assert_eq!(read["Parameter"]["Type"], "SecureString");
    let missing = client
        .json(&admin, Ssm, "GetParameter", &json!({"Name": "/nope"}), true)
        .await
        .expect_err("missing");
    assert_eq!(missing.code().as_str(), "not_found", "{missing}");
    // A wrong secret half: unauthorized, and the answer does not echo it.
    let wrong = Credentials::parse(&Secret::new(format!(
        "{}:wrong-secret",
        admin.access_key_id
    )))
    .expect("pair");
    let e = client
        .json(
            &wrong,
            Ssm,
            "GetParameter",
            &json!({"Name": "/team/api-key"}),
            true,
        )
        .await
        .expect_err("refused");
    assert_eq!(e.code().as_str(), "provider_unauthorized", "{e}");
}
