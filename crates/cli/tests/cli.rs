//! The `latchkey` binary end to end: providers, create, list, check, run,
//! import, copy, revoke, rotate, errors and exit codes — against the real
//! key service and the real keychain. No secret reaches stderr or the data
//! directory.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_manages_keys_from_a_shell() {
    let service = key_service(false).await;
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    let mut stderr = String::new();

    // The admin token comes from stdin, never from an argument.
    cli.add_provider(&service, "acme", "web");
    let providers = cli.run(&["providers", "list", "--json"]);
    providers.ok();
    assert_eq!(providers.json()[0]["name"], "acme");
    assert!(!providers.stdout.contains(ADMIN));
    cli.run(&["providers", "test", "acme"]).ok();
    let env_token = cli.run_with(
        &[
            "providers",
            "add",
            "--kind",
            "keyservice",
            "--name",
            "acme-env",
            "--base-url",
            &service.base,
            "--project",
            "ops",
        ],
        &[("LATCHKEY_ADMIN_TOKEN", ADMIN)],
        None,
    );
    env_token.ok();
    assert!(
        env_token.stderr.contains("Connection test passed"),
        "{env_token:#?}"
    );

    // create prints the key once on stdout.
    let key = cli.create("acme", "ci deploy", "ACME_API_KEY");
    assert!(key.starts_with("lk_") && key.len() == 36, "{key}");
    assert_eq!(service.verify_status(&key).await, 200);

    let list = cli.run(&["list", "--json"]);
    list.ok();
    let listed = list.json();
    let row = &listed["keys"][0];
    assert_eq!(row["name"], "ci deploy");
    assert_eq!(row["env_var"], "ACME_API_KEY");
    assert_eq!(row["status"], "active");
    assert!(!list.stdout.contains(&key));
    let table = cli.run(&["list"]);
    table.ok();
    assert!(table.stdout.contains("ci deploy") && table.stdout.contains("ACME_API_KEY"));
    stderr.push_str(&table.stderr);

    // check: by fingerprint, never printing a value.
    let env_file = cli.cwd.join(".env");
    std::fs::write(&env_file, format!("ACME_API_KEY={key}\n")).expect("write");
    let check = cli.run(&["check"]);
    assert_eq!(check.code, Some(0), "{check:#?}");
    assert!(check.stdout.contains("✓ set"), "{check:#?}");
    assert!(!check.stdout.contains(&key));
    std::fs::write(
        &env_file,
        "ACME_API_KEY=lk_notours_000000000000000000000000\n",
    )
    .expect("write");
    let check = cli.run(&["check", "--json"]);
    assert_eq!(check.code, Some(6), "{check:#?}");
    assert_eq!(check.json()[0]["state"], "unknown");
    std::fs::remove_file(&env_file).expect("rm");
    let check = cli.run(&["check", cli.cwd.to_str().expect("utf-8")]);
    assert_eq!(check.code, Some(6));
    assert!(check.stdout.contains("✗ not set"), "{check:#?}");
    let from_env = cli.run_with(&["check"], &[("ACME_API_KEY", &key)], None);
    assert_eq!(from_env.code, Some(0), "{from_env:#?}");
    assert!(from_env.stdout.contains("from environment"));

    // run: the vault's keys in the child's environment; its exit code back.
    let script = format!("test \"$ACME_API_KEY\" = '{key}' && test \"$FROM_FILE\" = yes");
    std::fs::write(
        cli.cwd.join("extra.env"),
        "FROM_FILE=yes\nACME_API_KEY=stale\n",
    )
    .expect("w");
    cli.run(&["run", "--env-file", "extra.env", "--", "sh", "-c", &script])
        .ok();
    let code = cli.run(&["run", "--", "sh", "-c", "exit 7"]);
    assert_eq!(code.code, Some(7));

    // import: keys named and tagged after their variables, deduplicated.
    let other = "sk-test-0123456789abcdefghij";
    std::fs::write(
        &env_file,
        format!("DEBUG=1\nACME_API_KEY={key}\nOTHER_SERVICE_TOKEN={other}\n"),
    )
    .expect("write");
    let import = cli.run(&["import", ".env", "--provider", "acme", "--json"]);
    import.ok();
    let outcomes = import.json();
    assert_eq!(outcomes.as_array().expect("array").len(), 2, "{import:#?}");
    assert_eq!(outcomes[0]["env_var"], "ACME_API_KEY");
    assert_eq!(outcomes[0]["imported"], false);
    assert_eq!(outcomes[1]["env_var"], "OTHER_SERVICE_TOKEN");
    assert_eq!(outcomes[1]["imported"], true);
    assert!(!import.stdout.contains(other));
    let check = cli.run(&["check", "--json"]);
    assert_eq!(check.code, Some(0), "{check:#?}");

    // copy stays until the clipboard is cleared (1 s here).
    let copy = cli.run(&["copy", "ci deploy"]);
    copy.ok();
    assert!(copy.stderr.contains("Clipboard cleared"), "{copy:#?}");
    stderr.push_str(&copy.stderr);

    // Errors: the app's codes, documented exit codes.
    let missing = cli.run(&["copy", "nope"]);
    assert_eq!(missing.code, Some(2));
    assert!(missing.stderr.contains("[not_found]"), "{missing:#?}");
    let json_err = cli.run(&["create", "--provider", "nope", "--name", "x", "--json"]);
    assert_eq!(json_err.code, Some(2));
    let wire: serde_json::Value =
        serde_json::from_str(json_err.stderr.trim()).expect("JSON error on stderr");
    assert_eq!(wire["error"]["code"], "not_found");
    let bad_name = cli.run(&["create", "--provider", "acme", "--name", "tab\there"]);
    assert_eq!(bad_name.code, Some(2));
    assert!(bad_name.stderr.contains("[invalid_input]"));

    // A name on two providers is ambiguous until --provider says which.
    let twin = cli.create("acme-env", "ci deploy", "OPS_KEY");
    let ambiguous = cli.run(&["revoke", "ci deploy"]);
    assert_eq!(ambiguous.code, Some(2));
    assert!(ambiguous.stderr.contains("--provider"), "{ambiguous:#?}");
    cli.run(&["revoke", "ci deploy", "--provider", "acme-env"])
        .ok();
    assert_eq!(service.verify_status(&twin).await, 401);
    assert_eq!(service.verify_status(&key).await, 200);

    // create --copy does not print the key.
    let copied = cli.run(&["create", "--provider", "acme", "--name", "copied", "--copy"]);
    copied.ok();
    assert_eq!(copied.stdout.trim(), "");
    stderr.push_str(&copied.stderr);

    // Secrets never in stderr, never in the data directory.
    for secret in [&key, other] {
        assert!(!stderr.contains(secret));
        assert_eq!(files_containing(&cli.data, secret), Vec::<String>::new());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_from_the_cli_and_the_lock_names_the_unfinished_rotation() {
    let Backend {
        service,
        root: _root,
        cli,
        key: old,
    } = backend().await;
    let env_file = cli.cwd.join(".env");
    std::fs::write(
        &env_file,
        format!("# keys\nexport ACME_API_KEY=\"{old}\"\nPORT=8080\n"),
    )
    .expect("write");

    let no_yes = cli.run(&["rotate", "backend", "--dotenv", ".env"]);
    assert_eq!(no_yes.code, Some(2), "{no_yes:#?}");
    assert_eq!(
        std::fs::read_to_string(&env_file).expect("read"),
        format!("# keys\nexport ACME_API_KEY=\"{old}\"\nPORT=8080\n")
    );

    let rotated = cli.run(&[
        "rotate",
        "backend",
        "--dotenv",
        ".env:ACME_API_KEY",
        "--yes",
    ]);
    rotated.ok();
    for step in [
        "[planned]",
        "[stored]",
        "[deployed]",
        "[verified]",
        "[old_revoked]",
    ] {
        assert!(
            rotated.stderr.contains(step),
            "no {step} in {}",
            rotated.stderr
        );
    }
    let new = cli
        .run(&["run", "--", "printenv", "ACME_API_KEY"])
        .stdout
        .trim()
        .to_owned();
    assert_ne!(new, old);
    assert_eq!(
        std::fs::read_to_string(&env_file).expect("read"),
        format!("# keys\nexport ACME_API_KEY=\"{new}\"\nPORT=8080\n")
    );
    assert_eq!(service.verify_status(&old).await, 401);
    assert_eq!(service.verify_status(&new).await, 200);
    assert!(!rotated.stderr.contains(&new) && !rotated.stderr.contains(&old));
    let rotations = cli.run(&["rotations", "--json"]);
    rotations.ok();
    assert_eq!(rotations.json()[0]["state"], "done");
    // The old name still finds the key that replaced it.
    cli.run(&["check"]).ok();
    // The key keeps its name: one row by default, every generation with --all.
    let listed = cli.run(&["list", "--json"]);
    listed.ok();
    let rows = listed.json()["keys"].as_array().expect("keys").clone();
    let named: Vec<&serde_json::Value> = rows.iter().filter(|k| k["name"] == "backend").collect();
    assert_eq!(named.len(), 1, "{rows:#?}");
    assert_eq!(named[0]["status"], "active");
    let all = cli.run(&["list", "--all", "--json"]);
    all.ok();
    let all = all.json()["keys"].as_array().expect("keys").clone();
    let generations: Vec<&serde_json::Value> =
        all.iter().filter(|k| k["name"] == "backend").collect();
    assert_eq!(generations.len(), 2, "{all:#?}");
    let old_row = generations
        .iter()
        .find(|k| k["status"] == "revoked")
        .expect("the old generation");
    assert_eq!(old_row["superseded_by"], named[0]["id"]);
    let table = cli.run(&["list"]);
    assert!(!table.stdout.contains("(rotation "), "{table:#?}");
    // Where the rotation deployed it, remembered on the key.
    let targets = cli.run(&["targets", "backend", "--json"]);
    targets.ok();
    let targets = targets.json();
    assert_eq!(targets.as_array().map(Vec::len), Some(1), "{targets:#}");
    assert_eq!(targets[0]["kind"], "dotenv");
    assert_eq!(targets[0]["var"], "ACME_API_KEY");
    let text = cli.run(&["targets", "backend"]);
    text.ok();
    assert!(
        text.stdout.trim().starts_with("dotenv:") && text.stdout.trim().ends_with(":ACME_API_KEY"),
        "{text:#?}"
    );

    // An unfinished rotation (the process killed mid-way) locks the key.
    let killed = cli.run_with(
        &["rotate", "backend", "--dotenv", ".env", "--yes"],
        &[("FAILPOINTS", "rotation::deploy::before=return")],
        None,
    );
    assert_eq!(killed.signal, Some(9), "{killed:#?}");
    let id = cli.run(&["rotations", "--json"]).json()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let locked = cli.run(&["rotate", "backend", "--dotenv", ".env", "--yes"]);
    assert_eq!(locked.code, Some(5), "{locked:#?}");
    assert!(locked.stderr.contains(&id) && locked.stderr.contains("[rotation_in_progress]"));
    let resumed = cli.run(&["rotate", "--resume"]);
    resumed.ok();
    assert!(resumed.stderr.contains(&id));
    let table = cli.run(&["rotations"]);
    assert!(table.stdout.contains("done"), "{table:#?}");
    assert_eq!(service.live("web").await.len(), 1);
}

/// `latchkey settings` shows and changes the settings the app shares; a
/// value out of range is refused with the app's code and changes nothing.
#[test]
fn settings_are_shown_and_changed_from_the_cli() {
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    let shown = cli.run(&["settings", "--json"]);
    shown.ok();
    assert_eq!(
        shown.json(),
        serde_json::json!({
            "clipboard_clear_secs": 30,
            "rotation_policy_days": 90,
            "rotation_reminders": true
        })
    );
    let changed = cli.run(&[
        "settings",
        "--clipboard-clear-secs",
        "20",
        "--rotation-policy-days",
        "60",
        "--reminders",
        "off",
        "--json",
    ]);
    changed.ok();
    assert_eq!(changed.json()["rotation_policy_days"], 60);
    let refused = cli.run(&["settings", "--clipboard-clear-secs", "2", "--json"]);
    assert_eq!(refused.code, Some(2), "{refused:#?}");
    assert!(refused.stderr.contains("invalid_input"), "{refused:#?}");
    let table = cli.run(&["settings"]);
    table.ok();
    assert!(
        table.stdout.contains("clipboard-clear-secs  20")
            && table.stdout.contains("rotation-policy-days  60")
            && table.stdout.contains("reminders             off"),
        "{table:#?}"
    );
    // The tests' LATCHKEY_CLIPBOARD_CLEAR_SECS fixes the timeout here.
    assert!(table.stdout.contains("overrides it here"), "{table:#?}");
}

/// Failures a person meets from a shell, each with its code and exit code:
/// a management token without the `admin` permission (403 →
/// `provider_forbidden`, exit 4) and a copy where no clipboard exists
/// (`clipboard_unavailable`, exit 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_name_their_code_and_exit_code() {
    let service = key_service(false).await;
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    cli.add_provider(&service, "acme", "web");
    let reader = cli.create("acme", "reader", "ACME_API_KEY");
    assert_eq!(service.verify_status(&reader).await, 200);

    // A read-only key is a valid key, so the service answers 403, not 401.
    let add = cli.add_keyservice(&service.base, "read-only", "web", &reader);
    let test = cli.run(&["providers", "test", "read-only"]);
    let refused = if add.code == Some(0) { &test } else { &add };
    assert_eq!(refused.code, Some(4), "{add:#?}\n{test:#?}");
    assert!(
        refused.stderr.contains("[provider_forbidden]"),
        "{refused:#?}"
    );
    // set-token: the service refuses the same key again (nothing changes,
    // exit 4), then takes the admin token, which then works.
    let again = cli.run_with(&["providers", "set-token", "read-only"], &[], Some(&reader));
    assert_eq!(again.code, Some(4), "{again:#?}");
    assert!(again.stderr.contains("[provider_forbidden]"), "{again:#?}");
    assert_eq!(cli.run(&["providers", "test", "read-only"]).code, Some(4));
    let fixed = cli.run_with(
        &["providers", "set-token", "read-only"],
        &[],
        Some(&format!("{ADMIN}\n")),
    );
    fixed.ok();
    assert!(
        fixed.stderr.contains("accepted the new credential"),
        "{fixed:#?}"
    );
    cli.run(&["providers", "test", "read-only"]).ok();
    let unknown = cli.run_with(&["providers", "set-token", "nobody"], &[], Some(ADMIN));
    assert_eq!(unknown.code, Some(2), "{unknown:#?}");
    // remove: a connection with keys stays (exit 2); one without goes.
    let kept = cli.run(&["providers", "remove", "acme"]);
    assert_eq!(kept.code, Some(2), "{kept:#?}");
    assert!(kept.stderr.contains("[invalid_input]"), "{kept:#?}");
    cli.run(&["providers", "remove", "read-only"]).ok();
    let names: Vec<String> = cli
        .run(&["providers", "list", "--json"])
        .json()
        .as_array()
        .expect("providers")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(!names.contains(&"read-only".to_owned()), "{names:?}");
    assert_eq!(cli.run(&["providers", "test", "read-only"]).code, Some(2));
    for run in [&add, &test, &again, &fixed] {
        assert!(!run.stderr.contains(&reader) && !run.stdout.contains(&reader));
        assert!(!run.stderr.contains(ADMIN) && !run.stdout.contains(ADMIN));
    }

    // No display: no clipboard. The key stays where it was, nothing copied.
    let out = cli
        .command(&["copy", "reader"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("run latchkey copy");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("[clipboard_unavailable]"), "{stderr}");
    assert!(!stderr.contains(&reader));
    assert_eq!(service.verify_status(&reader).await, 200);

    // --json is global: before or after any command, errors come as JSON.
    for args in [
        &["--json", "revoke", "no such key"][..],
        &["copy", "no such key", "--json"],
    ] {
        let run = cli.run(args);
        assert_eq!(run.code, Some(2), "{run:#?}");
        let wire: serde_json::Value = serde_json::from_str(run.stderr.trim()).expect("JSON error");
        assert_eq!(wire["error"]["code"], "not_found", "{run:#?}");
    }

    // A finished rotation cannot be rolled back (exit 2, the request is
    // not possible), and the new key stays in use.
    std::fs::write(cli.cwd.join(".env"), format!("ACME_API_KEY={reader}\n")).expect("write");
    cli.run(&["rotate", "reader", "--dotenv", ".env", "--yes"])
        .ok();
    let rotation = cli.run(&["rotations", "--json"]).json()[0].clone();
    assert_eq!(rotation["state"], "done");
    let id = rotation["id"].as_str().expect("id");
    let refused = cli.run(&["rotate", "--rollback", id]);
    assert_eq!(refused.code, Some(2), "{refused:#?}");
    assert!(refused.stderr.contains("[invalid_input]"), "{refused:#?}");
    assert_eq!(cli.run(&["rotations", "--json"]).json()[0]["state"], "done");
    let in_use = std::fs::read_to_string(cli.cwd.join(".env")).expect("read");
    let new = in_use.trim().trim_start_matches("ACME_API_KEY=");
    assert_ne!(new, reader);
    assert_eq!(service.verify_status(new).await, 200);
    assert_eq!(service.verify_status(&reader).await, 401);

    // remove --forget-keys COUNT: another count refuses (exit 2); the right
    // one removes the connection with both generations, and the service
    // keeps the live key.
    let wrong = cli.run(&["providers", "remove", "acme", "--forget-keys", "1"]);
    assert_eq!(wrong.code, Some(2), "{wrong:#?}");
    assert!(wrong.stderr.contains("now has 2 keys, not 1"), "{wrong:#?}");
    assert_eq!(
        cli.run(&["list", "--all", "--json"]).json()["keys"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let gone = cli.run(&["providers", "remove", "acme", "--forget-keys", "2"]);
    gone.ok();
    assert!(gone.stderr.contains("forgot its 2 keys"), "{gone:#?}");
    assert_eq!(
        cli.run(&["list", "--all", "--json"]).json()["keys"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    assert_eq!(service.verify_status(new).await, 200);
    for run in [&wrong, &gone] {
        assert!(!run.stderr.contains(new) && !run.stdout.contains(new));
    }
}

/// `latchkey status`: 0 and "fine" when no key needs attention; 6 and the
/// key named under its reason when one does (here: its service is down).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_names_the_keys_that_need_attention() {
    let service = key_service(false).await;
    let root = tempfile::tempdir().expect("dir");
    let cli = Cli::new(root.path());
    // An empty vault is fine, and says where to start (on stderr: stdout is
    // what scripts read).
    let empty = cli.run(&["status"]);
    assert_eq!(empty.code, Some(0), "{empty:#?}");
    assert_eq!(empty.stdout.trim(), "No keys yet.", "{empty:#?}");
    assert!(
        empty.stderr.contains("latchkey providers add"),
        "{empty:#?}"
    );
    let empty = cli.run(&["list"]);
    assert_eq!(empty.code, Some(0), "{empty:#?}");
    assert_eq!(
        empty.stdout.lines().count(),
        1,
        "the header alone: {empty:#?}"
    );
    assert!(empty.stderr.contains("latchkey import FILE"), "{empty:#?}");

    cli.add_provider(&service, "acme", "shop");
    cli.create("acme", "billing", "ACME_KEY");

    let fine = cli.run(&["status"]);
    assert_eq!(fine.code, Some(0), "{fine:#?}");
    assert_eq!(fine.stdout.trim(), "The one key is fine.", "{fine:#?}");
    assert!(!fine.stderr.contains("providers add"), "{fine:#?}");
    let fine = cli.run(&["status", "--json"]);
    assert_eq!(fine.code, Some(0), "{fine:#?}");
    let report = fine.json();
    assert_eq!(report["needs_attention"], false);
    assert_eq!(report["keys"], 1);
    assert_eq!(report["reasons"]["unreachable"]["count"], 0);

    drop(service);
    let down = cli.run(&["status"]);
    assert_eq!(down.code, Some(6), "{down:#?}");
    assert!(
        down.stdout
            .contains("1 on unreachable services: billing (acme)"),
        "{down:#?}"
    );
    let down = cli.run(&["status", "--json"]);
    assert_eq!(down.code, Some(6), "{down:#?}");
    let report = down.json();
    assert_eq!(report["needs_attention"], true);
    assert_eq!(report["reasons"]["unreachable"]["count"], 1);
    assert_eq!(
        report["reasons"]["unreachable"]["keys"][0]["name"],
        "billing"
    );
    assert_eq!(report["reasons"]["rotation_due"]["count"], 0);
    assert_eq!(report["unreachable_services"][0], "acme");
}

/// `latchkey scan DIR`: finds a key by fingerprint in `.env`, YAML and
/// source files, never in `.git`, `node_modules`, `target` or files over
/// 1 MiB, never prints it, and exits 6 once git tracks a file holding it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_finds_where_a_key_is_used_and_flags_tracked_files() {
    let service = key_service(false).await;
    let root = tempfile::tempdir().expect("dir");
    let cli = Cli::new(root.path());
    cli.add_provider(&service, "acme", "shop");
    let secret = cli.create("acme", "billing", "ACME_KEY");
    let project = root.path().join("project");
    let write = |rel: &str, text: &str| {
        let path = project.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    };
    write(".env", &format!("# local\nACME_KEY=\"{secret}\"\n"));
    write(
        "config/app.yaml",
        &format!("db: x\nacme:\n  api_key: '{secret}'\n"),
    );
    write(
        "src/main.py",
        &format!("KEY = \"{secret}\"  # TODO remove\n"),
    );
    write(
        "notes.txt",
        "nothing here but a lookalike lk_0000000000000000\n",
    );
    for skipped in [
        "node_modules/pkg/index.js",
        "target/debug/build.log",
        ".git/config2",
    ] {
        write(skipped, &format!("k={secret}\n"));
    }
    let mut big = "x".repeat(1024 * 1024);
    big.push_str(&format!("\nk={secret}\n"));
    write("big.log", &big);

    let run = cli.run(&["scan", project.to_str().expect("utf-8"), "--json"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    let report = run.json();
    let mut found: Vec<(String, u64)> = report["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| {
            assert_eq!(h["key_name"], "billing");
            assert_eq!(h["tracked"], false);
            let path = h["path"].as_str().expect("path");
            let rel = path
                .strip_prefix(&format!("{}/", project.display()))
                .expect("inside the project");
            (rel.to_owned(), h["line"].as_u64().expect("line"))
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (".env".to_owned(), 2),
            ("config/app.yaml".to_owned(), 3),
            ("src/main.py".to_owned(), 1)
        ]
    );
    assert_eq!(report["files_skipped"], 1, "big.log: {report:#}");
    let text = cli.run(&["scan", project.to_str().expect("utf-8")]);
    assert_eq!(text.code, Some(0), "{text:#?}");
    assert!(text.stdout.contains(".env:2"), "{text:#?}");
    for out in [&run, &text] {
        assert!(!out.stdout.contains(&secret) && !out.stderr.contains(&secret));
    }

    // Once git tracks the YAML file, the key is leaked: exit 6, flagged.
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(&project)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .expect("git");
        assert!(status.status.success(), "git {args:?}: {status:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "config/app.yaml"]);
    let leaked = cli.run(&["scan", project.to_str().expect("utf-8")]);
    assert_eq!(leaked.code, Some(6), "{leaked:#?}");
    let flagged: Vec<&str> = leaked
        .stdout
        .lines()
        .filter(|l| l.contains("LEAKED"))
        .collect();
    assert_eq!(flagged.len(), 1, "{leaked:#?}");
    assert!(flagged[0].contains("config/app.yaml:3"), "{leaked:#?}");
}

/// The service catalogue from the CLI: `services` lists it; `providers add
/// --service` connects any of it (a manual connection checked the
/// catalogue's way, here against a local stand-in for OpenAI); `import`
/// names each key's service by its format; `check` knows the catalogue's
/// variables.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_services_are_listed_added_and_recognised() {
    let good = format!("sk-proj-{}T3BlbkFJ{}", "a".repeat(58), "b".repeat(58));
    let expected = format!("Bearer {good}");
    let app = axum::Router::new().route(
        "/v1/models",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let ok = headers.get("authorization").and_then(|v| v.to_str().ok())
                == Some(expected.as_str());
            async move {
                if ok {
                    (axum::http::StatusCode::OK, "{\"data\":[]}")
                } else {
                    (axum::http::StatusCode::UNAUTHORIZED, "{}")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let root = tempfile::tempdir().expect("dir");
    let cli = Cli::new(root.path());
    let listed = cli.run(&["services", "--json"]);
    listed.ok();
    let all = listed.json();
    let all = all.as_array().expect("array");
    assert!(all.len() >= 21, "{}", all.len());
    let openai = all.iter().find(|s| s["id"] == "openai").expect("openai");
    assert_eq!(openai["env_vars"][0], "OPENAI_API_KEY");
    let table = cli.run(&["services"]);
    assert!(table.stdout.contains("Latchkey key service"), "{table:#?}");

    let unknown = cli.run(&["providers", "add", "--service", "nope", "--name", "x"]);
    assert_eq!(unknown.code, Some(2), "{unknown:#?}");
    let no_check = cli.run(&["providers", "add", "--service", "oaktis", "--name", "x"]);
    assert_eq!(no_check.code, Some(2), "{no_check:#?}");
    assert!(no_check.stderr.contains("--base-url"), "{no_check:#?}");
    let half = cli.run(&["providers", "add", "--kind", "keyservice", "--name", "x"]);
    assert_eq!(half.code, Some(2), "{half:#?}");

    let added = cli.run(&[
        "providers",
        "add",
        "--service",
        "openai",
        "--name",
        "OpenAI prod",
        "--base-url",
        &base,
    ]);
    added.ok();
    cli.run(&["providers", "test", "OpenAI prod"]).ok();

    let project = root.path().join("project");
    std::fs::create_dir_all(&project).expect("mkdir");
    std::fs::write(
        project.join(".env"),
        format!("OPENAI_API_KEY={good}\nMY_TOKEN=not-a-known-format-123\n"),
    )
    .expect("write");
    let env = project.join(".env");
    let import = cli.run(&[
        "import",
        env.to_str().expect("utf-8"),
        "--provider",
        "OpenAI prod",
        "--json",
    ]);
    import.ok();
    let outcomes = import.json();
    let by_var = |var: &str| {
        outcomes
            .as_array()
            .expect("array")
            .iter()
            .find(|o| o["env_var"] == var)
            .cloned()
            .unwrap_or_else(|| panic!("{var}: {outcomes:#}"))
    };
    assert_eq!(by_var("OPENAI_API_KEY")["service"], "OpenAI");
    assert_eq!(by_var("OPENAI_API_KEY")["imported"], true);
    assert_eq!(by_var("MY_TOKEN")["service"], "");
    assert!(!import.stdout.contains(&good));
    let listing = cli.run(&["list", "--json"]);
    let keys = listing.json()["keys"].as_array().expect("keys").clone();
    let key = keys
        .iter()
        .find(|k| k["name"] == "OPENAI_API_KEY")
        .expect("imported key");
    assert_eq!(
        key["verified"], true,
        "checked against the stand-in: {key:#}"
    );

    // check: a catalogue variable a .env file sets is checked even when no
    // vault key is tagged with it.
    std::fs::write(
        project.join(".env.local"),
        format!("GITHUB_TOKEN=ghp_{}\n", "m".repeat(36)),
    )
    .expect("write");
    let check = cli.run(&["check", project.to_str().expect("utf-8"), "--json"]);
    assert_eq!(check.code, Some(6), "{check:#?}");
    let rows = check.json();
    let github = rows
        .as_array()
        .expect("array")
        .iter()
        .find(|r| r["env_var"] == "GITHUB_TOKEN")
        .cloned()
        .expect("GITHUB_TOKEN checked");
    assert_eq!(github["state"], "unknown");
}
