//! A locked keyring is a clear, typed error, not a hang: the real binary in
//! its own private D-Bus session with a real gnome-keyring whose login
//! keyring is locked (an unlock prompt nobody can answer).

use std::process::Command;

use latchkey_testkit::process;

#[test]
fn a_locked_keyring_is_keychain_locked_not_a_hang() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let data = tempfile::tempdir().expect("data dir");
    let script = format!(
        "'{bin}' list >/dev/null || exit 90
         dbus-send --session --dest=org.freedesktop.secrets --type=method_call --print-reply \
            /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock \
            array:objpath:/org/freedesktop/secrets/collection/login >/dev/null || exit 91
         exec '{bin}' list",
        bin = env!("CARGO_BIN_EXE_latchkey"),
    );
    let started = std::time::Instant::now();
    let out = Command::new(repo.join("scripts/with-keyring.sh"))
        // A session of its own: locking it must not touch other tests'.
        .env_remove("LATCHKEY_IN_KEYRING_SESSION")
        .env("LATCHKEY_DATA_DIR", data.path())
        .env("LATCHKEY_KEYCHAIN_TIMEOUT_SECS", "3")
        .args(["bash", "-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map(|child| process::output_of(child, process::CHILD_TIMEOUT, "with-keyring.sh"))
        .expect("run with-keyring.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("[keychain_locked]"), "{stderr}");
    assert!(stderr.contains("Unlock your login keyring"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

/// A Secret Service whose default collection is its in-memory "session"
/// collection (secrets gone at logout) is refused as not persistent, not
/// used: the real binary against a real gnome-keyring whose `default`
/// alias was pointed at `session`.
#[test]
fn an_in_memory_default_collection_is_refused() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let data = tempfile::tempdir().expect("data dir");
    let script = format!(
        "dbus-send --session --dest=org.freedesktop.secrets --type=method_call --print-reply \
            /org/freedesktop/secrets org.freedesktop.Secret.Service.SetAlias \
            string:default objpath:/org/freedesktop/secrets/collection/session >/dev/null || exit 91
         exec '{bin}' list",
        bin = env!("CARGO_BIN_EXE_latchkey"),
    );
    let out = Command::new(repo.join("scripts/with-keyring.sh"))
        .env_remove("LATCHKEY_IN_KEYRING_SESSION")
        .env("LATCHKEY_DATA_DIR", data.path())
        .env("LATCHKEY_KEYCHAIN_TIMEOUT_SECS", "5")
        .args(["bash", "-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map(|child| process::output_of(child, process::CHILD_TIMEOUT, "with-keyring.sh"))
        .expect("run with-keyring.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("[keychain_not_persistent]"), "{stderr}");
}
