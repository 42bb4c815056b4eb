//! The connector contract: every connector the registry opens, against a
//! real service on loopback (the reference key service), held to what its
//! capabilities declare. A call it declares works end to end (a created key
//! is accepted, listed, looked up, revoked and then rejected); a call it
//! does not declare answers a typed refusal (`not_supported`, or `by_hand`
//! for a dashboard-only service) and changes nothing on the service.
//! A new connector gets a fixture below (the `match` will not compile
//! without one) and then the whole suite.

mod common;

use std::sync::Arc;

use common::*;
use latchkey_core::catalog::{ProviderKind, ProviderRecord};
use latchkey_core::http::HttpPolicy;
use latchkey_core::providers::{registry, Connector, KeySpec, Verification};
use latchkey_core::Secret;

/// The connection a person would record for `kind`, on `service`; `None`
/// for a connector whose service is not the reference one (it has its own
/// suite against its own server: AWS against moto in `tests/aws_iam.rs`).
fn fixture(kind: ProviderKind, service: &Service) -> Option<(ProviderRecord, Secret)> {
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
        ProviderKind::Keyservice => (record(service.base.clone(), "demo", ""), Secret::new(ADMIN)),
        ProviderKind::Aws => return None,
        ProviderKind::Manual => (
            record(
                format!("{}/v1/verify", service.base),
                "",
                "https://dashboard.example/keys",
            ),
            Secret::new(""),
        ),
        ProviderKind::Github
        | ProviderKind::Dakora
        | ProviderKind::OpenAnimate
        | ProviderKind::Gitlab
        | ProviderKind::Vercel
        | ProviderKind::Netlify
        | ProviderKind::Cloudflare
        | ProviderKind::OpenRouter
        | ProviderKind::OpenAi
        | ProviderKind::Sendgrid
        | ProviderKind::Twilio => {
            unreachable!("excluded: see EXCLUDED")
        }
    })
}

/// Kinds the reference key service cannot stand in for, with the reason.
/// GitHub: its connector only checks a GitHub token (`GET /user`), which
/// the reference service does not serve; github_secrets.rs tests it
/// against the fake GitHub API. Dakora and Open Animate speak their own
/// protocols: tests/dakora.rs and tests/open_animate.rs against their fakes.
/// GitLab, Vercel and Netlify speak their own APIs: tests/gitlab.rs,
/// tests/vercel.rs and tests/netlify.rs against their fakes.
/// (AWS has no fixture here either: tests/aws_iam.rs, against moto.)
/// Cloudflare, OpenRouter, OpenAI, SendGrid and Twilio likewise: each has
/// its own file in tests/ against its fake in tests/common/.
const EXCLUDED: &[ProviderKind] = &[
    ProviderKind::Github,
    ProviderKind::Dakora,
    ProviderKind::OpenAnimate,
    ProviderKind::Gitlab,
    ProviderKind::Vercel,
    ProviderKind::Netlify,
    ProviderKind::Cloudflare,
    ProviderKind::OpenRouter,
    ProviderKind::OpenAi,
    ProviderKind::Sendgrid,
    ProviderKind::Twilio,
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

async fn honour_the_contract(kind: ProviderKind, conn: Arc<dyn Connector>, service: &Service) {
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
    let before = live_count(service).await;
    let spec = KeySpec {
        name: format!("contract {what}"),
        scopes: vec!["read".into()],
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
        assert_eq!(
            live_count(service).await,
            before + 1,
            "{what}: one key made"
        );
        (remote.remote_id, secret)
    } else {
        let e = conn
            .create(&spec, "contract-refused")
            .await
            .expect_err("create");
        refused(&format!("{what}: create"), &e);
        assert_eq!(live_count(service).await, before, "{what}: nothing made");
        let made = service.create_directly(&format!("by hand {what}")).await;
        (
            made["id"].as_str().expect("id").to_owned(),
            Secret::new(made["key"].as_str().expect("key")),
        )
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
    assert_eq!(
        service.verify_status(secret.expose_secret()).await,
        200,
        "{what}"
    );
    if caps.revoke {
        conn.revoke(&remote_id)
            .await
            .unwrap_or_else(|e| panic!("{what}: revoke: {e}"));
        assert_eq!(
            service.verify_status(secret.expose_secret()).await,
            401,
            "{what}"
        );
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
        assert_eq!(
            service.verify_status(secret.expose_secret()).await,
            200,
            "{what}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connector_honours_its_declared_capabilities() {
    for &kind in ProviderKind::ALL {
        if EXCLUDED.contains(&kind) {
            continue;
        }
        let service = key_service(false).await;
        let Some((record, token)) = fixture(kind, &service) else {
            continue;
        };
        let conn = registry::open(&record, token, HttpPolicy::default()).expect("open");
        honour_the_contract(kind, conn, &service).await;
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
