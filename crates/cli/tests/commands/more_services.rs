//! `latchkey providers add --service cloudflare|openrouter|openai|sendgrid|twilio`
//! end to end: the management credential on stdin, then create, list
//! --json and revoke through the real binary, the real keychain and the
//! fake servers of the test kit. No secret lands in a file.

use latchkey_testkit::fakes::cloudflare as fake_cloudflare;
use latchkey_testkit::fakes::openai as fake_openai;
use latchkey_testkit::fakes::openrouter as fake_openrouter;
use latchkey_testkit::fakes::sendgrid as fake_sendgrid;
use latchkey_testkit::fakes::twilio as fake_twilio;

use crate::common::*;
use fake_cloudflare::FakeCloudflare;
use fake_openai::{FakeOpenAi, PROJECT};
use fake_openrouter::FakeOpenRouter;
use fake_sendgrid::FakeSendgrid;
use fake_twilio::FakeTwilio;

fn add(cli: &Cli, service: &str, name: &str, base: &str, extra: &[&str], token: &str) -> Run {
    let mut args = vec![
        "providers",
        "add",
        "--service",
        service,
        "--name",
        name,
        "--base-url",
        base,
    ];
    args.extend_from_slice(extra);
    cli.run_with(&args, &[], Some(token))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudflare_from_the_shell() {
    let fake = FakeCloudflare::start().await;
    let admin = fake.seed_token("latchkey", true);
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    // Without a credential it is a manual connection, as before.
    let manual = add(&cli, "cloudflare", "cf by hand", &fake.base, &[], "");
    manual.ok();
    assert!(
        manual.stderr.contains("keys are made and revoked at"),
        "{manual:#?}"
    );
    let added = add(&cli, "cloudflare", "cf", &fake.base, &[], &admin);
    added.ok();
    assert!(
        added.stderr.contains("Connection test passed"),
        "{added:#?}"
    );
    assert!(!added.stderr.contains(&admin));
    let key = cli.create_with("cf", "deploy", "CLOUDFLARE_API_TOKEN", &[]);
    assert!(key.starts_with("cfut_"), "{key}");
    assert_eq!(fake.token_count(), 2);
    let list = cli.run(&["list", "--json"]);
    list.ok();
    assert_eq!(list.json()["keys"][0]["name"], "deploy");
    assert!(!list.stdout.contains(&key));
    cli.run(&["revoke", "deploy"]).ok();
    assert_eq!(
        fake.token_count(),
        1,
        "only the connection's own token left"
    );
    assert!(files_containing(root.path(), &key).is_empty());
    assert!(files_containing(root.path(), &admin).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openrouter_from_the_shell() {
    let fake = FakeOpenRouter::start().await;
    let admin = fake.seed_management_key();
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    let added = add(&cli, "openrouter", "or", &fake.base, &[], &admin);
    added.ok();
    assert!(
        added.stderr.contains("Connection test passed"),
        "{added:#?}"
    );
    let key = cli.create_with("or", "agent", "OPENROUTER_API_KEY", &[]);
    assert!(key.starts_with("sk-or-v1-"), "{key}");
    assert_eq!(fake.key_count(), 1);
    let list = cli.run(&["list", "--json"]);
    list.ok();
    assert_eq!(list.json()["keys"][0]["name"], "agent");
    cli.run(&["revoke", "agent"]).ok();
    assert_eq!(fake.key_count(), 0);
    assert!(files_containing(root.path(), &key).is_empty());
    assert!(files_containing(root.path(), &admin).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_from_the_shell() {
    let fake = FakeOpenAi::start().await;
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    let bad = add(&cli, "openai", "oa", &fake.base, &[], &fake.admin);
    assert!(
        bad.stderr.contains("[invalid_input]") && bad.stderr.contains("--project"),
        "{bad:#?}"
    );
    let added = add(
        &cli,
        "openai",
        "oa",
        &fake.base,
        &["--project", PROJECT],
        &fake.admin,
    );
    added.ok();
    assert!(
        added.stderr.contains("Connection test passed"),
        "{added:#?}"
    );
    let key = cli.create_with("oa", "worker", "OPENAI_API_KEY", &[]);
    assert!(key.starts_with("sk-svcacct-"), "{key}");
    assert_eq!((fake.key_count(), fake.account_count()), (1, 1));
    let list = cli.run(&["list", "--json"]);
    list.ok();
    assert_eq!(list.json()["keys"][0]["name"], "worker");
    cli.run(&["revoke", "worker"]).ok();
    assert_eq!((fake.key_count(), fake.account_count()), (0, 0));
    assert!(files_containing(root.path(), &key).is_empty());
    assert!(files_containing(root.path(), &fake.admin).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sendgrid_from_the_shell() {
    let fake = FakeSendgrid::start().await;
    let admin = fake.seed_admin_key();
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    let added = add(&cli, "sendgrid", "sg", &fake.base, &[], &admin);
    added.ok();
    assert!(
        added.stderr.contains("Connection test passed"),
        "{added:#?}"
    );
    let key = cli.create_with("sg", "mailer", "SENDGRID_API_KEY", &[]);
    assert!(key.starts_with("SG."), "{key}");
    assert_eq!(fake.key_count(), 2);
    let list = cli.run(&["list", "--json"]);
    list.ok();
    let names: Vec<String> = list.json()["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["name"].as_str().map(str::to_owned))
        .collect();
    assert!(names.contains(&"mailer".to_owned()), "{names:?}");
    cli.run(&["revoke", "mailer"]).ok();
    assert_eq!(fake.key_count(), 1);
    assert!(files_containing(root.path(), &key).is_empty());
    assert!(files_containing(root.path(), &admin).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_from_the_shell() {
    let fake = FakeTwilio::start().await;
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    let added = add(&cli, "twilio", "tw", &fake.base, &[], &fake.credential);
    added.ok();
    assert!(
        added.stderr.contains("Connection test passed"),
        "{added:#?}"
    );
    let key = cli.create_with("tw", "sms", "TWILIO_API_KEY", &[]);
    let (sid, secret) = key.split_once(':').expect("SKSID:SECRET");
    assert!(sid.starts_with("SK"), "{sid}");
    assert_eq!(fake.key_count(), 1);
    let list = cli.run(&["list", "--json"]);
    list.ok();
    assert_eq!(list.json()["keys"][0]["name"], "sms");
    cli.run(&["revoke", "sms"]).ok();
    assert_eq!(fake.key_count(), 0);
    assert!(files_containing(root.path(), secret).is_empty());
    let token = fake.credential.split_once(':').expect("pair").1;
    assert!(files_containing(root.path(), token).is_empty());
}
