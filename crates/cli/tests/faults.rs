//! A real SIGKILL of the `latchkey` process at every journaled step of a
//! rotation (failpoints, test builds only), then a restart that resumes —
//! or rolls back — and these checks across all points:
//! - 0 keys lost: every key the service or the `.env` file accepts is in
//!   the keychain (the vault lists it with its secret);
//! - 0 orphans: the only live key on the service is the one in use;
//! - 0 torn `.env` files: the file is byte-for-byte the original with the
//!   old or the new key, nothing else;
//! - the old key is revoked only after verify passed.
//!
//! The same again with the key service failing calls (chaos) during the
//! resume.

mod common;

use common::*;
use serde_json::{json, Value};

const FORWARD_POINTS: &[&str] = &[
    "rotation::create::before",
    "rotation::create::after",
    "rotation::store::before",
    "rotation::deploy::before",
    "rotation::deploy::after",
    "rotation::verify::before",
    "rotation::verify::after",
    "rotation::revoke_old::before",
    "rotation::revoke_old::after",
    "rotation::finish::before",
];

/// Points at which the old key must still be accepted after the kill.
fn before_revoke(point: &str) -> bool {
    !matches!(
        point,
        "rotation::revoke_old::after" | "rotation::finish::before"
    )
}

fn env_text(key: &str) -> String {
    format!("# service\r\nexport ACME_API_KEY='{key}' # keep\r\n\r\nPORT=8080")
}

struct World {
    service: Service,
    _root: tempfile::TempDir,
    cli: Cli,
    old: String,
    /// Everything the CLI printed (but `create`'s one key and the test's own
    /// `printenv`), scanned for keys and the admin token.
    printed: std::cell::RefCell<String>,
}

async fn world(chaos: bool) -> World {
    world_on(key_service(chaos).await).await
}

async fn world_on(service: Service) -> World {
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    cli.add_provider(&service, "acme", "web");
    let old = cli.create("acme", "backend", "ACME_API_KEY");
    std::fs::write(cli.cwd.join(".env"), env_text(&old)).expect("write .env");
    World {
        service,
        _root: root,
        cli,
        old,
        printed: Default::default(),
    }
}

impl World {
    /// Runs the CLI and keeps what it printed for the canary scan.
    fn run(&self, args: &[&str]) -> Run {
        self.record(self.cli.run(args))
    }

    fn record(&self, run: Run) -> Run {
        let mut printed = self.printed.borrow_mut();
        printed.push_str(&run.stdout);
        printed.push_str(&run.stderr);
        run
    }

    fn kill_at(&self, point: &str, args: &[&str]) {
        let killed = self.record(self.cli.run_with(
            args,
            &[("FAILPOINTS", &format!("{point}=return"))],
            None,
        ));
        assert_eq!(killed.signal, Some(9), "{point}: not killed: {killed:#?}");
    }

    fn rotation(&self) -> Value {
        let r = self.run(&["rotations", "--json"]);
        r.ok();
        r.json()[0].clone()
    }

    /// The vault's secrets by variable, through `run` (as a child sees them).
    fn vault_key(&self) -> String {
        let r = self.cli.run(&["run", "--", "printenv", "ACME_API_KEY"]);
        r.ok();
        r.stdout.trim().to_owned()
    }

    /// Every invariant; `expect_new`: whether the new key should be in use.
    async fn check(&self, point: &str, expect_new: bool) {
        let live = self.service.live("web").await;
        assert_eq!(
            live.len(),
            1,
            "{point}: live keys on the service: {live:#?}"
        );
        let in_use = self.vault_key();
        let file = std::fs::read_to_string(self.cli.cwd.join(".env")).expect("read .env");
        assert_eq!(file, env_text(&in_use), "{point}: torn or unexpected .env");
        assert_eq!(self.service.verify_status(&in_use).await, 200, "{point}");
        if expect_new {
            assert_ne!(in_use, self.old, "{point}");
            assert_eq!(self.service.verify_status(&self.old).await, 401, "{point}");
        } else {
            assert_eq!(in_use, self.old, "{point}");
        }
        // The live key is the vault's, with its secret in the keychain.
        let list = self.run(&["list", "--json"]);
        list.ok();
        let keys = list.json()["keys"].as_array().expect("keys").clone();
        let holders: Vec<&Value> = keys
            .iter()
            .filter(|k| k["status"] == "active" && k["has_secret"] == true)
            .collect();
        assert_eq!(holders.len(), 1, "{point}: {keys:#?}");
        assert_eq!(holders[0]["preview"], live[0]["key_preview"], "{point}");
        let check = self.run(&["check"]);
        assert_eq!(check.code, Some(0), "{point}: {check:#?}");
        // The project folder holds only what the person put there.
        let mut names: Vec<String> = std::fs::read_dir(&self.cli.cwd)
            .expect("project")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".env"], "{point}: left beside the .env");
        // Canary scan: no key and no admin token in any file of the data
        // folder, the key not in use nowhere in the project folder, and
        // nothing of either in what the CLI printed.
        let retired = if in_use == self.old {
            None
        } else {
            Some(self.old.as_str())
        };
        for needle in [Some(in_use.as_str()), retired, Some(ADMIN)]
            .into_iter()
            .flatten()
        {
            assert_eq!(
                files_containing(&self.cli.data, needle),
                Vec::<String>::new(),
                "{point}: a key or the admin token in the data folder"
            );
            assert!(
                !self.printed.borrow().contains(needle),
                "{point}: a key or the admin token in the CLI's output"
            );
        }
        if let Some(old) = retired {
            assert_eq!(
                files_containing(&self.cli.cwd, old),
                Vec::<String>::new(),
                "{point}: the retired key in the project folder"
            );
        }
    }
}

/// Resuming after the checks between a kill and the resume, which use the
/// old key themselves (`verify_status`): the last-used guard would hold the
/// revoke on them, as it should for anything else that still reads the old
/// key (`cli.rs`, `an_old_key_still_in_use_holds_the_revoke_until_forced`),
/// so these resumes say "Revoke anyway".
const RESUME: [&str; 3] = ["rotate", "--resume", "--force-revoke"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_at_any_step_then_resume_loses_nothing() {
    let rotate = ["rotate", "backend", "--dotenv", ".env", "--yes"];
    for point in FORWARD_POINTS {
        let w = world(false).await;
        w.kill_at(point, &rotate);
        assert_eq!(w.rotation()["unfinished"], true, "{point}");
        if before_revoke(point) {
            assert_eq!(
                w.service.verify_status(&w.old).await,
                200,
                "{point}: old key revoked before verify"
            );
        }
        let resumed = w.run(&RESUME);
        assert_eq!(resumed.code, Some(0), "{point}: {resumed:#?}");
        assert_eq!(w.rotation()["state"], "done", "{point}");
        w.check(point, true).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_before_the_old_key_goes_then_rollback_restores_everything() {
    let rotate = ["rotate", "backend", "--dotenv", ".env", "--yes"];
    for point in FORWARD_POINTS.iter().filter(|p| before_revoke(p)) {
        let w = world(false).await;
        w.kill_at(point, &rotate);
        let id = w.rotation()["id"].as_str().expect("id").to_owned();
        let rolled = w.run(&["rotate", "--rollback", &id]);
        assert_eq!(rolled.code, Some(0), "{point}: {rolled:#?}");
        assert_eq!(w.rotation()["state"], "rolled_back", "{point}");
        w.check(point, false).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_during_rollback_then_rollback_again_finishes_it() {
    for point in ["rotation::restore::before", "rotation::revoke_new::before"] {
        let w = world(false).await;
        w.kill_at(
            "rotation::verify::before",
            &["rotate", "backend", "--dotenv", ".env", "--yes"],
        );
        let id = w.rotation()["id"].as_str().expect("id").to_owned();
        w.kill_at(point, &["rotate", "--rollback", &id]);
        let again = w.run(&["rotate", "--rollback", &id]);
        assert_eq!(again.code, Some(0), "{point}: {again:#?}");
        assert_eq!(w.rotation()["state"], "rolled_back", "{point}");
        w.check(point, false).await;
    }
}

/// The key service fails the resume's calls (500, 503, 429 with
/// Retry-After, dropped connections, slow answers); resuming again once it
/// recovers finishes the rotation with the same guarantees.
///
/// Each fault's four kill points run at once, each in its own world, on its
/// own thread and runtime (a world's CLI runs block their thread; its key
/// service answers from the runtime's worker): the resumes mostly wait out
/// the retry policy's back-off, 20 cases of about 7 s each.
#[test]
fn resuming_under_key_service_chaos_loses_nothing() {
    let faults = [
        json!({"status": 500}),
        json!({"status": 503}),
        json!({"status": 429}),
        json!({"drop_connection": true}),
        json!({"status": 503, "delay_ms": 200}),
    ];
    let points = [
        "rotation::create::after",
        "rotation::deploy::after",
        "rotation::verify::before",
        "rotation::revoke_old::before",
    ];
    for fault in &faults {
        std::thread::scope(|s| {
            for point in points {
                s.spawn(move || {
                    tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(1)
                        .enable_all()
                        .build()
                        .expect("runtime")
                        .block_on(resume_under_chaos(fault, point))
                });
            }
        });
    }
}

/// One case of [`resuming_under_key_service_chaos_loses_nothing`].
async fn resume_under_chaos(fault: &Value, point: &str) {
    let w = world(true).await;
    w.kill_at(point, &["rotate", "backend", "--dotenv", ".env", "--yes"]);
    let mut arm = fault.clone();
    arm["fail_next"] = json!(6);
    w.service.chaos(arm).await;
    let mut tries = 0;
    loop {
        tries += 1;
        assert!(tries <= 5, "{fault} at {point}: no progress");
        let r = w.run(&RESUME);
        if r.code == Some(0) && w.rotation()["state"] == "done" {
            break;
        }
        // A resume the service failed stops with the provider's
        // exit code, nothing else (not a crash, not a usage error).
        assert_eq!(r.code, Some(4), "{fault} at {point}: {r:#?}");
    }
    w.check(&format!("{fault} at {point}"), true).await;
}

/// A SIGKILL between the service's answer to `create` and the keychain
/// write: the next command settles the journaled create (replayed under
/// its idempotency key and kept), so no live key is left that nobody
/// holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_between_create_and_the_keychain_leaves_no_unheld_key() {
    let w = world(false).await;
    let create = [
        "create",
        "--provider",
        "acme",
        "--name",
        "second",
        "--env-var",
        "SECOND_KEY",
        "--scope",
        "read",
    ];
    w.kill_at("create_key::after_create", &create);
    assert_eq!(w.service.live("web").await.len(), 2, "the service made it");
    let list = w.run(&["list", "--json"]);
    list.ok();
    let keys = list.json()["keys"].as_array().expect("keys").clone();
    for live in w.service.live("web").await {
        let held = keys
            .iter()
            .any(|k| k["preview"] == live["key_preview"] && k["has_secret"] == true);
        assert!(held, "live key {live:#?} is not held: {keys:#?}");
    }
    let second = w.run(&["run", "--", "printenv", "SECOND_KEY"]);
    second.ok();
    assert_eq!(
        w.service.verify_status(second.stdout.trim()).await,
        200,
        "the kept secret is the live key"
    );
}

/// A rotation killed after its verify, whose new key was revoked on the
/// service meanwhile: the resume checks the new key again before revoking
/// the old one, finds it dead and rolls back, keeping the old key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_verify_is_checked_again_before_the_old_key_goes() {
    let w = world(false).await;
    w.kill_at(
        "rotation::revoke_old::before",
        &["rotate", "backend", "--dotenv", ".env", "--yes"],
    );
    assert_eq!(w.rotation()["state"], "verified");
    let new = w
        .service
        .live("web")
        .await
        .into_iter()
        .find(|k| k["name"].as_str().is_some_and(|n| n.contains("(rotation ")))
        .expect("the new key");
    w.service
        .revoke_directly("web", new["id"].as_str().expect("id"))
        .await;
    let resumed = w.run(&RESUME);
    assert_ne!(resumed.code, Some(0), "{resumed:#?}");
    assert!(resumed.stderr.contains("verify_failed"), "{resumed:#?}");
    assert_eq!(w.rotation()["state"], "rolled_back");
    w.check("revoked meanwhile", false).await;
}

/// The race from the report: a slow service, `rotate … --yes` running, and
/// `rotate --rollback ID` started while it is at each step. One of the two
/// wins, the other is refused; never both "Done" and "Rolled back", never
/// a lost key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_racing_a_running_rotation_is_refused_or_wins_cleanly() {
    for stop_at in ["planned", "stored", "deployed", "verified"] {
        let w = world(true).await;
        w.service
            .chaos(json!({"fail_next": 40, "delay_ms": 150}))
            .await;
        let mut rotate = w
            .cli
            .command(&["rotate", "backend", "--dotenv", ".env", "--yes"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn rotate");
        let started = std::time::Instant::now();
        let id = loop {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "{stop_at}: never reached"
            );
            let r = w.run(&["rotations", "--json"]);
            let seen = serde_json::from_str::<Value>(&r.stdout)
                .ok()
                .and_then(|v| v.get(0).cloned());
            if let Some(rot) = seen {
                if rot["state"] == stop_at || rot["state"] == "done" {
                    break rot["id"].as_str().expect("id").to_owned();
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let rollback = w.run(&["rotate", "--rollback", &id]);
        let status = process::wait_within(&mut rotate, process::CHILD_TIMEOUT, "rotate");
        let both_ok = status.success() && rollback.code == Some(0);
        let state = w.rotation()["state"].clone();
        assert!(
            !both_ok || state == "rolled_back",
            "{stop_at}: both said success, state {state}: {rollback:#?}"
        );
        assert!(
            state == "done" || state == "rolled_back",
            "{stop_at}: {state}"
        );
        w.check(stop_at, state == "done").await;
    }
}

/// The key service restarts from its data file between the kill and the
/// resume (its idempotent replays are gone with the restart): the resume
/// still ends with 0 keys lost, 0 orphans and an untorn `.env`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_service_restarting_between_the_kill_and_the_resume_loses_nothing() {
    let rotate = ["rotate", "backend", "--dotenv", ".env", "--yes"];
    for point in [
        "rotation::create::after",
        "rotation::store::before",
        "rotation::deploy::after",
        "rotation::verify::before",
        "rotation::revoke_old::before",
        "rotation::finish::before",
    ] {
        let state = tempfile::tempdir().expect("service state");
        let service = key_service_with_data(false, &state.path().join("keys.json")).await;
        let mut w = world_on(service).await;
        w.kill_at(point, &rotate);
        w.service = w.service.restart().await;
        let resumed = w.run(&RESUME);
        assert_eq!(resumed.code, Some(0), "{point}: {resumed:#?}");
        assert_eq!(w.rotation()["state"], "done", "{point}");
        w.check(point, true).await;
    }
}

/// Open Animate's credentials file (`~/.oanim/credentials.yaml`), made by
/// the rotation because it was missing: a SIGKILL at any step before the old
/// key goes, then a rollback, leaves no file (and no marker of it in the
/// project); a SIGKILL around the write, then a resume, leaves a 0600 file
/// holding exactly the new key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credentials_file_the_rotation_made_is_gone_after_a_rollback() {
    use latchkey_core::deploy::yaml::token;
    let rotate = [
        "rotate",
        "backend",
        "--target",
        "yaml:~/.oanim/credentials.yaml:api_key",
        "--yes",
    ];
    for point in FORWARD_POINTS.iter().filter(|p| before_revoke(p)) {
        for resume in [false, true] {
            if resume && !point.starts_with("rotation::deploy") {
                continue;
            }
            let w = world(false).await;
            let home = w.cli.cwd.parent().expect("root").join("home");
            std::fs::create_dir_all(&home).expect("home");
            let home = home.to_str().expect("utf-8").to_owned();
            let file = std::path::Path::new(&home).join(".oanim/credentials.yaml");
            let killed = w.record(w.cli.run_with(
                &rotate,
                &[("FAILPOINTS", &format!("{point}=return")), ("HOME", &home)],
                None,
            ));
            assert_eq!(killed.signal, Some(9), "{point}: not killed: {killed:#?}");
            if resume {
                let resumed = w.record(w.cli.run_with(
                    &["rotate", "--resume"],
                    &[("HOME", &home)],
                    None,
                ));
                assert_eq!(resumed.code, Some(0), "{point}: {resumed:#?}");
                assert_eq!(w.rotation()["state"], "done", "{point}");
                let new = w.vault_key();
                assert_ne!(new, w.old, "{point}");
                assert_eq!(
                    std::fs::read_to_string(&file).expect("made"),
                    format!("api_key: {}\n", token(&new)),
                    "{point}"
                );
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
                    assert_eq!(mode & 0o777, 0o600, "{point}");
                }
            } else {
                let id = w.rotation()["id"].as_str().expect("id").to_owned();
                let rolled = w.record(w.cli.run_with(
                    &["rotate", "--rollback", &id],
                    &[("HOME", &home)],
                    None,
                ));
                assert_eq!(rolled.code, Some(0), "{point}: {rolled:#?}");
                assert_eq!(w.rotation()["state"], "rolled_back", "{point}");
                assert!(!file.exists(), "{point}: the made file is still there");
                assert_eq!(w.vault_key(), w.old, "{point}");
                assert_eq!(w.service.verify_status(&w.old).await, 200, "{point}");
            }
            assert!(!w.printed.borrow().contains(&w.vault_key()), "{point}");
        }
    }
}
