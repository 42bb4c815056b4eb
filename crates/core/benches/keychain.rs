//! Benchmark: keychain calls through the store (Linux: one Secret Service
//! session per keychain thread, kept) against the keyring crate (a new
//! connection and Diffie-Hellman session for every call, as earlier builds
//! did), in the same run, on the same entries: a read of an entry, a write
//! over it, and a read of a missing entry. Prints each median and the ratio.
//!
//! Needs a Secret Service:
//! `scripts/with-keyring.sh cargo bench -p latchkey-core --bench keychain`

use std::time::{Duration, Instant};

use latchkey_core::store::{KeychainStore, SecretStore};
use latchkey_core::Secret;

const SERVICE: &str = "latchkey-bench";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(rounds: usize, mut call: impl FnMut()) -> Duration {
    call(); // warm: the store's first call opens its session
    median(
        (0..rounds)
            .map(|_| {
                let t = Instant::now();
                call();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let rounds: usize = std::env::var("LK_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let store = KeychainStore::open_service(SERVICE).expect("keychain");
    let account = format!("bench:{}", std::process::id());
    let missing = format!("bench:missing:{}", std::process::id());
    let value = "lk_BENCHBEN_abcdefghijklmnopqrstuvwx";
    store.put(&account, &Secret::new(value)).expect("put");
    let entry = keyring::Entry::new(SERVICE, &account).expect("entry");
    let absent = keyring::Entry::new(SERVICE, &missing).expect("entry");
    println!("keychain benchmark: median of {rounds} calls each");
    let rows = [
        (
            "read an entry",
            time(rounds, || {
                assert_eq!(store.get(&account).expect("get"), Some(Secret::new(value)));
            }),
            time(rounds, || {
                assert_eq!(entry.get_password().expect("get"), value);
            }),
        ),
        (
            "write over an entry",
            time(rounds, || {
                store.put(&account, &Secret::new(value)).expect("put")
            }),
            time(rounds, || entry.set_password(value).expect("put")),
        ),
        (
            "read a missing entry",
            time(rounds, || {
                assert_eq!(store.get(&missing).expect("get"), None);
            }),
            time(rounds, || {
                assert!(matches!(
                    absent.get_password(),
                    Err(keyring::Error::NoEntry)
                ));
            }),
        ),
    ];
    for (what, ours, theirs) in rows {
        println!(
            "{what}: store {:.2} ms, keyring {:.2} ms: {:.2}x the time",
            ours.as_secs_f64() * 1e3,
            theirs.as_secs_f64() * 1e3,
            ours.as_secs_f64() / theirs.as_secs_f64()
        );
    }
    store.delete(&account).expect("delete");
}
