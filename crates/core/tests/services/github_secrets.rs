//! GitHub Actions secrets as a deploy target, against a fake GitHub API on
//! loopback that holds real X25519 key pairs and unseals what it gets:
//! repository and environment secrets, updates, holds/restore, the error
//! paths, and whole rotations (.env + GitHub) through the Vault.

use latchkey_testkit::fakes::github as fake_github;

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use fake_github::{FakeGithub, READ_ONLY, TOKEN};
use latchkey_core::catalog::{TargetSpec, TargetStatus};
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::deploy::{Backup, Connections, DeployTarget, OpenWith, Remote, Written};
use latchkey_core::http::HttpPolicy;
use latchkey_core::rotation::driver::{no_progress, RotationRequest};
use latchkey_core::rotation::State;
use latchkey_core::vault::NewServiceProvider;
use latchkey_core::{Fingerprint, Result, Secret};

fn fast() -> HttpPolicy {
    HttpPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(20),
        ..HttpPolicy::default()
    }
}

struct Conn {
    base: String,
    token: &'static str,
}

impl Connections for Conn {
    fn remote(&self, kind: &str, provider: &str) -> Result<Remote> {
        assert_eq!((kind, provider), ("github", "gh"));
        Ok(Remote {
            base_url: self.base.clone(),
            token: Secret::new(self.token),
            policy: fast(),
            project: String::new(),
        })
    }
}

fn spec(text: &str) -> TargetSpec {
    text.parse().expect("spec")
}

fn open(spec: &TargetSpec, conn: &Conn, deployed: Option<&str>) -> Box<dyn DeployTarget> {
    spec.open(OpenWith {
        confirmed: &[],
        deployed,
        connections: conn,
    })
}

fn backup(dir: &std::path::Path) -> Backup<'_> {
    Backup { dir, index: 0 }
}

fn digest_of(w: Written) -> String {
    match w {
        Written::Done { digest, .. } => digest.expect("digest"),
        Written::AwaitingConfirmation { .. } => panic!("not by hand"),
    }
}

async fn fake() -> FakeGithub {
    let f = FakeGithub::start().await;
    f.add_repo("octo/app");
    f.add_environment("octo/app", "production");
    f
}

#[tokio::test]
async fn repository_and_environment_secrets_are_sealed_and_updated() {
    let f = fake().await;
    let conn = Conn {
        base: f.base.clone(),
        token: TOKEN,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    for (text, env) in [
        ("github:gh:octo/app:API_KEY", None),
        ("github:gh:octo/app:API_KEY:production", Some("production")),
    ] {
        let s = spec(text);
        assert_eq!(s.to_string(), text);
        let t = open(&s, &conn, None);
        let state = t.prepare().await.expect("prepare");
        assert_eq!(state.spec, s);
        assert_eq!(state.digest.as_deref(), Some("updated_at:"));
        assert_eq!(
            f.plaintext("octo/app", env, "API_KEY"),
            None,
            "prepare wrote nothing"
        );
        let t = open(&s, &conn, state.digest.as_deref());
        let first = Secret::new("sk-first-value");
        let d = digest_of(
            t.write(&first, &backup(dir.path()), None)
                .await
                .expect("write"),
        );
        assert_eq!(d, "updated_at:");
        assert_eq!(
            f.plaintext("octo/app", env, "API_KEY").as_deref(),
            Some("sk-first-value")
        );
        // An update (204) of the secret that exists now.
        let state = open(&s, &conn, None)
            .prepare()
            .await
            .expect("prepare again");
        let before = state.digest.clone().expect("digest");
        assert!(before.len() > "updated_at:".len(), "{before}");
        let t = open(&s, &conn, Some(&before));
        let second = Secret::new("sk-second-value");
        t.write(&second, &backup(dir.path()), None)
            .await
            .expect("update");
        assert_eq!(
            f.plaintext("octo/app", env, "API_KEY").as_deref(),
            Some("sk-second-value")
        );
        assert!(t.holds(&second.fingerprint()).await.expect("holds"));
        assert_eq!(f.count("octo/app", env), 1);
    }
    assert!(open(&spec("github:gh:octo/app:API_KEY"), &conn, None)
        .describe()
        .contains("API_KEY in repository octo/app"));
}

#[tokio::test]
async fn holds_means_github_reports_our_write_and_restore_puts_the_old_back() {
    let f = fake().await;
    let conn = Conn {
        base: f.base.clone(),
        token: TOKEN,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    f.seed("octo/app", None, "API_KEY", "sk-old");
    let s = spec("github:gh:octo/app:API_KEY");
    let planned = open(&s, &conn, None).prepare().await.expect("prepare");
    let noted = planned.digest.clone().expect("note");
    // Not written by us since the plan: does not hold.
    let fp = Fingerprint::from_hex(String::new());
    assert!(!open(&s, &conn, Some(&noted))
        .holds(&fp)
        .await
        .expect("holds"));
    let t = open(&s, &conn, Some(&noted));
    let new = Secret::new("sk-new");
    let deployed = digest_of(
        t.write(&new, &backup(dir.path()), Some(&noted))
            .await
            .expect("write"),
    );
    assert_eq!(
        f.plaintext("octo/app", None, "API_KEY").as_deref(),
        Some("sk-new")
    );
    let t = open(&s, &conn, Some(&deployed));
    assert!(t.holds(&new.fingerprint()).await.expect("holds"));
    let old = || Ok(Secret::new("sk-old"));
    let said = t
        .restore(&backup(dir.path()), Some(&deployed), Some(&new), &old)
        .await
        .expect("restore");
    assert!(said.contains("old key"), "{said}");
    assert_eq!(
        f.plaintext("octo/app", None, "API_KEY").as_deref(),
        Some("sk-old")
    );

    // A secret that did not exist before is deleted on restore.
    let s = spec("github:gh:octo/app:FRESH_KEY:production");
    let planned = open(&s, &conn, None).prepare().await.expect("prepare");
    let t = open(&s, &conn, planned.digest.as_deref());
    let deployed = digest_of(
        t.write(&new, &backup(dir.path()), None)
            .await
            .expect("write"),
    );
    assert_eq!(
        f.plaintext("octo/app", Some("production"), "FRESH_KEY")
            .as_deref(),
        Some("sk-new")
    );
    let no_old = || -> Result<Secret> { panic!("no old key needed") };
    t.restore(&backup(dir.path()), Some(&deployed), Some(&new), &no_old)
        .await
        .expect("restore");
    assert_eq!(
        f.plaintext("octo/app", Some("production"), "FRESH_KEY"),
        None
    );
}

#[tokio::test]
async fn errors_are_typed_and_nothing_is_half_written() {
    let f = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = Secret::new("sk-never-seen-by-github");
    let cases: Vec<(&str, &'static str, &str)> = vec![
        (
            "github:gh:octo/app:API_KEY",
            "ghp_wrong",
            "provider_unauthorized",
        ),
        (
            "github:gh:octo/app:API_KEY",
            READ_ONLY,
            "provider_forbidden",
        ),
        ("github:gh:octo/missing:API_KEY", TOKEN, "not_found"),
        ("github:gh:octo/app:API_KEY:staging", TOKEN, "not_found"),
    ];
    for (text, token, code) in cases {
        let conn = Conn {
            base: f.base.clone(),
            token,
        };
        let t = open(&spec(text), &conn, None);
        let e = t
            .write(&secret, &backup(dir.path()), None)
            .await
            .expect_err(text);
        assert_eq!(e.code().as_str(), code, "{text} with {token}: {e}");
        assert!(!e.to_string().contains(secret.expose_secret()));
        assert!(!format!("{e:?}").contains(secret.expose_secret()));
        if code == "not_found" {
            assert!(e.to_string().contains("token cannot see it"), "{e}");
        }
    }
    assert_eq!(f.count("octo/app", None), 0);
    // 422: a value over 48 KB is refused before anything is sent.
    let conn = Conn {
        base: f.base.clone(),
        token: TOKEN,
    };
    let t = open(&spec("github:gh:octo/app:API_KEY"), &conn, None);
    let big = Secret::new("x".repeat(48 * 1024 + 1));
    let e = t
        .write(&big, &backup(dir.path()), None)
        .await
        .expect_err("too big");
    assert_eq!(e.code().as_str(), "invalid_input");
    // A 5xx that persists: provider_unavailable, nothing stored.
    f.fail_puts(Some(500));
    let e = t
        .write(&secret, &backup(dir.path()), None)
        .await
        .expect_err("500");
    assert_eq!(e.code().as_str(), "provider_unavailable", "{e}");
    f.fail_puts(Some(422));
    let e = t
        .write(&secret, &backup(dir.path()), None)
        .await
        .expect_err("422");
    assert_eq!(e.code().as_str(), "invalid_input", "{e}");
    f.fail_puts(None);
    assert_eq!(f.count("octo/app", None), 0);
    // An HTML page where the public key should be: bad_response.
    f.html_keys(true);
    let e = t
        .write(&secret, &backup(dir.path()), None)
        .await
        .expect_err("html");
    assert_eq!(e.code().as_str(), "bad_response", "{e}");
    f.html_keys(false);
    // GitHub keeps at most 100 secrets: the 101st is refused (422).
    for i in 0..100 {
        f.seed("octo/app", None, &format!("S{i}"), "x");
    }
    let e = t
        .write(&secret, &backup(dir.path()), None)
        .await
        .expect_err("101st");
    assert_eq!(e.code().as_str(), "invalid_input", "{e}");
    assert_eq!(f.count("octo/app", None), 100);
    assert_eq!(f.plaintext("octo/app", None, "API_KEY"), None);
    // Names GitHub refuses never parse.
    for bad in [
        "github:gh:octo/app:GITHUB_TOKEN",
        "github:gh:octo/app:github_x",
        "github:gh:octo/app:9LIVES",
        "github:gh:octo/app:A-B",
        "github:gh:octoapp:API_KEY",
        "github:gh:octo/app",
        "github::octo/app:API_KEY",
    ] {
        let e = bad.parse::<TargetSpec>().expect_err(bad);
        assert_eq!(e.code().as_str(), "invalid_input", "{bad}");
    }
}

struct Rotation {
    _service: Service,
    f: FakeGithub,
    _dir: tempfile::TempDir,
    vault: latchkey_core::Vault,
    old: latchkey_core::vault::KeyView,
    old_secret: Secret,
    env_path: std::path::PathBuf,
}

async fn rotation_setup() -> Rotation {
    let service = key_service(false).await;
    let f = fake().await;
    f.seed("octo/app", None, "DEMO_API_KEY", "placeholder");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    vault.set_http_policy(fast());
    let provider = add_provider(&vault, &service);
    vault
        .add_service_provider(NewServiceProvider {
            service: "github".into(),
            name: "gh".into(),
            base_url: Some(f.base.clone()),
            project: None,
            credential: Some(Secret::new(TOKEN)),
            region: None,
            user: None,
        })
        .expect("github connection");
    let old = vault
        .create_key(new_key(&provider, "deploy me"))
        .await
        .expect("old key");
    let old_secret = stored_secret(&old.id);
    let env_path = dir.path().join(".env");
    std::fs::write(
        &env_path,
        format!("DEMO_API_KEY={}\n", old_secret.expose_secret()),
    )
    .expect(".env");
    Rotation {
        _service: service,
        f,
        _dir: dir,
        vault,
        old,
        old_secret,
        env_path,
    }
}

fn targets(r: &Rotation) -> Vec<TargetSpec> {
    vec![
        spec(&format!("dotenv:{}:DEMO_API_KEY", r.env_path.display())),
        spec("github:gh:octo/app:DEMO_API_KEY"),
    ]
}

#[tokio::test]
async fn a_rotation_puts_the_new_key_in_the_env_file_and_the_github_secret() {
    let r = rotation_setup().await;
    let plan = r
        .vault
        .plan_rotation(RotationRequest {
            key_id: r.old.id.clone(),
            targets: targets(&r),
        })
        .await
        .expect("plan");
    let view = r
        .vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("run");
    assert_eq!(view.state, State::Done);
    assert!(view
        .targets
        .iter()
        .all(|t| t.status == TargetStatus::Verified));
    let held =
        r.f.plaintext("octo/app", None, "DEMO_API_KEY")
            .expect("secret");
    assert_ne!(held, r.old_secret.expose_secret());
    let env = std::fs::read_to_string(&r.env_path).expect("read");
    assert_eq!(env, format!("DEMO_API_KEY={held}\n"));
}

#[tokio::test]
async fn a_failed_github_write_rolls_back_the_env_file_and_keeps_the_old_key() {
    for status in [500, 403] {
        let r = rotation_setup().await;
        let before = std::fs::read(&r.env_path).expect("read");
        let plan = r
            .vault
            .plan_rotation(RotationRequest {
                key_id: r.old.id.clone(),
                targets: targets(&r),
            })
            .await
            .expect("plan");
        r.f.fail_puts(Some(status));
        let e = r
            .vault
            .run_rotation(&plan.id, &no_progress)
            .await
            .expect_err("github write fails");
        let want = if status == 500 {
            "provider_unavailable"
        } else {
            "provider_forbidden"
        };
        assert_eq!(e.code().as_str(), want);
        assert_ne!(
            std::fs::read(&r.env_path).expect("read"),
            before,
            ".env was written"
        );
        let view = r
            .vault
            .rollback_rotation(&plan.id, &no_progress)
            .await
            .expect("rollback");
        assert_eq!(view.state, State::RolledBack);
        assert_eq!(std::fs::read(&r.env_path).expect("read"), before);
        assert_eq!(
            r.f.plaintext("octo/app", None, "DEMO_API_KEY").as_deref(),
            Some("placeholder")
        );
        assert_eq!(
            stored_secret(&r.old.id).expose_secret(),
            r.old_secret.expose_secret()
        );
        assert_eq!(
            r._service.verify_status(r.old_secret.expose_secret()).await,
            200,
            "the old key still works"
        );
    }
}

#[tokio::test]
async fn the_github_connector_checks_a_token_and_the_fake_checks_key_ids() {
    use latchkey_core::providers::github::GithubProvider;
    use latchkey_core::providers::{Connector, Verification};
    let f = fake().await;
    let conn = GithubProvider::new(&f.base, Secret::new(TOKEN), fast()).expect("connector");
    conn.test().await.expect("own token works");
    assert_eq!(
        conn.verify(&Secret::new(TOKEN)).await.expect("verify"),
        Verification::Accepted
    );
    assert!(matches!(
        conn.verify(&Secret::new("ghp_wrong"))
            .await
            .expect("verify"),
        Verification::Rejected { .. }
    ));
    assert!(!conn.capabilities().create && !conn.capabilities().revoke);
    // A PUT without the right key_id is refused (422) and nothing is kept.
    let http = reqwest::Client::new();
    for body in [
        serde_json::json!({"encrypted_value": "AAAA"}),
        serde_json::json!({"encrypted_value": "AAAA", "key_id": "nope"}),
    ] {
        let status = http
            .put(format!("{}/repos/octo/app/actions/secrets/API_KEY", f.base))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .expect("put")
            .status();
        assert_eq!(status, 422);
    }
    assert_eq!(f.count("octo/app", None), 0);
}
