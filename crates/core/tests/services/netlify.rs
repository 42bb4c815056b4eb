//! Netlify against a fake Netlify API on loopback: a site's environment
//! variable as a deploy target (created with POST, updated with PUT, one
//! value for every context, scopes kept, read back, restored from the
//! backup or deleted; secret and per-context variables refused; typed
//! errors and 429) and the connection's token check.

use super::fast;
use latchkey_testkit::fakes::netlify as fake_netlify;

use std::time::{Duration, Instant};

use fake_netlify::{FakeNetlify, Var, READ_ONLY, TOKEN};
use latchkey_core::catalog::{ProviderKind, ProviderRecord, TargetSpec};
use latchkey_core::deploy::{Backup, Connections, DeployTarget, OpenWith, Remote};
use latchkey_core::providers::{registry, Verification};
use latchkey_core::{Result, Secret};

struct Conn {
    base: String,
    token: &'static str,
}

impl Connections for Conn {
    fn remote(&self, kind: &str, provider: &str) -> Result<Remote> {
        assert_eq!((kind, provider), ("netlify", "nf"));
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

async fn fake() -> (FakeNetlify, Conn) {
    let f = FakeNetlify::start().await;
    f.add_site("team", "site-1");
    let conn = Conn {
        base: f.base.clone(),
        token: TOKEN,
    };
    (f, conn)
}

fn all(value: &str, scopes: &[&str]) -> Var {
    Var {
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        values: vec![("all".into(), value.into())],
        is_secret: false,
    }
}

#[tokio::test]
async fn a_variable_is_created_updated_read_back_and_restored() {
    let (f, conn) = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let t = open("netlify:nf:team:site-1:API_KEY", &conn);
    assert_eq!(t.describe(), "Netlify variable API_KEY of site site-1");
    t.prepare().await.expect("prepare");
    let new = Secret::new("sk-new-for-netlify");
    t.write(&new, &backup(dir.path()), None)
        .await
        .expect("create");
    let var = f.var("team", "site-1", "API_KEY").expect("created");
    assert_eq!(
        var.values,
        [("all".to_owned(), "sk-new-for-netlify".to_owned())]
    );
    assert_eq!(var.scopes.len(), 4);
    assert!(t.holds(&new.fingerprint()).await.expect("holds"));
    let no_old = || -> Result<Secret> { panic!("absent before") };
    let said = t
        .restore(&backup(dir.path()), None, Some(&new), &no_old)
        .await
        .expect("restore");
    assert!(said.contains("deleted again"), "{said}");
    assert!(f.var("team", "site-1", "API_KEY").is_none());

    // An existing one keeps its scopes and gets the old value back.
    f.seed(
        "team",
        "site-1",
        "OLD_KEY",
        all("sk-old-for-netlify", &["functions"]),
    );
    let t = open("netlify:nf:team:site-1:OLD_KEY", &conn);
    let dir = tempfile::tempdir().expect("tempdir");
    t.write(&new, &backup(dir.path()), None)
        .await
        .expect("update");
    let var = f.var("team", "site-1", "OLD_KEY").unwrap();
    assert_eq!(var.values[0].1, "sk-new-for-netlify");
    assert_eq!(var.scopes, ["functions"]);
    let old_key = || -> Result<Secret> { panic!("the backup has it") };
    t.restore(&backup(dir.path()), None, Some(&new), &old_key)
        .await
        .expect("restore");
    assert_eq!(
        f.var("team", "site-1", "OLD_KEY").unwrap().values[0].1,
        "sk-old-for-netlify"
    );
}

#[tokio::test]
async fn secret_and_per_context_variables_are_refused_and_left_alone() {
    let (f, conn) = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut secret = all("sk-secret-old", &["functions"]);
    secret.is_secret = true;
    f.seed("team", "site-1", "SECRET_KEY", secret);
    f.seed(
        "team",
        "site-1",
        "SPLIT_KEY",
        Var {
            scopes: vec!["builds".into()],
            values: vec![
                ("production".into(), "sk-prod".into()),
                ("dev".into(), "sk-dev".into()),
            ],
            is_secret: false,
        },
    );
    let new = Secret::new("sk-never-written");
    for (name, says) in [
        ("SECRET_KEY", "secret"),
        ("SPLIT_KEY", "per deploy context"),
    ] {
        let t = open(&format!("netlify:nf:team:site-1:{name}"), &conn);
        let e = t.prepare().await.expect_err(name);
        assert_eq!(e.code().as_str(), "invalid_input");
        assert!(e.to_string().contains(says), "{e}");
        t.write(&new, &backup(dir.path()), None)
            .await
            .expect_err(name);
        assert!(t.holds(&new.fingerprint()).await.is_err());
    }
    assert_eq!(
        f.var("team", "site-1", "SECRET_KEY").unwrap().values[0].1,
        "sk-secret-old"
    );
    assert_eq!(
        f.var("team", "site-1", "SPLIT_KEY").unwrap().values.len(),
        2
    );
}

#[tokio::test]
async fn errors_are_typed_and_nothing_is_half_written() {
    let (f, _) = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = Secret::new("sk-never-seen-by-netlify");
    for (text, token, code) in [
        (
            "netlify:nf:team:site-1:API_KEY",
            "wrong",
            "provider_unauthorized",
        ),
        (
            "netlify:nf:team:site-1:API_KEY",
            READ_ONLY,
            "provider_forbidden",
        ),
        ("netlify:nf:team:site-9:API_KEY", TOKEN, "not_found"),
        ("netlify:nf:other:site-1:API_KEY", TOKEN, "not_found"),
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
    assert_eq!(f.count(), 0);
    let conn = Conn {
        base: f.base.clone(),
        token: TOKEN,
    };
    let t = open("netlify:nf:team:site-1:API_KEY", &conn);
    let e = t
        .write(&Secret::new("x".repeat(5001)), &backup(dir.path()), None)
        .await
        .expect_err("too long");
    assert_eq!(e.code().as_str(), "invalid_input");
    f.throttle(1, 1);
    let started = Instant::now();
    t.prepare().await.expect("after the wait");
    assert!(started.elapsed() >= Duration::from_millis(900));
    f.throttle(9, 60);
    assert_eq!(
        t.prepare().await.expect_err("throttled").code().as_str(),
        "rate_limited"
    );
    f.throttle(0, 0);
}

#[tokio::test]
async fn the_connection_checks_its_token() {
    let (f, _) = fake().await;
    let record = ProviderRecord {
        id: "nf".into(),
        kind: ProviderKind::Netlify,
        name: "nf".into(),
        base_url: f.base.clone(),
        project: "netlify".into(),
        is_demo: false,
        created_at: "2026-01-01T00:00:00Z".into(),
        dashboard_url: String::new(),
    };
    let c = registry::open(&record, Secret::new(TOKEN), fast()).expect("open");
    c.test().await.expect("works");
    assert!(c.list().await.expect("list").is_empty());
    assert_eq!(
        c.verify(&Secret::new("nope")).await.expect("verify"),
        Verification::Rejected {
            code: "HTTP 401".into()
        }
    );
    assert_eq!(
        c.revoke("x").await.expect_err("no").code().as_str(),
        "not_supported"
    );
}
