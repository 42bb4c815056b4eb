//! The memory canary for the CLI (issue 16 item 10): after a `rotate`
//! finishes, the real `latchkey` process's readable memory (/proc/PID/mem)
//! holds no copy of the old or the new key. The CLI waits at its
//! test-only pause point (LATCHKEY_TEST_PAUSE_BEFORE_EXIT, debug builds
//! only) while the test scans it, then exits. Real key service on
//! loopback, real keychain (scripts/with-keyring.sh).
#![cfg(target_os = "linux")]

mod common;
use latchkey_testkit::memscan;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_rotation_the_cli_holds_no_copy_of_either_key() {
    let service = key_service(false).await;
    let root = tempfile::tempdir().expect("tempdir");
    let cli = Cli::new(root.path());
    cli.add_provider(&service, "acme", "web");
    let old = cli.create("acme", "backend", "ACME_API_KEY");
    let env_file = cli.cwd.join(".env");
    std::fs::write(&env_file, format!("ACME_API_KEY={old}\n")).expect("write");

    let marker = root.path().join("paused");
    let mut child = cli
        .command(&[
            "rotate",
            "backend",
            "--dotenv",
            ".env:ACME_API_KEY",
            "--yes",
        ])
        .env("LATCHKEY_TEST_PAUSE_BEFORE_EXIT", &marker)
        .env("LATCHKEY_TEST_DUMPABLE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn latchkey");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !marker.exists() {
        assert!(
            Instant::now() < deadline,
            "the rotation did not reach the pause point"
        );
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("the CLI exited before the pause point: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let new = std::fs::read_to_string(&env_file)
        .expect("read .env")
        .trim()
        .trim_start_matches("ACME_API_KEY=")
        .to_owned();
    assert!(
        new.starts_with("lk_") && new != old,
        "the .env was not rotated"
    );

    let pid = child.id();
    let with_old = memscan::scan(pid, old.as_bytes());
    let with_new = memscan::scan(pid, new.as_bytes());
    eprintln!("memory canary: CLI {pid}, old key: {}", with_old.describe());
    eprintln!("memory canary: CLI {pid}, new key: {}", with_new.describe());
    std::fs::remove_file(&marker).expect("release the pause");
    let status = process::wait_within(&mut child, process::CHILD_TIMEOUT, "latchkey rotate");
    assert!(status.success(), "rotate failed: {status}");

    // Without the zeroizing allocator (harden::ZeroOnFree) this found 1
    // copy of each key (in freed heap blocks).
    assert_eq!(with_old.count(), 0, "old key: {}", with_old.describe());
    assert_eq!(with_new.count(), 0, "new key: {}", with_new.describe());
}
