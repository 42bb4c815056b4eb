//! GitLab against a fake GitLab API on loopback: CI/CD variables as a
//! deploy target (masked when GitLab can mask the value, scopes, hidden
//! variables refused, read back, restored, typed errors and limits) and
//! personal access tokens as a connector (list, get, verify, revoke, last
//! used, and the rotate: 30 days ahead, never sent twice — a rotate whose
//! answer comes too late is "outcome unknown", and the fake saw one call);
//! and, for a connection with a project, that project's access tokens
//! (list with revoked ones, get, revoke, roll; the project's own token
//! rolled through `self`; a rotation through the vault).

use super::fast;
use latchkey_testkit::fakes::gitlab as fake_gitlab;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_gitlab::{
    FakeGitlab, CI_TOKEN, PROJECT_CI_TOKEN, PROJECT_ID, PROJECT_PATH, PROJECT_TOKEN, READ_ONLY,
    TOKEN, VARIABLE_LIMIT,
};
use latchkey_core::catalog::{ProviderKind, ProviderRecord, TargetSpec};
use latchkey_core::clock::ManualClock;
use latchkey_core::deploy::{Backup, Connections, DeployTarget, OpenWith, Remote, Written};
use latchkey_core::http::HttpPolicy;
use latchkey_core::providers::gitlab::GitlabProvider;
use latchkey_core::providers::{registry, Connector, KeySpec, Verification};
use latchkey_core::{Result, Secret};

struct Conn {
    base: String,
    token: &'static str,
}

impl Connections for Conn {
    fn remote(&self, kind: &str, provider: &str) -> Result<Remote> {
        assert_eq!((kind, provider), ("gitlab", "gl"));
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

async fn fake() -> (FakeGitlab, Conn) {
    let f = FakeGitlab::start().await;
    f.add_project("42");
    let conn = Conn {
        base: f.base.clone(),
        token: TOKEN,
    };
    (f, conn)
}

#[tokio::test]
async fn a_new_variable_is_created_masked_read_back_and_deleted_on_restore() {
    let (f, conn) = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let t = open("gitlab:gl:42:API_KEY", &conn);
    assert_eq!(t.describe(), "GitLab variable API_KEY in project 42");
    let state = t.prepare().await.expect("prepare");
    assert!(
        f.var("42", "API_KEY", "*").is_none(),
        "prepare wrote nothing"
    );
    assert_eq!(state.spec.to_string(), "gitlab:gl:42:API_KEY");
    assert!(state
        .message
        .as_deref()
        .is_some_and(|m| m.contains("masks the key in job logs when it can")));
    let new = Secret::new("lk_abcdefgh_0123456789abcdefghijklmn");
    let said = message(
        t.write(&new, &backup(dir.path()), None)
            .await
            .expect("write"),
    );
    assert!(!said.contains("not masked"), "{said}");
    let var = f.var("42", "API_KEY", "*").expect("created");
    assert_eq!(var.value, new.expose_secret());
    assert!(var.masked);
    assert!(t.holds(&new.fingerprint()).await.expect("holds"));
    assert!(!t
        .holds(&Secret::new("other").fingerprint())
        .await
        .expect("holds"));
    let no_old = || -> Result<Secret> { panic!("the backup says absent") };
    let said = t
        .restore(&backup(dir.path()), None, Some(&new), &no_old)
        .await
        .expect("restore");
    assert!(said.contains("deleted again"), "{said}");
    assert!(f.var("42", "API_KEY", "*").is_none());
}

#[tokio::test]
async fn an_existing_variable_is_updated_in_its_scope_and_restored_from_the_backup() {
    let (f, conn) = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    f.seed("42", "API_KEY", "*", "old-value-for-all", false);
    f.seed("42", "API_KEY", "production", "old-value-for-prod", false);
    let t = open("gitlab:gl:42:API_KEY:production", &conn);
    assert!(t.describe().contains("(environment production)"));
    t.prepare().await.expect("prepare");
    let new = Secret::new("new-value-for-prod");
    t.write(&new, &backup(dir.path()), None)
        .await
        .expect("write");
    assert_eq!(
        f.var("42", "API_KEY", "production").unwrap().value,
        "new-value-for-prod"
    );
    assert_eq!(
        f.var("42", "API_KEY", "*").unwrap().value,
        "old-value-for-all"
    );
    // A resume writes again: the first backup (the old value) is kept.
    t.write(&new, &backup(dir.path()), None)
        .await
        .expect("again");
    let old_key = || -> Result<Secret> { panic!("the backup has it") };
    let said = t
        .restore(&backup(dir.path()), None, Some(&new), &old_key)
        .await
        .expect("restore");
    assert!(said.contains("old key again"), "{said}");
    assert_eq!(
        f.var("42", "API_KEY", "production").unwrap().value,
        "old-value-for-prod"
    );
    // Someone changed it since the deploy: left as it is.
    t.write(&new, &backup(dir.path()), None)
        .await
        .expect("write");
    f.seed("42", "API_KEY", "production", "someone-elses", false);
    let e = t
        .restore(&backup(dir.path()), None, Some(&new), &old_key)
        .await
        .expect_err("changed");
    assert_eq!(e.code().as_str(), "rollback_failed");
    assert_eq!(
        f.var("42", "API_KEY", "production").unwrap().value,
        "someone-elses"
    );
}

#[tokio::test]
async fn a_value_gitlab_cannot_mask_is_written_unmasked_and_the_write_says_why() {
    let (f, conn) = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let t = open("gitlab:gl:42:SHORT", &conn);
    let short = Secret::new("k$y 1");
    let said = message(
        t.write(&short, &backup(dir.path()), None)
            .await
            .expect("write"),
    );
    assert!(
        said.contains("not masked") && said.contains("at least 8 characters"),
        "{said}"
    );
    assert!(!said.contains(short.expose_secret()));
    let var = f.var("42", "SHORT", "*").expect("written");
    assert!(!var.masked);
    assert_eq!(var.value, "k$y 1");
    assert!(t.holds(&short.fingerprint()).await.expect("holds"));
}

#[tokio::test]
async fn a_hidden_variable_is_refused_and_never_guessed_at() {
    let (f, conn) = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    f.seed("42", "HIDDEN_KEY", "*", "hidden-old-value", true);
    let t = open("gitlab:gl:42:HIDDEN_KEY", &conn);
    let e = t.prepare().await.expect_err("hidden");
    assert_eq!(e.code().as_str(), "invalid_input");
    assert!(e.to_string().contains("GitLab hides its value"), "{e}");
    let new = Secret::new("new-value-never-written");
    let e = t
        .write(&new, &backup(dir.path()), None)
        .await
        .expect_err("hidden");
    assert_eq!(e.code().as_str(), "invalid_input");
    assert_eq!(
        f.var("42", "HIDDEN_KEY", "*").unwrap().value,
        "hidden-old-value"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no backup"
    );
    let e = t.holds(&new.fingerprint()).await.expect_err("unknown");
    assert_eq!(e.code().as_str(), "invalid_input");
}

#[tokio::test]
async fn errors_are_typed_and_nothing_is_half_written() {
    let (f, _) = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = Secret::new("sk-never-seen-by-gitlab");
    for (text, token, code) in [
        (
            "gitlab:gl:42:API_KEY",
            "glpat-wrong",
            "provider_unauthorized",
        ),
        ("gitlab:gl:42:API_KEY", READ_ONLY, "provider_forbidden"),
        ("gitlab:gl:404:API_KEY", TOKEN, "not_found"),
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
        assert!(!format!("{e:?}").contains(secret.expose_secret()));
        if code == "not_found" {
            assert!(e.to_string().contains("GitLab project 404"), "{e}");
        }
    }
    assert_eq!(f.count("42"), 0);
    let conn = Conn {
        base: f.base.clone(),
        token: TOKEN,
    };
    let t = open("gitlab:gl:42:API_KEY", &conn);
    // Longer than GitLab keeps: refused before anything is sent.
    let e = t
        .write(&Secret::new("x".repeat(10_001)), &backup(dir.path()), None)
        .await
        .expect_err("too long");
    assert_eq!(e.code().as_str(), "invalid_input");
    // HTML instead of JSON.
    f.html(true);
    let e = t.prepare().await.expect_err("html");
    assert_eq!(e.code().as_str(), "bad_response", "{e}");
    f.html(false);
    // A short 429 is waited out (Retry-After honoured) ...
    f.throttle(1, 1);
    let started = Instant::now();
    t.prepare().await.expect("after the wait");
    assert!(started.elapsed() >= Duration::from_millis(900));
    // ... a long one is reported.
    f.throttle(5, 120);
    let e = t.prepare().await.expect_err("throttled");
    assert_eq!(e.code().as_str(), "rate_limited");
    f.throttle(0, 0);
    // The project's variable limit: GitLab's 400 is invalid_input.
    for i in 0..VARIABLE_LIMIT {
        f.seed("42", &format!("V{i}"), "*", "some-value", false);
    }
    let e = t
        .write(&secret, &backup(dir.path()), None)
        .await
        .expect_err("limit");
    assert_eq!(e.code().as_str(), "invalid_input", "{e}");
    assert!(
        e.to_string()
            .contains("GitLab refused the variable API_KEY"),
        "{e}"
    );
    assert!(f.var("42", "API_KEY", "*").is_none());
}

fn connector(f: &FakeGitlab, token: &str) -> GitlabProvider {
    let clock = ManualClock::new(time::macros::datetime!(2026-12-04 07:00 UTC));
    GitlabProvider::with_clock(&f.base, Secret::new(token), fast(), Arc::new(clock))
        .expect("connector")
}

#[tokio::test]
async fn the_connector_lists_looks_up_verifies_and_revokes_tokens() {
    let (f, _) = fake().await;
    let record = ProviderRecord {
        id: "gl".into(),
        kind: ProviderKind::Gitlab,
        name: "gl".into(),
        base_url: f.base.clone(),
        project: "gitlab".into(),
        is_demo: false,
        created_at: "2026-01-01T00:00:00Z".into(),
        dashboard_url: String::new(),
    };
    let opened = registry::open(&record, Secret::new(TOKEN), fast()).expect("open");
    let caps = opened.capabilities();
    assert!(caps.roll && caps.list && caps.revoke && caps.verify && caps.get && caps.last_used);
    assert!(!caps.create);
    opened.test().await.expect("the connection works");
    let keys = opened.list().await.expect("list");
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[1].name, "ci");
    assert_eq!(keys[1].remote_id, "2");
    assert!(keys.iter().all(|k| k.revoked_at.is_none()));
    let one = opened.get("2").await.expect("get").expect("exists");
    assert_eq!(one.scopes, ["api"]);
    assert!(opened.get("777").await.expect("get").is_none());
    assert_eq!(
        opened.last_used("1").await.expect("last used").as_deref(),
        Some("2026-11-30T10:00:00.000Z")
    );
    assert_eq!(
        opened.verify(&Secret::new(CI_TOKEN)).await.expect("verify"),
        Verification::Accepted
    );
    let e = opened
        .create(
            &KeySpec {
                name: "x".into(),
                scopes: vec![],
                expires_in_days: None,
            },
            "idem",
        )
        .await
        .expect_err("no create");
    assert_eq!(e.code().as_str(), "not_supported");
    opened.revoke("2").await.expect("revoke");
    opened.revoke("2").await.expect("already revoked");
    assert!(f.token(2).revoked);
    assert_eq!(
        opened.verify(&Secret::new(CI_TOKEN)).await.expect("verify"),
        Verification::Rejected {
            code: "HTTP 401".into()
        }
    );
    let bad = connector(&f, "glpat-nobody");
    assert_eq!(
        bad.test().await.expect_err("401").code().as_str(),
        "provider_unauthorized"
    );
    assert_eq!(
        bad.revoke("abc").await.expect_err("id").code().as_str(),
        "invalid_input"
    );
}

#[tokio::test]
async fn a_roll_rotates_once_with_thirty_days_and_the_old_token_dies() {
    let (f, _) = fake().await;
    let c = connector(&f, TOKEN);
    // Another token of the user: /{id}/rotate.
    let (key, secret) = c.roll("2").await.expect("roll");
    assert_eq!(f.rotate_calls(), 1);
    assert_eq!(key.name, "ci");
    assert_eq!(key.expires_at.as_deref(), Some("2027-01-03"));
    assert_eq!(
        f.token(key.remote_id.parse().unwrap()).value,
        secret.expose_secret()
    );
    assert!(!format!("{key:?}").contains(secret.expose_secret()));
    assert!(f.token(2).revoked);
    assert_eq!(
        c.verify(&secret).await.expect("verify"),
        Verification::Accepted
    );
    // Rolling the same (already rotated) token again is refused, and
    // GitLab revokes the newest token of the family: why Latchkey never
    // sends a rotate twice.
    let e = c.roll("2").await.expect_err("reuse");
    assert_eq!(e.code().as_str(), "invalid_input");
    assert!(f.token(key.remote_id.parse().unwrap()).revoked);
    // The connection's own token: /self/rotate.
    let (own, own_secret) = c.roll("1").await.expect("roll self");
    assert!(f.token(1).revoked);
    assert_eq!(
        f.token(own.remote_id.parse().unwrap()).value,
        own_secret.expose_secret()
    );
}

#[tokio::test]
async fn a_rotate_whose_answer_is_late_is_sent_once_and_reported_as_outcome_unknown() {
    let (f, _) = fake().await;
    let policy = HttpPolicy {
        total_timeout: Duration::from_millis(500),
        ..fast()
    };
    let c = GitlabProvider::new(&f.base, Secret::new(TOKEN), policy).expect("connector");
    f.slow_rotate(Some(Duration::from_millis(1500)));
    let e = c.roll("2").await.expect_err("late answer");
    assert_eq!(e.code().as_str(), "outcome_unknown");
    assert!(e.to_string().contains("outcome is unknown"), "{e}");
    assert!(e.to_string().contains("was not asked again"), "{e}");
    // Give a (wrong) retry time to arrive: still exactly one call.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert_eq!(f.rotate_calls(), 1, "the rotate was sent once");
    // GitLab did rotate, and the new token is alive: no second rotate
    // revoked it.
    assert!(f.token(2).revoked);
    let newest = f.tokens().into_iter().max_by_key(|t| t.id).unwrap();
    assert_eq!(newest.name, "ci");
    assert!(newest.active && !newest.revoked);

    // A 5xx after GitLab carried the rotate out: also unknown, also once.
    f.slow_rotate(None);
    f.rotate_status(Some(502));
    let e = c.roll("1").await.expect_err("502");
    assert_eq!(e.code().as_str(), "outcome_unknown");
    assert!(e.to_string().contains("outcome is unknown"), "{e}");
    assert_eq!(f.rotate_calls(), 2);
    assert!(f.token(1).revoked, "GitLab did rotate");
}

#[tokio::test]
async fn the_fake_refuses_a_masked_value_gitlab_cannot_mask() {
    let (f, _) = fake().await;
    let http = reqwest::Client::new();
    for (value, status) in [
        ("short", 400),
        ("has a space", 400),
        ("maskable-value", 201),
    ] {
        let answer = http
            .post(format!("{}/api/v4/projects/42/variables", f.base))
            .header("PRIVATE-TOKEN", TOKEN)
            .json(&serde_json::json!({"key": "K", "value": value, "masked": true}))
            .send()
            .await
            .expect("send");
        assert_eq!(answer.status().as_u16(), status, "{value}");
    }
    assert!(f.var("42", "K", "*").expect("made").masked);
}

/// A rotation whose GitLab write is refused (the connection's token may
/// read variables, not write them): the .env file it already wrote and the
/// variable are rolled back, and the old key still works.
#[tokio::test]
async fn a_refused_gitlab_write_rolls_the_rotation_back() {
    use crate::common::*;
    use latchkey_core::clipboard::MemoryClipboard;
    use latchkey_core::rotation::driver::{no_progress, RotationRequest};
    use latchkey_core::rotation::State;
    use latchkey_core::vault::NewServiceProvider;

    let service = key_service(false).await;
    let (f, _) = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    vault.set_http_policy(fast());
    let provider = add_provider(&vault, &service);
    vault
        .add_service_provider(NewServiceProvider {
            service: "gitlab".into(),
            name: "gl".into(),
            base_url: Some(f.base.clone()),
            project: None,
            credential: Some(Secret::new(READ_ONLY)),
            region: None,
            user: None,
        })
        .expect("gitlab connection");
    let old = vault
        .create_key(new_key(&provider, "deploy me"))
        .await
        .expect("old key");
    let old_secret = stored_secret(&old.id);
    f.seed("42", "DEMO_API_KEY", "*", old_secret.expose_secret(), false);
    let env_path = dir.path().join(".env");
    std::fs::write(
        &env_path,
        format!("DEMO_API_KEY={}\n", old_secret.expose_secret()),
    )
    .expect(".env");
    let before = std::fs::read(&env_path).expect("read");
    let plan = vault
        .plan_rotation(RotationRequest {
            key_id: old.id.clone(),
            targets: vec![
                format!("dotenv:{}:DEMO_API_KEY", env_path.display())
                    .parse()
                    .expect("spec"),
                "gitlab:gl:42:DEMO_API_KEY".parse().expect("spec"),
            ],
        })
        .await
        .expect("plan: reading the variable is allowed");
    let e = vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect_err("the write is refused");
    assert_eq!(e.code().as_str(), "provider_forbidden");
    let view = vault
        .rollback_rotation(&plan.id, &no_progress)
        .await
        .expect("rollback");
    assert_eq!(view.state, State::RolledBack);
    assert_eq!(std::fs::read(&env_path).expect("read"), before);
    assert_eq!(
        f.var("42", "DEMO_API_KEY", "*").unwrap().value,
        old_secret.expose_secret()
    );
    assert_eq!(service.verify_status(old_secret.expose_secret()).await, 200);
}

fn project_connector(f: &FakeGitlab, token: &str, project: &str) -> GitlabProvider {
    connector(f, token)
        .for_project(project)
        .expect("a project connector")
}

#[tokio::test]
async fn a_project_connection_lists_gets_and_revokes_the_projects_access_tokens() {
    let (f, _) = fake().await;
    let record = ProviderRecord {
        id: "gl".into(),
        kind: ProviderKind::Gitlab,
        name: "gl".into(),
        base_url: f.base.clone(),
        project: PROJECT_PATH.into(),
        is_demo: false,
        created_at: "2026-01-01T00:00:00Z".into(),
        dashboard_url: String::new(),
    };
    let opened = registry::open(&record, Secret::new(PROJECT_TOKEN), fast()).expect("open");
    opened.test().await.expect("the connection works");
    let keys = opened.list().await.expect("list");
    let ids: Vec<&str> = keys.iter().map(|k| k.remote_id.as_str()).collect();
    assert_eq!(ids, ["10", "11"], "the project's tokens, not personal ones");
    assert_eq!(keys[1].name, "project-ci");
    let one = opened.get("11").await.expect("get").expect("exists");
    assert_eq!(one.scopes, ["api"]);
    assert_eq!(
        one.last_used_at.as_deref(),
        Some("2026-11-29T10:00:00.000Z")
    );
    // A personal token is not one of the project's.
    assert!(opened.get("2").await.expect("get").is_none());
    assert_eq!(
        opened
            .identify(&Secret::new(PROJECT_CI_TOKEN))
            .await
            .expect("identify")
            .as_deref(),
        Some("11")
    );
    opened.revoke("11").await.expect("revoke");
    opened.revoke("11").await.expect("already revoked");
    assert!(f.token(11).revoked);
    assert!(!f.token(2).revoked, "the personal token was left alone");
    // Revoked tokens stay listed, as revoked.
    let keys = opened.list().await.expect("list");
    let revoked = keys.iter().find(|k| k.remote_id == "11").expect("listed");
    assert!(revoked.revoked_at.is_some());
    assert_eq!(
        opened
            .verify(&Secret::new(PROJECT_CI_TOKEN))
            .await
            .expect("verify"),
        Verification::Rejected {
            code: "HTTP 401".into()
        }
    );
    let e = opened
        .create(
            &KeySpec {
                name: "x".into(),
                scopes: vec![],
                expires_in_days: None,
            },
            "idem",
        )
        .await
        .expect_err("no create");
    assert_eq!(e.code().as_str(), "not_supported");
    // The same project by id and URL-encoded path; another project is
    // not found; a project that is not an id or a path is refused.
    for project in [PROJECT_ID, "acme%2Fapp"] {
        let c = project_connector(&f, PROJECT_TOKEN, project);
        assert_eq!(c.list().await.expect("list").len(), 2, "{project}");
    }
    let other = project_connector(&f, PROJECT_TOKEN, "77");
    assert_eq!(
        other
            .test()
            .await
            .expect_err("no such project")
            .code()
            .as_str(),
        "not_found"
    );
    let e = connector(&f, TOKEN)
        .for_project("no spaces here")
        .expect_err("refused");
    assert_eq!(e.code().as_str(), "invalid_input");
    assert!(
        !format!("{:?}", project_connector(&f, PROJECT_TOKEN, PROJECT_ID)).contains(PROJECT_TOKEN)
    );
}

#[tokio::test]
async fn a_project_token_rolls_once_and_the_projects_own_token_rolls_through_self() {
    let (f, _) = fake().await;
    let c = project_connector(&f, PROJECT_TOKEN, PROJECT_PATH);
    let (key, secret) = c.roll("11").await.expect("roll");
    assert_eq!(f.rotate_calls(), 1);
    assert_eq!(key.name, "project-ci");
    assert_eq!(key.expires_at.as_deref(), Some("2027-01-03"));
    let new = f.token(key.remote_id.parse().unwrap());
    assert_eq!(new.value, secret.expose_secret());
    assert_eq!(new.project.as_deref(), Some(PROJECT_ID));
    assert_eq!(new.access_level, 30);
    assert!(!format!("{key:?}").contains(secret.expose_secret()));
    assert!(f.token(11).revoked, "the old token died at once");
    assert_eq!(
        c.verify(&secret).await.expect("verify"),
        Verification::Accepted
    );
    // Reuse: rolling the rotated token again is refused and GitLab revokes
    // the newest of the family.
    let e = c.roll("11").await.expect_err("reuse");
    assert_eq!(e.code().as_str(), "invalid_input");
    assert!(f.token(key.remote_id.parse().unwrap()).revoked);
    // A personal token is not the project's to roll.
    assert_eq!(
        c.roll("2").await.expect_err("not here").code().as_str(),
        "not_found"
    );
    assert!(!f.token(2).revoked);

    // The connection's own project token: /access_tokens/self/rotate.
    let calls = f.rotate_calls();
    let (own, own_secret) = c.roll("10").await.expect("roll self");
    assert_eq!(f.rotate_calls(), calls + 1);
    assert!(f.token(10).revoked);
    let rolled = f.token(own.remote_id.parse().unwrap());
    assert_eq!(rolled.value, own_secret.expose_secret());
    assert_eq!(rolled.name, "project-bot");
    assert_eq!(rolled.project.as_deref(), Some(PROJECT_ID));
    // The old connection token is dead; the new one manages the project.
    assert_eq!(
        c.test().await.expect_err("old token").code().as_str(),
        "provider_unauthorized"
    );
    let next = project_connector(&f, own_secret.expose_secret(), PROJECT_ID);
    assert_eq!(next.list().await.expect("list").len(), 4);

    // A lost answer: sent once, outcome unknown.
    f.rotate_status(Some(502));
    let e = next.roll(&own.remote_id).await.expect_err("502");
    assert_eq!(e.code().as_str(), "outcome_unknown");
    assert_eq!(f.rotate_calls(), calls + 2, "never sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_token_is_rolled_in_place_through_the_vault() {
    use latchkey_core::clipboard::MemoryClipboard;
    use latchkey_core::rotation::driver::RotationRequest;
    use latchkey_core::rotation::{State, Strategy};
    use latchkey_core::vault::{ExistingKey, NewServiceProvider};

    let gitlab = FakeGitlab::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let vault = crate::common::open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    let provider = vault
        .add_service_provider(NewServiceProvider {
            service: "gitlab".into(),
            name: "gl".into(),
            base_url: Some(gitlab.base.clone()),
            project: Some("acme%2Fapp".into()),
            credential: Some(Secret::new(PROJECT_TOKEN)),
            region: None,
            user: None,
        })
        .expect("connection");
    assert_eq!(provider.project, PROJECT_PATH);
    // A project that is neither an id nor a path is refused up front.
    let refused = vault
        .add_service_provider(NewServiceProvider {
            service: "gitlab".into(),
            name: "bad".into(),
            base_url: Some(gitlab.base.clone()),
            project: Some("acme app".into()),
            credential: Some(Secret::new(PROJECT_TOKEN)),
            region: None,
            user: None,
        })
        .expect_err("refused");
    assert_eq!(refused.code().as_str(), "invalid_input");
    assert_eq!(
        provider.dashboard_url,
        format!("{}/acme/app/-/settings/access_tokens", gitlab.base)
    );
    vault.test_provider(&provider.id).await.expect("works");
    let env = dir.path().join(".env");
    std::fs::write(&env, format!("# ci\nGITLAB_TOKEN={PROJECT_CI_TOKEN}\n")).expect("env");
    let key = vault
        .add_existing_key(ExistingKey {
            provider_id: provider.id.clone(),
            name: "project ci token".into(),
            secret: Secret::new(PROJECT_CI_TOKEN),
            environment: String::new(),
            env_var: "GITLAB_TOKEN".into(),
            replace: false,
        })
        .await
        .expect("pasted")
        .id;
    let choices = vault.rotation_strategies(&key).expect("strategies");
    assert_eq!(choices.len(), 1, "{choices:?}");
    assert_eq!(choices[0].strategy, Strategy::RollInPlace);
    let request = RotationRequest {
        key_id: key.clone(),
        targets: vec![TargetSpec::Dotenv {
            path: env.display().to_string(),
            var: "GITLAB_TOKEN".into(),
            follow_symlink: false,
        }],
    };
    let plan = vault.plan_rotation(request).await.expect("plan");
    assert_eq!(plan.strategy, Strategy::RollInPlace);
    let done = vault.run_rotation(&plan.id, &|_| {}).await.expect("rolled");
    assert_eq!(done.state, State::Done, "{done:?}");
    assert_eq!(gitlab.rotate_calls(), 1);
    let new = crate::common::stored_secret(&done.new_key_id);
    let text = std::fs::read_to_string(&env).expect("read");
    let in_env = text
        .lines()
        .find_map(|l| l.strip_prefix("GITLAB_TOKEN="))
        .expect("var");
    assert_eq!(in_env, new.expose_secret());
    assert_ne!(new.expose_secret(), PROJECT_CI_TOKEN);
    assert!(gitlab.token(11).revoked, "the old token died with the roll");
    let newest = gitlab
        .tokens()
        .into_iter()
        .find(|t| t.value == new.expose_secret())
        .expect("new");
    assert!(newest.active && !newest.revoked);
    assert_eq!(newest.project.as_deref(), Some(PROJECT_ID));
    assert!(!gitlab.token(2).revoked, "no personal token was touched");
    // GitLab lists the dead token as revoked without a time: the vault
    // keeps a time (when it first saw it), the same at every sync.
    let revoked_at = || async {
        let listing = vault.list_keys().await.expect("list");
        let old = listing
            .keys
            .iter()
            .find(|k| k.id == key)
            .expect("the old generation is kept")
            .clone();
        old.revoked_at.expect("revoked")
    };
    let first = revoked_at().await;
    assert!(
        latchkey_core::clock::parse_rfc3339(&first).is_some(),
        "revoked_at is a time, not {first:?}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(revoked_at().await, first, "a later sync moved it");
}
