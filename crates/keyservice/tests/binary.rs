//! The `latchkey-keyservice` binary: startup line, generated token,
//! loopback-only, and persistence across a SIGKILL.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use latchkey_testkit::process;

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_latchkey-keyservice");

struct Running {
    child: Child,
    base: String,
    admin: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[&str]) -> Running {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn key service");
    let stdout = child.stdout.take().expect("stdout");
    // Read on a thread, so a service that never prints fails the test
    // (after a bound) instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    let Ok(read) = rx.recv_timeout(process::CHILD_TIMEOUT) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("no startup line within {:?}", process::CHILD_TIMEOUT);
    };
    let line = read.expect("startup line");
    let started: Value = serde_json::from_str(&line).expect("startup line is JSON");
    Running {
        child,
        base: format!(
            "http://{}",
            started["listening"].as_str().expect("listening")
        ),
        admin: started["admin_token"]
            .as_str()
            .expect("admin_token")
            .to_owned(),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

#[tokio::test]
async fn prints_its_address_and_a_generated_admin_token() {
    let server = spawn(&["--listen", "127.0.0.1:0"]);
    assert!(server.base.starts_with("http://127.0.0.1:"));
    assert!(server.admin.len() >= 32, "generated token is long");
    let resp = client()
        .get(format!("{}/api/projects/demo/api-keys", server.base))
        .bearer_auth(&server.admin)
        .send()
        .await
        .expect("list");
    assert_eq!(resp.status(), 200);
    let other = spawn(&["--listen", "127.0.0.1:0"]);
    assert_ne!(
        other.admin, server.admin,
        "each start generates its own token"
    );
}

#[test]
fn refuses_a_non_loopback_address() {
    for addr in ["0.0.0.0:0", "[::]:0"] {
        let out = process::output_within(
            Command::new(BIN).args(["--listen", addr, "--admin-token", "t"]),
            process::CHILD_TIMEOUT,
        );
        assert_eq!(out.status.code(), Some(2), "{addr}");
        assert!(out.stdout.is_empty(), "no startup line for {addr}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--public"));
    }
}

#[tokio::test]
async fn the_library_refuses_a_non_loopback_listener_too() {
    let listener = std::net::TcpListener::bind("0.0.0.0:0").expect("bind");
    let err = latchkey_keyservice::start(listener, latchkey_keyservice::Config::new("t"))
        .await
        .expect_err("refused");
    assert!(matches!(
        err,
        latchkey_keyservice::StartError::NotLoopback(_)
    ));
}

#[tokio::test]
async fn keys_survive_a_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("state.json");
    let data = data.to_str().expect("utf-8 path");
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--admin-token",
        "adm",
        "--data",
        data,
    ];
    let server = spawn(&args);
    let http = client();
    let keys_url = format!("{}/api/projects/demo/api-keys", server.base);
    let mut created = Vec::new();
    for name in ["kept", "revoked"] {
        let resp = http
            .post(&keys_url)
            .bearer_auth("adm")
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect("create");
        assert_eq!(resp.status(), 201);
        created.push(resp.json::<Value>().await.expect("json"));
    }
    let revoked_id = created[1]["id"].as_str().expect("id");
    let resp = http
        .delete(format!("{keys_url}/{revoked_id}"))
        .bearer_auth("adm")
        .send()
        .await
        .expect("revoke");
    assert_eq!(resp.status(), 204);
    drop(server); // SIGKILL: no graceful flush.

    let server = spawn(&args);
    let verify = |key: &Value| {
        http.get(format!("{}/v1/verify", server.base))
            .bearer_auth(key["key"].as_str().expect("key"))
            .send()
    };
    assert_eq!(verify(&created[0]).await.expect("verify").status(), 200);
    assert_eq!(verify(&created[1]).await.expect("verify").status(), 401);
}

#[tokio::test]
async fn reads_the_admin_token_from_a_file_and_keeps_it_off_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("admin-token");
    std::fs::write(&file, "  file-admin-token-0123456789\n\n").expect("write token");
    let file = file.to_str().expect("utf-8 path");
    let server = spawn(&["--listen", "127.0.0.1:0", "--admin-token-file", file]);
    assert_eq!(server.admin, "file-admin-token-0123456789", "trimmed");
    let resp = client()
        .get(format!("{}/api/projects/demo/api-keys", server.base))
        .bearer_auth("file-admin-token-0123456789")
        .send()
        .await
        .expect("list");
    assert_eq!(resp.status(), 200);
    #[cfg(target_os = "linux")]
    {
        let cmdline =
            std::fs::read(format!("/proc/{}/cmdline", server.child.id())).expect("read cmdline");
        let cmdline = String::from_utf8_lossy(&cmdline);
        assert!(cmdline.contains("--admin-token-file"), "{cmdline}");
        assert!(!cmdline.contains("file-admin-token"), "{cmdline}");
    }
}

#[test]
fn refuses_an_empty_or_missing_token_file_and_both_token_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "").expect("write");
    let blank = dir.path().join("blank");
    std::fs::write(&blank, " \n\t\n").expect("write");
    let missing = dir.path().join("missing");
    let good = dir.path().join("good");
    std::fs::write(&good, "tok\n").expect("write");
    let path = |p: &std::path::Path| p.to_str().expect("utf-8 path").to_owned();
    let cases: [(Vec<String>, &str); 4] = [
        (vec!["--admin-token-file".into(), path(&empty)], "is empty"),
        (vec!["--admin-token-file".into(), path(&blank)], "is empty"),
        (
            vec!["--admin-token-file".into(), path(&missing)],
            "cannot read",
        ),
        (
            vec![
                "--admin-token-file".into(),
                path(&good),
                "--admin-token".into(),
                "t".into(),
            ],
            "cannot be used with",
        ),
    ];
    for (args, says) in cases {
        let out = process::output_within(
            Command::new(BIN)
                .args(["--listen", "127.0.0.1:0"])
                .args(&args),
            process::CHILD_TIMEOUT,
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "no startup line for {args:?}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("tok\n"), "the token is not echoed");
    }
}
