//! File targets from the command line, end to end against the real key
//! service and the real keychain: `--target SPEC` for `dotenv`, `json`,
//! `toml`, `yaml` and `aws-credentials` in `latchkey rotate` and `latchkey
//! deploy` (every other byte kept, a failed deploy undone), several targets
//! in one file (written one after the other, undone newest first, a kill
//! between them resumed or rolled back), and the last-used guard holding
//! the old key's revoke.

mod common;

use std::path::Path;

use common::*;

/// `var`'s value in the `.env` at `path`, as dotenvy reads it.
fn env_value(path: &Path, var: &str) -> Option<String> {
    dotenvy::from_path_iter(path)
        .expect("parse")
        .map(|r| r.expect("entry"))
        .find(|(k, _)| k == var)
        .map(|(_, v)| v)
}

/// `--target SPEC` names where the key goes: `dotenv:PATH:VAR` splits on
/// the last colon only (a folder may have one), and the variable need not be
/// the key's own. A spec that does not parse is a usage error (exit 2) and
/// nothing starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_to_a_target_spec_and_refuse_a_bad_one() {
    let Backend {
        service,
        root: _root,
        cli,
        key: old,
    } = backend().await;
    let dir = cli.cwd.join("conf:prod");
    std::fs::create_dir(&dir).expect("mkdir");
    let env_file = dir.join(".env");
    let original = format!("# app\r\nAPP_KEY='{old}' # live\r\nPORT=8080\r\n");
    std::fs::write(&env_file, &original).expect("write");

    for bad in [
        "yml:conf.yml:a.b",
        "dotenv:",
        "dotenv::APP_KEY",
        "manual",
        ".env",
    ] {
        let refused = cli.run(&["rotate", "backend", "--target", bad, "--yes"]);
        assert_eq!(refused.code, Some(2), "{bad}: {refused:#?}");
        assert!(
            refused.stderr.contains("[invalid_input]"),
            "{bad}: {refused:#?}"
        );
    }
    assert_eq!(std::fs::read_to_string(&env_file).expect("read"), original);
    assert_eq!(
        cli.run(&["rotations", "--json"]).json(),
        serde_json::json!([])
    );
    assert_eq!(service.verify_status(&old).await, 200);

    let rotated = cli.run(&[
        "rotate",
        "backend",
        "--target",
        "dotenv:conf:prod/.env:APP_KEY",
        "--yes",
    ]);
    rotated.ok();
    assert!(
        rotated.stderr.contains("APP_KEY in ") && rotated.stderr.contains("[old_revoked]"),
        "{}",
        rotated.stderr
    );
    let rotation = cli.run(&["rotations", "--json"]).json()[0].clone();
    assert_eq!(rotation["state"], "done");
    let target = &rotation["targets"][0]["spec"];
    assert_eq!(target["kind"], "dotenv");
    assert_eq!(target["var"], "APP_KEY");
    assert!(target["path"]
        .as_str()
        .expect("path")
        .ends_with("conf:prod/.env"));
    let now = std::fs::read_to_string(&env_file).expect("read");
    let new = now
        .split("APP_KEY='")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("new key")
        .to_owned();
    assert_ne!(new, old);
    assert_eq!(now, original.replace(&old, &new));
    assert_eq!(service.verify_status(&new).await, 200);
    assert_eq!(service.verify_status(&old).await, 401);
    assert!(!rotated.stderr.contains(&new) && !rotated.stderr.contains(&old));
}

/// `latchkey deploy` puts the current key into more places without
/// rotating it: each file gets the key (every other byte kept), the key
/// still works on the service, the places are remembered on the key, and a
/// deploy that fails half-way puts back what it wrote.
#[tokio::test(flavor = "multi_thread")]
async fn deploy_puts_the_current_key_in_more_places_and_undoes_a_failure() {
    let Backend {
        service,
        root: _root,
        cli,
        key,
    } = backend().await;
    let api = cli.cwd.join("api");
    let worker = cli.cwd.join("worker");
    std::fs::create_dir(&api).expect("mkdir");
    std::fs::create_dir(&worker).expect("mkdir");
    let api_before = "# api\nACME_API_KEY=placeholder # set me\nPORT=1\n";
    let worker_before = "export MODE=batch\n";
    std::fs::write(api.join(".env"), api_before).expect("write");
    std::fs::write(worker.join(".env"), worker_before).expect("write");

    // A spec that does not parse is a usage error; nothing is written.
    let refused = cli.run(&["deploy", "backend", "--target", "nowhere:x"]);
    assert_eq!(refused.code, Some(2), "{refused:#?}");
    assert!(refused.stderr.contains("[invalid_input]"), "{refused:#?}");
    // A target that cannot be checked stops the deploy before any write.
    let missing = cli.run(&[
        "deploy",
        "backend",
        "--dotenv",
        "api/.env",
        "--target",
        "dotenv:absent/.env:ACME_API_KEY",
    ]);
    assert_ne!(missing.code, Some(0), "{missing:#?}");
    assert_eq!(
        std::fs::read_to_string(api.join(".env")).expect("read"),
        api_before
    );

    let deployed = cli.run(&[
        "deploy",
        "backend",
        "--dotenv",
        "api/.env",
        "--target",
        "dotenv:worker/.env:WORKER_KEY",
    ]);
    deployed.ok();
    assert_eq!(
        std::fs::read_to_string(api.join(".env")).expect("read"),
        api_before.replace("placeholder", &key)
    );
    let worker_now = std::fs::read_to_string(worker.join(".env")).expect("read");
    assert!(worker_now.starts_with(worker_before), "{worker_now:?}");
    let read: std::collections::HashMap<String, String> =
        dotenvy::from_path_iter(worker.join(".env"))
            .expect("parse")
            .map(|r| r.expect("entry"))
            .collect();
    assert_eq!(read.get("WORKER_KEY"), Some(&key));
    assert_eq!(read.get("MODE").map(String::as_str), Some("batch"));
    assert!(!deployed.stderr.contains(&key) && !deployed.stdout.contains(&key));
    assert_eq!(service.verify_status(&key).await, 200);
    // No backup or temp file is left beside the targets.
    for dir in [&api, &worker] {
        let names: Vec<_> = std::fs::read_dir(dir)
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(".env")], "{dir:?}");
    }
    let targets = cli.run(&["targets", "backend", "--json"]);
    targets.ok();
    let listed = targets.json();
    let mut vars: Vec<(String, bool)> = listed
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            let path = t["path"].as_str().unwrap_or_default();
            (
                t["var"].as_str().unwrap_or_default().to_owned(),
                std::path::Path::new(path).is_absolute(),
            )
        })
        .collect();
    vars.sort();
    assert_eq!(
        vars,
        [
            ("ACME_API_KEY".to_owned(), true),
            ("WORKER_KEY".to_owned(), true)
        ],
        "{targets:#?}"
    );
    let audit = cli.run(&["audit", "--json"]);
    assert!(
        audit.stdout.contains("deployed \\\"backend\\\" to"),
        "{audit:#?}"
    );

    // Two variables of one file, then a target whose write fails (a YAML
    // path that is not there): the deploy puts back both variables, newest
    // first, so the file is byte for byte as it was.
    let both_before = "A=1\nC=3";
    std::fs::write(worker.join(".env"), both_before).expect("write");
    std::fs::write(cli.cwd.join("app.yml"), "acme:\n  port: 8\n").expect("write");
    let undone = cli.run(&[
        "deploy",
        "backend",
        "--target",
        "dotenv:worker/.env:A",
        "--target",
        "dotenv:worker/.env:B",
        "--target",
        "yaml:app.yml:acme.key",
    ]);
    assert_ne!(undone.code, Some(0), "{undone:#?}");
    assert!(!undone.stderr.contains(&key), "{undone:#?}");
    assert_eq!(
        std::fs::read_to_string(worker.join(".env")).expect("read"),
        both_before
    );
    // Without the failing target both variables get the key.
    let both = cli.run(&[
        "deploy",
        "backend",
        "--target",
        "dotenv:worker/.env:A",
        "--target",
        "dotenv:worker/.env:B",
    ]);
    both.ok();
    for var in ["A", "B"] {
        assert_eq!(env_value(&worker.join(".env"), var), Some(key.clone()));
    }
    assert_eq!(env_value(&worker.join(".env"), "C").as_deref(), Some("3"));
    assert!(std::fs::read_dir(cli.data.join("backups"))
        .map(|d| d.count() == 0)
        .unwrap_or(true));
}

/// Config-file targets from the CLI: a JSON and a TOML file each get the
/// key at their dotted path, every other byte kept; a path that is not
/// there is refused and nothing is written.
#[tokio::test(flavor = "multi_thread")]
async fn deploy_to_json_and_toml_files_keeps_every_other_byte() {
    let Backend {
        service: _service,
        root: _root,
        cli,
        key,
    } = backend().await;
    let json_before = "{\n  \"name\": \"app\",\n  \"acme\": { \"key\": \"old\", \"port\": 8 }\n}\n";
    let toml_before = "# settings\n[acme]\nkey = \"old\" # rotated by Latchkey\nport = 8\n";
    std::fs::write(cli.cwd.join("app.json"), json_before).expect("write");
    std::fs::write(cli.cwd.join("app.toml"), toml_before).expect("write");
    let missing = cli.run(&["deploy", "backend", "--target", "json:app.json:acme.nope"]);
    assert_ne!(missing.code, Some(0), "{missing:#?}");
    assert_eq!(
        std::fs::read_to_string(cli.cwd.join("app.json")).expect("read"),
        json_before
    );
    let deployed = cli.run(&[
        "deploy",
        "backend",
        "--target",
        "json:app.json:acme.key",
        "--target",
        "toml:app.toml:acme.key",
    ]);
    deployed.ok();
    let json_now = std::fs::read_to_string(cli.cwd.join("app.json")).expect("read");
    let toml_now = std::fs::read_to_string(cli.cwd.join("app.toml")).expect("read");
    assert_eq!(json_now, json_before.replace("old", &key));
    assert_eq!(
        toml_now,
        toml_before.replace("\"old\"", &format!("\"{key}\""))
    );
    let parsed: serde_json::Value = serde_json::from_str(&json_now).expect("json");
    assert_eq!(parsed["acme"]["key"], key.as_str());
    assert!(!deployed.stderr.contains(&key));
    let listed = cli.run(&["targets", "backend"]);
    assert!(
        listed.stdout.contains("json:") && listed.stdout.contains("toml:"),
        "{listed:#?}"
    );
}

/// The last-used guard: the old key used after the new one was deployed
/// holds the revoke with `still_in_use` (the rotation stays, both keys
/// live); `--resume ID --force-revoke` ("Revoke anyway") finishes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_key_still_in_use_holds_the_revoke_until_forced() {
    let Backend {
        service,
        root: _root,
        cli,
        key: old,
    } = backend().await;
    std::fs::write(cli.cwd.join(".env"), format!("ACME_API_KEY={old}\n")).expect("write");
    // Killed right before the revoke: the deploy is done.
    let killed = cli.run_with(
        &["rotate", "backend", "--dotenv", ".env", "--yes"],
        &[("FAILPOINTS", "rotation::revoke_old::before=return")],
        None,
    );
    assert_eq!(killed.signal, Some(9), "{killed:#?}");
    assert!(killed.stderr.contains("Strategy: Overlap"), "{killed:#?}");
    let id = cli.run(&["rotations", "--json"]).json()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Something still reads the old key, a second after the deploy.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(service.verify_status(&old).await, 200);

    let held = cli.run(&["rotate", "--resume", &id]);
    assert_ne!(held.code, Some(0), "{held:#?}");
    assert!(held.stderr.contains("[still_in_use]"), "{held:#?}");
    assert!(
        held.stderr.contains("Something still uses the old key"),
        "{held:#?}"
    );
    assert!(
        held.stderr
            .contains(&format!("latchkey rotate --resume {id} --force-revoke")),
        "{held:#?}"
    );
    assert_eq!(
        service.verify_status(&old).await,
        200,
        "the old key is kept"
    );
    assert_eq!(service.live("web").await.len(), 2);
    let rotation = cli.run(&["rotations", "--json"]).json()[0].clone();
    assert_eq!(rotation["state"], "verified", "{rotation:#}");
    assert_eq!(rotation["error"]["code"], "still_in_use", "{rotation:#}");

    let forced = cli.run(&["rotate", "--resume", &id, "--force-revoke"]);
    forced.ok();
    assert_eq!(service.verify_status(&old).await, 401);
    assert_eq!(service.live("web").await.len(), 1);
    let rotation = cli.run(&["rotations", "--json"]).json()[0].clone();
    assert_eq!(rotation["state"], "done", "{rotation:#}");
}

/// `deploy --target yaml:…` and `--target aws-credentials:…`: the scalar at
/// the dotted path (every other byte kept), Open Animate's credentials file
/// made under `~` (0600 in a 0700 folder) when missing, and an AWS key pair
/// (`ID:SECRET`, imported from a .env) written as one profile's two lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_to_yaml_and_aws_credentials_files_keeps_every_other_byte() {
    use latchkey_core::deploy::yaml::token;
    let Backend {
        service: _service,
        root,
        cli,
        key,
    } = backend().await;
    let home = root.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let home_env = [("HOME", home.to_str().expect("utf-8"))];
    let yaml_before = "# settings\nacme:\n  key: old   # rotated by Latchkey\n  port: 8\n";
    std::fs::write(cli.cwd.join("app.yml"), yaml_before).expect("write");
    // A missing key is refused, and the deploy is undone: the credentials
    // file it had made first is deleted again.
    let missing = cli.run_with(
        &[
            "deploy",
            "backend",
            "--target",
            "yaml:~/.oanim/credentials.yaml:api_key",
            "--target",
            "yaml:app.yml:acme.nope",
        ],
        &home_env,
        None,
    );
    assert_ne!(missing.code, Some(0), "{missing:#?}");
    assert!(!missing.stderr.contains(&key));
    assert_eq!(
        std::fs::read_to_string(cli.cwd.join("app.yml")).expect("read"),
        yaml_before
    );
    assert!(
        !home.join(".oanim/credentials.yaml").exists(),
        "{missing:#?}"
    );
    let deployed = cli.run_with(
        &[
            "deploy",
            "backend",
            "--target",
            "yaml:app.yml:acme.key",
            "--target",
            "yaml:~/.oanim/credentials.yaml:api_key",
        ],
        &home_env,
        None,
    );
    deployed.ok();
    assert!(!deployed.stderr.contains(&key));
    assert_eq!(
        std::fs::read_to_string(cli.cwd.join("app.yml")).expect("read"),
        yaml_before.replace("old", &token(&key))
    );
    let oanim = home.join(".oanim/credentials.yaml");
    assert_eq!(
        std::fs::read_to_string(&oanim).expect("made"),
        format!("api_key: {}\n", token(&key))
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&oanim), 0o600);
        assert_eq!(mode(&home.join(".oanim")), 0o700);
    }

    // An AWS key pair, imported from a .env, into ~/.aws/credentials.
    let pair = "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    std::fs::write(cli.cwd.join(".env"), format!("AWS_PAIR={pair}\n")).expect("write");
    cli.run(&["import", ".env", "--var", "AWS_PAIR"]).ok();
    std::fs::create_dir_all(home.join(".aws")).expect("aws dir");
    let creds_before =
        "# mine\n[default]\naws_access_key_id=AKIAOLD\naws_secret_access_key = old\nregion=eu-west-1\n\n[other]\naws_access_key_id = AKIAOTHER\n";
    let creds = home.join(".aws/credentials");
    std::fs::write(&creds, creds_before).expect("write");
    // Two profiles of one file in one run: the second is written over the
    // first's write.
    let deployed = cli.run_with(
        &[
            "deploy",
            "AWS_PAIR",
            "--target",
            "aws-credentials:~/.aws/credentials:default",
            "--target",
            "aws-credentials:~/.aws/credentials:work",
        ],
        &home_env,
        None,
    );
    deployed.ok();
    assert!(!deployed.stderr.contains("wJalr") && !deployed.stdout.contains("wJalr"));
    assert_eq!(
        std::fs::read_to_string(&creds).expect("read"),
        creds_before
            .replace("AKIAOLD", "AKIAIOSFODNN7EXAMPLE")
            .replace("= old", "= wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
            + "\n[work]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    );
    let listed = cli.run(&["targets", "AWS_PAIR"]);
    assert!(listed.stdout.contains("aws-credentials:"), "{listed:#?}");
    let bad = cli.run(&[
        "deploy",
        "AWS_PAIR",
        "--target",
        "aws-credentials:x:no spaces",
    ]);
    assert_eq!(bad.code, Some(2), "{bad:#?}");
}

/// `latchkey rotate NAME --target dotenv:PATH:A --target dotenv:PATH:B`:
/// both variables of the one file get the new key (the second written over
/// the first's write), every other byte kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_to_two_variables_of_one_env_file() {
    let Backend {
        service,
        root: _root,
        cli,
        key: old,
    } = backend().await;
    let env_file = cli.cwd.join(".env");
    std::fs::write(&env_file, format!("# app\nACME_API_KEY={old}\nPORT=1")).expect("write");
    let rotated = cli.run(&[
        "rotate",
        "backend",
        "--target",
        "dotenv:.env:ACME_API_KEY",
        "--target",
        "dotenv:.env:WORKER_KEY",
        "--yes",
    ]);
    rotated.ok();
    let new = env_value(&env_file, "ACME_API_KEY").expect("new key");
    assert_ne!(new, old);
    assert_eq!(env_value(&env_file, "WORKER_KEY"), Some(new.clone()));
    let text = std::fs::read_to_string(&env_file).expect("read");
    assert!(
        text.starts_with(&format!("# app\nACME_API_KEY={new}\nPORT=1")),
        "{text:?}"
    );
    assert_eq!(service.verify_status(&new).await, 200);
    assert_eq!(service.verify_status(&old).await, 401);
    assert!(!rotated.stderr.contains(&new) && !rotated.stderr.contains(&old));
    let rotation = cli.run(&["rotations", "--json"]).json()[0].clone();
    assert_eq!(rotation["state"], "done", "{rotation:#}");
}

/// Killed between the two writes of one file: a resume writes the second
/// over the first's write; a rollback undoes both, the file byte for byte
/// as before; and a change by someone else between them is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_two_writes_of_one_file_resumes_or_rolls_back() {
    let Backend {
        service,
        root: _root,
        cli,
        key,
    } = backend().await;
    let env_file = cli.cwd.join(".env");
    let args = [
        "rotate",
        "backend",
        "--target",
        "dotenv:.env:ACME_API_KEY",
        "--target",
        "dotenv:.env:WORKER_KEY",
        "--yes",
    ];
    let kill = |cli: &Cli| -> String {
        let killed = cli.run_with(
            &args,
            &[("FAILPOINTS", "rotation::deploy::same_file=return")],
            None,
        );
        assert_eq!(killed.signal, Some(9), "{killed:#?}");
        let first = env_value(&env_file, "ACME_API_KEY").expect("written");
        let second = env_value(&env_file, "WORKER_KEY");
        assert_ne!(second, Some(first.clone()), "not yet");
        assert_ne!(first, key);
        cli.run(&["rotations", "--json"]).json()[0]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };

    // Resumed: both hold the new key.
    std::fs::write(&env_file, format!("ACME_API_KEY={key}\n# end")).expect("write");
    let id = kill(&cli);
    cli.run(&["rotate", "--resume", &id]).ok();
    let new = env_value(&env_file, "ACME_API_KEY").expect("new");
    assert_eq!(env_value(&env_file, "WORKER_KEY"), Some(new.clone()));
    assert_eq!(service.verify_status(&new).await, 200);
    assert_eq!(service.verify_status(&key).await, 401);

    // Rolled back: the file as it was, byte for byte.
    let before = std::fs::read(&env_file).expect("read");
    let id = kill(&cli);
    cli.run(&["rotate", "--rollback", &id]).ok();
    assert_eq!(std::fs::read(&env_file).expect("read"), before);
    assert_eq!(service.verify_status(&new).await, 200);
    assert_eq!(service.live("web").await.len(), 1);

    // Changed by someone else between the two writes: refused, left alone.
    let id = kill(&cli);
    let mut theirs = std::fs::read(&env_file).expect("read");
    theirs.extend_from_slice(b"\nMINE=1\n");
    std::fs::write(&env_file, &theirs).expect("edit");
    let refused = cli.run(&["rotate", "--resume", &id]);
    assert_ne!(refused.code, Some(0), "{refused:#?}");
    assert!(
        refused.stderr.contains("[dotenv_changed_on_disk]"),
        "{refused:#?}"
    );
    assert_eq!(std::fs::read(&env_file).expect("read"), theirs);
}
