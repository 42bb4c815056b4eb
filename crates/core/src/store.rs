//! `SecretStore`: where secrets live. Production is the OS keychain
//! ([`KeychainStore`]: macOS Keychain, Windows Credential Manager, Linux Secret
//! Service), service `latchkey`, accounts `key:<uuid>` / `provider:<uuid>`.
//!
//! The keychain is probed at start (write → read back from the keychain
//! itself → delete, and on Linux a check that the default collection is not
//! the in-memory one); a store that does not persist is refused, never
//! silently replaced. All keychain calls run on one dedicated thread. Errors carry
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
        Self::take_in(&data_dir.join("locks"))
    }

    /// The same lock for what every data folder of this user shares (the
    /// fingerprint key): `latchkey/keychain.lock` in the user's runtime
    /// directory (`$XDG_RUNTIME_DIR`, else `~/.cache`; the temp directory,
    /// which is the user's own, on macOS and Windows). `None` where there is
    /// no such directory or it cannot be written: the caller falls back on
    /// its folder's lock, which serialises the processes of that folder.
    pub fn take_shared() -> Option<Self> {
        Self::take_in(&shared_lock_dir()?).ok()
    }

    fn take_in(dir: &std::path::Path) -> Result<Self> {
        crate::paths::create_private_dir_all(dir)
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

/// Where [`MakeOnceLock::take_shared`] keeps its lock.
fn shared_lock_dir() -> Option<std::path::PathBuf> {
    #[cfg(target_os = "linux")]
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| std::path::PathBuf::from(h).join(".cache"))
        });
    #[cfg(not(target_os = "linux"))]
    let base = Some(std::env::temp_dir());
    base.map(|b| b.join("latchkey"))
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

    /// write → read back → delete. The read asks the keychain again (on
    /// Linux the Secret Service daemon, through this thread's session; on
    /// macOS and Windows a new keyring entry), never a copy kept here. A mock
    /// or session-only store fails here and is refused.
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
        self.run(move || bus_retry(|| platform::put(&service, &account, &secret)))?
    }

    fn get(&self, account: &str) -> Result<Option<Secret>> {
        let (service, account) = (self.service.clone(), account.to_owned());
        self.run(move || bus_retry(|| platform::get(&service, &account)))?
    }

    fn delete(&self, account: &str) -> Result<()> {
        let (service, account) = (self.service.clone(), account.to_owned());
        self.run(move || bus_retry(|| platform::delete(&service, &account)))?
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
#[cfg(not(target_os = "linux"))]
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

/// The explicit store for each OS: never keyring's in-memory mock. macOS
/// and Windows go through keyring; Linux through [`secret_service`].
#[cfg(not(target_os = "linux"))]
mod platform {
    use super::{map_error, Result, Secret};

    #[cfg(target_os = "macos")]
    pub fn install_store() {
        keyring::set_default_credential_builder(keyring::macos::default_credential_builder());
    }

    #[cfg(target_os = "windows")]
    pub fn install_store() {
        keyring::set_default_credential_builder(keyring::windows::default_credential_builder());
    }

    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    pub fn install_store() {}

    pub fn put(service: &str, account: &str, secret: &Secret) -> Result<()> {
        let entry = keyring::Entry::new(service, account).map_err(map_error)?;
        entry
            .set_password(secret.expose_secret())
            .map_err(map_error)
    }

    pub fn get(service: &str, account: &str) -> Result<Option<Secret>> {
        let entry = keyring::Entry::new(service, account).map_err(map_error)?;
        match entry.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    pub fn delete(service: &str, account: &str) -> Result<()> {
        let entry = keyring::Entry::new(service, account).map_err(map_error)?;
        match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(e)),
        }
    }

    pub fn default_is_in_memory() -> bool {
        false
    }
}

#[cfg(target_os = "linux")]
use secret_service as platform;

/// Linux: the Secret Service over D-Bus, with one connection and one
/// encrypted session per keychain thread, made at its first call and kept.
///
/// keyring (which macOS and Windows use) connects and agrees a new
/// Diffie-Hellman session for every call, and twice for a write: one app
/// launch made 19 sessions, each two 1024-bit modular exponentiations in
/// this process and two in the keyring daemon, on the cores the window and
/// WebKit were starting on (`cargo bench -p latchkey-core --bench keychain`
/// compares the two).
///
/// Entries keep keyring's attributes (`service`, `username`, `target` =
/// `default`, `application` = `rust-keyring`) and its lookup (the three
/// first must match; more than one match is an error), so entries written
/// by earlier versions are the same entries (`tests/keychain.rs`).
#[cfg(target_os = "linux")]
mod secret_service {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use dbus_secret_service::{EncryptionType, Error as SsError, Item, SecretService};
    use zeroize::Zeroize;

    use super::{Error, Result, Secret, NO_SERVICE};

    /// The collection an entry is filed under: the Secret Service's
    /// `default` alias (keyring's default target).
    const TARGET: &str = "default";

    thread_local! {
        static SESSION: RefCell<Option<SecretService>> = const { RefCell::new(None) };
    }

    enum Fail {
        Service(SsError),
        /// More than one entry has the account's attributes.
        Ambiguous,
        NotText,
    }

    impl From<SsError> for Fail {
        fn from(e: SsError) -> Self {
            Fail::Service(e)
        }
    }

    /// Nothing to install: this store is not keyring's.
    pub fn install_store() {}

    /// Runs `call` on this thread's session, connecting first when there is
    /// none. A session the bus or the daemon has dropped (a D-Bus error,
    /// e.g. after the daemon restarted) is replaced once and `call` made
    /// again: every call here can be repeated (it writes the same value,
    /// reads, or deletes).
    fn with_session<T>(call: impl Fn(&SecretService) -> std::result::Result<T, Fail>) -> Result<T> {
        SESSION.with(|slot| {
            let mut slot = slot.borrow_mut();
            if let Some(session) = slot.as_ref() {
                match call(session) {
                    Err(Fail::Service(SsError::Dbus(_))) => *slot = None,
                    other => return other.map_err(map_fail),
                }
            }
            let session =
                SecretService::connect(EncryptionType::Dh).map_err(|e| map_fail(e.into()))?;
            let out = call(&session);
            if !matches!(out, Err(Fail::Service(SsError::Dbus(_)))) {
                *slot = Some(session);
            }
            out.map_err(map_fail)
        })
    }

    /// The one entry filed under `service` and `account`, unlocked.
    fn entry<'a>(
        session: &'a SecretService,
        service: &str,
        account: &str,
    ) -> std::result::Result<Option<Item<'a>>, Fail> {
        let found = session.search_items(HashMap::from([
            ("target", TARGET),
            ("service", service),
            ("username", account),
        ]))?;
        if found.unlocked.len() + found.locked.len() > 1 {
            return Err(Fail::Ambiguous);
        }
        if let Some(item) = found.unlocked.into_iter().next() {
            return Ok(Some(item));
        }
        match found.locked.into_iter().next() {
            Some(item) => {
                // An unlock prompt, where someone can answer it.
                item.unlock()?;
                Ok(Some(item))
            }
            None => Ok(None),
        }
    }

    pub fn put(service: &str, account: &str, secret: &Secret) -> Result<()> {
        with_session(|session| {
            let value = secret.expose_secret().as_bytes();
            if let Some(item) = entry(session, service, account)? {
                item.set_secret(value, "text/plain")?;
                return Ok(());
            }
            let collection = session.get_default_collection()?;
            if collection.is_locked()? {
                collection.unlock()?;
            }
            let label = format!("{account}@{service}:{TARGET}");
            collection.create_item(
                &label,
                HashMap::from([
                    ("target", TARGET),
                    ("service", service),
                    ("username", account),
                    ("application", "rust-keyring"),
                ]),
                value,
                true,
                "text/plain",
            )?;
            Ok(())
        })
    }

    pub fn get(service: &str, account: &str) -> Result<Option<Secret>> {
        with_session(|session| {
            let Some(item) = entry(session, service, account)? else {
                return Ok(None);
            };
            match String::from_utf8(item.get_secret()?) {
                Ok(text) => Ok(Some(Secret::new(text))),
                Err(e) => {
                    e.into_bytes().zeroize();
                    Err(Fail::NotText)
                }
            }
        })
    }

    pub fn delete(service: &str, account: &str) -> Result<()> {
        with_session(|session| {
            if let Some(item) = entry(session, service, account)? {
                item.delete()?;
            }
            Ok(())
        })
    }

    /// Whether the collection entries are written to keeps its secrets only
    /// in memory: the Secret Service's `default` alias naming its `session`
    /// collection.
    pub fn default_is_in_memory() -> bool {
        with_session(|session| {
            Ok(session
                .get_default_collection()?
                .path
                .to_string()
                .ends_with("/collection/session"))
        })
        .unwrap_or(false)
    }

    /// Our errors, with fixed English text (as keyring's were mapped).
    fn map_fail(fail: Fail) -> Error {
        match fail {
            Fail::Service(SsError::Locked | SsError::NoResult | SsError::Prompt) => {
                Error::KeychainLocked
            }
            Fail::Service(e @ (SsError::Dbus(_) | SsError::Unavailable | SsError::Path(_))) => {
                let text = e.to_string().to_ascii_lowercase();
                if text.contains("locked") || text.contains("prompt") || text.contains("dismissed")
                {
                    Error::KeychainLocked
                } else {
                    Error::KeychainUnavailable(NO_SERVICE.into())
                }
            }
            Fail::NotText => Error::KeychainUnavailable("an entry is not valid text".into()),
            Fail::Service(_) | Fail::Ambiguous => {
                Error::KeychainUnavailable("the keychain reported a failure".into())
            }
        }
    }
}
