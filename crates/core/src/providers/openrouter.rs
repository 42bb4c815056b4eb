//! Connector for OpenRouter API keys, managed with a management
//! (provisioning) key sent as `Authorization: Bearer`. Keys are named by
//! their `hash`; a key can be switched off and on (`PATCH {disabled}`).
//! The listing pages by 100 (`offset`) and leaves disabled keys out unless
//! asked (`include_disabled=true`). A key is checked with `GET /key` as
//! its own bearer. OpenRouter publishes no last-used time and no preview
//! of a key after it is made. Never logs or returns a key in an error.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};

use super::gone_is_done;
use super::rest;
use super::{Capabilities, Connector, KeySpec, RemoteKey, Verification};
use crate::error::{Error, Result};
use crate::http::{Answer, Call, HttpPolicy};
use crate::secret::Secret;
use crate::untrusted::{MAX_ID, MAX_MESSAGE, MAX_NAME};

/// The hosted API.
pub const DEFAULT_BASE_URL: &str = "https://openrouter.ai/api/v1";
/// Keys per page of the listing.
const PAGE: usize = 100;
/// Pages read at most (10,000 keys).
const MAX_PAGES: usize = 100;

/// A connection to one OpenRouter account's keys.
#[derive(Debug)]
pub struct OpenRouterConnector {
    api: rest::Bearer,
}

/// `{"error": {"code", "message"}}`, cleaned.
fn message(answer: &Answer) -> String {
    answer
        .json()
        .ok()
        .and_then(|b| {
            b["error"]["message"]
                .as_str()
                .map(|m| answer.clean(m, MAX_MESSAGE))
        })
        .unwrap_or_default()
}

fn error_of(answer: Answer) -> Error {
    let text = message(&answer);
    match answer.status.as_u16() {
        400 | 422 => Error::InvalidInput {
            field: "request".into(),
            message: if text.is_empty() {
                "OpenRouter refused the request as invalid".into()
            } else {
                format!("OpenRouter refused the request: {text}")
            },
        },
        _ => answer.into_error(),
    }
}

fn remote_key(v: &Value, secrets: &[&Secret]) -> Result<RemoteKey> {
    let disabled = v["disabled"].as_bool().unwrap_or(false);
    Ok(RemoteKey {
        remote_id: rest::text(v, "hash", MAX_ID, secrets)?,
        name: rest::text_or_empty(v, "name", MAX_NAME, secrets)?,
        preview: String::new(),
        scopes: if disabled {
            vec!["status:disabled".into()]
        } else {
            vec![]
        },
        created_at: rest::timestamp(v, "created_at", secrets)?,
        expires_at: rest::timestamp(v, "expires_at", secrets)?,
        last_used_at: None,
        revoked_at: None,
        request_count: None,
    })
}

/// An OpenRouter key: `sk-or-v1-` and 64 hex digits.
fn key_shape(k: &str) -> bool {
    k.strip_prefix("sk-or-v1-")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl OpenRouterConnector {
    pub fn new(base_url: &str, credential: Secret, policy: HttpPolicy) -> Result<Self> {
        let api = rest::Bearer::new(
            base_url,
            DEFAULT_BASE_URL,
            credential,
            "Enter an OpenRouter management key (Settings → Management keys)",
            policy,
            error_of,
        )?;
        Ok(Self { api })
    }

    fn key_path(remote_id: &str) -> Result<String> {
        Ok(format!("/keys/{}", rest::path_id(remote_id)?))
    }
}

#[async_trait]
impl Connector for OpenRouterConnector {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            set_active: true,
            ..Capabilities::basic(true, true, true, true)
        }
    }

    async fn list(&self) -> Result<Vec<RemoteKey>> {
        let mut all = Vec::new();
        for page in 0..MAX_PAGES {
            let path = format!("/keys?include_disabled=true&offset={}", page * PAGE);
            let body = self.api.call(Method::GET, &path, None).await?.json()?;
            let keys = body["data"]
                .as_array()
                .ok_or_else(|| Error::BadResponse("a key list without 'data'".into()))?;
            for k in keys {
                all.push(remote_key(k, &[&self.api.credential])?);
            }
            if keys.len() < PAGE {
                return Ok(all);
            }
        }
        Err(Error::BadResponse(format!(
            "more than {} keys listed",
            PAGE * MAX_PAGES
        )))
    }

    async fn create(&self, spec: &KeySpec, _idempotency_key: &str) -> Result<(RemoteKey, Secret)> {
        rest::no_scopes(&spec.scopes, "OpenRouter")?;
        let mut body = json!({ "name": spec.name });
        if let Some(days) = spec.expires_in_days {
            body["expires_at"] = json!(rest::days_from_now(days));
        }
        let answer = self.api.call(Method::POST, "/keys", Some(&body)).await?;
        let mut value = answer.json()?;
        drop(answer);
        let key = rest::take_secret(&mut value, "/key", key_shape)?;
        let parsed = remote_key(&value["data"], &[&self.api.credential, &key]);
        rest::wipe(&mut value);
        let mut remote = parsed?;
        remote.preview = key.masked();
        Ok((remote, key))
    }

    async fn get(&self, remote_id: &str) -> Result<Option<RemoteKey>> {
        match self
            .api
            .call(Method::GET, &Self::key_path(remote_id)?, None)
            .await
        {
            Ok(answer) => remote_key(&answer.json()?["data"], &[&self.api.credential]).map(Some),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn set_active(&self, remote_id: &str, active: bool) -> Result<()> {
        let body = json!({ "disabled": !active });
        let answer = self
            .api
            .call(Method::PATCH, &Self::key_path(remote_id)?, Some(&body))
            .await?;
        if answer.json()?["data"]["disabled"].as_bool() == Some(!active) {
            Ok(())
        } else {
            Err(Error::BadResponse(format!(
                "OpenRouter did not confirm the key is {}",
                if active { "enabled" } else { "disabled" }
            )))
        }
    }

    async fn revoke(&self, remote_id: &str) -> Result<()> {
        gone_is_done(
            self.api
                .call(Method::DELETE, &Self::key_path(remote_id)?, None)
                .await,
        )
    }

    /// `GET /key` with the key itself: 2xx accepted, 401 rejected, and
    /// anything else an error (never taken as accepted).
    async fn verify(&self, key: &Secret) -> Result<Verification> {
        let answer = self.api.http.send(Call::bearer_get("/key", key)).await?;
        match answer.status.as_u16() {
            200..=299 => {
                // A 2xx must be the key's own record, not a login page.
                answer.json()?["data"]
                    .as_object()
                    .ok_or_else(|| Error::BadResponse("a key check without 'data'".into()))?;
                Ok(Verification::Accepted)
            }
            401 => Ok(Verification::Rejected {
                code: "UNAUTHORIZED".into(),
            }),
            _ => Err(error_of(answer)),
        }
    }

    async fn test(&self) -> Result<()> {
        self.api
            .call(Method::GET, "/keys?offset=0", None)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_openrouters_shape() {
        assert!(key_shape(&format!("sk-or-v1-{}", "a1".repeat(32))));
        assert!(!key_shape("sk-or-v1-short"));
        assert!(!key_shape(&format!("sk-xx-v1-{}", "a1".repeat(32))));
    }
}
