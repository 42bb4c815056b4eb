//! The `Connector` port: what Latchkey needs from a remote key service
//! (list, create, revoke, verify; where the service can: look one key up,
//! switch a key off and on, roll it in place, say when it was last used),
//! the connectors that implement it, and the registry that opens the right
//! one for a connection (`registry::open`, the only `match` on services).
//! A call a service cannot do answers `not_supported` by default.

use async_trait::async_trait;

use crate::error::Result;
use crate::secret::Secret;

pub mod aws;
pub mod cloudflare;
pub mod dakora;
pub mod github;
pub mod gitlab;
pub mod keyservice;
pub mod manual;
pub mod netlify;
pub mod open_animate;
pub mod openai;
pub mod openrouter;
pub mod registry;
pub(crate) mod rest;
pub mod sendgrid;
pub mod twilio;
pub mod vercel;

/// The port's former name, kept for callers written before the split.
pub use self::Connector as Provider;

/// What a provider can do through its API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Capabilities {
    pub list: bool,
    pub create: bool,
    pub revoke: bool,
    pub verify: bool,
    /// One key looked up by id.
    pub get: bool,
    /// A key switched off and on again without deleting it.
    pub set_active: bool,
    /// A key replaced in one call (the old one dies at once).
    pub roll: bool,
    /// When a key was last used.
    pub last_used: bool,
}

impl Capabilities {
    /// The four calls every API connector has; the optional ones off.
    pub const fn basic(list: bool, create: bool, revoke: bool, verify: bool) -> Self {
        Self {
            list,
            create,
            revoke,
            verify,
            get: false,
            set_active: false,
            roll: false,
            last_used: false,
        }
    }
}

/// A revoke's or delete's answer: a key the service no longer has (404) is
/// what was asked for, not a failure.
pub(crate) fn gone_is_done<T>(answer: crate::error::Result<T>) -> crate::error::Result<()> {
    match answer {
        Ok(_) | Err(crate::error::Error::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

pub(crate) fn not_supported(what: &str) -> crate::error::Error {
    crate::error::Error::NotSupported(what.to_owned())
}

/// A key as the service reports it (no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteKey {
    pub remote_id: String,
    pub name: String,
    pub preview: String,
    pub scopes: Vec<String>,
    pub created_at: Option<String>,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// Requests made with the key, where the service counts them.
    pub request_count: Option<u64>,
}

/// What to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_in_days: Option<u32>,
}

/// Whether the service accepts a key right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Accepted,
    /// The service answered 401 with this code (e.g. `INVALID_API_KEY`).
    Rejected {
        code: String,
    },
}

/// A remote key service.
#[async_trait]
pub trait Connector: Send + Sync {
    fn capabilities(&self) -> Capabilities;
    async fn list(&self) -> Result<Vec<RemoteKey>>;
    /// Creates a key; the secret is returned once and must go to the keychain.
    async fn create(&self, spec: &KeySpec, idempotency_key: &str) -> Result<(RemoteKey, Secret)>;
    async fn revoke(&self, remote_id: &str) -> Result<()>;
    async fn verify(&self, key: &Secret) -> Result<Verification>;
    /// Whether `remote` is the service's record of `key`: by default its
    /// preview is the key's mask; a service whose key carries its id (an
    /// AWS pair starts with its access key id) says so exactly.
    fn owns(&self, key: &Secret, remote: &RemoteKey) -> bool {
        remote.preview == key.masked()
    }
    /// Whether keys carry the name Latchkey gives them. A service whose
    /// keys have none (AWS access keys) has a crash's leftover found by
    /// when it was made instead (see the rotation's `revoke_orphans`).
    fn names_keys(&self) -> bool {
        true
    }
    /// Which of the service's keys `key` is, asked with the key itself,
    /// for a service whose listing shows nothing a pasted key can be
    /// matched by (GitLab lists no preview; a token can say who it is).
    /// `Ok(None)`: the service cannot tell.
    async fn identify(&self, _key: &Secret) -> Result<Option<String>> {
        Ok(None)
    }
    /// How many keys the service lets one account (an IAM user, a project)
    /// hold at once, where it has a limit a rotation can run into.
    fn key_limit(&self) -> Option<usize> {
        None
    }
    /// How long a key that was just made may take to work everywhere on
    /// the service (AWS: 10-20 s, up to about 30): [`verify_new`] asks
    /// again until then. `None`: a new key works at once.
    fn propagation(&self) -> Option<std::time::Duration> {
        None
    }
    /// One key by its id: `Ok(None)` when the service says it does not
    /// exist (404). Confirms a key missing from a listing before Latchkey
    /// calls it revoked. Not every service can answer: the default says so.
    async fn get(&self, _remote_id: &str) -> Result<Option<RemoteKey>> {
        Err(not_supported("looking up one key"))
    }
    /// A cheap authenticated call to test the connection.
    async fn test(&self) -> Result<()> {
        self.list().await.map(|_| ())
    }
    /// Switches a key off (`false`) or on again.
    async fn set_active(&self, _remote_id: &str, _active: bool) -> Result<()> {
        Err(not_supported("switching a key off and on"))
    }
    /// Replaces a key in one call: the new key, and the old one is dead.
    async fn roll(&self, _remote_id: &str) -> Result<(RemoteKey, Secret)> {
        Err(not_supported("rolling a key in place"))
    }
    /// How long the service may keep accepting a key after a successful
    /// revoke (a validation cache). `None`: a revoked key is rejected at
    /// once. With a window, a revoke the service still accepts is taken as
    /// done when the service's own records no longer have the key (`get`
    /// says 404); the rejection follows within the window.
    fn revocation_cache(&self) -> Option<std::time::Duration> {
        None
    }
    /// When the key was last used (`None`: never).
    async fn last_used(&self, _remote_id: &str) -> Result<Option<String>> {
        Err(not_supported("telling when a key was last used"))
    }
    /// Whether the service's key `remote_id` is the one this connection
    /// signs in with, for a service whose management credential is one of
    /// the keys it manages (an AWS user's own access key, an Open Animate
    /// account key). A rotation of that key switches the connection to the
    /// new key before the old one goes, also when the vault never held the
    /// old key's secret (a key found in the listing). Default: no such key.
    async fn signs_in_with(&self, _remote_id: &str) -> Result<bool> {
        Ok(false)
    }
}

/// One pause in the wait for a new key to work (see
/// [`Connector::propagation`]): the wizard and the CLI show each one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct PropagationWait {
    /// The attempts made so far (each one rejected the key).
    pub attempt: u32,
    /// Seconds since the first attempt.
    pub waited_secs: u32,
    /// How long the service may take, in seconds.
    pub up_to_secs: u32,
    /// The pause before the next attempt, in seconds.
    pub next_in_secs: u32,
}

/// Checks a key that was just made. Where the service's new keys take a
/// while to work ([`Connector::propagation`]) it asks again, with pauses
/// growing by a second, until the key is accepted or the wait is over,
/// telling `on_wait` before each pause; elsewhere it asks once.
pub async fn verify_new(
    connection: &dyn Connector,
    key: &Secret,
    on_wait: &(dyn Fn(&PropagationWait) + Send + Sync),
) -> Result<Verification> {
    let Some(limit) = connection.propagation() else {
        return connection.verify(key).await;
    };
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_secs(1);
    let mut attempt = 1;
    loop {
        let verdict = connection.verify(key).await?;
        if verdict == Verification::Accepted || started.elapsed() + pause > limit {
            return Ok(verdict);
        }
        on_wait(&PropagationWait {
            attempt,
            waited_secs: secs(started.elapsed()),
            up_to_secs: secs(limit),
            next_in_secs: secs(pause),
        });
        tokio::time::sleep(pause).await;
        pause += std::time::Duration::from_secs(1);
        attempt += 1;
    }
}

fn secs(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}
