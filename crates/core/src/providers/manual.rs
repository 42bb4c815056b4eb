//! The manual connector, for services whose keys are made and revoked only
//! in their dashboard. Latchkey keeps the keys, deploys them, and checks
//! them against one URL the service answers with 2xx for a working key and
//! 401/403 for a rejected one (e.g. a "who am I" endpoint), sending the key
//! as a bearer token. It cannot list, create or revoke.

use async_trait::async_trait;
use reqwest::StatusCode;

use super::{Capabilities, Connector, KeySpec, RemoteKey, Verification};
use crate::error::{Error, Result};
use crate::http::{Call, HttpEngine, HttpPolicy};
use crate::secret::Secret;
use crate::services::{VerifyOutcome, VerifyRequest};

#[derive(Debug)]
pub struct ManualProvider {
    http: HttpEngine,
    dashboard_url: String,
    /// A catalogue service's own check (its auth scheme and statuses), in
    /// place of the plain bearer call to the verify URL.
    check: Option<VerifyRequest>,
    policy: HttpPolicy,
}

impl ManualProvider {
    pub fn new(verify_url: &str, dashboard_url: &str, policy: HttpPolicy) -> Result<Self> {
        Ok(Self {
            http: HttpEngine::new(verify_url, policy.clone())?,
            dashboard_url: dashboard_url.to_owned(),
            check: None,
            policy,
        })
    }

    /// A connection to a catalogue service: keys are checked the way the
    /// catalogue says (its scheme, its statuses), at `verify_url`.
    pub fn with_check(
        verify_url: &str,
        dashboard_url: &str,
        check: VerifyRequest,
        policy: HttpPolicy,
    ) -> Result<Self> {
        Ok(Self {
            check: Some(check),
            ..Self::new(verify_url, dashboard_url, policy)?
        })
    }

    fn by_hand(&self, what: &str) -> Error {
        Error::ByHand(format!(
            "{what} in the service's dashboard ({})",
            self.dashboard_url
        ))
    }
}

#[async_trait]
impl Connector for ManualProvider {
    fn capabilities(&self) -> Capabilities {
        Capabilities::basic(false, false, false, true)
    }

    /// Nothing to list: the dashboard is the only place keys are seen.
    async fn list(&self) -> Result<Vec<RemoteKey>> {
        Ok(vec![])
    }

    async fn create(&self, _: &KeySpec, _: &str) -> Result<(RemoteKey, Secret)> {
        Err(self.by_hand("Create the key"))
    }

    async fn revoke(&self, _: &str) -> Result<()> {
        Err(self.by_hand("Revoke the key"))
    }

    async fn verify(&self, key: &Secret) -> Result<Verification> {
        if let Some(check) = &self.check {
            let base = self.http.base_url().as_str();
            let outcome = check
                .run(key, Some(base), None, self.policy.clone())
                .await?;
            return match outcome {
                VerifyOutcome::Accepted | VerifyOutcome::Restricted => Ok(Verification::Accepted),
                VerifyOutcome::Rejected => Ok(Verification::Rejected {
                    code: "rejected by the service".into(),
                }),
                VerifyOutcome::Unknown => Err(Error::BadResponse(
                    "the service's answer does not say whether the key works".into(),
                )),
            };
        }
        let answer = self.http.send(Call::bearer_get("", key)).await?;
        match answer.status {
            s if s.is_success() => Ok(Verification::Accepted),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Ok(Verification::Rejected {
                code: format!("HTTP {}", answer.status.as_u16()),
            }),
            _ => Err(answer.into_error()),
        }
    }

    /// A connection test needs a key; the URL's reachability is checked by
    /// asking it about an empty key (any HTTP answer will do).
    async fn test(&self) -> Result<()> {
        self.verify(&Secret::new("latchkey-connection-test"))
            .await
            .map(|_| ())
    }
}
