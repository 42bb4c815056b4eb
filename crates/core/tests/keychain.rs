//! The keychain against the real Secret Service (gnome-keyring in a private
//! D-Bus session; see scripts/with-keyring.sh).

use latchkey_core::store::{KeychainStore, SecretStore};
use latchkey_core::Secret;

fn account() -> String {
    format!("test:{}", uuid_like())
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}

#[test]
fn stores_reads_and_deletes_through_the_secret_service() {
    let store =
        KeychainStore::open_service("latchkey-test").expect("keychain opens and passes its probe");
    let account = account();
    assert_eq!(store.get(&account).expect("read missing"), None);
    let secret = Secret::new("lk_TESTTEST_ünïcødé-and-spaces are fine");
    store.put(&account, &secret).expect("put");
    assert_eq!(store.get(&account).expect("get"), Some(secret.clone()));
    // A second handle (a new process would do the same) sees it too.
    let again = KeychainStore::open_service("latchkey-test").expect("second handle");
    assert_eq!(again.get(&account).expect("get"), Some(secret));
    store
        .put(&account, &Secret::new("replaced"))
        .expect("overwrite");
    assert_eq!(
        again.get(&account).expect("get"),
        Some(Secret::new("replaced"))
    );
    store.delete(&account).expect("delete");
    store.delete(&account).expect("deleting twice is fine");
    assert_eq!(store.get(&account).expect("read deleted"), None);
}

#[test]
fn calls_from_many_threads_are_served() {
    let store = std::sync::Arc::new(KeychainStore::open_service("latchkey-test").expect("open"));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                let account = format!("test:thread-{i}-{}", uuid_like());
                store
                    .put(&account, &Secret::new(format!("value-{i}")))
                    .expect("put");
                let read = store.get(&account).expect("get");
                store.delete(&account).expect("delete");
                read == Some(Secret::new(format!("value-{i}")))
            })
        })
        .collect();
    assert!(handles.into_iter().all(|h| h.join().expect("thread")));
}
