//! The OpenRouter connector end to end against a fake key API on loopback
//! (testkit fakes::openrouter): a key's whole life (create, verify,
//! list, look up, off and on, revoke), a listing over several pages,
//! error answers mapped to typed codes, and 429 honoured.

use super::{quick, spec};
use latchkey_testkit::fakes::openrouter as fake_openrouter;

use fake_openrouter::FakeOpenRouter;
use latchkey_core::providers::openrouter::OpenRouterConnector;
use latchkey_core::providers::{Connector, KeySpec, Verification};
use latchkey_core::Secret;

#[tokio::test]
async fn a_key_from_create_to_revoke() {
    let fake = FakeOpenRouter::start().await;
    let admin = fake.seed_management_key();
    let conn = OpenRouterConnector::new(&fake.base, Secret::new(&admin), quick()).expect("open");
    conn.test().await.expect("connection test");
    let (remote, key) = conn
        .create(
            &KeySpec {
                expires_in_days: Some(7),
                ..spec("ci")
            },
            "i",
        )
        .await
        .expect("create");
    assert!(key.expose_secret().starts_with("sk-or-v1-"));
    assert_eq!(remote.remote_id.len(), 64);
    assert_eq!(remote.name, "ci");
    assert!(remote.expires_at.is_some());
    assert_eq!(remote.preview, key.masked());
    assert_eq!(
        conn.verify(&key).await.expect("verify"),
        Verification::Accepted
    );
    let listed = conn.list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].remote_id, remote.remote_id);
    assert_eq!(
        conn.last_used(&remote.remote_id)
            .await
            .unwrap_err()
            .code()
            .as_str(),
        "not_supported",
        "OpenRouter publishes no last-used time"
    );

    conn.set_active(&remote.remote_id, false)
        .await
        .expect("off");
    assert!(matches!(
        conn.verify(&key).await.expect("verify"),
        Verification::Rejected { .. }
    ));
    let off = conn.list().await.expect("list");
    assert_eq!(off.len(), 1, "a disabled key is still listed");
    assert_eq!(off[0].scopes, ["status:disabled"]);
    conn.set_active(&remote.remote_id, true).await.expect("on");
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
}

#[tokio::test]
async fn the_listing_reads_every_page() {
    let fake = FakeOpenRouter::start().await;
    let admin = fake.seed_management_key();
    fake.seed_keys(230);
    let conn = OpenRouterConnector::new(&fake.base, Secret::new(&admin), quick()).expect("open");
    let before = fake.call_count();
    assert_eq!(conn.list().await.expect("list").len(), 230);
    assert_eq!(fake.call_count() - before, 3);
}

#[tokio::test]
async fn errors_are_typed_and_429_is_honoured() {
    let fake = FakeOpenRouter::start().await;
    let admin = fake.seed_management_key();
    let conn = OpenRouterConnector::new(&fake.base, Secret::new(&admin), quick()).expect("open");
    let code = |e: latchkey_core::Error| {
        assert!(!e.to_string().contains(&admin), "{e}");
        e.code().as_str().to_owned()
    };
    let stranger = OpenRouterConnector::new(
        &fake.base,
        Secret::new(format!("sk-or-v1-{}", "0".repeat(64))),
        quick(),
    )
    .expect("open");
    assert_eq!(
        code(stranger.list().await.unwrap_err()),
        "provider_unauthorized"
    );
    let (_, ordinary) = conn.create(&spec("plain"), "i").await.expect("create");
    let plain = OpenRouterConnector::new(&fake.base, ordinary, quick()).expect("open");
    assert_eq!(code(plain.list().await.unwrap_err()), "provider_forbidden");
    let e = conn.create(&spec(""), "i").await.unwrap_err();
    assert!(e.to_string().contains("Name is required"), "{e}");
    assert_eq!(code(e), "invalid_input");
    assert_eq!(
        code(conn.set_active(&"0".repeat(64), false).await.unwrap_err()),
        "not_found"
    );
    assert_eq!(code(conn.get("a/b").await.unwrap_err()), "invalid_input");
    fake.fail_next(422, &[], r#"{"error":{"code":422,"message":"bad limit"}}"#);
    assert_eq!(code(conn.list().await.unwrap_err()), "invalid_input");
    fake.fail_next(200, &[("content-type", "text/html")], "<html>login</html>");
    assert_eq!(
        code(conn.verify(&Secret::new(&admin)).await.unwrap_err()),
        "bad_response"
    );
    fake.fail_next(200, &[("content-type", "text/html")], "<html>login</html>");
    let e = conn.list().await.unwrap_err();
    assert!(e.to_string().contains("HTML"), "{e}");
    // 429: a short Retry-After is waited out; a long one is reported.
    fake.fail_next(
        429,
        &[("retry-after", "1")],
        r#"{"error":{"code":429,"message":"slow"}}"#,
    );
    let before = fake.call_count();
    conn.list().await.expect("list after the wait");
    assert_eq!(fake.call_count() - before, 2);
    fake.fail_next(429, &[("retry-after", "120")], "{}");
    assert_eq!(code(conn.list().await.unwrap_err()), "rate_limited");
    // A POST is not retried on 429 (it may have made a key).
    fake.fail_next(429, &[("retry-after", "1")], "{}");
    let before = fake.call_count();
    assert_eq!(
        code(conn.create(&spec("x"), "i").await.unwrap_err()),
        "rate_limited"
    );
    assert_eq!(fake.call_count() - before, 1);
}
