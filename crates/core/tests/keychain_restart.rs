//! The keychain handle keeps one Secret Service session; when the daemon
//! goes away and D-Bus starts it again (seen under load in CI), the next
//! call opens a new session and finds the stored entries. (One test in this
//! binary: it stops the Secret Service of its private session.)

use latchkey_core::store::{KeychainStore, SecretStore};
use latchkey_core::Secret;

/// The process id of whoever owns `org.freedesktop.secrets` on this
/// session bus (the daemon of this test binary's private session).
fn secret_service_pid() -> u32 {
    let out = std::process::Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .expect("dbus-send runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no Secret Service pid in {text:?}"))
}

#[test]
fn a_restarted_secret_service_gets_a_new_session() {
    let store = KeychainStore::open_service("latchkey-test").expect("open");
    let account = "test:restart";
    store
        .put(account, &Secret::new("survives-the-restart"))
        .expect("put");
    let before = secret_service_pid();
    let killed = std::process::Command::new("kill")
        .arg(before.to_string())
        .status()
        .expect("kill runs");
    assert!(killed.success());
    // Gone from the bus before the next call (else it might still answer).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{before}")).exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon did not stop"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        store.get(account).expect("read after the restart"),
        Some(Secret::new("survives-the-restart"))
    );
    assert_ne!(secret_service_pid(), before, "a new daemon answered");
    store.delete(account).expect("delete");
    assert_eq!(store.get(account).expect("read"), None);
}
