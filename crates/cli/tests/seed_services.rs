//! `latchkey providers add --service dakora|open-animate` end to end: the
//! credential on stdin, then create, list --json, copy, rotate into a
//! `.env` and revoke through the real binary, the real keychain and the
//! test kit's fake servers; then the canary scan of every file and every
//! run's output for the keys and the credential.

mod common;
use latchkey_testkit::fakes::dakora as fake_dakora;
use latchkey_testkit::fakes::open_animate as fake_open_animate;

use std::time::Duration;

use common::*;
use fake_dakora::{FakeDakora, JWT};
use fake_open_animate::FakeOpenAnimate;

/// Copies `name`, rotates it into `.env` (which held it), and checks the
/// file now holds the new key; returns the new key.
fn copy_and_rotate(cli: &Cli, name: &str, env_var: &str, old: &str) -> String {
    let copy = cli.run(&["copy", name]);
    copy.ok();
    // Both tests share one X display: the other may copy in between, so
    // whether this clear found its own key is not asserted here.
    assert!(
        copy.stderr.contains(&format!("Copied \"{name}\"")),
        "{copy:#?}"
    );
    let env = cli.cwd.join(".env");
    std::fs::write(&env, format!("# mine\n{env_var}={old}\n")).expect("write .env");
    let target = format!("dotenv:.env:{env_var}");
    cli.run(&["rotate", name, "--target", &target, "--yes"])
        .ok();
    let text = std::fs::read_to_string(&env).expect("read .env");
    let new = text
        .strip_prefix(&format!("# mine\n{env_var}="))
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("the .env is not the old one with the new key: {text:?}"))
        .to_owned();
    assert_ne!(new, old, "the .env still holds the old key");
    new
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dakora_from_the_shell() {
    // A revoked key stays accepted 5 s here (the real service: up to 300 s).
    let fake = FakeDakora::start(Duration::from_secs(5)).await;
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
    let key = cli.create_with("dakora", "ci", "DAKORA_API_KEY", &[]);
    assert!(key.starts_with("dkr_"), "{key}");
    let list = cli.run(&["list", "--json"]);
    list.ok();
    assert_eq!(list.json()["keys"][0]["name"], "ci");
    assert!(!list.stdout.contains(&key));
    let new = copy_and_rotate(&cli, "ci", "DAKORA_API_KEY", &key);
    assert!(new.starts_with("dkr_"), "{new}");
    assert_eq!(fake.live_ids().len(), 1, "the old key is still live");
    // The 4-key limit: three keys made elsewhere fill the project; the
    // refused create names the limit and the four keys holding it.
    for name in ["laptop", "staging", "nightly"] {
        fake.seed_key(name, None);
    }
    let full = cli.run(&["create", "--provider", "dakora", "--name", "fifth"]);
    assert_ne!(full.code, Some(0), "{full:#?}");
    assert!(full.stdout.trim().is_empty(), "{full:#?}");
    for said in [
        "[provider_conflict]",
        "Maximum 4",
        "\"ci\"",
        "\"laptop\"",
        "\"nightly\"",
    ] {
        assert!(full.stderr.contains(said), "{said} not said: {full:#?}");
    }
    assert_eq!(fake.live_ids().len(), 4);
    // The revoke is waiting while the service's cache honours the key...
    let revoke = cli.run(&["revoke", "ci"]);
    revoke.ok();
    assert!(
        revoke.stderr.contains("waiting for the service to confirm"),
        "{revoke:#?}"
    );
    assert_eq!(fake.live_ids().len(), 3);
    let status = |cli: &Cli| {
        let list = cli.run(&["list", "--all", "--json"]);
        list.ok();
        let keys = list.json()["keys"].as_array().cloned().unwrap_or_default();
        let new = keys
            .iter()
            .find(|k| k["name"] == "ci" && k["superseded_by"].is_null())
            .cloned()
            .expect("the new generation is listed");
        (new["status"].clone(), new["revoke_waiting"].clone())
    };
    assert_eq!(status(&cli).1, serde_json::json!(true), "confirmed early");
    // ...and a later listing, once the service rejects it, confirms it.
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(
        status(&cli),
        (serde_json::json!("revoked"), serde_json::json!(false))
    );
    // The .env is where the new key was deployed; nothing else holds a key
    // or the session token.
    cli.assert_no_canary_but(&[&key, &new, JWT], &[".env"]);
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
    let key = cli.create_with("anim", "render", "ANIMATE_API_KEY", &[]);
    assert_eq!(key.len(), 49, "{key}");
    assert!(!key[5..13].contains('_'), "a dud was handed out");
    let list = cli.run(&["list", "--json"]);
    list.ok();
    assert_eq!(list.json()["keys"][0]["name"], "render");
    let new = copy_and_rotate(&cli, "render", "ANIMATE_API_KEY", &key);
    assert_eq!(new.len(), 49, "{new}");
    assert_eq!(fake.key_count(), 2, "the admin key and the new one");
    // The 10-key limit, named with the keys holding it.
    for i in 0..8 {
        fake.seed_key(&format!("seat {i}"));
    }
    let full = cli.run(&["create", "--provider", "anim", "--name", "eleventh"]);
    assert_ne!(full.code, Some(0), "{full:#?}");
    for said in [
        "[provider_conflict]",
        "Maximum of 10",
        "\"render\"",
        "\"seat 7\"",
    ] {
        assert!(full.stderr.contains(said), "{said} not said: {full:#?}");
    }
    cli.run(&["revoke", "render"]).ok();
    assert_eq!(fake.key_count(), 9);
    // The connection's own key, known only from the listing ("admin"):
    // rotated, the connection moves to the new key before the old one is
    // deleted, and keeps working.
    let admin_env = cli.cwd.join("admin.env");
    std::fs::write(&admin_env, format!("ANIMATE_ADMIN={admin}\n")).expect("write");
    cli.run(&[
        "rotate",
        "admin",
        "--target",
        "dotenv:admin.env:ANIMATE_ADMIN",
        "--yes",
    ])
    .ok();
    let text = std::fs::read_to_string(&admin_env).expect("read");
    let new_admin = text
        .strip_prefix("ANIMATE_ADMIN=")
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("admin.env: {text:?}"))
        .to_owned();
    assert_ne!(new_admin, admin);
    let live: Vec<String> = fake.inner().keys.iter().map(|k| k.key.clone()).collect();
    assert!(!live.contains(&admin), "the old admin key is still live");
    assert!(live.contains(&new_admin), "the new admin key is not live");
    assert_eq!(live.len(), 9);
    let test = cli.run(&["providers", "test", "anim"]);
    test.ok();
    cli.run(&["list", "--all", "--json"]).ok();
    cli.assert_no_canary_but(&[&key, &new, &admin, &new_admin], &[".env", "admin.env"]);
}
