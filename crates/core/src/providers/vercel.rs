//! Connector for Vercel account tokens, with the connection's own token
//! (bearer): `POST /v3/user/tokens` `{name, expiresAt?}` →
//! `{token:{id, name, …}, bearerToken}`, `GET /v6/user/tokens`,
//! `DELETE /v3/user/tokens/{id}`, and verify with `GET /v2/user` (200
//! works; 401 and 403 do not). Vercel publishes no idempotency key for a
//! create, so a create is sent once. Nothing here logs a token; the
//! create's answer is wiped once read.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};

use super::gone_is_done;
use super::{Capabilities, Connector, KeySpec, RemoteKey, Verification};
use crate::deploy::aws_store::wipe;
use crate::error::{Error, Result};
use crate::http::{Answer, Auth, Call, HttpEngine, HttpPolicy};
use crate::secret::Secret;
use crate::untrusted::{self, MAX_ID, MAX_NAME};

pub const DEFAULT_BASE_URL: &str = "https://api.vercel.com";

pub struct VercelProvider {
    http: HttpEngine,
    token: Secret,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
}

impl std::fmt::Debug for VercelProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VercelProvider")
            .field("base", &self.http.base_url().as_str())
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the epoch as RFC 3339 (Vercel's times are numbers).
fn millis(v: &Value) -> Option<String> {
    let ms = v.as_i64()?;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    at.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

fn remote_key(v: &Value, secrets: &[&Secret]) -> Result<RemoteKey> {
    let id = v["id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .map(|id| untrusted::clean(id, MAX_ID, secrets))
        .ok_or_else(|| Error::BadResponse("a Vercel token without its id".into()))?;
    Ok(RemoteKey {
        remote_id: id,
        name: v["name"]
            .as_str()
            .map(|n| untrusted::clean(n, MAX_NAME, secrets))
            .unwrap_or_default(),
        preview: String::new(),
        scopes: vec![],
        created_at: millis(&v["createdAt"]),
        expires_at: millis(&v["expiresAt"]),
        last_used_at: millis(&v["activeAt"]),
        revoked_at: None,
        request_count: None,
    })
}

fn failure(answer: Answer) -> Error {
    match answer.status.as_u16() {
        404 => Error::NotFound("That Vercel token".into()),
        400 => Error::invalid("request", "Vercel refused the request as invalid"),
        _ => answer.into_error(),
    }
}

impl VercelProvider {
    pub fn new(base_url: &str, token: Secret, policy: HttpPolicy) -> Result<Self> {
        Self::with_clock(
            base_url,
            token,
            policy,
            std::sync::Arc::new(crate::clock::SystemClock),
        )
    }

    /// With the clock an expiry is counted from.
    pub fn with_clock(
        base_url: &str,
        token: Secret,
        policy: HttpPolicy,
        clock: std::sync::Arc<dyn crate::clock::Clock>,
    ) -> Result<Self> {
        Ok(Self {
            http: HttpEngine::new(base_url, policy)?,
            token,
            clock,
        })
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        key: &Secret,
        body: Option<&Value>,
    ) -> Result<Answer> {
        self.http
            .send(Call {
                method,
                path,
                auth: Auth::Bearer(key),
                headers: &[],
                body,
                idempotency_key: None,
            })
            .await
    }

    async fn managed(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer> {
        let answer = self.send(method, path, &self.token, body).await?;
        if answer.status.is_success() {
            Ok(answer)
        } else {
            Err(failure(answer))
        }
    }
}

fn id_of(remote_id: &str) -> Result<&str> {
    if !remote_id.is_empty()
        && remote_id.len() <= MAX_ID
        && remote_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(remote_id)
    } else {
        Err(Error::invalid(
            "remote_id",
            "This token has no usable Vercel id",
        ))
    }
}

#[async_trait]
impl Connector for VercelProvider {
    fn capabilities(&self) -> Capabilities {
        Capabilities::basic(true, true, true, true)
    }

    async fn list(&self) -> Result<Vec<RemoteKey>> {
        let answer = self.managed(Method::GET, "/v6/user/tokens", None).await?;
        let body = answer.json()?;
        body["tokens"]
            .as_array()
            .ok_or_else(|| Error::BadResponse("a Vercel token list without tokens".into()))?
            .iter()
            .map(|v| remote_key(v, &[&self.token]))
            .collect()
    }

    /// Sent once (no idempotency key exists for it): a lost answer leaves
    /// at most one token behind, which the list shows by its name.
    async fn create(&self, spec: &KeySpec, _idempotency_key: &str) -> Result<(RemoteKey, Secret)> {
        let mut body = json!({ "name": spec.name });
        if let Some(days) = spec.expires_in_days {
            let now = self.clock.now();
            let at = now + time::Duration::days(i64::from(days));
            body["expiresAt"] = json!(at.unix_timestamp() * 1000);
        }
        let answer = self
            .managed(Method::POST, "/v3/user/tokens", Some(&body))
            .await?;
        let mut body = answer.json()?;
        let token = match body.get_mut("bearerToken") {
            Some(Value::String(t)) if !t.is_empty() => Secret::take_from(t),
            _ => {
                wipe(&mut body);
                return Err(Error::BadResponse(
                    "a created Vercel token without its value".into(),
                ));
            }
        };
        let key = remote_key(&body["token"], &[&self.token, &token]);
        wipe(&mut body);
        Ok((key?, token))
    }

    async fn revoke(&self, remote_id: &str) -> Result<()> {
        let path = format!("/v3/user/tokens/{}", id_of(remote_id)?);
        gone_is_done(self.managed(Method::DELETE, &path, None).await)
    }

    async fn verify(&self, key: &Secret) -> Result<Verification> {
        let answer = self.send(Method::GET, "/v2/user", key, None).await?;
        match answer.status.as_u16() {
            200 => Ok(Verification::Accepted),
            401 | 403 => Ok(Verification::Rejected {
                code: format!("HTTP {}", answer.status.as_u16()),
            }),
            _ => Err(failure(answer)),
        }
    }

    async fn test(&self) -> Result<()> {
        match self.verify(&self.token).await? {
            Verification::Accepted => Ok(()),
            Verification::Rejected { .. } => Err(Error::ProviderUnauthorized),
        }
    }
}
