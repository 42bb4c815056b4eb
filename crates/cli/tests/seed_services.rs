//! `latchkey providers add --service dakora|open-animate` end to end: the
//! credential on stdin, then create, list --json and revoke through the
//! real binary, the real keychain and the fake servers of core's tests.

mod common;
use latchkey_testkit::fakes::dakora as fake_dakora;
use latchkey_testkit::fakes::open_animate as fake_open_animate;

use std::time::Duration;

use common::*;
use fake_dakora::{FakeDakora, JWT};
use fake_open_animate::FakeOpenAnimate;

fn create(cli: &Cli, provider: &str, name: &str, env_var: &str) -> String {
    let run = cli.run(&[
        "create",
        "--provider",
        provider,
        "--name",
        name,
        "--env-var",
        env_var,
    ]);
    run.ok();
    run.stdout.trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dakora_from_the_shell() {
    let fake = FakeDakora::start(Duration::from_secs(300)).await;
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    let bad = cli.run_with(
        &[
            "providers",
            "add",
            "--service",
            "dakora",
            "--name",
            "d",
            "--base-url",
            &fake.base,
            "--project",
            "not-a-uuid",
        ],
        &[],
        Some(JWT),
    );
    assert!(
        bad.stderr.contains("[invalid_input]") && bad.stderr.contains("UUID"),
        "{bad:#?}"
    );
    let add = cli.run_with(
        &[
            "providers",
            "add",
            "--service",
            "dakora",
            "--name",
            "dakora",
            "--base-url",
            &fake.base,
            "--project",
            &fake.project,
        ],
        &[],
        Some(JWT),
    );
    add.ok();
    assert!(add.stderr.contains("Connection test passed"), "{add:#?}");
    assert!(!add.stderr.contains(JWT));
    let key = create(&cli, "dakora", "ci", "DAKORA_API_KEY");
    assert!(key.starts_with("dkr_"), "{key}");
    let list = cli.run(&["list", "--json"]);
    list.ok();
    assert_eq!(list.json()["keys"][0]["name"], "ci");
    assert!(!list.stdout.contains(&key));
    let revoke = cli.run(&["revoke", "ci"]);
    revoke.ok();
    assert!(fake.live_ids().is_empty());
    assert!(files_containing(root.path(), &key).is_empty());
    assert!(files_containing(root.path(), JWT).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_animate_from_the_shell() {
    let fake = FakeOpenAnimate::start().await;
    let admin = fake.seed_key("admin");
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    let add = cli.run_with(
        &[
            "providers",
            "add",
            "--service",
            "open-animate",
            "--name",
            "anim",
            "--base-url",
            &fake.base,
        ],
        &[("LATCHKEY_ADMIN_TOKEN", &admin)],
        None,
    );
    add.ok();
    assert!(add.stderr.contains("Connection test passed"), "{add:#?}");
    fake.force_underscore_ids(1);
    let key = create(&cli, "anim", "render", "ANIMATE_API_KEY");
    assert_eq!(key.len(), 49, "{key}");
    assert!(!key[5..13].contains('_'), "a dud was handed out");
    let list = cli.run(&["list", "--json"]);
    list.ok();
    assert_eq!(list.json()["keys"][0]["name"], "render");
    cli.run(&["revoke", "render"]).ok();
    assert_eq!(fake.key_count(), 1);
    assert!(files_containing(root.path(), &key).is_empty());
}
