//! `latchkey` with an AWS connection on `moto_server` (credential checking
//! on): the pair goes in on stdin, `create` prints it once as the two
//! variables the AWS tools read, and a rotation to a `.env` leaves one
//! working key on the IAM user and the old one rejected.

mod common;

use common::moto::{set_up, Moto, SET_UP_CALLS};
use common::*;
use latchkey_core::aws::{AwsClient, Credentials};
use latchkey_core::http::HttpPolicy;
use latchkey_core::Secret;

async fn works(moto: &Moto, pair: &str) -> bool {
    let client =
        AwsClient::new(Some(&moto.base), "us-east-1", HttpPolicy::default()).expect("client");
    let credentials = Credentials::parse(&Secret::new(pair)).expect("pair");
    client
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

#[tokio::test(flavor = "multi_thread")]
async fn an_aws_key_is_added_created_rotated_and_revoked_from_the_cli() {
    let moto = Moto::start(SET_UP_CALLS);
    let admin = set_up(&moto).await;
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    let add = |pair: &str| {
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
                "app",
                "--region",
                "eu-west-1",
            ],
            &[],
            Some(pair),
        )
    };
    // A malformed pair is refused and nothing is kept.
    let bad = add("not-a-pair");
    assert_eq!(bad.code, Some(2), "{bad:#?}");
    assert!(bad.stderr.contains("[invalid_input]"), "{bad:#?}");
    assert!(!bad.stderr.contains("not-a-pair"));
    let admin_pair = admin.to_secret();
    let added = add(admin_pair.expose_secret());
    added.ok();
    assert!(
        added.stderr.contains("Connection test passed"),
        "{added:#?}"
    );
    let listed = cli.run(&["providers", "list", "--json"]).json();
    assert_eq!(listed[0]["kind"], "aws", "{listed:#}");
    assert_eq!(listed[0]["project"], "region=eu-west-1 user=app");

    let created = cli.run(&[
        "create",
        "--provider",
        "prod",
        "--name",
        "deploy bot",
        "--env-var",
        "AWS_PAIR",
    ]);
    created.ok();
    let old = pair_from(&created.stdout);
    assert!(works(&moto, &old).await);
    let secret_half = old.split(':').nth(1).expect("secret");
    assert!(!created.stderr.contains(secret_half));

    std::fs::write(cli.cwd.join(".env"), format!("AWS_PAIR={old}\n")).expect("write");

    // A second key on the user (made elsewhere): no room for the new one.
    let client =
        AwsClient::new(Some(&moto.base), "us-east-1", HttpPolicy::default()).expect("client");
    let other = client
        .iam(&admin, "CreateAccessKey", &[("UserName", "app")], false)
        .await
        .expect("other key");
    let other_id = other
        .text_at(&["CreateAccessKeyResult", "AccessKey", "AccessKeyId"])
        .expect("id")
        .to_owned();
    let full = cli.run(&["rotate", "deploy bot", "--dotenv", ".env", "--yes"]);
    assert_ne!(full.code, Some(0), "{full:#?}");
    assert!(full.stderr.contains("[provider_conflict]"), "{full:#?}");
    assert!(
        full.stderr.contains(&other_id) && full.stderr.contains("--delete-other"),
        "{full:#?}"
    );
    assert!(full.stderr.contains("never used"), "{full:#?}");
    // --yes alone deleted nothing, and a key not in the way is refused.
    let old_id = old.split(':').next().expect("id");
    for wrong in [old_id, "AKIA0000000000000000"] {
        let refused = cli.run(&[
            "rotate",
            "deploy bot",
            "--dotenv",
            ".env",
            "--yes",
            "--delete-other",
            wrong,
        ]);
        assert_eq!(refused.code, Some(2), "{wrong}: {refused:#?}");
        assert!(refused.stderr.contains("[invalid_input]"), "{refused:#?}");
    }
    assert_eq!(
        cli.run(&["rotations", "--json"]).json(),
        serde_json::json!([])
    );
    assert_eq!(
        std::fs::read_to_string(cli.cwd.join(".env")).expect("read"),
        format!("AWS_PAIR={old}\n")
    );
    assert!(works(&moto, &old).await);

    let rotated = cli.run(&[
        "rotate",
        "deploy bot",
        "--dotenv",
        ".env",
        "--yes",
        "--delete-other",
        &other_id,
    ]);
    rotated.ok();
    assert!(
        rotated.stderr.contains(&format!("Deleted {other_id}")),
        "{rotated:#?}"
    );
    let now = std::fs::read_to_string(cli.cwd.join(".env")).expect("read");
    let new = now
        .trim()
        .strip_prefix("AWS_PAIR=")
        .expect("the variable")
        .to_owned();
    assert_ne!(new, old);
    assert!(works(&moto, &new).await);
    // AWS can switch a key off: deactivate first, shown before it starts;
    // the old key is switched off and the CLI says how to finish or undo.
    assert!(
        rotated.stderr.contains("Strategy: Deactivate first"),
        "{rotated:#?}"
    );
    assert!(
        rotated.stderr.contains("Old key deactivated"),
        "{rotated:#?}"
    );
    let id = cli.run(&["rotations", "--json"]).json()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(
        rotated
            .stderr
            .contains(&format!("latchkey rotate --resume {id}"))
            && rotated
                .stderr
                .contains(&format!("latchkey rotate --reactivate {id}")),
        "{rotated:#?}"
    );
    let finished = cli.run(&["rotate", "--resume", &id]);
    finished.ok();
    assert!(!works(&moto, &old).await, "the old key still works");

    // Rotated again and undone: `--reactivate ID` switches the key back on,
    // puts it back in the file and deletes the newer one.
    let again = cli.run(&["rotate", "deploy bot", "--dotenv", ".env", "--yes"]);
    again.ok();
    assert!(again.stderr.contains("Old key deactivated"), "{again:#?}");
    let second = cli.run(&["rotations", "--json"]).json()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_ne!(second, id);
    let newer = std::fs::read_to_string(cli.cwd.join(".env")).expect("read");
    assert_ne!(newer.trim(), format!("AWS_PAIR={new}"));
    let undone = cli.run(&["rotate", "--reactivate", &second]);
    undone.ok();
    assert_eq!(
        std::fs::read_to_string(cli.cwd.join(".env")).expect("read"),
        format!("AWS_PAIR={new}\n")
    );
    assert!(works(&moto, &new).await);
    let newer = newer
        .trim()
        .strip_prefix("AWS_PAIR=")
        .expect("var")
        .to_owned();
    assert!(
        !works(&moto, &newer).await,
        "the undone rotation's key is deleted"
    );
    assert!(!rotated.stderr.contains(secret_half));

    // The current key into the team's parameter store, without rotating.
    let deployed = cli.run(&[
        "deploy",
        "deploy bot",
        "--target",
        "ssm:prod:/team/deploy-bot",
    ]);
    deployed.ok();
    // The connection's region (moto keeps each region's store apart).
    let regional =
        AwsClient::new(Some(&moto.base), "eu-west-1", HttpPolicy::default()).expect("client");
    let stored = regional
        .json(
            &admin,
            latchkey_core::aws::JsonService::Ssm,
            "GetParameter",
            &serde_json::json!({"Name": "/team/deploy-bot", "WithDecryption": true}),
            true,
        )
        .await
        .expect("parameter");
    assert_eq!(stored["Parameter"]["Value"].as_str(), Some(new.as_str()));
    assert!(!deployed.stderr.contains(secret_half) && !deployed.stdout.contains(&new));
    let targets = cli.run(&["targets", "deploy bot"]);
    assert!(
        targets.stdout.contains("ssm:prod:/team/deploy-bot"),
        "{targets:#?}"
    );

    let revoked = cli.run(&["revoke", "deploy bot"]);
    revoked.ok();
    assert!(!works(&moto, &new).await, "the revoked key still works");
    let hits = files_containing(&cli.data, new.split(':').nth(1).expect("secret"));
    assert!(hits.is_empty(), "the new secret is in {hits:?}");
}
