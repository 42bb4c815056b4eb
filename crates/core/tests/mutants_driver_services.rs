//! More edges of the rotation driver that `cargo mutants` showed no other
//! test of its area would notice (`scripts/mutants.sh driver-fast`), with
//! the services whose rotations differ from the key service's: a
//! dashboard-only service (the person makes and revokes keys) and Cloudflare
//! (deactivate first, against the test kit's fake). Each test names the
//! changes it fails on. Real keychain, files and SQLite.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::*;
use latchkey_core::catalog::TargetSpec;
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::rotation::driver::{no_progress, RotationRequest};
use latchkey_core::rotation::State;
use latchkey_core::Secret;

const VAR: &str = "DEMO_API_KEY";

fn dotenv(path: &Path, var: &str) -> TargetSpec {
    TargetSpec::Dotenv {
        path: path.display().to_string(),
        var: var.into(),
        follow_symlink: false,
    }
}

fn steps(journal: &[latchkey_core::catalog::JournalEntry]) -> Vec<String> {
    journal
        .iter()
        .map(|e| format!("{}:{}", e.step, e.phase))
        .collect()
}

/// A dashboard-only service: the rotation waits for the new key with the
/// dashboard's link; a paste is taken only by such a rotation, only while
/// it waits, only as a key (not blank, no control characters, not a key
/// the vault holds); the new key can be copied once stored, not before;
/// the person confirms the dashboard revoke and the run checks it.
/// (`provide_new_key`: `manual` with `!=`, its `||` as `&&`, `!` deleted,
/// `!=` as `==`, the secret check's `||` as `&&`; `copy_rotation_key`'s
/// `!` deleted; `confirm_done_by_hand` as a default view.)
/// A dashboard-only (manual) connection whose checks go to `service`,
/// holding the key "by hand" made there directly: the key, its secret, and
/// the service's answer to its create.
async fn dashboard_only_key(
    vault: &latchkey_core::Vault,
    service: &Service,
) -> (latchkey_core::vault::KeyView, String, serde_json::Value) {
    let manual = vault
        .add_manual_provider(latchkey_core::vault::NewManualProvider {
            name: "Dashboard-only".into(),
            dashboard_url: format!("{}/dashboard", service.base),
            verify_url: format!("{}/v1/verify", service.base),
        })
        .expect("manual provider");
    let first = service.create_directly("by hand").await;
    let old_secret = first["key"].as_str().expect("key").to_owned();
    let old = vault
        .add_existing_key(latchkey_core::vault::ExistingKey {
            provider_id: manual.id.clone(),
            name: "by hand".into(),
            secret: Secret::new(old_secret.as_str()),
            environment: String::new(),
            env_var: VAR.into(),
            replace: false,
        })
        .await
        .expect("added");
    (old, old_secret, first)
}

#[tokio::test]
async fn a_pasted_key_is_taken_only_by_a_waiting_manual_rotation() {
    use latchkey_core::clipboard::Clipboard;
    use latchkey_core::rotation::driver::RotationNeed;
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let clipboard = Arc::new(MemoryClipboard::default());
    let vault = open_vault(&dir.path().join("data"), clipboard.clone());
    let (old, old_secret, first) = dashboard_only_key(&vault, &service).await;
    let env = dir.path().join("manual.env");
    std::fs::write(&env, format!("{VAR}={old_secret}\n")).expect("env");
    let id = vault
        .plan_rotation(RotationRequest {
            key_id: old.id.clone(),
            targets: vec![dotenv(&env, VAR)],
        })
        .await
        .expect("planned")
        .id;
    let waiting = vault.run_rotation(&id, &no_progress).await.expect("waits");
    assert_eq!(waiting.needs, Some(RotationNeed::PasteNewKey));
    assert_eq!(
        waiting.dashboard_url.as_deref(),
        Some(format!("{}/dashboard", service.base).as_str())
    );
    let e = vault
        .copy_rotation_key(&id)
        .expect_err("nothing to copy yet");
    assert_eq!(e.code().as_str(), "invalid_input", "{e}");
    // A rotation of a service with an API takes no paste.
    let provider = add_provider(&vault, &service);
    let api_key = vault
        .create_key(new_key(&provider, "api"))
        .await
        .expect("api key");
    std::fs::write(dir.path().join("api.env"), format!("{VAR}=x\n")).expect("env");
    let api = vault
        .plan_rotation(RotationRequest {
            key_id: api_key.id.clone(),
            targets: vec![dotenv(&dir.path().join("api.env"), VAR)],
        })
        .await
        .expect("planned")
        .id;
    let e = vault
        .provide_new_key(&api, Secret::new("lk_pasted_0123456789abcdef"))
        .expect_err("not manual");
    assert_eq!(e.code().as_str(), "invalid_input", "{e}");
    for (bad, why) in [
        ("   ", "blank"),
        ("lk_pasted\u{7}0123456789", "a control character"),
    ] {
        let e = vault.provide_new_key(&id, Secret::new(bad)).expect_err(why);
        assert_eq!(e.code().as_str(), "invalid_input", "{why}: {e}");
    }
    let e = vault
        .provide_new_key(&id, Secret::new(old_secret.as_str()))
        .expect_err("the old key");
    assert_eq!(e.code().as_str(), "duplicate_key", "{e}");
    assert_eq!(vault.rotation(&id).expect("view").state, State::Planned);

    let second = service.create_directly("by hand 2").await;
    let new_secret = second["key"].as_str().expect("key").to_owned();
    let stored = vault
        .provide_new_key(&id, Secret::new(new_secret.as_str()))
        .expect("pasted");
    assert_eq!(stored.state, State::Stored);
    let e = vault
        .provide_new_key(&id, Secret::new("lk_pasted_again_0123456789"))
        .expect_err("no longer waiting");
    assert_eq!(e.code().as_str(), "invalid_input", "{e}");
    let _timer = vault.copy_rotation_key(&id).expect("copied");
    assert_eq!(
        clipboard
            .current()
            .expect("clipboard")
            .as_ref()
            .map(Secret::expose_secret),
        Some(new_secret.as_str())
    );

    let verified = vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("verified");
    assert_eq!(verified.needs, Some(RotationNeed::RevokeOldByHand));
    service
        .revoke_directly(first["id"].as_str().expect("id"))
        .await;
    let confirmed = vault.confirm_done_by_hand(&id).expect("confirmed");
    assert_eq!(confirmed.id, id);
    assert_eq!(confirmed.needs, None);
    let done = vault.run_rotation(&id, &no_progress).await.expect("done");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    assert_eq!(
        std::fs::read_to_string(&env).expect("env"),
        format!("{VAR}={new_secret}\n")
    );
}

/// A `.env` is added to its work tree's `.gitignore` (`add_to_gitignore`
/// as `Ok(())`).
#[tokio::test]
async fn an_env_file_is_added_to_its_work_trees_gitignore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join(".git")).expect("work tree");
    let env = tree.join(".env");
    std::fs::write(&env, "A=1\n").expect("env");
    vault
        .add_to_gitignore(&env.display().to_string())
        .expect("added");
    let ignore = std::fs::read_to_string(tree.join(".gitignore")).expect(".gitignore");
    assert!(ignore.lines().any(|l| l == "/.env"), "{ignore}");
}

/// Deactivate first (Cloudflare can switch a token off): a rollback before
/// the old key was touched switches nothing on; one after a switch-off that
/// failed switches the old key on again first; from "Old key deactivated"
/// the reactivation undoes it; a hold names its step; a roll in place is
/// audited as one. (`rollback_rotation`'s
/// deactivate check: either `&&` as `||`, `==` as `!=`, `!=` as `==`, `>`
/// as `==`, `<` or `>=`; `run_rotation_with`'s `DeactivateFirst` arm;
/// `finish_step`'s `RollInPlace` arm; `delete_deactivated_step` as
/// `Ok(())`.)
#[tokio::test]
async fn a_deactivate_first_rollback_switches_the_old_key_on_only_when_touched() {
    use latchkey_core::rotation::Strategy;
    use latchkey_core::vault::NewKey;
    use latchkey_testkit::fakes::cloudflare::FakeCloudflare;
    const CF_VAR: &str = "CLOUDFLARE_API_TOKEN";
    let fake = FakeCloudflare::start().await;
    let admin = fake.seed_token("latchkey", true);
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    let provider = add_service(&vault, "cloudflare", "Cloudflare", &fake.base, &admin);
    let env = dir.path().join(".env");
    let status_of = |value: &str| {
        fake.inner()
            .tokens
            .iter()
            .find(|t| t.value == value)
            .map(|t| t.status.clone())
            .expect("token")
    };
    // A new old key in the .env and a planned rotation of it.
    let start = |name: &'static str, checklist: bool| {
        let (vault, provider_id, env) = (&vault, provider.id.clone(), env.clone());
        async move {
            let old = vault
                .create_key(NewKey {
                    provider_id,
                    name: name.into(),
                    scopes: vec![],
                    expires_in_days: None,
                    environment: "dev".into(),
                    env_var: CF_VAR.into(),
                })
                .await
                .expect("create");
            let secret = stored_secret(&old.id);
            let before = format!("{CF_VAR}={}\n", secret.expose_secret());
            std::fs::write(&env, &before).expect("env");
            let mut targets = vec![dotenv(&env, CF_VAR)];
            if checklist {
                targets.push(TargetSpec::Manual {
                    items: vec!["CI secret".into()],
                });
            }
            let plan = vault
                .plan_rotation(RotationRequest {
                    key_id: old.id.clone(),
                    targets,
                })
                .await
                .expect("planned");
            assert_eq!(plan.strategy, Strategy::DeactivateFirst);
            (plan.id, secret, before)
        }
    };
    let journal = |id: &str| steps(&vault.rotation_journal(id).expect("journal"));

    // Rolled back while waiting on the checklist: the old key was never off.
    let (id, old, before) = start("untouched", true).await;
    let waiting = vault.run_rotation(&id, &no_progress).await.expect("waits");
    assert_eq!(waiting.state, State::Stored);
    let rolled = vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect("rolled back");
    assert_eq!(rolled.state, State::RolledBack, "{:?}", rolled.error);
    assert_eq!(std::fs::read_to_string(&env).expect("env"), before);
    let order = journal(&id);
    assert!(
        !order.iter().any(|o| o.starts_with("reactivate_old")),
        "{order:?}"
    );
    assert_eq!(status_of(old.expose_secret()), "active");

    // The switch-off failed (the service refused it): its intent is in the
    // journal, so the rollback switches the old key on again first.
    let (id, old, before) = start("touched", false).await;
    let refusal = r#"{"success":false,"errors":[{"code":1000,"message":"refused"}],"messages":[],"result":null}"#;
    let e = vault
        .run_rotation(&id, &|v| {
            if v.state == State::Verified {
                for _ in 0..3 {
                    fake.fail_next(400, &[("content-type", "application/json")], refusal);
                }
            }
        })
        .await
        .expect_err("switch-off refused");
    fake.inner().failures.clear();
    assert_eq!(
        vault.rotation(&id).expect("view").state,
        State::Verified,
        "{e}"
    );
    assert!(journal(&id).contains(&"deactivate_old:intent".to_owned()));
    let rolled = vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect("rolled back");
    assert_eq!(rolled.state, State::RolledBack, "{:?}", rolled.error);
    let order = journal(&id);
    let at = |x: &str| {
        order
            .iter()
            .position(|o| o == x)
            .unwrap_or_else(|| panic!("{x} not in {order:?}"))
    };
    assert!(at("reactivate_old:ok") < at("revoke_new:ok"), "{order:?}");
    assert_eq!(status_of(old.expose_secret()), "active");
    assert_eq!(std::fs::read_to_string(&env).expect("env"), before);

    // Used after the deploy: the switch-off is held, and the journal names
    // the step held (`run_rotation_with`'s `DeactivateFirst` arm deleted).
    let (id, old, _) = start("in use", false).await;
    let e = vault
        .run_rotation(&id, &|v| {
            if v.state == State::Verified {
                let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
                let mut inner = fake.inner();
                let token = inner
                    .tokens
                    .iter_mut()
                    .find(|t| t.value == old.expose_secret())
                    .expect("old token");
                token.last_used_on = Some(latchkey_core::clock::rfc3339(later));
            }
        })
        .await
        .expect_err("held");
    assert_eq!(e.code().as_str(), "still_in_use", "{e}");
    let order = journal(&id);
    assert_eq!(
        order.last().map(String::as_str),
        Some("deactivate_old:failed"),
        "{order:?}"
    );
    vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect("rolled back");

    // Switched off, then reactivated: the old key is on, the rest undone.
    let (id, old, before) = start("reactivated", false).await;
    let off = vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("switched off");
    assert_eq!(off.state, State::OldDeactivated);
    assert_ne!(status_of(old.expose_secret()), "active");
    let back = vault
        .reactivate_rotation(&id, &no_progress)
        .await
        .expect("reactivated");
    assert_eq!(back.state, State::RolledBack, "{:?}", back.error);
    assert_eq!(status_of(old.expose_secret()), "active");
    assert_eq!(std::fs::read_to_string(&env).expect("env"), before);

    // Switched off, then run again: the old key is deleted and the
    // rotation done (`delete_deactivated_step` as `Ok(())` never ends).
    let (id, old, _) = start("deleted", false).await;
    let off = vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("switched off");
    assert_eq!(off.state, State::OldDeactivated);
    let done = vault.run_rotation(&id, &no_progress).await.expect("done");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    assert!(
        fake.inner()
            .tokens
            .iter()
            .all(|t| t.value != old.expose_secret()),
        "the old token is deleted"
    );
    assert!(journal(&id).contains(&"delete_old:ok".to_owned()));

    // Rolled in place: the audit says the service replaced the old key, not
    // that it was revoked (`finish_step`'s `RollInPlace` arm deleted).
    let rolled_key = vault
        .create_key(NewKey {
            provider_id: provider.id.clone(),
            name: "rolled".into(),
            scopes: vec![],
            expires_in_days: None,
            environment: "dev".into(),
            env_var: CF_VAR.into(),
        })
        .await
        .expect("create");
    let secret = stored_secret(&rolled_key.id);
    std::fs::write(&env, format!("{CF_VAR}={}\n", secret.expose_secret())).expect("env");
    let plan = vault
        .plan_rotation_with(
            RotationRequest {
                key_id: rolled_key.id.clone(),
                targets: vec![dotenv(&env, CF_VAR)],
            },
            Some(Strategy::RollInPlace),
        )
        .await
        .expect("planned");
    let done = vault
        .run_rotation(&plan.id, &no_progress)
        .await
        .expect("rolled");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    let log = vault.audit_log(50).expect("audit");
    let finished: Vec<&str> = log
        .iter()
        .filter(|e| e.action == "rotate" && e.detail.contains(&plan.id))
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(
        finished,
        [format!(
            "rotation {} done; the service replaced the old key",
            plan.id
        )],
        "{log:#?}"
    );
}

/// The IAM user `app`'s access keys, made and deleted behind Latchkey's
/// back with moto's admin pair.
struct AppUser {
    client: latchkey_core::aws::AwsClient,
    admin: latchkey_core::aws::Credentials,
}

impl AppUser {
    /// A new key: its access key id and its pair.
    async fn create(&self) -> (String, String) {
        let made = self
            .client
            .iam(
                &self.admin,
                "CreateAccessKey",
                &[("UserName", "app")],
                false,
            )
            .await
            .expect("create");
        let field = |f: &str| {
            made.text_at(&["CreateAccessKeyResult", "AccessKey", f])
                .expect(f)
                .to_owned()
        };
        let id = field("AccessKeyId");
        let pair = format!("{id}:{}", field("SecretAccessKey"));
        (id, pair)
    }

    async fn delete(&self, id: &str) {
        self.client
            .iam(
                &self.admin,
                "DeleteAccessKey",
                &[("UserName", "app"), ("AccessKeyId", id)],
                true,
            )
            .await
            .expect("delete");
    }

    async fn ids(&self) -> Vec<String> {
        let listed = self
            .client
            .iam(&self.admin, "ListAccessKeys", &[("UserName", "app")], true)
            .await
            .expect("list");
        listed
            .at(&["ListAccessKeysResult", "AccessKeyMetadata"])
            .expect("metadata")
            .all("member")
            .map(|m| m.text_at(&["AccessKeyId"]).expect("id").to_owned())
            .collect()
    }
}

/// A loopback forwarder to moto that, once armed, carries the next
/// `CreateAccessKey` out and loses its answer: it drops the connection a
/// second and a half later, as a slow network that timed out would.
struct LosingProxy {
    base: String,
    armed: Arc<std::sync::atomic::AtomicBool>,
}

impl LosingProxy {
    async fn start(upstream: &str) -> LosingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let armed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let lose = armed.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(forward(client, upstream.clone(), lose.clone()));
            }
        });
        LosingProxy { base, armed }
    }

    fn lose_the_next_create(&self) {
        self.armed.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Forwards each request on `client` to `upstream` on a connection of its
/// own (moto closes each), and its answer back.
async fn forward(
    mut client: tokio::net::TcpStream,
    upstream: String,
    lose: Arc<std::sync::atomic::AtomicBool>,
) {
    use tokio::io::AsyncWriteExt;
    while let Some(request) = read_message(&mut client).await {
        let mut server = tokio::net::TcpStream::connect(&upstream)
            .await
            .expect("moto");
        server.write_all(&request).await.expect("forward");
        let Some(answer) = read_message(&mut server).await else {
            return;
        };
        let create = request
            .windows(b"CreateAccessKey".len())
            .any(|w| w == b"CreateAccessKey");
        if create && lose.swap(false, std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            return;
        }
        if client.write_all(&answer).await.is_err() {
            return;
        }
    }
}

/// One HTTP/1.1 message: its head and its `Content-Length` body.
async fn read_message(stream: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut message = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = message.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&message[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().expect("content-length"));
            if message.len() >= end + 4 + length {
                return Some(message);
            }
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        message.extend_from_slice(&chunk[..n]);
    }
}

/// AWS access keys have no names: a rotation's leftover is a key made on
/// the user since the rotation's first create intent, not its old key, and
/// not a key Latchkey holds. A rollback after a create that found no room
/// keeps a key older than the rotation; a run after a create whose answer
/// was lost (its failure journaled a second later) deletes the key that
/// create made, to make room for its own; a run after a crash that left
/// the new pair in the keychain adopts that key; and a first create that
/// finds no room deletes nothing, not even a key made after its intent.
/// (`revoke_orphans`: the first create intent's `==`s as `!=`; `>=` as
/// `<`; the leftover check's `&&`s as `||`, its `!` deleted, its `!=` as
/// `==`; `create_step`: `tried_before`'s `>` as `>=`, the conflict guard
/// `tried_before` as `true`, the adopted key's `|| owns` as `&& owns` and
/// its preview `==` as `!=`.)
#[tokio::test]
async fn an_aws_rotation_takes_for_its_own_only_keys_made_since_its_first_create() {
    use latchkey_core::aws::AwsClient;
    use latchkey_core::clock::ManualClock;
    use latchkey_core::http::HttpPolicy;
    use latchkey_core::rotation::driver::RunOptions;
    use latchkey_core::rotation::Strategy;
    use latchkey_core::store::{key_account, KeychainStore, SecretStore};
    use latchkey_core::vault::{NewKey, NewServiceProvider};
    use latchkey_core::Vault;
    use latchkey_testkit::moto::{set_up, Moto, SET_UP_CALLS};
    const PAIR_VAR: &str = "AWS_PAIR";
    let moto = Moto::start(SET_UP_CALLS);
    let admin = set_up(&moto).await;
    let proxy = LosingProxy::start(&moto.base).await;
    let app = AppUser {
        client: AwsClient::new(Some(&moto.base), "us-east-1", HttpPolicy::default())
            .expect("client"),
        admin: admin.clone(),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let vault = open_vault(&data, Arc::new(MemoryClipboard::default()));
    let provider = vault
        .add_service_provider(NewServiceProvider {
            service: "aws".into(),
            name: "prod".into(),
            base_url: Some(proxy.base.clone()),
            project: None,
            credential: Some(admin.to_secret()),
            region: Some("eu-west-1".into()),
            user: Some("app".into()),
        })
        .expect("aws connection");
    let old = vault
        .create_key(NewKey {
            provider_id: provider.id.clone(),
            name: "deploy bot".into(),
            scopes: vec![],
            expires_in_days: None,
            environment: "dev".into(),
            env_var: PAIR_VAR.into(),
        })
        .await
        .expect("old key");
    let old_pair = stored_secret(&old.id);
    let old_id = old_pair
        .expose_secret()
        .split_once(':')
        .expect("pair")
        .0
        .to_owned();
    let env = dir.path().join(".env");
    std::fs::write(&env, format!("{PAIR_VAR}={}\n", old_pair.expose_secret())).expect("env");
    async fn plan(vault: &Vault, key_id: &str, env: &Path) -> String {
        let request = RotationRequest {
            key_id: key_id.to_owned(),
            targets: vec![dotenv(env, "AWS_PAIR")],
        };
        // Not deactivate first (AWS's default), which stops short of the end.
        vault
            .plan_rotation_with(request, Some(Strategy::Overlap))
            .await
            .expect("planned")
            .id
    }
    let journal = |id: &str| steps(&vault.rotation_journal(id).expect("journal"));

    // Someone else's key on the user, older than the rotation: a create
    // finds no room; rolled back, that key is kept.
    let (other, _) = app.create().await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let id = plan(&vault, &old.id, &env).await;
    let e = vault
        .run_rotation(&id, &no_progress)
        .await
        .expect_err("no room");
    assert_eq!(e.code().as_str(), "provider_conflict", "{e}");
    let rolled = vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect("rolled back");
    assert_eq!(rolled.state, State::RolledBack, "{:?}", rolled.error);
    assert_eq!(app.ids().await, [old_id.clone(), other.clone()]);

    // The other key goes; a create whose answer is lost makes a key; the
    // next run finds no room, deletes that key and rotates.
    app.delete(&other).await;
    let id = plan(&vault, &old.id, &env).await;
    proxy.lose_the_next_create();
    vault
        .run_rotation(&id, &no_progress)
        .await
        .expect_err("the answer is lost");
    let keys = app.ids().await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(journal(&id)[1..], ["create:intent", "create:failed"]);
    let done = vault
        .run_rotation_with(&id, RunOptions { force_revoke: true }, &no_progress)
        .await
        .expect("rotated");
    assert_eq!(done.state, State::Done, "{:?}", done.error);
    let new_pair = stored_secret(&done.new_key_id);
    let new_id = new_pair.expose_secret().split_once(':').expect("pair").0;
    assert_eq!(app.ids().await, [new_id]);
    assert!(!keys.contains(&new_id.to_owned()), "{keys:?}");
    assert!(journal(&id).contains(&"revoke_orphan:ok".to_owned()));
    assert_eq!(
        std::fs::read_to_string(&env).expect("env"),
        format!("{PAIR_VAR}={}\n", new_pair.expose_secret())
    );

    // A run that crashed after its keychain write left the new pair there
    // and the key on the user: the next run adopts it.
    let id = plan(&vault, &done.new_key_id, &env).await;
    let (blocker, _) = app.create().await;
    vault
        .run_rotation(&id, &no_progress)
        .await
        .expect_err("no room");
    app.delete(&blocker).await;
    let (left, left_pair) = app.create().await;
    let view = vault.rotation(&id).expect("view");
    KeychainStore::open_service("latchkey-test")
        .expect("keychain")
        .put(
            &key_account(&view.new_key_id),
            &Secret::new(left_pair.as_str()),
        )
        .expect("keychain write");
    let adopted = vault
        .run_rotation_with(&id, RunOptions { force_revoke: true }, &no_progress)
        .await
        .expect("rotated");
    assert_eq!(adopted.state, State::Done, "{:?}", adopted.error);
    assert_eq!(app.ids().await, std::slice::from_ref(&left));
    assert_eq!(vault.key(&adopted.new_key_id).expect("key").preview, left);
    assert_eq!(
        std::fs::read_to_string(&env).expect("env"),
        format!("{PAIR_VAR}={left_pair}\n")
    );

    // A first create finds no room: it deletes nothing, not even a key
    // made after its intent (this vault's clock is an hour slow).
    let slow = Vault::open(
        &data,
        Arc::new(KeychainStore::open_service("latchkey-test").expect("keychain")),
        Arc::new(MemoryClipboard::default()),
        Arc::new(ManualClock::new(
            time::OffsetDateTime::now_utc() - time::Duration::hours(1),
        )),
    )
    .expect("slow vault");
    let id = plan(&slow, &adopted.new_key_id, &env).await;
    let (someone, _) = app.create().await;
    let e = slow
        .run_rotation(&id, &no_progress)
        .await
        .expect_err("no room");
    assert_eq!(e.code().as_str(), "provider_conflict", "{e}");
    assert_eq!(app.ids().await, [left, someone]);
}

/// Rolling back a dashboard-only rotation after the deploy: the file comes
/// back at once, then the rollback waits for the person to revoke the new
/// key in the dashboard, and checks it is rejected once they confirm.
/// (`rollback_steps`: `by_hand`'s `!` deleted, its guard as `false` and
/// its `!=` as `==`; the unrevoked-key guard as `false`;
/// `!rec.confirmed_by_hand` without its `!`.)
#[tokio::test]
async fn a_dashboard_only_rollback_waits_for_the_person_to_revoke_the_new_key() {
    use latchkey_core::rotation::driver::RotationNeed;
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = open_vault(
        &dir.path().join("data"),
        Arc::new(MemoryClipboard::default()),
    );
    let (old, old_secret, _) = dashboard_only_key(&vault, &service).await;
    let env = dir.path().join("manual.env");
    let before = format!("{VAR}={old_secret}\n");
    std::fs::write(&env, &before).expect("env");
    let id = vault
        .plan_rotation(RotationRequest {
            key_id: old.id.clone(),
            targets: vec![dotenv(&env, VAR)],
        })
        .await
        .expect("planned")
        .id;
    let waiting = vault.run_rotation(&id, &no_progress).await.expect("waits");
    assert_eq!(waiting.needs, Some(RotationNeed::PasteNewKey));
    let second = service.create_directly("by hand 2").await;
    let new_secret = second["key"].as_str().expect("key").to_owned();
    vault
        .provide_new_key(&id, Secret::new(new_secret.as_str()))
        .expect("pasted");
    let verified = vault
        .run_rotation(&id, &no_progress)
        .await
        .expect("verified");
    assert_eq!(verified.needs, Some(RotationNeed::RevokeOldByHand));
    assert_eq!(
        std::fs::read_to_string(&env).expect("env"),
        format!("{VAR}={new_secret}\n")
    );

    let rolling = vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect("waits for the person");
    assert_eq!(rolling.state, State::RollingBack, "{:?}", rolling.error);
    assert_eq!(rolling.needs, Some(RotationNeed::RevokeNewByHand));
    assert_eq!(std::fs::read_to_string(&env).expect("env"), before);
    assert_eq!(service.verify_status(&new_secret).await, 200);

    service
        .revoke_directly(second["id"].as_str().expect("id"))
        .await;
    vault.confirm_done_by_hand(&id).expect("confirmed");
    let rolled = vault
        .rollback_rotation(&id, &no_progress)
        .await
        .expect("rolled back");
    assert_eq!(rolled.state, State::RolledBack, "{:?}", rolled.error);
    assert_eq!(rolled.needs, None);
    assert_eq!(service.verify_status(&old_secret).await, 200);
}
