//! The Netlify connection: its token writes environment variables (the
//! `netlify:` deploy target). Latchkey makes and revokes no Netlify tokens,
//! so the connector only checks a token (`GET /api/v1/user`: 200 works,
//! 401 does not).

use async_trait::async_trait;

use super::{not_supported, Capabilities, Connector, KeySpec, RemoteKey, Verification};
use crate::error::{Error, Result};
use crate::http::{Call, HttpEngine, HttpPolicy};
use crate::secret::Secret;

pub const DEFAULT_BASE_URL: &str = "https://api.netlify.com";

pub struct NetlifyProvider {
    http: HttpEngine,
    token: Secret,
}

impl NetlifyProvider {
    pub fn new(base_url: &str, token: Secret, policy: HttpPolicy) -> Result<Self> {
        Ok(Self {
            http: HttpEngine::new(base_url, policy)?,
            token,
        })
    }
}

#[async_trait]
impl Connector for NetlifyProvider {
    fn capabilities(&self) -> Capabilities {
        Capabilities::basic(false, false, false, true)
    }

    /// Netlify tokens are not listed to Latchkey.
    async fn list(&self) -> Result<Vec<RemoteKey>> {
        Ok(vec![])
    }

    async fn create(&self, _: &KeySpec, _: &str) -> Result<(RemoteKey, Secret)> {
        Err(not_supported("creating a Netlify token"))
    }

    async fn revoke(&self, _: &str) -> Result<()> {
        Err(not_supported("revoking a Netlify token"))
    }

    async fn verify(&self, key: &Secret) -> Result<Verification> {
        let answer = self
            .http
            .send(Call::bearer_get("/api/v1/user", key))
            .await?;
        match answer.status.as_u16() {
            200 => Ok(Verification::Accepted),
            401 => Ok(Verification::Rejected {
                code: "HTTP 401".into(),
            }),
            _ => Err(answer.into_error()),
        }
    }

    async fn test(&self) -> Result<()> {
        match self.verify(&self.token).await? {
            Verification::Accepted => Ok(()),
            Verification::Rejected { .. } => Err(Error::ProviderUnauthorized),
        }
    }
}
