//! The OpenAI project-key connector end to end against a fake admin API
//! on loopback (testkit fakes::openai): a service-account key's whole
//! life (create, verify, list, last used, revoke with its account), a
//! restricted key accepted on 403, a listing over pages, a key matched by
//! its redacted value, typed errors and 429 honoured.

use super::{quick, spec};
use latchkey_testkit::fakes::openai as fake_openai;

use fake_openai::{FakeOpenAi, PROJECT};
use latchkey_core::providers::openai::OpenAiConnector;
use latchkey_core::providers::{Connector, KeySpec, Verification};
use latchkey_core::Secret;

fn open(fake: &FakeOpenAi, token: &str) -> OpenAiConnector {
    OpenAiConnector::new(&fake.base, PROJECT, Secret::new(token), quick()).expect("open")
}

#[tokio::test]
async fn a_service_account_key_from_create_to_revoke() {
    let fake = FakeOpenAi::start().await;
    let conn = open(&fake, &fake.admin);
    conn.test().await.expect("connection test");
    let (remote, key) = conn.create(&spec("ci bot"), "i").await.expect("create");
    assert!(key.expose_secret().starts_with("sk-svcacct-"));
    assert!(remote.remote_id.starts_with("key_"));
    assert_eq!(remote.name, "ci bot", "the key is named by its account");
    assert!(remote
        .created_at
        .as_deref()
        .is_some_and(|t| t.ends_with('Z')));
    assert_eq!(fake.account_count(), 1);
    assert_eq!(
        conn.last_used(&remote.remote_id).await.expect("last used"),
        None
    );
    assert_eq!(
        conn.verify(&key).await.expect("verify"),
        Verification::Accepted
    );
    let listed = conn.list().await.expect("list");
    let mine = listed
        .iter()
        .find(|k| k.remote_id == remote.remote_id)
        .expect("listed");
    assert!(conn.owns(&key, mine), "matched by its redacted value");
    assert_eq!(mine.name, "ci bot", "listed under its account's name");
    let used = conn
        .last_used(&remote.remote_id)
        .await
        .expect("last used")
        .expect("used by the verify");
    assert!(used.ends_with('Z'), "{used}");
    conn.revoke(&remote.remote_id).await.expect("revoke");
    assert_eq!(fake.account_count(), 0, "its service account went too");
    assert_eq!(fake.key_count(), 0);
    conn.revoke(&remote.remote_id).await.expect("already gone");
    assert!(conn.get(&remote.remote_id).await.expect("get").is_none());
    assert_eq!(
        conn.verify(&key).await.expect("verify"),
        Verification::Rejected {
            code: "invalid_api_key".into()
        }
    );
}

#[tokio::test]
async fn restricted_keys_pages_and_user_keys() {
    let fake = FakeOpenAi::start().await;
    let conn = open(&fake, &fake.admin);
    let restricted = fake.seed_user_key("restricted", true);
    assert_eq!(
        conn.verify(&Secret::new(&restricted))
            .await
            .expect("verify"),
        Verification::Accepted,
        "403 is a valid key without model access"
    );
    fake.seed_user_keys(150);
    let before = fake.call_count();
    let all = conn.list().await.expect("list");
    assert_eq!(all.len(), 151);
    assert_eq!(fake.call_count() - before, 2);
    // A user's own key is deleted, nothing else.
    conn.revoke(&all[1].remote_id).await.expect("revoke");
    assert_eq!(fake.key_count(), 150);
}

#[tokio::test]
async fn errors_are_typed_and_429_is_honoured() {
    let fake = FakeOpenAi::start().await;
    let conn = open(&fake, &fake.admin);
    let code = |e: latchkey_core::Error| {
        assert!(!e.to_string().contains(&fake.admin), "{e}");
        e.code().as_str().to_owned()
    };
    assert_eq!(
        code(open(&fake, "sk-admin-nope").list().await.unwrap_err()),
        "provider_unauthorized"
    );
    let user = fake.seed_user_key("mine", false);
    assert_eq!(
        code(open(&fake, &user).list().await.unwrap_err()),
        "provider_forbidden"
    );
    let elsewhere =
        OpenAiConnector::new(&fake.base, "proj_other", Secret::new(&fake.admin), quick())
            .expect("open");
    assert_eq!(code(elsewhere.list().await.unwrap_err()), "not_found");
    let e = conn.create(&spec(""), "i").await.unwrap_err();
    assert!(e.to_string().contains("Missing required parameter"), "{e}");
    assert_eq!(code(e), "invalid_input");
    assert_eq!(
        code(
            conn.create(
                &KeySpec {
                    expires_in_days: Some(30),
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
        code(OpenAiConnector::new(&fake.base, "", Secret::new("x"), quick()).unwrap_err()),
        "invalid_input"
    );
    fake.fail_next(200, &[("content-type", "text/html")], "<html>cf</html>");
    let e = conn.verify(&Secret::new(&user)).await.unwrap_err();
    assert!(e.to_string().contains("HTML"), "{e}");
    fake.fail_next(422, &[], r#"{"error":{"message":"bad","code":"x"}}"#);
    assert_eq!(code(conn.list().await.unwrap_err()), "invalid_input");
    fake.fail_next(
        429,
        &[("retry-after", "1")],
        r#"{"error":{"message":"Rate limit reached"}}"#,
    );
    let before = fake.call_count();
    conn.list().await.expect("list after the wait");
    assert_eq!(fake.call_count() - before, 2);
    fake.fail_next(429, &[("retry-after", "60")], "{}");
    assert_eq!(code(conn.list().await.unwrap_err()), "rate_limited");
}
