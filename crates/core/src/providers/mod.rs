//! The `Provider` port: what Latchkey needs from a remote key service
//! (list, create, revoke, verify), and the connectors that implement it.

use async_trait::async_trait;

use crate::error::Result;
use crate::secret::Secret;

pub mod keyservice;
pub mod manual;

/// What a provider can do through its API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Capabilities {
    pub list: bool,
    pub create: bool,
    pub revoke: bool,
    pub verify: bool,
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
pub trait Provider: Send + Sync {
    fn capabilities(&self) -> Capabilities;
    async fn list(&self) -> Result<Vec<RemoteKey>>;
    /// Creates a key; the secret is returned once and must go to the keychain.
    async fn create(&self, spec: &KeySpec, idempotency_key: &str) -> Result<(RemoteKey, Secret)>;
    async fn revoke(&self, remote_id: &str) -> Result<()>;
    async fn verify(&self, key: &Secret) -> Result<Verification>;
    /// One key by its id: `Ok(None)` when the service says it does not
    /// exist (404). Confirms a key missing from a listing before Latchkey
    /// calls it revoked. Not every service can answer: the default says so.
    async fn get(&self, _remote_id: &str) -> Result<Option<RemoteKey>> {
        Err(crate::error::Error::invalid(
            "provider",
            "This service cannot look up one key",
        ))
    }
    /// A cheap authenticated call to test the connection.
    async fn test(&self) -> Result<()> {
        self.list().await.map(|_| ())
    }
}
