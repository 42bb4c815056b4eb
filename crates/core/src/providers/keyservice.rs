//! Connector for the reference key service contract
//! (`shared/keyservice-api.md`), which the Demo provider also speaks.
//! Answers are parsed strictly: a missing or mistyped field is
//! `bad_response`, never a panic. Every string the service sends is
//! untrusted and cleaned as it is parsed (`untrusted::clean`: no control
//! characters, capped, echoes of our tokens redacted). A create's answer,
//! which holds the new key, is zeroized once the `Secret` is taken out.

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use zeroize::Zeroize;

use super::{Capabilities, Connector, KeySpec, RemoteKey, Verification};
use crate::error::{Error, Result};
use crate::http::{Auth, Call, HttpEngine, HttpPolicy};
use crate::secret::{mask, Secret};
use crate::untrusted::{self, MAX_CODE, MAX_ID, MAX_NAME, MAX_PREVIEW, MAX_TIMESTAMP};

/// A connection to one project on a reference key service.
#[derive(Debug)]
pub struct KeyserviceProvider {
    http: HttpEngine,
    project: String,
    admin_token: Secret,
}

/// Checks a project name as the contract allows it.
pub fn check_project(project: &str) -> Result<()> {
    let ok = (1..=64).contains(&project.len())
        && project
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "project",
            "A project is 1 to 64 letters, digits, '-', '_' or '.'",
        ))
    }
}

impl KeyserviceProvider {
    pub fn new(
        base_url: &str,
        project: &str,
        admin_token: Secret,
        policy: HttpPolicy,
    ) -> Result<Self> {
        check_project(project)?;
        if admin_token.is_empty() {
            return Err(Error::invalid(
                "admin_token",
                "Enter the service's admin token",
            ));
        }
        Ok(Self {
            http: HttpEngine::new(base_url, policy)?,
            project: project.to_owned(),
            admin_token,
        })
    }

    fn keys_path(&self) -> String {
        format!("/api/projects/{}/api-keys", self.project)
    }

    async fn managed(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idem: Option<&str>,
    ) -> Result<crate::http::Answer> {
        let answer = self
            .http
            .send(Call {
                method,
                path,
                auth: Auth::Bearer(&self.admin_token),
                headers: &[],
                body,
                idempotency_key: idem,
            })
            .await?;
        if answer.status.is_success() {
            Ok(answer)
        } else {
            Err(answer.into_error())
        }
    }
}

/// A key id as the service makes them: letters, digits, `_` and `-`
/// (it goes into a URL path).
fn check_remote_id(remote_id: &str) -> Result<()> {
    if remote_id.is_empty()
        || !remote_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(Error::invalid(
            "remote_id",
            "This key has no usable id on the service",
        ));
    }
    Ok(())
}

/// A required string field, cleaned (see `untrusted::clean`).
fn text(v: &Value, field: &str, max: usize, secrets: &[&Secret]) -> Result<String> {
    v[field]
        .as_str()
        .map(|s| untrusted::clean(s, max, secrets))
        .ok_or_else(|| Error::BadResponse(format!("a key without a valid '{field}'")))
}

fn optional_text(v: &Value, field: &str, secrets: &[&Secret]) -> Result<Option<String>> {
    match &v[field] {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(untrusted::clean(s, MAX_TIMESTAMP, secrets))),
        _ => Err(Error::BadResponse(format!(
            "a key with a mistyped '{field}'"
        ))),
    }
}

/// A key from the service's JSON; `secrets` are redacted from every field.
fn remote_key(v: &Value, secrets: &[&Secret]) -> Result<RemoteKey> {
    let scopes = v["permissions"]
        .as_array()
        .ok_or_else(|| Error::BadResponse("a key without 'permissions'".into()))?
        .iter()
        .map(|p| {
            p.as_str()
                .map(|s| untrusted::clean(s, MAX_NAME, secrets))
                .ok_or_else(|| Error::BadResponse("a mistyped permission".into()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RemoteKey {
        remote_id: text(v, "id", MAX_ID, secrets)?,
        name: text(v, "name", MAX_NAME, secrets)?,
        // A preview is never key-shaped: one that is (a service echoing the
        // whole key) is redacted like a message.
        preview: untrusted::clean_message(
            &text(v, "key_preview", usize::MAX, &[])?,
            MAX_PREVIEW,
            secrets,
        ),
        scopes,
        created_at: optional_text(v, "created_at", secrets)?,
        expires_at: optional_text(v, "expires_at", secrets)?,
        last_used_at: optional_text(v, "last_used_at", secrets)?,
        revoked_at: optional_text(v, "revoked_at", secrets)?,
        request_count: match &v["request_count"] {
            Value::Null => None,
            n => Some(n.as_u64().ok_or_else(|| {
                Error::BadResponse("a key with a mistyped 'request_count'".into())
            })?),
        },
    })
}

/// Overwrites every string in a JSON value with zero bytes, in place.
fn wipe(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(fields) => fields.values_mut().for_each(wipe),
        _ => {}
    }
}

#[async_trait]
impl Connector for KeyserviceProvider {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            last_used: true,
            ..Capabilities::basic(true, true, true, true)
        }
    }

    async fn list(&self) -> Result<Vec<RemoteKey>> {
        let body = self
            .managed(Method::GET, &self.keys_path(), None, None)
            .await?
            .json()?;
        body["keys"]
            .as_array()
            .ok_or_else(|| Error::BadResponse("a key list without 'keys'".into()))?
            .iter()
            .map(|k| remote_key(k, &[&self.admin_token]))
            .collect()
    }

    async fn create(&self, spec: &KeySpec, idempotency_key: &str) -> Result<(RemoteKey, Secret)> {
        let mut body = json!({ "name": spec.name });
        // No scopes: the service's default permissions.
        if !spec.scopes.is_empty() {
            body["permissions"] = json!(spec.scopes);
        }
        if let Some(days) = spec.expires_in_days {
            body["expires_in_days"] = json!(days);
        }
        // Test-only mutation (see tests/lost_answers.rs): a create without
        // its idempotency key, which a lost answer turns into a lost key.
        #[cfg(feature = "mutation-omit-idempotency")]
        let idempotency_key = {
            let _ = idempotency_key;
            None
        };
        #[cfg(not(feature = "mutation-omit-idempotency"))]
        let idempotency_key = Some(idempotency_key);
        let answer = self
            .managed(
                Method::POST,
                &self.keys_path(),
                Some(&body),
                idempotency_key,
            )
            .await?;
        if answer.status != StatusCode::CREATED {
            return Err(Error::BadResponse(format!(
                "HTTP {} to a create",
                answer.status.as_u16()
            )));
        }
        let mut value = answer.json()?;
        drop(answer); // zeroizes the raw body
        let key = match value.get_mut("key") {
            Some(Value::String(k)) if !k.is_empty() => Secret::take_from(k),
            _ => {
                wipe(&mut value);
                return Err(Error::BadResponse(
                    "a created key without its secret".into(),
                ));
            }
        };
        let parsed = remote_key(&value, &[&self.admin_token, &key]);
        wipe(&mut value);
        let mut remote = parsed?;
        // Our own mask, not the service's word: a preview that echoed the
        // key would otherwise be stored. For reference keys it is the same
        // text the service sends.
        remote.preview = mask(key.expose_secret());
        Ok((remote, key))
    }

    async fn last_used(&self, remote_id: &str) -> Result<Option<String>> {
        self.get(remote_id)
            .await?
            .map(|k| k.last_used_at)
            .ok_or_else(|| Error::NotFound(format!("Key {remote_id}")))
    }

    async fn get(&self, remote_id: &str) -> Result<Option<RemoteKey>> {
        check_remote_id(remote_id)?;
        let path = format!("{}/{remote_id}", self.keys_path());
        match self.managed(Method::GET, &path, None, None).await {
            Ok(answer) => remote_key(&answer.json()?, &[&self.admin_token]).map(Some),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn revoke(&self, remote_id: &str) -> Result<()> {
        check_remote_id(remote_id)?;
        self.managed(
            Method::DELETE,
            &format!("{}/{remote_id}", self.keys_path()),
            None,
            None,
        )
        .await?;
        Ok(())
    }

    async fn verify(&self, key: &Secret) -> Result<Verification> {
        let answer = self.http.send(Call::bearer_get("/v1/verify", key)).await?;
        match answer.status {
            s if s.is_success() => Ok(Verification::Accepted),
            StatusCode::UNAUTHORIZED => {
                let code = answer
                    .json()
                    .ok()
                    .and_then(|b| {
                        b["error"]["code"]
                            .as_str()
                            .map(|c| answer.clean(c, MAX_CODE))
                    })
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| "UNAUTHORIZED".into());
                Ok(Verification::Rejected { code })
            }
            _ => Err(answer.into_error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipe_zeroes_every_string_in_place() {
        let mut value = json!({"key": "lk_secret", "nested": [{"name": "x"}], "n": 1});
        wipe(&mut value);
        let strings = [&value["key"], &value["nested"][0]["name"]];
        assert!(strings.iter().all(|s| s.as_str() == Some("")), "{value}");
        assert_eq!(value["n"], 1);
    }

    #[test]
    fn parsed_fields_are_cleaned_and_echoes_redacted() {
        let admin = Secret::new("admin-token-0123456789");
        let key = remote_key(
            &json!({
                "id": "id\u{1b}[2J1",
                "name": "\u{1b}]8;;https://evil.example\u{7}click\u{1b}]8;;\u{7} admin-token-0123",
                "key_preview": "p",
                "permissions": ["read\u{9b}"],
                "created_at": null, "expires_at": null, "last_used_at": null, "revoked_at": null
            }),
            &[&admin],
        )
        .expect("parses");
        assert_eq!(key.remote_id, "id[2J1");
        assert_eq!(key.name, "]8;;https://evil.exampleclick]8;; [redacted]");
        assert_eq!(key.scopes, ["read"]);
    }
}
