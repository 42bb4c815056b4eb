//! What the rotation benches share: medians, the keychain wrapped to
//! count and time its calls, and the one fsync'd file replace a deploy
//! cannot do without.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use latchkey_core::store::{KeychainStore, SecretStore};
use latchkey_core::Secret;

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The keychain, noting the calls made through it (`get provider`: a
/// connection's token, `put key`: a key's secret…) and their time.
pub struct TimedStore {
    pub inner: KeychainStore,
    pub calls: Mutex<Vec<(String, Duration)>>,
}

impl TimedStore {
    fn timed<T>(&self, op: &str, account: &str, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        let kind = account.split(':').next().unwrap_or_default();
        self.calls
            .lock()
            .expect("calls")
            .push((format!("{op} {kind}"), t.elapsed()));
        out
    }

    /// The calls since the last `take`.
    pub fn take(&self) -> Keychain {
        Keychain(std::mem::take(&mut *self.calls.lock().expect("calls")))
    }
}

impl SecretStore for TimedStore {
    fn put(&self, account: &str, secret: &Secret) -> latchkey_core::Result<()> {
        self.timed("put", account, || self.inner.put(account, secret))
    }

    fn get(&self, account: &str) -> latchkey_core::Result<Option<Secret>> {
        self.timed("get", account, || self.inner.get(account))
    }

    fn delete(&self, account: &str) -> latchkey_core::Result<()> {
        self.timed("delete", account, || self.inner.delete(account))
    }
}

/// One rotation's keychain calls.
pub struct Keychain(pub Vec<(String, Duration)>);

impl Keychain {
    pub fn time(&self) -> Duration {
        self.0.iter().map(|(_, d)| *d).sum()
    }

    /// `get provider x4, put key x1` (by kind, in name order).
    pub fn summary(&self) -> String {
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for (what, _) in &self.0 {
            *by.entry(what).or_default() += 1;
        }
        by.iter()
            .map(|(what, n)| format!("{what} x{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The file replace a deploy cannot do without: temp file, fsync, rename,
/// fsync of the directory.
pub fn replace_file(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("bench-tmp");
    let mut f = std::fs::File::create(&tmp).expect("tmp");
    f.write_all(bytes).expect("write");
    f.sync_all().expect("fsync");
    drop(f);
    std::fs::rename(&tmp, path).expect("rename");
    std::fs::File::open(path.parent().expect("dir"))
        .expect("dir")
        .sync_all()
        .expect("dir fsync");
}
