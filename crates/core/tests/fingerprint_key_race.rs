//! Data folders opened for the first time at the same moment, on a keychain
//! that has no fingerprint key yet, agree on the one key every folder
//! shares: the key this process fingerprints with is the key the keychain
//! keeps. Without the user-wide lock each first open made and stored its
//! own key, the last write won, and the first set stayed in the process:
//! fingerprints made then matched nothing later. (One test in this binary:
//! the process's fingerprint key is set once, by the first open.)

use std::sync::{Arc, Barrier};

use hmac::{Hmac, Mac};
use latchkey_core::clipboard::MemoryClipboard;
use latchkey_core::clock::SystemClock;
use latchkey_core::secret::Fingerprint;
use latchkey_core::store::{KeychainStore, SecretStore};
use latchkey_core::Vault;

#[test]
fn folders_first_opened_at_once_share_one_fingerprint_key() {
    const OPENERS: usize = 16;
    let dirs: Vec<_> = (0..OPENERS)
        .map(|_| tempfile::tempdir().expect("dir"))
        .collect();
    let start = Arc::new(Barrier::new(OPENERS));
    let openers: Vec<_> = dirs
        .iter()
        .map(|dir| {
            let (path, start) = (dir.path().to_owned(), start.clone());
            std::thread::spawn(move || {
                // Its own keychain handle, as another process would have.
                let store: Arc<dyn SecretStore> =
                    Arc::new(KeychainStore::open_service("latchkey").expect("keychain"));
                start.wait();
                Vault::open(
                    &path,
                    store,
                    Arc::new(MemoryClipboard::default()),
                    Arc::new(SystemClock),
                )
                .map(|_| ())
            })
        })
        .collect();
    for opener in openers {
        opener.join().expect("thread").expect("opens");
    }
    let kept = KeychainStore::open_service("latchkey")
        .expect("keychain")
        .get("vault:fingerprint-key")
        .expect("read")
        .expect("a fingerprint key is kept");
    let key = hex::decode(kept.expose_secret().trim()).expect("hex");
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).expect("key");
    mac.update(b"lk_probe_value");
    assert_eq!(
        Fingerprint::of("lk_probe_value").as_str(),
        hex::encode(mac.finalize().into_bytes()),
        "this process fingerprints with another key than the keychain keeps"
    );
}
