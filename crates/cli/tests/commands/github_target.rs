//! `latchkey providers add --service github` (token on stdin) and
//! `latchkey rotate NAME --target github:gh:OWNER/REPO:SECRET`, end to end
//! against the reference key service and a fake GitHub API that unseals
//! what it receives.

use latchkey_testkit::fakes::github as fake_github;

use crate::common::*;
use fake_github::{FakeGithub, TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_into_a_github_actions_secret() {
    let service = key_service(false).await;
    let github = FakeGithub::start().await;
    github.add_repo("o/r");
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    cli.add_provider(&service, "acme", "web");
    let old = cli.create("acme", "backend", "API_KEY");

    let added = cli.run_with(
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
    );
    added.ok();
    assert!(!added.stderr.contains(TOKEN));

    let rotated = cli.run(&[
        "rotate",
        "backend",
        "--target",
        "github:gh:o/r:API_KEY",
        "--yes",
    ]);
    rotated.ok();
    let new = github
        .plaintext("o/r", None, "API_KEY")
        .expect("secret written");
    assert_ne!(new, old);
    assert_eq!(service.verify_status(&new).await, 200);
    assert_eq!(service.verify_status(&old).await, 401);
    assert!(
        rotated.stderr.contains("GitHub secret API_KEY"),
        "{}",
        rotated.stderr
    );
    assert!(!rotated.stderr.contains(&new) && !rotated.stderr.contains(&old));
    let rotation = cli.run(&["rotations", "--json"]).json()[0].clone();
    assert_eq!(rotation["state"], "done");
    assert_eq!(rotation["targets"][0]["spec"]["kind"], "github");
}
