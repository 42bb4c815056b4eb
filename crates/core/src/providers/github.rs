//! The GitHub connection: its token writes Actions secrets (the `github:`
//! deploy target). GitHub tokens cannot be made or revoked by API, so the
//! connector only checks a token (`GET /user`: 200 accepted, 401 rejected).

use async_trait::async_trait;
use reqwest::Method;

use super::{not_supported, Capabilities, Connector, KeySpec, RemoteKey, Verification};
use crate::error::Result;
use crate::http::{Auth, Call, HttpEngine, HttpPolicy};
use crate::secret::Secret;

/// The GitHub API (`https://api.github.com`, or `https://HOST/api/v3`).
pub const DEFAULT_BASE_URL: &str = "https://api.github.com";

#[derive(Debug)]
pub struct GithubProvider {
    http: HttpEngine,
    token: Secret,
}

impl GithubProvider {
    pub fn new(base_url: &str, token: Secret, policy: HttpPolicy) -> Result<Self> {
        Ok(Self {
            http: HttpEngine::new(base_url, policy)?,
            token,
        })
    }
}

#[async_trait]
impl Connector for GithubProvider {
    fn capabilities(&self) -> Capabilities {
        Capabilities::basic(false, false, false, true)
    }

    /// GitHub lists no tokens to Latchkey.
    async fn list(&self) -> Result<Vec<RemoteKey>> {
        Ok(vec![])
    }

    async fn create(&self, _: &KeySpec, _: &str) -> Result<(RemoteKey, Secret)> {
        Err(not_supported("creating a GitHub token"))
    }

    async fn revoke(&self, _: &str) -> Result<()> {
        Err(not_supported("revoking a GitHub token"))
    }

    /// `GET /user` with the token: 200 works, 401 does not.
    async fn verify(&self, key: &Secret) -> Result<Verification> {
        let answer = self
            .http
            .send(Call {
                method: Method::GET,
                path: "/user",
                auth: Auth::Bearer(key),
                headers: &[
                    ("Accept", "application/vnd.github+json"),
                    ("X-GitHub-Api-Version", "2022-11-28"),
                ],
                body: None,
                idempotency_key: None,
            })
            .await?;
        match answer.status.as_u16() {
            200 => Ok(Verification::Accepted),
            401 => Ok(Verification::Rejected {
                code: "HTTP 401".into(),
            }),
            _ => Err(answer.into_error()),
        }
    }

    /// The connection's own token works.
    async fn test(&self) -> Result<()> {
        match self.verify(&self.token).await? {
            Verification::Accepted => Ok(()),
            Verification::Rejected { .. } => Err(crate::error::Error::ProviderUnauthorized),
        }
    }
}
