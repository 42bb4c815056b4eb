//! Vercel against a fake Vercel API on loopback: project environment
//! variables as a deploy target (upsert for all three targets, read back
//! decrypted, sensitive variables refused, backup and restore, the "next
//! deployment" notice, typed errors and limits) and account tokens as a
//! connector (create, list, verify, revoke).

use super::fast;
use latchkey_testkit::fakes::vercel as fake_vercel;

use std::time::{Duration, Instant};

use fake_vercel::{FakeVercel, READ_ONLY, TOKEN};
use latchkey_core::catalog::{ProviderKind, ProviderRecord, TargetSpec};
use latchkey_core::deploy::{Backup, Connections, DeployTarget, OpenWith, Remote, Written};
use latchkey_core::providers::{registry, KeySpec, Verification};
use latchkey_core::{Result, Secret};

struct Conn {
    base: String,
    token: &'static str,
}

impl Connections for Conn {
    fn remote(&self, kind: &str, provider: &str) -> Result<Remote> {
        assert_eq!((kind, provider), ("vercel", "vc"));
        Ok(Remote {
            base_url: self.base.clone(),
            token: Secret::new(self.token),
            policy: fast(),
            project: String::new(),
        })
    }
}

fn open(text: &str, conn: &Conn) -> Box<dyn DeployTarget> {
    let spec: TargetSpec = text.parse().expect("spec");
    assert_eq!(spec.to_string(), text);
    spec.open(OpenWith {
        confirmed: &[],
        deployed: None,
        connections: conn,
    })
}

fn backup(dir: &std::path::Path) -> Backup<'_> {
    Backup { dir, index: 0 }
}

fn message(w: Written) -> String {
    match w {
        Written::Done { message, .. } => message,
        Written::AwaitingConfirmation { .. } => panic!("not by hand"),
    }
}

async fn fake() -> (FakeVercel, Conn) {
    let f = FakeVercel::start().await;
    f.add_project("web");
    let conn = Conn {
        base: f.base.clone(),
        token: TOKEN,
    };
    (f, conn)
}

#[tokio::test]
async fn a_variable_is_upserted_for_every_target_read_back_and_restored() {
    let (f, conn) = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let t = open("vercel:vc:web:API_KEY", &conn);
    assert_eq!(t.describe(), "Vercel variable API_KEY in project web");
    let state = t.prepare().await.expect("prepare");
    assert!(state
        .message
        .as_deref()
        .is_some_and(|m| m.contains("next deployment")));
    assert!(f.env("web", "API_KEY").is_none());
    let new = Secret::new("sk-new-for-vercel");
    let said = message(
        t.write(&new, &backup(dir.path()), None)
            .await
            .expect("write"),
    );
    assert!(said.contains("next deployment"), "{said}");
    let env = f.env("web", "API_KEY").expect("created");
    assert_eq!(env.value, "sk-new-for-vercel");
    assert_eq!(env.kind, "encrypted");
    assert_eq!(env.target, ["production", "preview", "development"]);
    assert!(t.holds(&new.fingerprint()).await.expect("holds"));
    let no_old = || -> Result<Secret> { panic!("absent before") };
    t.restore(&backup(dir.path()), None, Some(&new), &no_old)
        .await
        .expect("restore");
    assert!(f.env("web", "API_KEY").is_none(), "created, so deleted");

    // An existing one: updated in place and put back from the backup.
    f.seed("web", "OLD_KEY", "sk-old-for-vercel", "encrypted");
    let t = open("vercel:vc:web:OLD_KEY", &conn);
    let dir = tempfile::tempdir().expect("tempdir");
    t.write(&new, &backup(dir.path()), None)
        .await
        .expect("write");
    assert_eq!(f.env("web", "OLD_KEY").unwrap().value, "sk-new-for-vercel");
    assert_eq!(f.count("web"), 1);
    let old_key = || -> Result<Secret> { panic!("the backup has it") };
    let said = t
        .restore(&backup(dir.path()), None, Some(&new), &old_key)
        .await
        .expect("restore");
    assert!(said.contains("old key again"), "{said}");
    assert_eq!(f.env("web", "OLD_KEY").unwrap().value, "sk-old-for-vercel");
}

#[tokio::test]
async fn sensitive_and_per_environment_variables_are_refused_and_never_guessed_at() {
    let (f, conn) = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    f.seed("web", "SECRET_KEY", "sk-sensitive-old", "sensitive");
    f.seed_for("web", "SPLIT_KEY", "sk-prod", "production");
    f.seed_for("web", "SPLIT_KEY", "sk-preview", "preview");
    let new = Secret::new("sk-never-written");
    for (name, says) in [
        ("SECRET_KEY", "sensitive"),
        ("SPLIT_KEY", "per environment"),
    ] {
        let t = open(&format!("vercel:vc:web:{name}"), &conn);
        let e = t.prepare().await.expect_err(name);
        assert_eq!(e.code().as_str(), "invalid_input");
        assert!(e.to_string().contains(says), "{e}");
        t.write(&new, &backup(dir.path()), None)
            .await
            .expect_err(name);
        assert!(t.holds(&new.fingerprint()).await.is_err());
    }
    assert_eq!(
        f.env("web", "SECRET_KEY").unwrap().value,
        "sk-sensitive-old"
    );
    assert_eq!(f.count("web"), 3);
}

#[tokio::test]
async fn errors_are_typed_and_nothing_is_half_written() {
    let (f, _) = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = Secret::new("sk-never-seen-by-vercel");
    for (text, token, code) in [
        ("vercel:vc:web:API_KEY", "wrong", "provider_unauthorized"),
        ("vercel:vc:web:API_KEY", READ_ONLY, "provider_forbidden"),
        ("vercel:vc:nope:API_KEY", TOKEN, "not_found"),
    ] {
        let conn = Conn {
            base: f.base.clone(),
            token,
        };
        let e = open(text, &conn)
            .write(&secret, &backup(dir.path()), None)
            .await
            .expect_err(text);
        assert_eq!(e.code().as_str(), code, "{text}: {e}");
        assert!(!e.to_string().contains(secret.expose_secret()));
    }
    assert_eq!(f.count("web"), 0);
    let conn = Conn {
        base: f.base.clone(),
        token: TOKEN,
    };
    let t = open("vercel:vc:web:API_KEY", &conn);
    let big = Secret::new("x".repeat(64 * 1024 + 1));
    let e = t
        .write(&big, &backup(dir.path()), None)
        .await
        .expect_err("too big");
    assert_eq!(e.code().as_str(), "invalid_input");
    // The upsert is safe to repeat: a short 429 is waited out on it too.
    f.throttle(2, 1);
    let started = Instant::now();
    t.write(&secret, &backup(dir.path()), None)
        .await
        .expect("after the waits");
    assert!(started.elapsed() >= Duration::from_millis(900));
    f.throttle(9, 60);
    let e = t.prepare().await.expect_err("throttled");
    assert_eq!(e.code().as_str(), "rate_limited");
    f.throttle(0, 0);
}

#[tokio::test]
async fn the_connector_creates_lists_verifies_and_revokes_tokens() {
    let (f, _) = fake().await;
    let record = ProviderRecord {
        id: "vc".into(),
        kind: ProviderKind::Vercel,
        name: "vc".into(),
        base_url: f.base.clone(),
        project: "vercel".into(),
        is_demo: false,
        created_at: "2026-01-01T00:00:00Z".into(),
        dashboard_url: String::new(),
    };
    let c = registry::open(&record, Secret::new(TOKEN), fast()).expect("open");
    let caps = c.capabilities();
    assert!(caps.create && caps.list && caps.revoke && caps.verify && !caps.roll);
    c.test().await.expect("the connection works");
    let (key, secret) = c
        .create(
            &KeySpec {
                name: "ci deploy".into(),
                scopes: vec![],
                expires_in_days: Some(30),
            },
            "idem-1",
        )
        .await
        .expect("create");
    assert_eq!(f.creates(), 1);
    assert_eq!(key.name, "ci deploy");
    assert!(key.expires_at.is_some());
    assert!(!format!("{key:?}").contains(secret.expose_secret()));
    let listed = c.list().await.expect("list");
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|k| k.remote_id == key.remote_id));
    assert!(listed[0]
        .created_at
        .as_deref()
        .is_some_and(|t| t.starts_with("2025-")));
    assert_eq!(
        c.verify(&secret).await.expect("verify"),
        Verification::Accepted
    );
    c.revoke(&key.remote_id).await.expect("revoke");
    c.revoke(&key.remote_id).await.expect("already gone");
    assert_eq!(f.tokens().len(), 1);
    assert_eq!(
        c.verify(&secret).await.expect("verify"),
        Verification::Rejected {
            code: "HTTP 401".into()
        }
    );
    let e = c.revoke("../x").await.expect_err("bad id");
    assert_eq!(e.code().as_str(), "invalid_input");
    let wrong = registry::open(&record, Secret::new("nobody"), fast()).expect("open");
    assert_eq!(
        wrong.test().await.expect_err("401").code().as_str(),
        "provider_unauthorized"
    );
}
