//! `SecretStore`: where secrets live. Production is the OS keychain
//! ([`KeychainStore`]: macOS Keychain, Windows Credential Manager, Linux Secret
//! Service), service `latchkey`, accounts `key:<uuid>` / `provider:<uuid>`.
//!
//! The keychain is probed at start (write → read through a fresh handle →
//! delete); a store that does not persist is refused, never silently
//! replaced. All keychain calls run on one dedicated thread. Errors carry
//! fixed English text, never the platform's message or a secret.

use std::collections::HashMap;
use std::sync::{mpsc, Mutex};
use std::thread;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The keychain service name every Latchkey entry is filed under.
pub const SERVICE: &str = "latchkey";

/// A place that keeps secrets by account name.
pub trait SecretStore: Send + Sync {
    fn put(&self, account: &str, secret: &Secret) -> Result<()>;
    /// `Ok(None)` when there is no such entry.
    fn get(&self, account: &str) -> Result<Option<Secret>>;
    /// Deleting a missing entry is not an error.
    fn delete(&self, account: &str) -> Result<()>;
}

/// Held while a process reads, and on first use makes, the keychain
/// entries a data folder makes once (its fingerprint key, audit key and
/// Demo admin token): an exclusive lock on `locks/keychain.lock` there.
/// Without it, two processes opening a new data folder at once (the app
/// and the CLI) would each make and store a value, and the later write
/// would replace the one the earlier process already uses.
#[derive(Debug)]
pub struct MakeOnceLock {
    _file: std::fs::File,
}

impl MakeOnceLock {
    /// Waits for and takes the data folder's lock; it is released on drop.
    pub fn take(data_dir: &std::path::Path) -> Result<Self> {
        let dir = data_dir.join("locks");
        crate::paths::create_private_dir_all(&dir)
            .map_err(|e| Error::Database(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("keychain.lock");
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options
            .open(&path)
            .map_err(|e| Error::Database(format!("cannot open {}: {e}", path.display())))?;
        file.lock()
            .map_err(|e| Error::Database(format!("cannot lock {}: {e}", path.display())))?;
        Ok(Self { _file: file })
    }
}

/// The secret under `account`, or, when there is none, the one under
/// `legacy` (an older account name, taken over) or else a new one from
/// `make`, stored under `account` before it is returned. Call it holding
/// the data folder's [`MakeOnceLock`].
pub fn get_or_make(
    store: &dyn SecretStore,
    _held: &MakeOnceLock,
    account: &str,
    legacy: Option<&str>,
    make: impl FnOnce() -> Secret,
) -> Result<Secret> {
    if let Some(held) = store.get(account)? {
        return Ok(held);
    }
    let secret = match legacy {
        Some(old) => store.get(old)?.unwrap_or_else(make),
        None => make(),
    };
    store.put(account, &secret)?;
    Ok(secret)
}

/// Account name of a key's secret.
pub fn key_account(key_id: &str) -> String {
    format!("key:{key_id}")
}

/// Account name of a provider's admin token.
pub fn provider_account(provider_id: &str) -> String {
    format!("provider:{provider_id}")
}

/// For pure unit tests only: forgets everything when dropped.
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<HashMap<String, Secret>>);

impl SecretStore for MemoryStore {
    fn put(&self, account: &str, secret: &Secret) -> Result<()> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account.to_owned(), secret.clone());
        Ok(())
    }

    fn get(&self, account: &str) -> Result<Option<Secret>> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(account)
            .cloned())
    }

    fn delete(&self, account: &str) -> Result<()> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(account);
        Ok(())
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// The OS keychain, reached from one dedicated thread.
pub struct KeychainStore {
    jobs: Mutex<mpsc::Sender<Job>>,
    service: String,
}

impl std::fmt::Debug for KeychainStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeychainStore")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// How long one keychain call may wait, e.g. on an unlock prompt:
/// `LATCHKEY_KEYCHAIN_TIMEOUT_SECS` (1 to 3600), else 60 s. After that the
/// call fails as `keychain_locked`.
fn keychain_timeout() -> std::time::Duration {
    std::env::var("LATCHKEY_KEYCHAIN_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| (1..=3600).contains(s))
        .map(std::time::Duration::from_secs)
        .unwrap_or(std::time::Duration::from_secs(60))
}

impl KeychainStore {
    /// Opens the platform keychain and proves it persists.
    pub fn open() -> Result<Self> {
        Self::open_service(SERVICE)
    }

    /// As [`open`](Self::open), filing entries under another service name.
    pub fn open_service(service: &str) -> Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("latchkey-keychain".into())
            .spawn(move || {
                platform::install_store();
                while let Ok(job) = rx.recv() {
                    job();
                }
            })
            .map_err(|_| {
                Error::KeychainUnavailable("could not start the keychain thread".into())
            })?;
        let store = Self {
            jobs: Mutex::new(tx),
            service: service.to_owned(),
        };
        store.probe()?;
        Ok(store)
    }

    fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        let send = self
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(Box::new(move || {
                let _ = tx.send(job());
            }));
        send.map_err(|_| Error::KeychainUnavailable("the keychain thread stopped".into()))?;
        // A locked keyring answers with an unlock prompt; where nobody can
        // answer it (a headless shell) the call would wait forever.
        match crate::blocking::wait(|| rx.recv_timeout(keychain_timeout())) {
            Ok(v) => Ok(v),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::KeychainLocked),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(Error::KeychainUnavailable(
                "the keychain thread stopped".into(),
            )),
        }
    }

    /// write → read back through a fresh entry → delete. A mock or
    /// session-only store fails here and is refused.
    fn probe(&self) -> Result<()> {
        let account = format!("probe:{}", uuid::Uuid::new_v4());
        let value = Secret::new(format!("probe-{}", uuid::Uuid::new_v4()));
        self.put(&account, &value)?;
        let read = self.get(&account);
        let _ = self.delete(&account);
        match read? {
            Some(v) if v == value => {}
            _ => return Err(Error::KeychainNotPersistent),
        }
        // A Secret Service whose default collection is its in-memory
        // "session" collection answers the probe and forgets everything at
        // logout: refused too.
        if self.run(platform::default_is_in_memory)? {
            return Err(Error::KeychainNotPersistent);
        }
        Ok(())
    }
}

impl SecretStore for KeychainStore {
    fn put(&self, account: &str, secret: &Secret) -> Result<()> {
        let (service, account, secret) = (self.service.clone(), account.to_owned(), secret.clone());
        self.run(move || {
            bus_retry(|| {
                let entry = keyring::Entry::new(&service, &account).map_err(map_error)?;
                entry
                    .set_password(secret.expose_secret())
                    .map_err(map_error)
            })
        })?
    }

    fn get(&self, account: &str) -> Result<Option<Secret>> {
        let (service, account) = (self.service.clone(), account.to_owned());
        self.run(move || {
            bus_retry(|| {
                let entry = keyring::Entry::new(&service, &account).map_err(map_error)?;
                match entry.get_password() {
                    Ok(value) => Ok(Some(Secret::new(value))),
                    Err(keyring::Error::NoEntry) => Ok(None),
                    Err(e) => Err(map_error(e)),
                }
            })
        })?
    }

    fn delete(&self, account: &str) -> Result<()> {
        let (service, account) = (self.service.clone(), account.to_owned());
        self.run(move || {
            bus_retry(|| {
                let entry = keyring::Entry::new(&service, &account).map_err(map_error)?;
                match entry.delete_credential() {
                    Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                    Err(e) => Err(map_error(e)),
                }
            })
        })?
    }
}

const NO_SERVICE: &str = "no Secret Service on the session bus";

/// Runs one idempotent keychain call (put the same value, read, delete),
/// again up to twice when the session bus said the Secret Service is not
/// there: a daemon being (re)started by D-Bus activation answers so for a
/// moment (seen under load in CI). A keychain that stays away is reported
/// after ~0.6 s; a locked one is never retried (its prompt would repeat).
fn bus_retry<T>(mut call: impl FnMut() -> Result<T>) -> Result<T> {
    let mut delay = std::time::Duration::from_millis(200);
    for _ in 0..2 {
        match call() {
            Err(Error::KeychainUnavailable(why)) if why == NO_SERVICE => {
                std::thread::sleep(delay);
                delay *= 2;
            }
            other => return other,
        }
    }
    call()
}

/// Maps keyring errors to ours with fixed English text.
fn map_error(e: keyring::Error) -> Error {
    match e {
        keyring::Error::NoStorageAccess(_) => Error::KeychainLocked,
        keyring::Error::PlatformFailure(inner) => {
            let text = inner.to_string().to_ascii_lowercase();
            if text.contains("locked") || text.contains("prompt") || text.contains("dismissed") {
                Error::KeychainLocked
            } else if text.contains("serviceunknown")
                || text.contains("service unknown")
                || text.contains("not provided by any .service")
                || text.contains("dbus")
                || text.contains("d-bus")
            {
                Error::KeychainUnavailable(NO_SERVICE.into())
            } else {
                Error::KeychainUnavailable("the keychain reported a failure".into())
            }
        }
        keyring::Error::BadEncoding(_) => {
            Error::KeychainUnavailable("an entry is not valid text".into())
        }
        keyring::Error::TooLong(..) | keyring::Error::Invalid(..) => {
            Error::invalid("key", "This key is too long or malformed for the keychain")
        }
        _ => Error::KeychainUnavailable("the keychain reported a failure".into()),
    }
}

/// The explicit store for each OS: never keyring's in-memory mock.
mod platform {
    #[cfg(target_os = "linux")]
    pub fn install_store() {
        keyring::set_default_credential_builder(
            keyring::secret_service::default_credential_builder(),
        );
    }

    #[cfg(target_os = "macos")]
    pub fn install_store() {
        keyring::set_default_credential_builder(keyring::macos::default_credential_builder());
    }

    #[cfg(target_os = "windows")]
    pub fn install_store() {
        keyring::set_default_credential_builder(keyring::windows::default_credential_builder());
    }

    #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
    pub fn install_store() {}

    /// Whether the store keyring writes to keeps its secrets only in memory:
    /// on Linux, the Secret Service's `default` alias naming its `session`
    /// collection.
    #[cfg(target_os = "linux")]
    pub fn default_is_in_memory() -> bool {
        use dbus_secret_service::{EncryptionType, SecretService};
        SecretService::connect(EncryptionType::Plain)
            .ok()
            .and_then(|ss| {
                ss.get_default_collection()
                    .ok()
                    .map(|c| c.path.to_string().ends_with("/collection/session"))
            })
            .unwrap_or(false)
    }

    #[cfg(not(target_os = "linux"))]
    pub fn default_is_in_memory() -> bool {
        false
    }
}
