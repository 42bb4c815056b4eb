//! The connector contract: the connectors the registry opens, each against
//! a real service on loopback (the reference key service, or the service's
//! fake from the test kit), held to what its capabilities declare. A call
//! it declares works end to end (a created key is accepted, listed, looked
//! up, revoked and then rejected); a call it does not declare answers a
//! typed refusal (`not_supported`, or `by_hand` for a dashboard-only
//! service) and changes nothing on the service. A new connector gets a
//! fixture below (the `match` will not compile without one) and then the
//! whole suite, or an entry in `EXCLUDED` naming its own suite.

mod common;

use std::sync::Arc;

use common::*;
use latchkey_core::catalog::{ProviderKind, ProviderRecord};
use latchkey_core::http::HttpPolicy;
use latchkey_core::providers::{registry, Connector, KeySpec, Verification};
use latchkey_core::Secret;
use latchkey_testkit::fakes::openrouter::FakeOpenRouter;
use latchkey_testkit::fakes::sendgrid::FakeSendgrid;

/// The service side of a run: what the test sees on the service itself,
/// not through the connector under test.
enum Side {
    /// The reference key service (project `demo`).
    Reference(Service),
    /// The fake OpenRouter (its management key is marked as such).
    OpenRouter(FakeOpenRouter),
    /// The fake SendGrid and its admin key (the connection's credential).
    Sendgrid(FakeSendgrid, String),
}

impl Side {
    /// Keys on the service that are live (not revoked or switched off),
    /// the connection's own management credential left out.
    async fn live(&self) -> usize {
        match self {
            Side::Reference(service) => live_count(service).await,
            Side::OpenRouter(fake) => fake
                .inner()
                .keys
                .iter()
                .filter(|k| !k.management && !k.disabled)
                .count(),
            Side::Sendgrid(fake, admin) => {
                fake.inner().keys.iter().filter(|k| &k.key != admin).count()
            }
        }
    }

    /// Whether the service accepts `secret` as a key.
    async fn accepts(&self, secret: &Secret) -> bool {
        match self {
            Side::Reference(service) => match service.verify_status(secret.expose_secret()).await {
                200 => true,
                401 => false,
                other => panic!("verify answered {other}"),
            },
            Side::OpenRouter(fake) => fake
                .inner()
                .keys
                .iter()
                .any(|k| k.key == secret.expose_secret() && !k.disabled),
            Side::Sendgrid(fake, _) => fake
                .inner()
                .keys
                .iter()
                .any(|k| k.key == secret.expose_secret()),
        }
    }

    /// Scopes a key may be made with there (in the service's own names).
    fn scopes(&self) -> Vec<String> {
        match self {
            Side::Reference(_) => vec!["read".into()],
            Side::OpenRouter(_) => vec![],
            Side::Sendgrid(..) => vec!["mail.send".into()],
        }
    }

    /// A key made on the service by hand (as a person would in its
    /// dashboard), for a connector that cannot create: its remote id and
    /// secret.
    async fn make_by_hand(&self, name: &str) -> (String, Secret) {
        match self {
            Side::Reference(service) => {
                let made = service.create_directly(name).await;
                (
                    made["id"].as_str().expect("id").to_owned(),
                    Secret::new(made["key"].as_str().expect("key")),
                )
            }
            Side::OpenRouter(_) | Side::Sendgrid(..) => {
                unreachable!("this connector creates")
            }
        }
    }
}

/// The connection a person would record for `kind`, on a service started
/// for it, and that service's side; `None` for a connector that has its own
/// suite instead (see `EXCLUDED`).
async fn fixture(kind: ProviderKind) -> Option<(ProviderRecord, Secret, Side)> {
    let record = |base_url: String, project: &str, dashboard: &str| ProviderRecord {
        id: format!("contract-{}", kind.as_str()),
        kind,
        name: format!("contract {}", kind.as_str()),
        base_url,
        project: project.into(),
        is_demo: false,
        created_at: "2026-01-01T00:00:00Z".into(),
        dashboard_url: dashboard.into(),
    };
    Some(match kind {
        ProviderKind::Keyservice => {
            let service = key_service(false).await;
            (
                record(service.base.clone(), "demo", ""),
                Secret::new(ADMIN),
                Side::Reference(service),
            )
        }
        ProviderKind::Manual => {
            let service = key_service(false).await;
            (
                record(
                    format!("{}/v1/verify", service.base),
                    "",
                    "https://dashboard.example/keys",
                ),
                Secret::new(""),
                Side::Reference(service),
            )
        }
        ProviderKind::OpenRouter => {
            let fake = FakeOpenRouter::start().await;
            let management = fake.seed_management_key();
            (
                record(fake.base.clone(), "", ""),
                Secret::new(management),
                Side::OpenRouter(fake),
            )
        }
        ProviderKind::Sendgrid => {
            let fake = FakeSendgrid::start().await;
            let admin = fake.seed_admin_key();
            (
                record(fake.base.clone(), "", ""),
                Secret::new(admin.clone()),
                Side::Sendgrid(fake, admin),
            )
        }
        ProviderKind::Aws
        | ProviderKind::Github
        | ProviderKind::Dakora
        | ProviderKind::OpenAnimate
        | ProviderKind::Gitlab
        | ProviderKind::Vercel
        | ProviderKind::Netlify
        | ProviderKind::Cloudflare
        | ProviderKind::OpenAi
        | ProviderKind::Twilio => {
            assert!(EXCLUDED.iter().any(|(k, _)| *k == kind), "{kind:?}");
            return None;
        }
    })
}

/// Connectors not yet run by the contract, each with the suite that holds
/// it to its capabilities against its own server instead (a file in
/// `tests/`; the test below checks it exists). GitHub's connector only
/// checks a GitHub token (`GET /user`); AWS runs against moto; the others
/// speak their own APIs, whose fakes are in `latchkey_testkit::fakes`.
const EXCLUDED: &[(ProviderKind, &str)] = &[
    (ProviderKind::Aws, "aws_iam.rs"),
    (ProviderKind::Github, "github_secrets.rs"),
    (ProviderKind::Dakora, "dakora.rs"),
    (ProviderKind::OpenAnimate, "open_animate.rs"),
    (ProviderKind::Gitlab, "gitlab.rs"),
    (ProviderKind::Vercel, "vercel.rs"),
    (ProviderKind::Netlify, "netlify.rs"),
    (ProviderKind::Cloudflare, "cloudflare.rs"),
    (ProviderKind::OpenAi, "openai.rs"),
    (ProviderKind::Twilio, "twilio.rs"),
];

fn refused(what: &str, e: &latchkey_core::Error) {
    assert!(
        matches!(e.code().as_str(), "not_supported" | "by_hand"),
        "{what}: {e} [{}]",
        e.code()
    );
}

async fn live_count(service: &Service) -> usize {
    service
        .remote_keys()
        .await
        .iter()
        .filter(|k| k["revoked_at"].is_null())
        .count()
}

async fn honour_the_contract(kind: ProviderKind, conn: Arc<dyn Connector>, side: &Side) {
    let caps = conn.capabilities();
    let what = kind.as_str();
    conn.test()
        .await
        .unwrap_or_else(|e| panic!("{what}: test: {e}"));
    let garbage = Secret::new("lk_00000000_not-a-key-at-all-0000000000");
    if caps.verify {
        assert!(
            matches!(
                conn.verify(&garbage).await,
                Ok(Verification::Rejected { .. })
            ),
            "{what}: a made-up key must be rejected"
        );
    }
    let before = side.live().await;
    let spec = KeySpec {
        name: format!("contract {what}"),
        scopes: side.scopes(),
        expires_in_days: None,
    };
    // A key to work on: made by the connector when it can, else by hand
    // (here: straight on the service, as a person would in its dashboard).
    let (remote_id, secret) = if caps.create {
        let (remote, secret) = conn
            .create(&spec, &format!("contract-{what}"))
            .await
            .unwrap_or_else(|e| panic!("{what}: create: {e}"));
        assert_eq!(remote.name, spec.name, "{what}");
        assert_eq!(side.live().await, before + 1, "{what}: one key made");
        (remote.remote_id, secret)
    } else {
        let e = conn
            .create(&spec, "contract-refused")
            .await
            .expect_err("create");
        refused(&format!("{what}: create"), &e);
        assert_eq!(side.live().await, before, "{what}: nothing made");
        side.make_by_hand(&format!("by hand {what}")).await
    };
    if caps.verify {
        assert_eq!(
            conn.verify(&secret).await.ok(),
            Some(Verification::Accepted),
            "{what}"
        );
    }
    let listed = conn
        .list()
        .await
        .unwrap_or_else(|e| panic!("{what}: list: {e}"));
    if caps.list {
        assert!(
            listed.iter().any(|k| k.remote_id == remote_id),
            "{what}: listed"
        );
    } else {
        assert!(
            listed.is_empty(),
            "{what}: a connector that cannot list lists nothing"
        );
    }
    match conn.get(&remote_id).await {
        Ok(found) if caps.get => assert_eq!(found.map(|k| k.remote_id), Some(remote_id.clone())),
        Err(e) if !caps.get => refused(&format!("{what}: get"), &e),
        other => panic!("{what}: get disagrees with its capability: {other:?}"),
    }
    match conn.last_used(&remote_id).await {
        Ok(_) if caps.last_used => {}
        Err(e) if !caps.last_used => refused(&format!("{what}: last_used"), &e),
        other => panic!("{what}: last_used disagrees with its capability: {other:?}"),
    }
    if !caps.set_active {
        let e = conn
            .set_active(&remote_id, false)
            .await
            .expect_err("set_active");
        refused(&format!("{what}: set_active"), &e);
    }
    if !caps.roll {
        let e = conn.roll(&remote_id).await.expect_err("roll");
        refused(&format!("{what}: roll"), &e);
    }
    // Nothing above switched the key off.
    assert!(side.accepts(&secret).await, "{what}: still accepted");
    if caps.revoke {
        conn.revoke(&remote_id)
            .await
            .unwrap_or_else(|e| panic!("{what}: revoke: {e}"));
        assert!(!side.accepts(&secret).await, "{what}: refused once revoked");
        if caps.verify {
            assert!(
                matches!(
                    conn.verify(&secret).await,
                    Ok(Verification::Rejected { .. })
                ),
                "{what}: a revoked key is rejected"
            );
        }
    } else {
        let e = conn.revoke(&remote_id).await.expect_err("revoke");
        refused(&format!("{what}: revoke"), &e);
        assert!(side.accepts(&secret).await, "{what}: still accepted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connector_honours_its_declared_capabilities() {
    let mut ran = 0;
    for &kind in ProviderKind::ALL {
        let Some((record, token, side)) = fixture(kind).await else {
            continue;
        };
        let conn = registry::open(&record, token, HttpPolicy::default()).expect("open");
        honour_the_contract(kind, conn, &side).await;
        ran += 1;
    }
    assert_eq!(ran + EXCLUDED.len(), ProviderKind::ALL.len());
}

/// Every kind in the registry is either run by the contract above or named
/// in `EXCLUDED` with a suite of its own that exists; a kind added to the
/// registry with neither fails here (and `fixture`'s `match` does not
/// compile without an arm for it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_registry_kind_has_a_contract_run_or_its_own_suite() {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for &kind in ProviderKind::ALL {
        let excluded = EXCLUDED.iter().find(|(k, _)| *k == kind);
        let runs = fixture(kind).await.is_some();
        match excluded {
            Some((_, suite)) => {
                assert!(
                    !runs,
                    "{kind:?} is run by the contract: drop it from EXCLUDED"
                );
                let suite = tests.join(suite);
                assert!(suite.is_file(), "{kind:?}: no suite {}", suite.display());
            }
            None => assert!(runs, "{kind:?} has no contract run and no suite of its own"),
        }
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
