//! With no Secret Service on the bus, opening the keychain is a typed error
//! that tells the user what to do, never a silent fallback.
//! (One test in this binary: it changes the process environment.)

use latchkey_core::store::KeychainStore;

#[test]
fn no_secret_service_is_a_clear_error() {
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/latchkey-no-bus",
    );
    let err = KeychainStore::open_service("latchkey-test").expect_err("no keychain");
    assert!(
        matches!(
            err.code().as_str(),
            "keychain_unavailable" | "keychain_locked"
        ),
        "code {}",
        err.code()
    );
    assert!(
        err.to_string().contains("gnome-keyring") || err.to_string().contains("Unlock"),
        "{err}"
    );
}
