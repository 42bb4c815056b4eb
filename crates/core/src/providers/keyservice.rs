//! Connector for the reference key service contract
//! (`shared/keyservice-api.md`), which the Demo provider also speaks.
//! Answers are parsed strictly: a missing or mistyped field is
//! `bad_response`, never a panic.

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{Capabilities, KeySpec, Provider, RemoteKey, Verification};
use crate::error::{Error, Result};
use crate::http::{Call, HttpEngine, HttpPolicy};
use crate::secret::Secret;

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
                token: &self.admin_token,
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

fn text(v: &Value, field: &str) -> Result<String> {
    v[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::BadResponse(format!("a key without a valid '{field}'")))
}

fn optional_text(v: &Value, field: &str) -> Result<Option<String>> {
    match &v[field] {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(Error::BadResponse(format!(
            "a key with a mistyped '{field}'"
        ))),
    }
}

fn remote_key(v: &Value) -> Result<RemoteKey> {
    let scopes = v["permissions"]
        .as_array()
        .ok_or_else(|| Error::BadResponse("a key without 'permissions'".into()))?
        .iter()
        .map(|p| {
            p.as_str()
                .map(str::to_owned)
                .ok_or_else(|| Error::BadResponse("a mistyped permission".into()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RemoteKey {
        remote_id: text(v, "id")?,
        name: text(v, "name")?,
        preview: text(v, "key_preview")?,
        scopes,
        created_at: optional_text(v, "created_at")?,
        expires_at: optional_text(v, "expires_at")?,
        last_used_at: optional_text(v, "last_used_at")?,
        revoked_at: optional_text(v, "revoked_at")?,
    })
}

#[async_trait]
impl Provider for KeyserviceProvider {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            list: true,
            create: true,
            revoke: true,
            verify: true,
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
            .map(remote_key)
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
        let key = match value.get_mut("key").map(Value::take) {
            Some(Value::String(k)) if !k.is_empty() => Secret::new(k),
            _ => {
                return Err(Error::BadResponse(
                    "a created key without its secret".into(),
                ))
            }
        };
        Ok((remote_key(&value)?, key))
    }

    async fn revoke(&self, remote_id: &str) -> Result<()> {
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
        let answer = self
            .http
            .send(Call {
                method: Method::GET,
                path: "/v1/verify",
                token: key,
                body: None,
                idempotency_key: None,
            })
            .await?;
        match answer.status {
            s if s.is_success() => Ok(Verification::Accepted),
            StatusCode::UNAUTHORIZED => {
                let code = answer
                    .json()
                    .ok()
                    .and_then(|b| b["error"]["code"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| "UNAUTHORIZED".into());
                Ok(Verification::Rejected { code })
            }
            _ => Err(answer.into_error()),
        }
    }
}
