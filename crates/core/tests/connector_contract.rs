//! The connector contract: every connector the registry opens, each
//! against a real service on loopback (the reference key service, the
//! service's fake from the test kit, or moto for AWS), held to what its
//! capabilities declare. A call it declares works end to end (a created
//! key is accepted, listed, looked up, switched off and on, rolled,
//! revoked and then rejected); a call it does not declare answers a typed
//! refusal (`not_supported`, or `by_hand` for a dashboard-only service)
//! and changes nothing on the service. The fixtures and the services'
//! sides are in `contract/`; a new kind does not compile until
//! `contract::fixture` and the `contract!` list below have it; each kind is
//! then its own test, `honours_its_declared_capabilities::<kind>`.

mod common;
mod contract;

use std::sync::Arc;

use contract::{fixture, Side};
use latchkey_core::catalog::ProviderKind;
use latchkey_core::http::HttpPolicy;
use latchkey_core::providers::{registry, Capabilities, Connector, KeySpec, Verification};
use latchkey_core::Secret;

fn refused(what: &str, e: &latchkey_core::Error) {
    assert!(
        matches!(e.code().as_str(), "not_supported" | "by_hand"),
        "{what}: {e} [{}]",
        e.code()
    );
}

/// The key a run works on: its id on the service and its secret.
struct Key {
    remote_id: String,
    secret: Secret,
}

/// Asserts the connector's verdict on `secret`: accepted or rejected.
async fn verified(what: &str, conn: &dyn Connector, secret: &Secret, accept: bool, check: &str) {
    let answer = conn.verify(secret).await;
    let held = match &answer {
        Ok(Verification::Accepted) => accept,
        Ok(Verification::Rejected { .. }) => !accept,
        Err(_) => false,
    };
    assert!(held, "{what}: {check}: verify answered {answer:?}");
}

async fn listed(what: &str, conn: &dyn Connector, remote_id: &str) -> bool {
    conn.list()
        .await
        .unwrap_or_else(|e| panic!("{what}: list: {e}"))
        .iter()
        .any(|k| k.remote_id == remote_id)
}

/// Made by the connector when it can, else by hand (straight on the
/// service, as a person would in its dashboard) after a refused create
/// that made nothing.
async fn a_key_to_work_on(what: &str, conn: &dyn Connector, side: &dyn Side) -> Key {
    let before = side.live().await;
    let spec = KeySpec {
        name: format!("contract {what}"),
        scopes: side.scopes(),
        expires_in_days: None,
    };
    if conn.capabilities().create {
        let (remote, secret) = conn
            .create(&spec, &format!("contract-{what}"))
            .await
            .unwrap_or_else(|e| panic!("{what}: create: {e}"));
        assert_eq!(remote.name, spec.name, "{what}");
        assert_eq!(side.live().await, before + 1, "{what}: one key made");
        Key {
            remote_id: remote.remote_id,
            secret,
        }
    } else {
        let e = conn
            .create(&spec, "contract-refused")
            .await
            .expect_err("create");
        refused(&format!("{what}: create"), &e);
        assert_eq!(side.live().await, before, "{what}: nothing made");
        let (remote_id, secret) = side.make_by_hand(&format!("by hand {what}")).await;
        Key { remote_id, secret }
    }
}

/// Listing, looking up and last use, each as declared.
async fn seen(what: &str, conn: &dyn Connector, caps: Capabilities, key: &Key) {
    let listed = conn
        .list()
        .await
        .unwrap_or_else(|e| panic!("{what}: list: {e}"));
    if caps.list {
        assert!(
            listed.iter().any(|k| k.remote_id == key.remote_id),
            "{what}: listed"
        );
    } else {
        assert!(
            listed.is_empty(),
            "{what}: a connector that cannot list lists nothing"
        );
    }
    match conn.get(&key.remote_id).await {
        Ok(found) if caps.get => assert_eq!(
            found.map(|k| k.remote_id),
            Some(key.remote_id.clone()),
            "{what}: get"
        ),
        Err(e) if !caps.get => refused(&format!("{what}: get"), &e),
        other => panic!("{what}: get disagrees with its capability: {other:?}"),
    }
    match conn.last_used(&key.remote_id).await {
        Ok(_) if caps.last_used => {}
        Err(e) if !caps.last_used => refused(&format!("{what}: last_used"), &e),
        other => panic!("{what}: last_used disagrees with its capability: {other:?}"),
    }
}

/// Switched off: the service refuses it but still holds it; switched on
/// again: it works as before.
async fn switched_off_and_on(what: &str, conn: &dyn Connector, side: &dyn Side, key: &Key) {
    let before = side.live().await;
    conn.set_active(&key.remote_id, false)
        .await
        .unwrap_or_else(|e| panic!("{what}: switch off: {e}"));
    assert!(!side.accepts(&key.secret).await, "{what}: refused when off");
    assert_eq!(side.live().await, before - 1, "{what}: one key off");
    if conn.capabilities().list {
        assert!(
            listed(what, conn, &key.remote_id).await,
            "{what}: a key switched off is still there"
        );
    }
    conn.set_active(&key.remote_id, true)
        .await
        .unwrap_or_else(|e| panic!("{what}: switch on: {e}"));
    assert!(side.accepts(&key.secret).await, "{what}: accepted when on");
    assert_eq!(side.live().await, before, "{what}: on again");
}

/// Rolled in place: the old secret dies at once, the new one works, the
/// service holds as many live keys as before. The new key is worked on.
async fn rolled(what: &str, conn: &dyn Connector, side: &dyn Side, old: Key) -> Key {
    let caps = conn.capabilities();
    let before = side.live().await;
    let (remote, secret) = conn
        .roll(&old.remote_id)
        .await
        .unwrap_or_else(|e| panic!("{what}: roll: {e}"));
    assert!(!side.accepts(&old.secret).await, "{what}: rolled key dead");
    assert!(side.accepts(&secret).await, "{what}: its successor works");
    assert_eq!(side.live().await, before, "{what}: a roll adds nothing");
    if caps.verify {
        verified(what, conn, &secret, true, "successor").await;
        verified(what, conn, &old.secret, false, "rolled key").await;
    }
    if caps.list {
        assert!(
            listed(what, conn, &remote.remote_id).await,
            "{what}: successor listed"
        );
    }
    Key {
        remote_id: remote.remote_id,
        secret,
    }
}

/// Revoked: refused by the service at once, and gone (or marked revoked)
/// from its listing and lookup. A connector that declares a revocation
/// cache has the service's records say 404, which is how the vault
/// confirms such a revoke.
async fn revoked(what: &str, conn: &dyn Connector, side: &dyn Side, key: &Key) {
    let caps = conn.capabilities();
    let before = side.live().await;
    conn.revoke(&key.remote_id)
        .await
        .unwrap_or_else(|e| panic!("{what}: revoke: {e}"));
    assert!(
        !side.accepts(&key.secret).await,
        "{what}: refused once revoked"
    );
    assert_eq!(side.live().await, before - 1, "{what}: one key revoked");
    if caps.verify {
        verified(what, conn, &key.secret, false, "a revoked key").await;
    }
    if caps.list {
        let keys = conn
            .list()
            .await
            .unwrap_or_else(|e| panic!("{what}: list: {e}"));
        assert!(
            keys.iter()
                .all(|k| k.remote_id != key.remote_id || k.revoked_at.is_some()),
            "{what}: a revoked key is not listed as live"
        );
    }
    if caps.get {
        match conn.get(&key.remote_id).await {
            Ok(None) => {}
            Ok(Some(k)) => {
                assert!(
                    conn.revocation_cache().is_none(),
                    "{what}: revoke waits on a 404 that does not come"
                );
                assert!(k.revoked_at.is_some(), "{what}: looked up as live");
            }
            Err(e) => panic!("{what}: get after revoke: {e}"),
        }
    }
}

/// The whole contract for one connector, each call held to its declared
/// capability.
async fn honour_the_contract(kind: ProviderKind, conn: Arc<dyn Connector>, side: &dyn Side) {
    let conn = conn.as_ref();
    let caps = conn.capabilities();
    let what = kind.as_str();
    conn.test()
        .await
        .unwrap_or_else(|e| panic!("{what}: test: {e}"));
    if caps.verify {
        verified(what, conn, &side.made_up(), false, "a made-up key").await;
    }
    let mut key = a_key_to_work_on(what, conn, side).await;
    if caps.verify {
        verified(what, conn, &key.secret, true, "the key worked on").await;
    }
    seen(what, conn, caps, &key).await;
    if caps.set_active {
        switched_off_and_on(what, conn, side, &key).await;
    } else {
        let e = conn
            .set_active(&key.remote_id, false)
            .await
            .expect_err("set_active");
        refused(&format!("{what}: set_active"), &e);
    }
    if caps.roll {
        key = rolled(what, conn, side, key).await;
    } else {
        let e = conn.roll(&key.remote_id).await.expect_err("roll");
        refused(&format!("{what}: roll"), &e);
    }
    // Nothing above left the key switched off.
    assert!(side.accepts(&key.secret).await, "{what}: still accepted");
    if caps.revoke {
        revoked(what, conn, side, &key).await;
    } else {
        let e = conn.revoke(&key.remote_id).await.expect_err("revoke");
        refused(&format!("{what}: revoke"), &e);
        assert!(side.accepts(&key.secret).await, "{what}: still accepted");
    }
}

/// One kind's run: its fixture, the connector the registry opens for it,
/// the contract.
async fn run(kind: ProviderKind) {
    let (record, token, side) = fixture(kind).await;
    assert_eq!(record.kind, kind, "{kind:?}'s fixture records another kind");
    let conn = registry::open(&record, token, HttpPolicy::default()).expect("open");
    honour_the_contract(kind, conn, side.as_ref()).await;
}

/// One test a kind, named as the kind is, and `test_of`, whose `match` on
/// kinds does not compile until every kind has its test here.
macro_rules! contract {
    ($($test:ident: $kind:ident),* $(,)?) => {
        mod honours_its_declared_capabilities {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    run(ProviderKind::$kind).await;
                }
            )*
        }

        /// The name of the test that runs `kind`'s contract.
        fn test_of(kind: ProviderKind) -> &'static str {
            match kind {
                $(ProviderKind::$kind => stringify!($test),)*
            }
        }
    };
}

contract! {
    keyservice: Keyservice,
    manual: Manual,
    aws: Aws,
    github: Github,
    dakora: Dakora,
    open_animate: OpenAnimate,
    gitlab: Gitlab,
    vercel: Vercel,
    netlify: Netlify,
    cloudflare: Cloudflare,
    openrouter: OpenRouter,
    openai: OpenAi,
    sendgrid: Sendgrid,
    twilio: Twilio,
}

/// Every kind in the registry has a contract run (the `match` in
/// `test_of`, and `contract::fixture`'s, do not compile without one), and
/// the test named for a kind is the one that runs it.
#[test]
fn every_registry_kind_has_a_contract_run() {
    for &kind in ProviderKind::ALL {
        assert_eq!(
            test_of(kind),
            kind.as_str().replace('-', "_"),
            "{kind:?} is run by the test for another kind"
        );
    }
}

#[test]
fn the_kind_list_is_complete() {
    for &kind in ProviderKind::ALL {
        assert_eq!(ProviderKind::parse(kind.as_str()), Some(kind));
    }
    // Adding a kind without adding it to ALL fails to compile here.
    let _every: fn(ProviderKind) -> usize = |k| match k {
        ProviderKind::Keyservice
        | ProviderKind::Manual
        | ProviderKind::Aws
        | ProviderKind::Github
        | ProviderKind::Dakora
        | ProviderKind::OpenAnimate
        | ProviderKind::Gitlab
        | ProviderKind::Vercel
        | ProviderKind::Netlify
        | ProviderKind::Cloudflare
        | ProviderKind::OpenRouter
        | ProviderKind::OpenAi
        | ProviderKind::Sendgrid
        | ProviderKind::Twilio => 0,
    };
    assert_eq!(ProviderKind::ALL.len(), 14);
}
