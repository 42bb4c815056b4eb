//! Connector for SendGrid API keys (`/v3/api_keys`), managed with a key
//! that holds the "API Keys" permission (`Authorization: Bearer`). A new
//! key may be given scopes (SendGrid's permission names); without any it
//! gets the full access SendGrid gives by default. An account holds at
//! most 100 keys. A key is checked with `GET /v3/scopes` as its own bearer.
//! SendGrid shows nothing of a key after it is made and publishes no
//! last-used time. Errors come as `{errors:[{field, message}]}`. Never
//! logs or returns a key in an error.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};

use super::gone_is_done;
use super::rest;
use super::{Capabilities, Connector, KeySpec, RemoteKey, Verification};
use crate::error::{Error, Result};
use crate::http::{Answer, Call, HttpPolicy};
use crate::secret::Secret;
use crate::untrusted::{self, MAX_ID, MAX_MESSAGE, MAX_NAME};

/// The hosted API.
pub const DEFAULT_BASE_URL: &str = "https://api.sendgrid.com";
/// Keys per account.
pub const KEY_LIMIT: usize = 100;

/// A connection to one SendGrid account's keys.
#[derive(Debug)]
pub struct SendgridConnector {
    api: rest::Bearer,
}

/// The first `{errors:[{message}]}`, cleaned.
fn message(answer: &Answer) -> String {
    answer
        .json()
        .ok()
        .and_then(|b| {
            b["errors"][0]["message"]
                .as_str()
                .map(|m| answer.clean(m, MAX_MESSAGE))
        })
        .unwrap_or_default()
}

fn is_limit(text: &str) -> bool {
    let text = text.to_lowercase();
    text.contains("limit") || text.contains("more than 100")
}

fn error_of(answer: Answer) -> Error {
    let text = message(&answer);
    match answer.status.as_u16() {
        // The key limit (the status it comes with is not documented).
        400 | 403 | 422 if is_limit(&text) => Error::ProviderConflict(format!(
            "{text} (SendGrid keeps at most {KEY_LIMIT} keys per account; delete one first)"
        )),
        400 | 422 => Error::InvalidInput {
            field: "request".into(),
            message: if text.is_empty() {
                "SendGrid refused the request as invalid".into()
            } else {
                format!("SendGrid refused the request: {text}")
            },
        },
        _ => answer.into_error(),
    }
}

fn scopes(v: &Value, secrets: &[&Secret]) -> Vec<String> {
    v["scopes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .take(500)
        .map(|s| untrusted::clean(s, MAX_NAME, secrets))
        .collect()
}

fn remote_key(v: &Value, secrets: &[&Secret]) -> Result<RemoteKey> {
    Ok(RemoteKey {
        remote_id: rest::text(v, "api_key_id", MAX_ID, secrets)?,
        name: rest::text_or_empty(v, "name", MAX_NAME, secrets)?,
        preview: String::new(),
        scopes: scopes(v, secrets),
        created_at: None,
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
        request_count: None,
    })
}

/// A SendGrid key: `SG.`, an id, `.`, a secret.
fn key_shape(k: &str) -> bool {
    let mut parts = k.split('.');
    parts.next() == Some("SG")
        && parts.next().is_some_and(|p| !p.is_empty())
        && parts.next().is_some_and(|p| !p.is_empty())
        && parts.next().is_none()
}

impl SendgridConnector {
    pub fn new(base_url: &str, credential: Secret, policy: HttpPolicy) -> Result<Self> {
        let api = rest::Bearer::new(
            base_url,
            DEFAULT_BASE_URL,
            credential,
            "Enter a SendGrid API key with the API Keys permission",
            policy,
            error_of,
        )?;
        Ok(Self { api })
    }

    fn key_path(remote_id: &str) -> Result<String> {
        Ok(format!("/v3/api_keys/{}", rest::path_id(remote_id)?))
    }
}

#[async_trait]
impl Connector for SendgridConnector {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            ..Capabilities::basic(true, true, true, true)
        }
    }

    fn key_limit(&self) -> Option<usize> {
        Some(KEY_LIMIT)
    }

    async fn list(&self) -> Result<Vec<RemoteKey>> {
        let body = self
            .api
            .call(Method::GET, "/v3/api_keys?limit=100", None)
            .await?
            .json()?;
        body["result"]
            .as_array()
            .ok_or_else(|| Error::BadResponse("a key list without 'result'".into()))?
            .iter()
            .map(|k| remote_key(k, &[&self.api.credential]))
            .collect()
    }

    async fn create(&self, spec: &KeySpec, _idempotency_key: &str) -> Result<(RemoteKey, Secret)> {
        if spec.expires_in_days.is_some() {
            return Err(Error::invalid(
                "expires_in_days",
                "SendGrid keys do not expire",
            ));
        }
        let mut body = json!({ "name": spec.name });
        if !spec.scopes.is_empty() {
            body["scopes"] = json!(spec.scopes);
        }
        let answer = self
            .api
            .call(Method::POST, "/v3/api_keys", Some(&body))
            .await?;
        let mut value = answer.json()?;
        drop(answer);
        let key = rest::take_secret(&mut value, "/api_key", key_shape)?;
        // The id is the key's middle part by design (`SG.<id>.<secret>`):
        // it is parsed without the new key among the values to redact.
        let parsed = remote_key(&value, &[&self.api.credential]);
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
            Ok(answer) => {
                let body = answer.json()?;
                // Documented as `{result:[key]}`; a bare key is read too.
                let one = match &body["result"] {
                    Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
                    _ => body,
                };
                remote_key(&one, &[&self.api.credential]).map(Some)
            }
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn revoke(&self, remote_id: &str) -> Result<()> {
        gone_is_done(
            self.api
                .call(Method::DELETE, &Self::key_path(remote_id)?, None)
                .await,
        )
    }

    /// `GET /v3/scopes` with the key: 2xx (a scope list) or 403 (valid,
    /// without that permission) accepted, 401 rejected, else an error.
    async fn verify(&self, key: &Secret) -> Result<Verification> {
        let answer = self
            .api
            .http
            .send(Call::bearer_get("/v3/scopes", key))
            .await?;
        match answer.status.as_u16() {
            200..=299 => {
                answer.json()?["scopes"]
                    .as_array()
                    .ok_or_else(|| Error::BadResponse("a scope list without 'scopes'".into()))?;
                Ok(Verification::Accepted)
            }
            403 => Ok(Verification::Accepted),
            401 => Ok(Verification::Rejected {
                code: "UNAUTHORIZED".into(),
            }),
            _ => Err(error_of(answer)),
        }
    }

    async fn test(&self) -> Result<()> {
        self.list().await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_sendgrids_shape() {
        assert!(key_shape(
            "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
        ));
        assert!(!key_shape("SG.only-one-part"));
        assert!(!key_shape("XX.a.b"));
    }
}
