//! Connector for Open Animate account API keys
//! (`shared/services/open-animate.md`). Keys go as `Authorization: Bearer`
//! only. Timestamps are epoch milliseconds; the public prefix is the first
//! 13 characters of a key (never split on `_`: both parts may hold one).
//! Quirks handled here: about one new key in eight never authenticates
//! (the server's prefix lookup splits on the first `_`), so every new key
//! is verified and a rejected one deleted and replaced (up to
//! `CREATE_ATTEMPTS` times), never returned; revoking the connection's own
//! key would cut the connection off, so it is refused; there is no get-one
//! route (a lookup lists); 10 keys at most (`provider_conflict`).

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use zeroize::Zeroize;

use super::{gone_is_done, rest};
use super::{Capabilities, Connector, KeySpec, RemoteKey, Verification};
use crate::error::{Error, Result};
use crate::http::{Answer, Auth, Call, HttpEngine, HttpPolicy};
use crate::secret::Secret;
use crate::untrusted::{self, MAX_ID, MAX_MESSAGE, MAX_NAME, MAX_PREVIEW};

/// The hosted service.
pub const DEFAULT_BASE_URL: &str = "https://api.oanim.dev";
/// New keys made (and duds deleted) before a create gives up.
pub const CREATE_ATTEMPTS: u32 = 3;

/// A connection to one Open Animate account.
#[derive(Debug)]
pub struct OpenAnimateProvider {
    http: HttpEngine,
    credential: Secret,
}

/// The public prefix of a key: its first 13 characters.
pub fn prefix(key: &str) -> String {
    key.chars().take(13).collect()
}

/// The service's `{"error": "…"}`, cleaned; empty when there is none.
fn message(answer: &Answer) -> String {
    answer
        .json()
        .ok()
        .and_then(|b| b["error"].as_str().map(|m| answer.clean(m, MAX_MESSAGE)))
        .unwrap_or_default()
}

fn error_of(answer: Answer) -> Error {
    let text = message(&answer);
    match answer.status.as_u16() {
        400 if text.starts_with("Maximum") => Error::ProviderConflict(format!(
            "{text} (Open Animate keeps at most 10 keys per account; delete one first)"
        )),
        400 | 422 => Error::InvalidInput {
            field: "request".into(),
            message: if text.is_empty() {
                "Open Animate refused the request as invalid".into()
            } else {
                format!("Open Animate refused the request: {text}")
            },
        },
        _ => answer.into_error(),
    }
}

/// Epoch milliseconds as an RFC 3339 UTC time.
fn epoch_ms(v: &Value, field: &str) -> Result<Option<String>> {
    match &v[field] {
        Value::Null => Ok(None),
        Value::Number(n) => {
            let ms = n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .ok_or_else(|| Error::BadResponse(format!("a key with a mistyped '{field}'")))?;
            let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .map_err(|_| Error::BadResponse(format!("a key with an impossible '{field}'")))?;
            at.format(&time::format_description::well_known::Rfc3339)
                .map(Some)
                .map_err(|_| Error::BadResponse(format!("a key with an impossible '{field}'")))
        }
        _ => Err(Error::BadResponse(format!(
            "a key with a mistyped '{field}'"
        ))),
    }
}

fn text(v: &Value, field: &str, max: usize, secrets: &[&Secret]) -> Result<String> {
    v[field]
        .as_str()
        .map(|s| untrusted::clean(s, max, secrets))
        .ok_or_else(|| Error::BadResponse(format!("a key without a valid '{field}'")))
}

fn remote_key(v: &Value, secrets: &[&Secret]) -> Result<RemoteKey> {
    let prefix = text(v, "prefix", MAX_PREVIEW, secrets)?;
    Ok(RemoteKey {
        remote_id: text(v, "id", MAX_ID, secrets)?,
        name: text(v, "name", MAX_NAME, secrets)?,
        preview: untrusted::clean_message(&format!("{prefix}…"), MAX_PREVIEW, secrets),
        scopes: vec![],
        created_at: epoch_ms(v, "created_at")?,
        expires_at: None,
        last_used_at: epoch_ms(v, "last_used_at")?,
        revoked_at: None,
        request_count: None,
    })
}

fn wipe(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(fields) => fields.values_mut().for_each(wipe),
        _ => {}
    }
}

fn id_of(remote_id: &str) -> Result<String> {
    uuid::Uuid::parse_str(remote_id)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| Error::invalid("remote_id", "This key has no usable id on the service"))
}

impl OpenAnimateProvider {
    pub fn new(base_url: &str, credential: Secret, policy: HttpPolicy) -> Result<Self> {
        if credential.is_empty() {
            return Err(Error::invalid(
                "admin_token",
                "Enter one of your Open Animate anim_ API keys",
            ));
        }
        Ok(Self {
            http: HttpEngine::new(base_url, policy)?,
            credential,
        })
    }

    async fn managed(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer> {
        rest::call(
            &self.http,
            method,
            path,
            Auth::Bearer(&self.credential),
            body,
            error_of,
        )
        .await
    }

    async fn delete(&self, remote_id: &str) -> Result<()> {
        let path = format!("/api/v1/api-keys/{}", id_of(remote_id)?);
        gone_is_done(self.managed(Method::DELETE, &path, None).await)
    }

    /// One POST: the key on the service and its secret.
    async fn create_once(&self, name: &str) -> Result<(RemoteKey, Secret)> {
        // Always a JSON body: a POST without one is a 500.
        let body = json!({ "name": name });
        let answer = self
            .managed(Method::POST, "/api/v1/api-keys", Some(&body))
            .await?;
        if answer.status != StatusCode::CREATED {
            return Err(Error::BadResponse(format!(
                "HTTP {} to a create",
                answer.status.as_u16()
            )));
        }
        let mut value = answer.json()?;
        drop(answer);
        let key = match value.get_mut("key") {
            Some(Value::String(k)) if k.starts_with("anim_") && k.len() >= 13 => {
                Secret::take_from(k)
            }
            _ => {
                wipe(&mut value);
                return Err(Error::BadResponse(
                    "a created key without its secret".into(),
                ));
            }
        };
        let parsed = remote_key(&value["api_key"], &[&self.credential, &key]);
        wipe(&mut value);
        let mut remote = parsed?;
        remote.preview = format!("{}…", prefix(key.expose_secret()));
        Ok((remote, key))
    }
}

#[async_trait]
impl Connector for OpenAnimateProvider {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            last_used: true,
            ..Capabilities::basic(true, true, true, true)
        }
    }

    /// Ten keys per account, every key counted.
    fn key_limit(&self) -> Option<usize> {
        Some(10)
    }

    async fn list(&self) -> Result<Vec<RemoteKey>> {
        let body = self
            .managed(Method::GET, "/api/v1/api-keys", None)
            .await?
            .json()?;
        body["api_keys"]
            .as_array()
            .ok_or_else(|| Error::BadResponse("a key list without 'api_keys'".into()))?
            .iter()
            .map(|k| remote_key(k, &[&self.credential]))
            .collect()
    }

    /// Creates a key that works: each new key is verified, and one the
    /// service rejects (its prefix lookup bug) is deleted and made again.
    async fn create(&self, spec: &KeySpec, _idempotency_key: &str) -> Result<(RemoteKey, Secret)> {
        if !spec.scopes.is_empty() || spec.expires_in_days.is_some() {
            return Err(Error::invalid(
                "scopes",
                "Open Animate keys have no scopes and no expiry",
            ));
        }
        for _ in 0..CREATE_ATTEMPTS {
            let (remote, key) = self.create_once(&spec.name).await?;
            match self.verify(&key).await {
                Ok(Verification::Accepted) => return Ok((remote, key)),
                Ok(Verification::Rejected { .. }) => {
                    // A dud: it never authenticates. Delete it, try again.
                    drop(key);
                    self.delete(&remote.remote_id).await?;
                }
                Err(e) => {
                    let _ = self.delete(&remote.remote_id).await;
                    return Err(e);
                }
            }
        }
        Err(Error::BadResponse(format!(
            "{CREATE_ATTEMPTS} new keys in a row that the service rejects; each was deleted"
        )))
    }

    /// No get-one route: the key is looked up in the listing.
    async fn get(&self, remote_id: &str) -> Result<Option<RemoteKey>> {
        Ok(self
            .list()
            .await?
            .into_iter()
            .find(|k| k.remote_id == remote_id))
    }

    async fn last_used(&self, remote_id: &str) -> Result<Option<String>> {
        self.get(remote_id)
            .await?
            .map(|k| k.last_used_at)
            .ok_or_else(|| Error::NotFound(format!("Key {remote_id}")))
    }

    /// A hard delete; 404 means already gone. The connection's own key is
    /// refused: deleting it would cut the connection off.
    async fn revoke(&self, remote_id: &str) -> Result<()> {
        if self.signs_in_with(remote_id).await? {
            return Err(Error::ProviderConflict(
                "this is the key the connection itself uses; switch the connection to another key (Providers, change its token) before revoking it".into(),
            ));
        }
        self.delete(remote_id).await
    }

    /// By the key's prefix in the listing: the raw prefix, compared before
    /// any cleaning (which redacts an echo of our own credential). A key
    /// not in the listing is not ours.
    async fn signs_in_with(&self, remote_id: &str) -> Result<bool> {
        let own = prefix(self.credential.expose_secret());
        let body = self
            .managed(Method::GET, "/api/v1/api-keys", None)
            .await?
            .json()?;
        Ok(body["api_keys"].as_array().is_some_and(|keys| {
            keys.iter().any(|k| {
                k["id"].as_str() == Some(remote_id) && k["prefix"].as_str() == Some(own.as_str())
            })
        }))
    }

    async fn verify(&self, key: &Secret) -> Result<Verification> {
        let answer = self
            .http
            .send(Call::bearer_get("/api/v1/auth/me", key))
            .await?;
        match answer.status.as_u16() {
            200..=299 | 403 => Ok(Verification::Accepted),
            401 => {
                let code = message(&answer);
                Ok(Verification::Rejected {
                    code: if code.is_empty() {
                        "UNAUTHORIZED".into()
                    } else {
                        code
                    },
                })
            }
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
    fn the_prefix_is_13_characters_even_with_underscores() {
        assert_eq!(
            prefix("anim_ab_cdefg_hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"),
            "anim_ab_cdefg"
        );
    }

    #[test]
    fn epoch_ms_is_utc() {
        let v = json!({"t": 1_764_806_400_000_i64});
        assert_eq!(
            epoch_ms(&v, "t").unwrap().as_deref(),
            Some("2025-12-04T00:00:00Z")
        );
        assert_eq!(epoch_ms(&v, "missing").unwrap(), None);
    }
}
