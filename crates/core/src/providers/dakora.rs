//! Connector for Dakora project API keys (`shared/services/dakora.md`).
//! The management credential is a JWT (sent as `Authorization: Bearer`) or
//! one of the account's own `dkr_` keys (sent as `X-API-Key`: Dakora reads
//! a key sent as a bearer token as a broken JWT). Every string the service
//! sends is untrusted and cleaned as it is parsed. Quirks handled here:
//! expiries other than 30/90/365 days are refused before the call; the
//! 4-key limit is `provider_conflict`; an `expires_at` without a time zone
//! is UTC; a second DELETE (404) is "already revoked"; a 5xx on verify is a
//! service error that names the expiry bug when the key has an expiry; and
//! revocation is enforced only after the server's validation cache expires
//! (`revocation_cache`), which the vault uses to confirm a revoke by the
//! service's records instead of failing it.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use zeroize::Zeroize;

use super::{gone_is_done, rest};
use super::{Capabilities, Connector, KeySpec, RemoteKey, Verification};
use crate::error::{Error, Result};
use crate::http::{Answer, Auth, Call, HttpEngine, HttpPolicy};
use crate::secret::Secret;
use crate::untrusted::{self, MAX_CODE, MAX_ID, MAX_MESSAGE, MAX_NAME, MAX_PREVIEW, MAX_TIMESTAMP};

/// The hosted service.
pub const DEFAULT_BASE_URL: &str = "https://api.dakora.io";
/// How long the server may keep accepting a revoked key.
pub const REVOCATION_CACHE: Duration = Duration::from_secs(300);
/// The only expiries the service takes (days).
pub const EXPIRIES: [u32; 3] = [30, 90, 365];

/// A connection to one Dakora project.
#[derive(Debug)]
pub struct DakoraProvider {
    http: HttpEngine,
    project: String,
    credential: Secret,
}

/// Checks a project id: Dakora's are UUIDs (anything else is a 422).
pub fn check_project(project: &str) -> Result<String> {
    uuid::Uuid::parse_str(project.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| {
            Error::invalid(
                "project",
                "A Dakora project is its UUID (e.g. 3f2b…-…), as shown in the project's settings",
            )
        })
}

/// Dakora's own preview of a key: the first 8 and the last 4 characters.
pub fn preview(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 24 {
        return "•".repeat(8);
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}...{tail}")
}

/// A timestamp as Dakora sends it; one without a time zone is UTC.
fn utc(ts: &str) -> String {
    let has_zone = ts.ends_with('Z')
        || ts.ends_with('z')
        || ts
            .split_once('T')
            .is_some_and(|(_, time)| time.contains('+') || time.contains('-'));
    if has_zone || ts.is_empty() {
        ts.to_owned()
    } else {
        format!("{ts}Z")
    }
}

/// The readable text of a `{"detail": …}` answer: a string, or a list of
/// validation errors (`loc` and `msg`). Cleaned; empty when there is none.
fn detail(answer: &Answer) -> String {
    let Ok(body) = answer.json() else {
        return String::new();
    };
    match &body["detail"] {
        Value::String(s) => answer.clean(s, MAX_MESSAGE),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .take(5)
                .map(|item| {
                    let loc: Vec<String> = item["loc"]
                        .as_array()
                        .map(|l| {
                            l.iter()
                                .filter(|p| {
                                    p.as_str() != Some("body") && p.as_str() != Some("path")
                                })
                                .map(|p| match p {
                                    Value::String(s) => s.clone(),
                                    other => other.to_string(),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let msg = item["msg"].as_str().unwrap_or("invalid");
                    if loc.is_empty() {
                        msg.to_owned()
                    } else {
                        format!("{}: {msg}", loc.join("."))
                    }
                })
                .collect();
            answer.clean(&parts.join("; "), MAX_MESSAGE)
        }
        _ => String::new(),
    }
}

/// Maps a Dakora error answer: the key limit and refused requests get the
/// service's words; the rest as the engine maps them.
fn error_of(answer: Answer) -> Error {
    let message = detail(&answer);
    match answer.status.as_u16() {
        400 if message.starts_with("Maximum") => Error::ProviderConflict(format!(
            "{message} (Dakora keeps at most 4 keys per project, expired ones included)"
        )),
        400 | 422 => Error::InvalidInput {
            field: "request".into(),
            message: if message.is_empty() {
                "Dakora refused the request as invalid".into()
            } else {
                format!("Dakora refused the request: {message}")
            },
        },
        _ => answer.into_error(),
    }
}

fn id_of(remote_id: &str) -> Result<String> {
    uuid::Uuid::parse_str(remote_id)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| Error::invalid("remote_id", "This key has no usable id on the service"))
}

fn text(v: &Value, field: &str, max: usize, secrets: &[&Secret]) -> Result<String> {
    v[field]
        .as_str()
        .map(|s| untrusted::clean(s, max, secrets))
        .ok_or_else(|| Error::BadResponse(format!("a key without a valid '{field}'")))
}

fn timestamp(v: &Value, field: &str, secrets: &[&Secret]) -> Result<Option<String>> {
    match &v[field] {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(utc(&untrusted::clean(s, MAX_TIMESTAMP, secrets)))),
        _ => Err(Error::BadResponse(format!(
            "a key with a mistyped '{field}'"
        ))),
    }
}

fn remote_key(v: &Value, secrets: &[&Secret]) -> Result<RemoteKey> {
    let preview = match &v["key_preview"] {
        Value::String(p) => untrusted::clean_message(p, MAX_PREVIEW, secrets),
        _ => match &v["key_prefix"] {
            Value::String(p) => format!("{}...", untrusted::clean_message(p, MAX_PREVIEW, secrets)),
            _ => String::new(),
        },
    };
    Ok(RemoteKey {
        remote_id: text(v, "id", MAX_ID, secrets)?,
        name: match &v["name"] {
            Value::Null => String::new(),
            _ => text(v, "name", MAX_NAME, secrets)?,
        },
        preview,
        scopes: vec![],
        created_at: timestamp(v, "created_at", secrets)?,
        expires_at: timestamp(v, "expires_at", secrets)?,
        last_used_at: timestamp(v, "last_used_at", secrets)?,
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

impl DakoraProvider {
    pub fn new(
        base_url: &str,
        project: &str,
        credential: Secret,
        policy: HttpPolicy,
    ) -> Result<Self> {
        let project = check_project(project)?;
        if credential.is_empty() {
            return Err(Error::invalid(
                "admin_token",
                "Enter a Dakora session token or one of your dkr_ API keys",
            ));
        }
        Ok(Self {
            http: HttpEngine::new(base_url, policy)?,
            project,
            credential,
        })
    }

    /// How a credential goes: a `dkr_` key as `X-API-Key`, a JWT as bearer.
    fn auth(secret: &Secret) -> Auth<'_> {
        if secret.expose_secret().starts_with("dkr_") {
            Auth::Header("X-API-Key", secret)
        } else {
            Auth::Bearer(secret)
        }
    }

    fn keys_path(&self) -> String {
        format!("/api/projects/{}/api-keys", self.project)
    }

    async fn managed(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer> {
        rest::call(
            &self.http,
            method,
            path,
            Self::auth(&self.credential),
            body,
            error_of,
        )
        .await
    }
}

#[async_trait]
impl Connector for DakoraProvider {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            last_used: true,
            ..Capabilities::basic(true, true, true, true)
        }
    }

    /// Four live keys per project; expired ones are listed and count.
    fn key_limit(&self) -> Option<usize> {
        Some(4)
    }

    async fn list(&self) -> Result<Vec<RemoteKey>> {
        let body = self
            .managed(Method::GET, &self.keys_path(), None)
            .await?
            .json()?;
        body["keys"]
            .as_array()
            .ok_or_else(|| Error::BadResponse("a key list without 'keys'".into()))?
            .iter()
            .map(|k| remote_key(k, &[&self.credential]))
            .collect()
    }

    async fn create(&self, spec: &KeySpec, _idempotency_key: &str) -> Result<(RemoteKey, Secret)> {
        if !spec.scopes.is_empty() {
            return Err(Error::invalid(
                "scopes",
                "Dakora keys have no scopes: a key acts as its user",
            ));
        }
        let mut body = json!({ "name": spec.name });
        match spec.expires_in_days {
            None => body["expires_in_days"] = Value::Null,
            Some(days) if EXPIRIES.contains(&days) => body["expires_in_days"] = json!(days),
            Some(days) => {
                return Err(Error::invalid(
                    "expires_in_days",
                    format!(
                        "Dakora keys expire after 30, 90 or 365 days, or never; {days} days is not possible"
                    ),
                ))
            }
        }
        let answer = self
            .managed(Method::POST, &self.keys_path(), Some(&body))
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
            Some(Value::String(k)) if k.starts_with("dkr_") => Secret::take_from(k),
            _ => {
                wipe(&mut value);
                return Err(Error::BadResponse(
                    "a created key without its secret".into(),
                ));
            }
        };
        let parsed = remote_key(&value, &[&self.credential, &key]);
        wipe(&mut value);
        let mut remote = parsed?;
        remote.preview = preview(key.expose_secret());
        Ok((remote, key))
    }

    async fn get(&self, remote_id: &str) -> Result<Option<RemoteKey>> {
        let path = format!("{}/{}", self.keys_path(), id_of(remote_id)?);
        match self.managed(Method::GET, &path, None).await {
            Ok(answer) => remote_key(&answer.json()?, &[&self.credential]).map(Some),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn last_used(&self, remote_id: &str) -> Result<Option<String>> {
        self.get(remote_id)
            .await?
            .map(|k| k.last_used_at)
            .ok_or_else(|| Error::NotFound(format!("Key {remote_id}")))
    }

    /// A soft revoke; a second one is a 404, which means "already revoked".
    async fn revoke(&self, remote_id: &str) -> Result<()> {
        let path = format!("{}/{}", self.keys_path(), id_of(remote_id)?);
        gone_is_done(self.managed(Method::DELETE, &path, None).await)
    }

    async fn verify(&self, key: &Secret) -> Result<Verification> {
        let answer = self
            .http
            .send(Call {
                method: Method::GET,
                path: "/api/me/context",
                auth: Auth::Header("X-API-Key", key),
                headers: &[],
                body: None,
                idempotency_key: None,
            })
            .await?;
        match answer.status.as_u16() {
            200..=299 | 403 => Ok(Verification::Accepted),
            401 => {
                let code = detail(&answer);
                Ok(Verification::Rejected {
                    code: if code.is_empty() {
                        "UNAUTHORIZED".into()
                    } else {
                        untrusted::clean(&code, MAX_CODE, &[])
                    },
                })
            }
            500..=599 => {
                let status = answer.status.as_u16();
                drop(answer);
                // Dakora fails every key made with an expiry (a server bug):
                // say so when this key is one of those.
                let wanted = preview(key.expose_secret());
                let expiring = self
                    .list()
                    .await
                    .ok()
                    .and_then(|keys| keys.into_iter().find(|k| k.preview == wanted))
                    .is_some_and(|k| k.expires_at.is_some());
                if expiring {
                    Err(Error::BadResponse(format!(
                        "HTTP {status} when checking the key: keys with an expiry do not work on this Dakora server version; create the key without an expiry"
                    )))
                } else {
                    Err(Error::ProviderUnavailable(status))
                }
            }
            _ => Err(error_of(answer)),
        }
    }

    async fn test(&self) -> Result<()> {
        self.list().await.map(|_| ())
    }

    fn revocation_cache(&self) -> Option<Duration> {
        Some(REVOCATION_CACHE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_without_a_zone_are_utc() {
        assert_eq!(
            utc("2027-03-01T10:28:17.281455"),
            "2027-03-01T10:28:17.281455Z"
        );
        assert_eq!(utc("2027-03-01T10:28:17Z"), "2027-03-01T10:28:17Z");
        assert_eq!(
            utc("2027-03-01T10:28:17+00:00"),
            "2027-03-01T10:28:17+00:00"
        );
    }

    #[test]
    fn previews_are_dakoras() {
        assert_eq!(
            preview("dkr_HNQHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa9wzK"),
            "dkr_HNQH...9wzK"
        );
    }
}
