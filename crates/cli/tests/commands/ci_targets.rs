//! `latchkey providers add --service gitlab|vercel|netlify` (token on
//! stdin, `--base-url` at a fake on loopback), then `latchkey deploy NAME
//! --target gitlab:…|vercel:…|netlify:…` and `latchkey rotate NAME
//! --target gitlab:… --yes`, end to end against the reference key service
//! and fake GitLab, Vercel and Netlify APIs.

use latchkey_testkit::fakes::gitlab as fake_gitlab;
use latchkey_testkit::fakes::netlify as fake_netlify;
use latchkey_testkit::fakes::vercel as fake_vercel;

use crate::common::*;

fn add(cli: &Cli, service: &str, name: &str, base: &str, token: &str) {
    let added = cli.run_with(
        &[
            "providers",
            "add",
            "--service",
            service,
            "--name",
            name,
            "--base-url",
            base,
        ],
        &[],
        Some(token),
    );
    added.ok();
    assert!(!added.stderr.contains(token), "{}", added.stderr);
    assert!(
        added.stderr.contains("Connection test passed"),
        "{service}: {}",
        added.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_a_key_to_gitlab_vercel_and_netlify_variables() {
    let service = key_service(false).await;
    let gitlab = fake_gitlab::FakeGitlab::start().await;
    gitlab.add_project("42");
    let vercel = fake_vercel::FakeVercel::start().await;
    vercel.add_project("web");
    let netlify = fake_netlify::FakeNetlify::start().await;
    netlify.add_site("team", "site-1");
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    cli.add_provider(&service, "acme", "web");
    let key = cli.create("acme", "backend", "API_KEY");

    let no_token = cli.run_with(
        &["providers", "add", "--service", "gitlab", "--name", "gl"],
        &[],
        Some(""),
    );
    assert_eq!(no_token.code, Some(2), "{no_token:#?}");
    assert!(
        no_token.stderr.contains("Enter the GitLab token"),
        "{}",
        no_token.stderr
    );
    add(&cli, "gitlab", "gl", &gitlab.base, fake_gitlab::TOKEN);
    add(&cli, "vercel", "vc", &vercel.base, fake_vercel::TOKEN);
    add(&cli, "netlify", "nf", &netlify.base, fake_netlify::TOKEN);
    let listed = cli.run(&["providers", "list", "--json"]).json();
    let kinds: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["kind"].as_str())
        .collect();
    for kind in ["gitlab", "vercel", "netlify"] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }

    let deployed = cli.run(&[
        "deploy",
        "backend",
        "--target",
        "gitlab:gl:42:API_KEY",
        "--target",
        "vercel:vc:web:API_KEY",
        "--target",
        "netlify:nf:team:site-1:API_KEY",
    ]);
    deployed.ok();
    assert!(!deployed.stderr.contains(&key) && !deployed.stdout.contains(&key));
    let var = gitlab.var("42", "API_KEY", "*").expect("gitlab variable");
    assert_eq!(var.value, key);
    assert!(var.masked);
    assert_eq!(vercel.env("web", "API_KEY").expect("vercel").value, key);
    assert_eq!(
        netlify
            .var("team", "site-1", "API_KEY")
            .expect("netlify")
            .values[0]
            .1,
        key
    );
    assert!(
        deployed.stderr.contains("next deployment") || deployed.stdout.contains("next deployment"),
        "{deployed:#?}"
    );

    // A target through a connection that does not exist: nothing written.
    let missing = cli.run(&["deploy", "backend", "--target", "gitlab:nobody:42:OTHER"]);
    assert_ne!(missing.code, Some(0));
    assert!(gitlab.var("42", "OTHER", "*").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_into_a_gitlab_variable() {
    let service = key_service(false).await;
    let gitlab = fake_gitlab::FakeGitlab::start().await;
    gitlab.add_project("42");
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    cli.add_provider(&service, "acme", "web");
    let old = cli.create("acme", "backend", "API_KEY");
    gitlab.seed("42", "API_KEY", "production", &old, false);
    add(&cli, "gitlab", "gl", &gitlab.base, fake_gitlab::TOKEN);

    let rotated = cli.run(&[
        "rotate",
        "backend",
        "--target",
        "gitlab:gl:42:API_KEY:production",
        "--yes",
    ]);
    rotated.ok();
    let new = gitlab
        .var("42", "API_KEY", "production")
        .expect("variable")
        .value;
    assert_ne!(new, old);
    assert_eq!(service.verify_status(&new).await, 200);
    assert_eq!(service.verify_status(&old).await, 401);
    assert!(
        rotated.stderr.contains("GitLab variable API_KEY"),
        "{}",
        rotated.stderr
    );
    assert!(!rotated.stderr.contains(&new) && !rotated.stderr.contains(&old));
    let rotation = cli.run(&["rotations", "--json"]).json()[0].clone();
    assert_eq!(rotation["state"], "done");
    assert_eq!(rotation["targets"][0]["spec"]["kind"], "gitlab");
    assert_eq!(rotation["targets"][0]["spec"]["scope"], "production");
}
