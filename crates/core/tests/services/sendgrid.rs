//! The SendGrid connector end to end against a fake key API on loopback
//! (testkit fakes::sendgrid): a key's whole life (create with
//! scopes, verify, list, look up, revoke), the 100-key limit, typed errors
//! and 429 honoured.

use super::quick;
use latchkey_testkit::fakes::sendgrid as fake_sendgrid;

use fake_sendgrid::FakeSendgrid;
use latchkey_core::providers::sendgrid::SendgridConnector;
use latchkey_core::providers::{Connector, KeySpec, Verification};
use latchkey_core::Secret;

fn spec(name: &str, scopes: &[&str]) -> KeySpec {
    KeySpec {
        name: name.into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        expires_in_days: None,
    }
}

#[tokio::test]
async fn a_key_from_create_to_revoke() {
    let fake = FakeSendgrid::start().await;
    let admin = fake.seed_admin_key();
    let conn = SendgridConnector::new(&fake.base, Secret::new(&admin), quick()).expect("open");
    conn.test().await.expect("connection test");
    assert_eq!(conn.key_limit(), Some(100));
    let (remote, key) = conn
        .create(&spec("mailer", &["mail.send"]), "i")
        .await
        .expect("create");
    assert!(key.expose_secret().starts_with("SG."));
    assert_eq!(remote.scopes, ["mail.send"]);
    assert_eq!(remote.preview, key.masked());
    assert_eq!(
        conn.verify(&key).await.expect("verify"),
        Verification::Accepted
    );
    assert!(conn
        .list()
        .await
        .expect("list")
        .iter()
        .any(|k| k.remote_id == remote.remote_id && k.name == "mailer"));
    let one = conn
        .get(&remote.remote_id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(one.scopes, ["mail.send"]);
    assert_eq!(
        conn.last_used(&remote.remote_id)
            .await
            .unwrap_err()
            .code()
            .as_str(),
        "not_supported"
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
}

#[tokio::test]
async fn limits_and_errors_are_typed() {
    let fake = FakeSendgrid::start().await;
    let admin = fake.seed_admin_key();
    let conn = SendgridConnector::new(&fake.base, Secret::new(&admin), quick()).expect("open");
    let code = |e: latchkey_core::Error| {
        assert!(!e.to_string().contains(&admin), "{e}");
        e.code().as_str().to_owned()
    };
    let mail = fake.seed_mail_key();
    let limited = SendgridConnector::new(&fake.base, Secret::new(&mail), quick()).expect("open");
    assert_eq!(
        code(limited.list().await.unwrap_err()),
        "provider_forbidden"
    );
    let stranger =
        SendgridConnector::new(&fake.base, Secret::new("SG.nope.nope"), quick()).expect("open");
    assert_eq!(
        code(stranger.list().await.unwrap_err()),
        "provider_unauthorized"
    );
    let e = conn.create(&spec("", &[]), "i").await.unwrap_err();
    assert!(e.to_string().contains("missing required argument"), "{e}");
    assert_eq!(code(e), "invalid_input");
    fake.fail_next(
        400,
        &[],
        r#"{"errors":[{"field":null,"message":"You have reached the API key limit"}]}"#,
    );
    assert_eq!(
        code(conn.create(&spec("x", &[]), "i").await.unwrap_err()),
        "provider_conflict"
    );
    fake.fail_next(200, &[("content-type", "text/html")], "<html>x</html>");
    let e = conn.list().await.unwrap_err();
    assert!(e.to_string().contains("HTML"), "{e}");
    fake.fail_next(
        200,
        &[],
        r#"{"api_key":"not-a-key","api_key_id":"x","name":"x"}"#,
    );
    let e = conn.create(&spec("x", &[]), "i").await.unwrap_err();
    assert!(!e.to_string().contains("not-a-key"), "{e}");
    assert_eq!(code(e), "bad_response");
    fake.fail_next(
        429,
        &[("retry-after", "1")],
        r#"{"errors":[{"message":"too many requests"}]}"#,
    );
    let before = fake.call_count();
    conn.list().await.expect("list after the wait");
    assert_eq!(fake.call_count() - before, 2);
    fake.fail_next(429, &[("retry-after", "100")], "{}");
    assert_eq!(code(conn.list().await.unwrap_err()), "rate_limited");
    // Fill the account: the 101st is refused with the limit named.
    for i in 0..98 {
        conn.create(&spec(&format!("k{i}"), &[]), "i")
            .await
            .expect("create");
    }
    let e = conn
        .create(&spec("one too many", &[]), "i")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("100"), "{e}");
}
