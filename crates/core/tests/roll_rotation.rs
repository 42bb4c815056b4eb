//! Roll in place, through the vault against a fake GitLab (whose rotate
//! replaces a token in one call and kills the old one at once): GitLab
//! offers only that strategy; the new token is in the keychain before the
//! deploy; rotating the connection's own token switches the connection at
//! once; a rotate whose answer is lost is sent once, never again blindly,
//! and the next run tells the person plainly that the new token is lost.

mod common;
use latchkey_testkit::fakes::gitlab as fake_gitlab;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use fake_gitlab::{FakeGitlab, CI_TOKEN, TOKEN};
use latchkey_core::catalog::TargetSpec;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::http::HttpPolicy;
use latchkey_core::rotation::driver::RotationRequest;
use latchkey_core::rotation::{State, Strategy};
use latchkey_core::vault::{ExistingKey, NewServiceProvider};
use latchkey_core::{Secret, Vault};

struct World {
    gitlab: FakeGitlab,
    _dir: tempfile::TempDir,
    vault: Vault,
    provider_id: String,
    env: std::path::PathBuf,
}

async fn world(policy: Option<HttpPolicy>) -> World {
    let gitlab = FakeGitlab::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let mut vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    if let Some(p) = policy {
        vault.set_http_policy(p);
    }
    let provider = vault
        .add_service_provider(NewServiceProvider {
            service: "gitlab".into(),
            name: "gl".into(),
            base_url: Some(gitlab.base.clone()),
            project: None,
            credential: Some(Secret::new(TOKEN)),
            region: None,
            user: None,
        })
        .expect("connection");
    let env = dir.path().join(".env");
    World {
        gitlab,
        _dir: dir,
        vault,
        provider_id: provider.id,
        env,
    }
}

impl World {
    async fn paste(&self, name: &str, token: &str) -> String {
        std::fs::write(&self.env, format!("# ci\nGITLAB_TOKEN={token}\n")).expect("env");
        self.vault
            .add_existing_key(ExistingKey {
                provider_id: self.provider_id.clone(),
                name: name.into(),
                secret: Secret::new(token),
                environment: String::new(),
                env_var: "GITLAB_TOKEN".into(),
                replace: false,
            })
            .await
            .expect("pasted")
            .id
    }

    fn request(&self, key_id: &str) -> RotationRequest {
        RotationRequest {
            key_id: key_id.to_owned(),
            targets: vec![TargetSpec::Dotenv {
                path: self.env.display().to_string(),
                var: "GITLAB_TOKEN".into(),
                follow_symlink: false,
            }],
        }
    }

    fn env_value(&self) -> String {
        let text = std::fs::read_to_string(&self.env).expect("read");
        text.lines()
            .find_map(|l| l.strip_prefix("GITLAB_TOKEN="))
            .expect("var")
            .to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gitlab_token_is_rolled_in_place_keychain_first() {
    let w = world(None).await;
    let key = w.paste("ci token", CI_TOKEN).await;
    let choices = w.vault.rotation_strategies(&key).expect("strategies");
    assert_eq!(choices.len(), 1, "{choices:?}");
    assert_eq!(choices[0].strategy, Strategy::RollInPlace);
    assert!(choices[0].description.contains("stops working at once"));
    // Overlap is not possible: GitLab cannot make a second token here.
    let refused = w
        .vault
        .plan_rotation_with(w.request(&key), Some(Strategy::Overlap))
        .await
        .expect_err("GitLab cannot create");
    assert_eq!(refused.code().as_str(), "invalid_input");

    let plan = w.vault.plan_rotation(w.request(&key)).await.expect("plan");
    assert_eq!(plan.strategy, Strategy::RollInPlace);
    let done = w
        .vault
        .run_rotation(&plan.id, &|_| {})
        .await
        .expect("rolled");
    assert_eq!(done.state, State::Done, "{done:?}");
    assert_eq!(w.gitlab.rotate_calls(), 1);
    let new = stored_secret(&done.new_key_id);
    assert_eq!(w.env_value(), new.expose_secret());
    assert_ne!(new.expose_secret(), CI_TOKEN);
    let old = w
        .gitlab
        .tokens()
        .into_iter()
        .find(|t| t.value == CI_TOKEN)
        .expect("old");
    assert!(old.revoked, "the old token died with the roll");
    let newest = w
        .gitlab
        .tokens()
        .into_iter()
        .find(|t| t.value == new.expose_secret())
        .expect("new");
    assert!(newest.active && !newest.revoked);
    // The journal: the roll's intent before it, the keychain before the deploy.
    let journal = w.vault.rotation_journal(&plan.id).expect("journal");
    let at = |step: &str, phase: &str| {
        journal
            .iter()
            .position(|e| e.step == step && e.phase == phase)
            .unwrap_or_else(|| panic!("no {step} {phase}: {journal:#?}"))
    };
    assert!(at("roll", "intent") < at("roll", "ok"));
    assert!(at("roll", "ok") < at("store", "ok"));
    assert!(at("store", "ok") < at("deploy:0", "intent"));
    // No rollback once rolled.
    let e = w
        .vault
        .rollback_rotation(&plan.id, &|_| {})
        .await
        .expect_err("done");
    assert_eq!(e.code().as_str(), "invalid_input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_the_connections_own_token_switches_the_connection_at_once() {
    let w = world(None).await;
    let key = w.paste("admin token", TOKEN).await;
    let plan = w.vault.plan_rotation(w.request(&key)).await.expect("plan");
    let done = w
        .vault
        .run_rotation(&plan.id, &|_| {})
        .await
        .expect("rolled");
    assert_eq!(done.state, State::Done, "{done:?}");
    let new = stored_secret(&done.new_key_id);
    // The connection signs in with the new token: the old one is dead.
    w.vault
        .test_provider(&w.provider_id)
        .await
        .expect("the connection still works");
    let old = w
        .gitlab
        .tokens()
        .into_iter()
        .find(|t| t.value == TOKEN)
        .expect("old");
    assert!(old.revoked);
    assert_eq!(w.env_value(), new.expose_secret());
    let log = w.vault.audit_log(50).expect("audit");
    assert!(
        log.iter().any(|e| e.action == "provider_token"),
        "switch audited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotate_whose_answer_is_lost_is_never_sent_again() {
    let policy = HttpPolicy {
        total_timeout: Duration::from_millis(500),
        max_attempts: 4,
        base_delay: Duration::from_millis(10),
        ..HttpPolicy::default()
    };
    let w = world(Some(policy)).await;
    let key = w.paste("ci token", CI_TOKEN).await;
    let plan = w.vault.plan_rotation(w.request(&key)).await.expect("plan");
    w.gitlab.slow_rotate(Some(Duration::from_millis(1500)));
    let e = w
        .vault
        .run_rotation(&plan.id, &|_| {})
        .await
        .expect_err("the answer is late");
    assert_eq!(e.code().as_str(), "outcome_unknown", "{e}");
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert_eq!(w.gitlab.rotate_calls(), 1);
    let view = w.vault.rotation(&plan.id).expect("view");
    assert_eq!(view.state, State::Planned);
    // GitLab did rotate: the old token is dead and the new one never came
    // back. The next run asks about the old token instead of rotating
    // again (which would make GitLab revoke the newest token too).
    w.gitlab.slow_rotate(None);
    let again = w
        .vault
        .run_rotation(&plan.id, &|_| {})
        .await
        .expect_err("the new token is lost");
    assert_eq!(again.code().as_str(), "outcome_unknown", "{again}");
    assert!(again.to_string().contains("Make a new key"), "{again}");
    assert_eq!(w.gitlab.rotate_calls(), 1, "never sent twice");
    let newest = w
        .gitlab
        .tokens()
        .into_iter()
        .max_by_key(|t| t.id)
        .expect("tokens");
    assert!(
        newest.active && !newest.revoked,
        "the newest token is left alone"
    );
    // The .env file was never touched; the rotation can be closed.
    assert_eq!(w.env_value(), CI_TOKEN);
    let closed = w
        .vault
        .rollback_rotation(&plan.id, &|_| {})
        .await
        .expect("closed");
    assert_eq!(closed.state, State::RolledBack);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotate_that_never_happened_is_sent_again_once_the_old_token_still_works() {
    let w = world(None).await;
    let key = w.paste("ci token", CI_TOKEN).await;
    let plan = w.vault.plan_rotation(w.request(&key)).await.expect("plan");
    // GitLab down before the rotate reached it: a 503 answered by a proxy.
    w.gitlab.html(true);
    let e = w
        .vault
        .run_rotation(&plan.id, &|_| {})
        .await
        .expect_err("no answer");
    // An HTML page for an answer: the rotate may or may not have happened.
    assert_eq!(e.code().as_str(), "outcome_unknown", "{e}");
    w.gitlab.html(false);
    let old = w
        .gitlab
        .tokens()
        .into_iter()
        .find(|t| t.value == CI_TOKEN)
        .expect("old");
    assert!(!old.revoked, "the proxy page came before GitLab");
    // The old token still works, so the roll did not happen: sent again.
    let done = w
        .vault
        .run_rotation(&plan.id, &|_| {})
        .await
        .expect("rolled");
    assert_eq!(done.state, State::Done, "{done:?}");
    assert_eq!(
        w.gitlab.rotate_calls(),
        1,
        "the proxy page was not a rotate"
    );
    let new = stored_secret(&done.new_key_id);
    assert_eq!(w.env_value(), new.expose_secret());
    let journal = w.vault.rotation_journal(&plan.id).expect("journal");
    assert!(journal
        .iter()
        .any(|e| e.step == "roll" && e.detail.contains("did not happen")));
}
