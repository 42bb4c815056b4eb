//! Connector for Cloudflare user API tokens (`/client/v4/user/tokens`).
//! The connection's token (made from the "Create additional tokens"
//! template) goes as `Authorization: Bearer`. Every answer is the envelope
//! `{success, errors:[{code,message}], messages, result}`: an answer whose
//! `success` is not `true` is never taken as done. A new token copies the
//! policies of the connection's own token (found by `/user/tokens/verify`).
//! Roll (`PUT …/value`) kills the old value at once; switching a token off
//! and on is a `PUT` of the whole token with its `status`. Cloudflare allows
//! 1200 calls per 5 minutes per token and blocks for 5 minutes after that:
//! the engine waits out a short `Retry-After` and returns `rate_limited`
//! for a long one. Never logs or returns a token value in an error.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Map, Value};

use super::gone_is_done;
use super::rest;
use super::{Capabilities, Connector, KeySpec, RemoteKey, Verification};
use crate::error::{Error, Result};
use crate::http::{Answer, Call, HttpPolicy};
use crate::secret::Secret;
use crate::untrusted::{self, MAX_CODE, MAX_ID, MAX_MESSAGE, MAX_NAME};

/// The hosted API.
pub const DEFAULT_BASE_URL: &str = "https://api.cloudflare.com/client/v4";

/// A connection to one Cloudflare user's API tokens.
#[derive(Debug)]
pub struct CloudflareConnector {
    api: rest::Bearer,
}

/// The first error of an envelope: its code and cleaned message.
fn first_error(answer: &Answer) -> (Option<i64>, String) {
    let Ok(body) = answer.json() else {
        return (None, String::new());
    };
    let first = &body["errors"][0];
    (
        first["code"].as_i64(),
        first["message"]
            .as_str()
            .map(|m| answer.clean(m, MAX_MESSAGE))
            .unwrap_or_default(),
    )
}

fn error_of(answer: Answer) -> Error {
    let (code, message) = first_error(&answer);
    let said = |fallback: &str| {
        if message.is_empty() {
            fallback.to_owned()
        } else {
            format!("Cloudflare refused the request: {message}")
        }
    };
    match answer.status.as_u16() {
        400 | 422 => Error::InvalidInput {
            field: "request".into(),
            message: said("Cloudflare refused the request as invalid"),
        },
        409 => Error::ProviderConflict(said("the request conflicts with Cloudflare's state")),
        404 => Error::NotFound("That token on Cloudflare".into()),
        403 if code == Some(9109) || !message.is_empty() => Error::ProviderForbidden,
        _ => answer.into_error(),
    }
}

/// The `result` of a 2xx envelope; `success` must be `true`.
fn result_of(answer: &Answer) -> Result<Value> {
    let mut body = answer.json()?;
    if body["success"] != Value::Bool(true) {
        rest::wipe(&mut body);
        return Err(Error::BadResponse(
            "an answer that does not say it succeeded".into(),
        ));
    }
    Ok(body["result"].take())
}

fn remote_key(v: &Value, secrets: &[&Secret]) -> Result<RemoteKey> {
    let status = rest::text_or_empty(v, "status", MAX_CODE, secrets)?;
    Ok(RemoteKey {
        remote_id: rest::text(v, "id", MAX_ID, secrets)?,
        name: rest::text_or_empty(v, "name", MAX_NAME, secrets)?,
        // Cloudflare shows nothing of a token's value after it is made.
        preview: String::new(),
        scopes: if status.is_empty() || status == "active" {
            vec![]
        } else {
            vec![format!("status:{status}")]
        },
        created_at: rest::timestamp(v, "issued_on", secrets)?,
        expires_at: rest::timestamp(v, "expires_on", secrets)?,
        last_used_at: rest::timestamp(v, "last_used_on", secrets)?,
        revoked_at: None,
        request_count: None,
    })
}

/// A Cloudflare token value: 40 to 80 characters, no spaces.
fn token_shape(k: &str) -> bool {
    (40..=80).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic())
}

impl CloudflareConnector {
    pub fn new(base_url: &str, credential: Secret, policy: HttpPolicy) -> Result<Self> {
        let api = rest::Bearer::new(
            base_url,
            DEFAULT_BASE_URL,
            credential,
            "Enter a Cloudflare API token made from the \"Create additional tokens\" template",
            policy,
            error_of,
        )?;
        Ok(Self { api })
    }

    async fn managed(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let answer = self.api.call(method, path, body).await?;
        result_of(&answer)
    }

    /// The raw token record (policies included) by id.
    async fn token(&self, remote_id: &str) -> Result<Value> {
        let path = format!("/user/tokens/{}", rest::path_id(remote_id)?);
        self.managed(Method::GET, &path, None).await
    }

    /// The id of the connection's own token.
    async fn own_id(&self) -> Result<String> {
        let result = self
            .managed(Method::GET, "/user/tokens/verify", None)
            .await?;
        rest::text(&result, "id", MAX_ID, &[&self.api.credential])
    }
}

#[async_trait]
impl Connector for CloudflareConnector {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            set_active: true,
            roll: true,
            last_used: true,
            ..Capabilities::basic(true, true, true, true)
        }
    }

    async fn list(&self) -> Result<Vec<RemoteKey>> {
        let result = self.managed(Method::GET, "/user/tokens", None).await?;
        result
            .as_array()
            .ok_or_else(|| Error::BadResponse("a token list that is not a list".into()))?
            .iter()
            .map(|k| remote_key(k, &[&self.api.credential]))
            .collect()
    }

    /// A new token with the same policies as the connection's own.
    async fn create(&self, spec: &KeySpec, _idempotency_key: &str) -> Result<(RemoteKey, Secret)> {
        rest::no_scopes(&spec.scopes, "Cloudflare")?;
        let own = self.token(&self.own_id().await?).await?;
        let policies = match &own["policies"] {
            Value::Array(p) if !p.is_empty() => Value::Array(p.clone()),
            _ => {
                return Err(Error::BadResponse(
                    "the connection's own token has no policies to copy".into(),
                ))
            }
        };
        let mut body = json!({ "name": spec.name, "policies": policies });
        if let Some(days) = spec.expires_in_days {
            body["expires_on"] = json!(rest::days_from_now(days));
        }
        let answer = self
            .api
            .call(Method::POST, "/user/tokens", Some(&body))
            .await?;
        let mut result = result_of(&answer)?;
        drop(answer);
        let key = rest::take_secret(&mut result, "/value", token_shape)?;
        let parsed = remote_key(&result, &[&self.api.credential, &key]);
        rest::wipe(&mut result);
        let mut remote = parsed?;
        remote.preview = key.masked();
        Ok((remote, key))
    }

    async fn get(&self, remote_id: &str) -> Result<Option<RemoteKey>> {
        match self.token(remote_id).await {
            Ok(v) => remote_key(&v, &[&self.api.credential]).map(Some),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn last_used(&self, remote_id: &str) -> Result<Option<String>> {
        self.get(remote_id)
            .await?
            .map(|k| k.last_used_at)
            .ok_or_else(|| Error::NotFound(format!("Token {remote_id}")))
    }

    /// A PUT of the whole token with the new status.
    async fn set_active(&self, remote_id: &str, active: bool) -> Result<()> {
        let current = self.token(remote_id).await?;
        let mut body = Map::new();
        for field in ["name", "policies", "condition", "expires_on", "not_before"] {
            if !current[field].is_null() {
                body.insert(field.into(), current[field].clone());
            }
        }
        body.insert(
            "status".into(),
            json!(if active { "active" } else { "disabled" }),
        );
        let path = format!("/user/tokens/{}", rest::path_id(remote_id)?);
        let result = self
            .managed(Method::PUT, &path, Some(&Value::Object(body)))
            .await?;
        let wanted = if active { "active" } else { "disabled" };
        if result["status"].as_str() == Some(wanted) {
            Ok(())
        } else {
            Err(Error::BadResponse(format!(
                "Cloudflare did not confirm the token is {wanted}"
            )))
        }
    }

    /// A new value for the same token; the old one stops working at once.
    async fn roll(&self, remote_id: &str) -> Result<(RemoteKey, Secret)> {
        let before = self
            .get(remote_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("Token {remote_id}")))?;
        let path = format!("/user/tokens/{}/value", rest::path_id(remote_id)?);
        let answer = self.api.call(Method::PUT, &path, Some(&json!({}))).await?;
        let mut body = answer.json()?;
        drop(answer);
        if body["success"] != Value::Bool(true) {
            rest::wipe(&mut body);
            return Err(Error::BadResponse(
                "a roll that does not say it succeeded".into(),
            ));
        }
        let key = rest::take_secret(&mut body, "/result", token_shape)?;
        rest::wipe(&mut body);
        let remote = RemoteKey {
            preview: key.masked(),
            ..before
        };
        Ok((remote, key))
    }

    async fn revoke(&self, remote_id: &str) -> Result<()> {
        let path = format!("/user/tokens/{}", rest::path_id(remote_id)?);
        gone_is_done(self.managed(Method::DELETE, &path, None).await)
    }

    /// `GET /user/tokens/verify` with the token itself: `active` is
    /// accepted; any other status, a 401 or a malformed-token 400 is
    /// rejected; anything else is an error (never taken as accepted).
    async fn verify(&self, key: &Secret) -> Result<Verification> {
        let answer = self
            .api
            .http
            .send(Call::bearer_get("/user/tokens/verify", key))
            .await?;
        match answer.status.as_u16() {
            200..=299 => {
                let result = result_of(&answer)?;
                match result["status"].as_str() {
                    Some("active") => Ok(Verification::Accepted),
                    Some(other) => Ok(Verification::Rejected {
                        code: untrusted::clean(other, MAX_CODE, &[key]).to_uppercase(),
                    }),
                    None => Err(Error::BadResponse(
                        "a token check without the token's status".into(),
                    )),
                }
            }
            401 => Ok(Verification::Rejected {
                code: match first_error(&answer).0 {
                    Some(code) => code.to_string(),
                    None => "UNAUTHORIZED".into(),
                },
            }),
            // Cloudflare's "Invalid format for Authorization header": a
            // value that is not a token at all.
            400 if matches!(first_error(&answer).0, Some(6003 | 6111)) => {
                Ok(Verification::Rejected {
                    code: "INVALID_FORMAT".into(),
                })
            }
            _ => Err(error_of(answer)),
        }
    }

    async fn test(&self) -> Result<()> {
        self.own_id().await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn an_envelope_without_success_is_not_done() {
        let a = Answer::new(
            StatusCode::OK,
            br#"{"success":false,"result":{"status":"active"}}"#.to_vec(),
        );
        assert_eq!(result_of(&a).unwrap_err().code().as_str(), "bad_response");
        let a = Answer::new(
            StatusCode::OK,
            br#"{"success":true,"result":{"id":"x"}}"#.to_vec(),
        );
        assert_eq!(result_of(&a).unwrap()["id"], "x");
    }

    #[test]
    fn envelope_errors_map_to_codes() {
        let a =
            |s: u16, b: &str| Answer::new(StatusCode::from_u16(s).unwrap(), b.as_bytes().to_vec());
        let e = error_of(a(
            400,
            r#"{"success":false,"errors":[{"code":1001,"message":"bad name"}]}"#,
        ));
        assert_eq!(e.code().as_str(), "invalid_input");
        assert!(e.to_string().contains("bad name"), "{e}");
        assert_eq!(
            error_of(a(
                403,
                r#"{"errors":[{"code":9109,"message":"Unauthorized"}]}"#
            ))
            .code()
            .as_str(),
            "provider_forbidden"
        );
    }
}
