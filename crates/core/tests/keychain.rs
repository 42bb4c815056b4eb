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

/// What a new data folder makes once in the keychain (its audit key and
/// its Demo admin token) is made once even when several processes open the
/// folder at the same moment, and two folders on one keychain keep their
/// own Demo tokens. Each thread opens its own keychain handle and vault, as
/// a process would. Before the make-once lock, each first open stored its
/// own audit key and token and the last write won: rows signed under a
/// replaced audit key failed the chain check, and a process joining a
/// running Demo was refused with the replaced token.
#[test]
fn first_opens_at_once_agree_on_what_the_folder_makes_once() {
    use latchkey_core::catalog::AuditVerification;
    use latchkey_core::clipboard::MemoryClipboard;
    use latchkey_core::clock::SystemClock;
    use latchkey_core::Vault;
    use std::sync::{Arc, Barrier};

    fn open(dir: &std::path::Path) -> Vault {
        let store = Arc::new(KeychainStore::open_service("latchkey-test").expect("keychain"));
        let clipboard = Arc::new(MemoryClipboard::default());
        Vault::open(dir, store, clipboard, Arc::new(SystemClock)).expect("vault opens")
    }

    // The one entry older versions kept for every folder would be taken
    // over by both folders; this keyring is this binary's own.
    KeychainStore::open_service("latchkey-test")
        .expect("keychain")
        .delete("demo:admin-token")
        .expect("no older Demo token");
    let folders = [
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    ];
    const PER_FOLDER: usize = 4;
    let start = Arc::new(Barrier::new(2 * PER_FOLDER));
    let tokens: Vec<(usize, Secret)> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..2 * PER_FOLDER)
            .map(|i| {
                let folder = i % 2;
                let dir = folders[folder].path().to_path_buf();
                let start = start.clone();
                s.spawn(move || {
                    start.wait();
                    let vault = open(&dir);
                    vault
                        .with_catalog(|c| {
                            c.append_audit("2026-12-04T00:00:00Z", "test", None, None, "opened")
                        })
                        .expect("audit row");
                    (folder, vault.demo_admin_token().expect("demo token"))
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("no panic"))
            .collect()
    });
    for (folder, dir) in folders.iter().enumerate() {
        let vault = open(dir.path());
        assert_eq!(
            vault.verify_audit().expect("verify"),
            AuditVerification::Verified {
                count: PER_FOLDER as u64
            },
            "every first open signed its row with the key the folder kept"
        );
        let kept = vault.demo_admin_token().expect("demo token");
        for (_, token) in tokens.iter().filter(|(f, _)| *f == folder) {
            assert_eq!(
                token, &kept,
                "every opener of a folder has the token it keeps"
            );
        }
        let other = &tokens.iter().find(|(f, _)| *f != folder).expect("other").1;
        assert_ne!(other, &kept, "each folder has its own Demo token");
    }
}

/// Entries written through the keyring crate (as earlier builds wrote
/// every entry) and through the store's own Secret Service client are the
/// same entries, both ways: read, replaced and deleted by either.
#[test]
fn entries_keyring_wrote_are_the_same_entries() {
    let store = KeychainStore::open_service("latchkey-test").expect("open");
    // Each writes, the other reads it, writes over it (the same entry, not
    // a second one beside it) and the first reads that; one deletes and
    // the other finds nothing.
    for (first, second) in [
        (Side::Keyring, Side::Store(&store)),
        (Side::Store(&store), Side::Keyring),
    ] {
        let account = account();
        first.write(&account, "first");
        assert_eq!(
            second.read(&account).as_deref(),
            Some("first"),
            "{second:?} reads {first:?}'s entry"
        );
        second.write(&account, "second");
        assert_eq!(
            first.read(&account).as_deref(),
            Some("second"),
            "{second:?} replaced {first:?}'s entry"
        );
        second.delete(&account);
        assert_eq!(
            first.read(&account),
            None,
            "{second:?} deleted {first:?}'s entry"
        );
    }
}

/// Who reaches the keychain: the store, or the keyring crate (what earlier
/// versions, and Latchkey on macOS and Windows, use).
enum Side<'a> {
    Store(&'a KeychainStore),
    Keyring,
}

impl std::fmt::Debug for Side<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Store(_) => "the store",
            Side::Keyring => "keyring",
        })
    }
}

impl Side<'_> {
    fn entry(account: &str) -> keyring::Entry {
        keyring::Entry::new("latchkey-test", account).expect("keyring entry")
    }

    fn write(&self, account: &str, value: &str) {
        match self {
            Side::Store(store) => store.put(account, &Secret::new(value)).expect("put"),
            Side::Keyring => Self::entry(account)
                .set_password(value)
                .expect("keyring write"),
        }
    }

    fn read(&self, account: &str) -> Option<String> {
        match self {
            Side::Store(store) => store
                .get(account)
                .expect("get")
                .map(|s| s.expose_secret().to_owned()),
            Side::Keyring => match Self::entry(account).get_password() {
                Ok(value) => Some(value),
                Err(keyring::Error::NoEntry) => None,
                Err(e) => panic!("keyring read: {e}"),
            },
        }
    }

    fn delete(&self, account: &str) {
        match self {
            Side::Store(store) => store.delete(account).expect("delete"),
            Side::Keyring => Self::entry(account)
                .delete_credential()
                .expect("keyring delete"),
        }
    }
}
