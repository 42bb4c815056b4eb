//! An AWS access key rotated (deactivate first, the AWS default) into four
//! targets of different kinds at once: a `.env` file, a profile of an AWS
//! credentials file, a GitHub Actions secret (a fake GitHub that unseals
//! what it receives) and an AWS Secrets Manager secret (moto, credential
//! checking on). The CLI is SIGKILLed at every journaled step, then resumed
//! (or rolled back): no key lost, never more than two keys on the IAM
//! user, no orphan, and every target ends holding the same one working key
//! with its file byte-exact (never torn).

mod common;
use latchkey_testkit::fakes::github as fake_github;

use common::moto::{set_up, Moto, SET_UP_CALLS};
use common::*;
use fake_github::{FakeGithub, TOKEN};
use latchkey_core::aws::{AwsClient, Credentials, JsonService};
use latchkey_core::http::HttpPolicy;
use latchkey_core::Secret;
use serde_json::{json, Value};

const FORWARD: &[&str] = &[
    "rotation::create::before",
    "rotation::create::after",
    "rotation::store::before",
    "rotation::deploy::before",
    "rotation::deploy::after",
    "rotation::verify::before",
    "rotation::verify::after",
    "rotation::deactivate_old::before",
    "rotation::deactivate_old::after",
    "rotation::delete_old::before",
    "rotation::finish::before",
];

/// Points before the old key is switched off: a rollback is still possible.
const BACKWARD: &[&str] = &[
    "rotation::create::after",
    "rotation::store::before",
    "rotation::deploy::before",
    "rotation::deploy::after",
    "rotation::verify::after",
    "rotation::deactivate_old::before",
];

fn env_text(pair: &str) -> String {
    format!("# app\nAWS_PAIR={pair}\nREGION=eu-west-1\n")
}

fn credentials_text(pair: &str) -> String {
    let (id, secret) = pair.split_once(':').expect("pair");
    format!(
        "# tools\n[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\nregion = eu-west-1\n\n[other]\naws_access_key_id = AKIAOTHEROTHEROTHER0\naws_secret_access_key = other\n"
    )
}

struct World<'a> {
    moto: &'a Moto,
    admin: &'a Credentials,
    github: &'a FakeGithub,
    _root: tempfile::TempDir,
    cli: Cli,
    user: String,
    repo: String,
    secret_id: String,
    old: String,
    args: Vec<String>,
}

impl<'a> World<'a> {
    async fn new(n: usize, moto: &'a Moto, admin: &'a Credentials, github: &'a FakeGithub) -> Self {
        let user = format!("bot{n}");
        let client = client(moto);
        client
            .iam(admin, "CreateUser", &[("UserName", &user)], false)
            .await
            .expect("user");
        let repo = format!("o/r{n}");
        github.add_repo(&repo);
        let root = tempfile::tempdir().expect("tempdir");
        let cli = Cli::new(root.path());
        let admin_pair = admin.to_secret();
        cli.run_with(
            &[
                "providers",
                "add",
                "--service",
                "aws",
                "--name",
                "prod",
                "--base-url",
                &moto.base,
                "--user",
                &user,
                "--region",
                "eu-west-1",
            ],
            &[],
            Some(admin_pair.expose_secret()),
        )
        .ok();
        cli.run_with(
            &[
                "providers",
                "add",
                "--service",
                "github",
                "--name",
                "gh",
                "--base-url",
                &github.base,
            ],
            &[],
            Some(TOKEN),
        )
        .ok();
        let created = cli.run(&[
            "create",
            "--provider",
            "prod",
            "--name",
            "bot",
            "--env-var",
            "AWS_PAIR",
        ]);
        created.ok();
        let old = pair_from(&created.stdout);
        std::fs::write(cli.cwd.join(".env"), env_text(&old)).expect("env");
        std::fs::write(cli.cwd.join("credentials"), credentials_text(&old)).expect("creds");
        let secret_id = format!("team/bot{n}");
        regional(moto)
            .json(
                admin,
                JsonService::SecretsManager,
                "CreateSecret",
                &json!({"Name": secret_id, "SecretString": old}),
                true,
            )
            .await
            .expect("secret");
        let args = [
            "rotate",
            "bot",
            "--target",
            "dotenv:.env:AWS_PAIR",
            "--target",
            "aws-credentials:credentials:default",
            "--target",
            &format!("github:gh:{repo}:AWS_PAIR"),
            "--target",
            &format!("aws-secret:prod:{secret_id}"),
            "--yes",
        ]
        .map(str::to_owned)
        .to_vec();
        World {
            moto,
            admin,
            github,
            _root: root,
            cli,
            user,
            repo,
            secret_id,
            old,
            args,
        }
    }

    /// Kills the rotation at `point`: the first run's, or for the steps
    /// after the old key is switched off, the run that deletes it.
    fn kill_at(&self, point: &str) {
        let mut args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        if matches!(
            point,
            "rotation::delete_old::before" | "rotation::finish::before"
        ) {
            self.cli.run(&args).ok();
            assert_eq!(self.rotation()["state"], "old_deactivated", "{point}");
            args = vec!["rotate", "--resume"];
        }
        let killed = self
            .cli
            .run_with(&args, &[("FAILPOINTS", &format!("{point}=return"))], None);
        assert_eq!(killed.signal, Some(9), "{point}: not killed: {killed:#?}");
    }

    fn rotation(&self) -> Value {
        let r = self.cli.run(&["rotations", "--json"]);
        r.ok();
        r.json()[0].clone()
    }

    /// The user's access keys as IAM lists them: (id, status).
    async fn user_keys(&self) -> Vec<(String, String)> {
        let answer = client(self.moto)
            .iam(
                self.admin,
                "ListAccessKeys",
                &[("UserName", &self.user)],
                true,
            )
            .await
            .expect("list");
        answer
            .at(&["ListAccessKeysResult", "AccessKeyMetadata"])
            .expect("keys")
            .all("member")
            .map(|m| {
                (
                    m.text_at(&["AccessKeyId"]).unwrap_or_default().to_owned(),
                    m.text_at(&["Status"]).unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    async fn stored_secret(&self) -> String {
        let answer = regional(self.moto)
            .json(
                self.admin,
                JsonService::SecretsManager,
                "GetSecretValue",
                &json!({"SecretId": self.secret_id}),
                true,
            )
            .await
            .expect("get secret");
        answer["SecretString"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Every invariant: one key on the user, the vault's, working; every
    /// target holds it, files byte-exact; `new`: whether it is a new key.
    async fn check(&self, point: &str, new: bool) {
        let keys = self.user_keys().await;
        assert_eq!(keys.len(), 1, "{point}: keys on the user: {keys:?}");
        let in_use = self.cli.run(&["run", "--", "printenv", "AWS_PAIR"]);
        in_use.ok();
        let in_use = in_use.stdout.trim().to_owned();
        assert_eq!(
            keys[0].0,
            in_use.split(':').next().unwrap_or_default(),
            "{point}: the live key is the vault's"
        );
        assert_eq!(keys[0].1, "Active", "{point}");
        assert!(works(self.moto, &in_use).await, "{point}: the key works");
        if new {
            assert_ne!(in_use, self.old, "{point}");
            assert!(!works(self.moto, &self.old).await, "{point}: old key alive");
        } else {
            assert_eq!(in_use, self.old, "{point}");
        }
        let read = |name: &str| std::fs::read_to_string(self.cli.cwd.join(name)).expect("read");
        assert_eq!(read(".env"), env_text(&in_use), "{point}: .env");
        assert_eq!(
            read("credentials"),
            credentials_text(&in_use),
            "{point}: credentials"
        );
        assert_eq!(
            self.github
                .plaintext(&self.repo, None, "AWS_PAIR")
                .as_deref(),
            new.then_some(in_use.as_str()),
            "{point}: GitHub secret"
        );
        assert_eq!(self.stored_secret().await, in_use, "{point}: AWS secret");
        let names: Vec<String> = std::fs::read_dir(&self.cli.cwd)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        let mut names = names;
        names.sort();
        assert_eq!(
            names,
            [".env", "credentials"],
            "{point}: leftovers beside the files"
        );
    }
}

fn client(moto: &Moto) -> AwsClient {
    AwsClient::new(Some(&moto.base), "us-east-1", HttpPolicy::default()).expect("client")
}

fn regional(moto: &Moto) -> AwsClient {
    AwsClient::new(Some(&moto.base), "eu-west-1", HttpPolicy::default()).expect("client")
}

async fn works(moto: &Moto, pair: &str) -> bool {
    let credentials = Credentials::parse(&Secret::new(pair)).expect("pair");
    client(moto)
        .caller_identity(&credentials)
        .await
        .expect("sts answered")
        .is_some()
}

fn pair_from(stdout: &str) -> String {
    let get = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} not printed: {stdout}"))
            .to_owned()
    };
    format!(
        "{}:{}",
        get("AWS_ACCESS_KEY_ID"),
        get("AWS_SECRET_ACCESS_KEY")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_rotation_into_four_targets_killed_anywhere_resumes_or_rolls_back_whole() {
    let moto = Moto::start(SET_UP_CALLS);
    let admin = set_up(&moto).await;
    let github = FakeGithub::start().await;
    let mut n = 0;

    for point in FORWARD {
        n += 1;
        let w = World::new(n, &moto, &admin, &github).await;
        w.kill_at(point);
        assert_eq!(w.rotation()["unfinished"], true, "{point}");
        let keys = w.user_keys().await;
        assert!(keys.len() <= 2, "{point}: {keys:?}");
        // Resumed until done: a deactivate-first run stops once the old
        // key is switched off, and the next one deletes it.
        for _ in 0..3 {
            if w.rotation()["state"] == "done" {
                break;
            }
            let resumed = w.cli.run(&["rotate", "--resume"]);
            assert_eq!(resumed.code, Some(0), "{point}: {resumed:#?}");
            let keys = w.user_keys().await;
            assert!(keys.len() <= 2, "{point}: {keys:?}");
        }
        assert_eq!(w.rotation()["state"], "done", "{point}");
        w.check(point, true).await;
    }

    for point in BACKWARD {
        n += 1;
        let w = World::new(n, &moto, &admin, &github).await;
        w.kill_at(point);
        let id = w.rotation()["id"].as_str().expect("id").to_owned();
        let rolled = w.cli.run(&["rotate", "--rollback", &id]);
        assert_eq!(rolled.code, Some(0), "{point}: {rolled:#?}");
        assert_eq!(w.rotation()["state"], "rolled_back", "{point}");
        // The GitHub secret did not exist before: a rollback cannot delete
        // what GitHub never shows, so it holds the old key again.
        let held = w.github.plaintext(&w.repo, None, "AWS_PAIR");
        assert!(
            held.is_none() || held.as_deref() == Some(w.old.as_str()),
            "{point}: GitHub secret after rollback"
        );
        if held.is_some() {
            // Same invariants, with the GitHub secret holding the old key.
            let keys = w.user_keys().await;
            assert_eq!(keys.len(), 1, "{point}: {keys:?}");
            assert!(works(w.moto, &w.old).await);
            assert_eq!(
                std::fs::read_to_string(w.cli.cwd.join(".env")).unwrap(),
                env_text(&w.old)
            );
            assert_eq!(
                std::fs::read_to_string(w.cli.cwd.join("credentials")).unwrap(),
                credentials_text(&w.old)
            );
            assert_eq!(w.stored_secret().await, w.old, "{point}");
        } else {
            w.check(point, false).await;
        }
    }

    // Killed right after the old key was switched off (the journal does not
    // know yet): a rollback switches it on again first.
    n += 1;
    let w = World::new(n, &moto, &admin, &github).await;
    w.kill_at("rotation::deactivate_old::after");
    let id = w.rotation()["id"].as_str().expect("id").to_owned();
    let old_id = w.old.split(':').next().unwrap().to_owned();
    let keys = w.user_keys().await;
    assert!(
        keys.contains(&(old_id.clone(), "Inactive".to_owned())),
        "{keys:?}"
    );
    w.cli.run(&["rotate", "--rollback", &id]).ok();
    assert_eq!(w.rotation()["state"], "rolled_back");
    assert_eq!(w.user_keys().await, [(old_id.clone(), "Active".to_owned())]);
    assert!(works(w.moto, &w.old).await);
    assert_eq!(w.stored_secret().await, w.old);

    // Switched off, then "Reactivate": undone whole.
    n += 1;
    let w = World::new(n, &moto, &admin, &github).await;
    let args: Vec<&str> = w.args.iter().map(String::as_str).collect();
    w.cli.run(&args).ok();
    let id = w.rotation()["id"].as_str().expect("id").to_owned();
    assert_eq!(w.rotation()["state"], "old_deactivated");
    let old_id = w.old.split(':').next().unwrap().to_owned();
    assert_eq!(w.user_keys().await.len(), 2);
    w.cli.run(&["rotate", "--reactivate", &id]).ok();
    assert_eq!(w.rotation()["state"], "rolled_back");
    assert_eq!(w.user_keys().await, [(old_id, "Active".to_owned())]);
    assert!(works(w.moto, &w.old).await);
    assert_eq!(w.stored_secret().await, w.old);
    assert_eq!(
        std::fs::read_to_string(w.cli.cwd.join("credentials")).unwrap(),
        credentials_text(&w.old)
    );
}
