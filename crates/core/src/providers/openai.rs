//! Connector for OpenAI project API keys, managed with an admin key
//! (`sk-admin-…`, `Authorization: Bearer`) in one project (the
//! connection's `project`, `proj_…`). Keys are made as service-account
//! keys: each create adds a service account named after the key, whose
//! first key is returned once. A revoke deletes the key and then its
//! service account when that account holds no other key (deleting the
//! account is documented to delete its keys too). The listing pages by
//! `after` while `has_more`; times are unix seconds, turned into RFC 3339.
//! A key is checked with `GET /models` (403 = valid but restricted, so
//! accepted; 401 rejected). Never logs or returns a key in an error.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};

use super::rest;
use super::{Capabilities, Connector, KeySpec, RemoteKey, Verification};
use crate::error::{Error, Result};
use crate::http::{Answer, Call, HttpPolicy};
use crate::secret::Secret;
use crate::untrusted::{self, MAX_CODE, MAX_ID, MAX_MESSAGE, MAX_NAME, MAX_PREVIEW};

/// The hosted API.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// Pages of the listing read at most.
const MAX_PAGES: usize = 100;

/// A connection to one OpenAI project's keys.
#[derive(Debug)]
pub struct OpenAiConnector {
    api: rest::Bearer,
    project: String,
}

/// Checks a project id (`proj_…` as shown in the project's settings).
pub fn check_project(project: &str) -> Result<String> {
    let project = project.trim();
    match rest::path_id(project) {
        Ok(p) if !p.is_empty() => Ok(p.to_owned()),
        _ => Err(Error::invalid(
            "project",
            "OpenAI needs --project: the project id (proj_…) from the project's settings",
        )),
    }
}

/// `{"error": {"message", "code"}}`: the cleaned message and code.
fn error_parts(answer: &Answer) -> (String, String) {
    let Ok(body) = answer.json() else {
        return (String::new(), String::new());
    };
    (
        body["error"]["message"]
            .as_str()
            .map(|m| answer.clean(m, MAX_MESSAGE))
            .unwrap_or_default(),
        body["error"]["code"]
            .as_str()
            .map(|c| answer.clean(c, MAX_CODE))
            .unwrap_or_default(),
    )
}

fn error_of(answer: Answer) -> Error {
    let (text, _) = error_parts(&answer);
    match answer.status.as_u16() {
        400 | 422 => Error::InvalidInput {
            field: "request".into(),
            message: if text.is_empty() {
                "OpenAI refused the request as invalid".into()
            } else {
                format!("OpenAI refused the request: {text}")
            },
        },
        _ => answer.into_error(),
    }
}

/// The service account that owns a listed key, if one does.
fn service_account_of(v: &Value) -> Option<String> {
    (v["owner"]["type"].as_str() == Some("service_account"))
        .then(|| v["owner"]["service_account"]["id"].as_str())
        .flatten()
        .and_then(|id| rest::path_id(id).ok().map(str::to_owned))
}

fn remote_key(v: &Value, secrets: &[&Secret]) -> Result<RemoteKey> {
    Ok(RemoteKey {
        remote_id: rest::text(v, "id", MAX_ID, secrets)?,
        // A service-account key is named by its account (the name given
        // at create; the key itself is called "Secret Key").
        name: match service_account_of(v) {
            Some(_) => {
                rest::text_or_empty(&v["owner"]["service_account"], "name", MAX_NAME, secrets)?
            }
            None => rest::text_or_empty(v, "name", MAX_NAME, secrets)?,
        },
        preview: match &v["redacted_value"] {
            Value::String(p) => untrusted::clean_message(p, MAX_PREVIEW, secrets),
            _ => String::new(),
        },
        scopes: vec![],
        created_at: rest::unix_seconds(v, "created_at")?,
        expires_at: None,
        last_used_at: rest::unix_seconds(v, "last_used_at")?,
        revoked_at: None,
        request_count: None,
    })
}

/// An OpenAI project key: `sk-` and at least 20 more characters.
fn key_shape(k: &str) -> bool {
    k.starts_with("sk-") && k.len() >= 23 && k.bytes().all(|b| b.is_ascii_graphic())
}

impl OpenAiConnector {
    pub fn new(
        base_url: &str,
        project: &str,
        credential: Secret,
        policy: HttpPolicy,
    ) -> Result<Self> {
        let project = check_project(project)?;
        let api = rest::Bearer::new(
            base_url,
            DEFAULT_BASE_URL,
            credential,
            "Enter an OpenAI admin key (sk-admin-…)",
            policy,
            error_of,
        )?;
        Ok(Self { api, project })
    }

    fn project_path(&self, rest: &str) -> String {
        format!("/organization/projects/{}{rest}", self.project)
    }

    /// Every key record of the project, raw (owners included).
    async fn records(&self) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let query = match &after {
                Some(id) => format!("/api_keys?limit=100&after={id}"),
                None => "/api_keys?limit=100".into(),
            };
            let mut body = self
                .api
                .call(Method::GET, &self.project_path(&query), None)
                .await?
                .json()?;
            let Some(Value::Array(page)) = body.get_mut("data").map(Value::take) else {
                return Err(Error::BadResponse("a key list without 'data'".into()));
            };
            let last = page
                .last()
                .and_then(|k| k["id"].as_str())
                .and_then(|id| rest::path_id(id).ok())
                .map(str::to_owned);
            all.extend(page);
            match (body["has_more"].as_bool(), last) {
                (Some(true), Some(id)) => after = Some(id),
                _ => return Ok(all),
            }
        }
        Err(Error::BadResponse("a key list that never ends".into()))
    }

    /// One key record, raw: `None` on 404.
    async fn record(&self, remote_id: &str) -> Result<Option<Value>> {
        let path = self.project_path(&format!("/api_keys/{}", rest::path_id(remote_id)?));
        match self.api.call(Method::GET, &path, None).await {
            Ok(answer) => answer.json().map(Some),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl Connector for OpenAiConnector {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            last_used: true,
            ..Capabilities::basic(true, true, true, true)
        }
    }

    /// OpenAI shows a key as `sk-…abcd`: the key is this record when it
    /// starts and ends as the redacted value does.
    fn owns(&self, key: &Secret, remote: &RemoteKey) -> bool {
        let k = key.expose_secret();
        match remote.preview.split_once("...") {
            Some((head, tail)) if !head.is_empty() && !tail.is_empty() => {
                k.starts_with(head) && k.ends_with(tail) && k.len() > head.len() + tail.len()
            }
            _ => remote.preview == key.masked(),
        }
    }

    async fn list(&self) -> Result<Vec<RemoteKey>> {
        self.records()
            .await?
            .iter()
            .map(|k| remote_key(k, &[&self.api.credential]))
            .collect()
    }

    /// A new service account named after the key; its first key.
    async fn create(&self, spec: &KeySpec, _idempotency_key: &str) -> Result<(RemoteKey, Secret)> {
        rest::no_scopes(&spec.scopes, "OpenAI")?;
        if spec.expires_in_days.is_some() {
            return Err(Error::invalid(
                "expires_in_days",
                "OpenAI project keys do not expire",
            ));
        }
        let body = json!({ "name": spec.name });
        let answer = self
            .api
            .call(
                Method::POST,
                &self.project_path("/service_accounts"),
                Some(&body),
            )
            .await?;
        let mut value = answer.json()?;
        drop(answer);
        let key = rest::take_secret(&mut value, "/api_key/value", key_shape)?;
        let secrets = [&self.api.credential, &key];
        let api_key = &value["api_key"];
        let parsed = rest::text(api_key, "id", MAX_ID, &secrets).and_then(|id| {
            Ok(RemoteKey {
                remote_id: id,
                name: rest::text_or_empty(&value, "name", MAX_NAME, &secrets)?,
                preview: key.masked(),
                scopes: vec![],
                created_at: rest::unix_seconds(api_key, "created_at")?,
                expires_at: None,
                last_used_at: None,
                revoked_at: None,
                request_count: None,
            })
        });
        rest::wipe(&mut value);
        Ok((parsed?, key))
    }

    async fn get(&self, remote_id: &str) -> Result<Option<RemoteKey>> {
        match self.record(remote_id).await? {
            Some(v) => remote_key(&v, &[&self.api.credential]).map(Some),
            None => Ok(None),
        }
    }

    async fn last_used(&self, remote_id: &str) -> Result<Option<String>> {
        self.get(remote_id)
            .await?
            .map(|k| k.last_used_at)
            .ok_or_else(|| Error::NotFound(format!("Key {remote_id}")))
    }

    /// Deletes the key, then its service account if that holds no other
    /// key. A key already gone (404) is done.
    async fn revoke(&self, remote_id: &str) -> Result<()> {
        let Some(record) = self.record(remote_id).await? else {
            return Ok(());
        };
        let account = service_account_of(&record);
        let path = self.project_path(&format!("/api_keys/{}", rest::path_id(remote_id)?));
        match self.api.call(Method::DELETE, &path, None).await {
            Ok(_) | Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        if let Some(account) = account {
            let others = self
                .records()
                .await?
                .iter()
                .any(|k| service_account_of(k).as_deref() == Some(account.as_str()));
            if !others {
                let path = self.project_path(&format!("/service_accounts/{account}"));
                match self.api.call(Method::DELETE, &path, None).await {
                    Ok(_) | Err(Error::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// `GET /models` with the key: 2xx or 403 (valid, restricted)
    /// accepted, 401 rejected, anything else an error.
    async fn verify(&self, key: &Secret) -> Result<Verification> {
        let answer = self.api.http.send(Call::bearer_get("/models", key)).await?;
        match answer.status.as_u16() {
            200..=299 => {
                answer.json()?["data"]
                    .as_array()
                    .ok_or_else(|| Error::BadResponse("a model list without 'data'".into()))?;
                Ok(Verification::Accepted)
            }
            403 => Ok(Verification::Accepted),
            401 => {
                let (_, code) = error_parts(&answer);
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
        self.api
            .call(Method::GET, &self.project_path("/api_keys?limit=1"), None)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_owned_by_its_redacted_value() {
        let conn = OpenAiConnector::new(
            "http://127.0.0.1:1",
            "proj_abc",
            Secret::new("sk-admin-x"),
            HttpPolicy::default(),
        )
        .expect("open");
        let remote = RemoteKey {
            remote_id: "key_1".into(),
            name: "n".into(),
            preview: "sk-svcacct-...wxyz".into(),
            scopes: vec![],
            created_at: None,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            request_count: None,
        };
        assert!(conn.owns(&Secret::new("sk-svcacct-0123456789abcdefwxyz"), &remote));
        assert!(!conn.owns(&Secret::new("sk-svcacct-0123456789abcdefwxyq"), &remote));
        assert!(!conn.owns(&Secret::new("sk-proj-0123456789abcdefwxyz"), &remote));
    }

    #[test]
    fn projects_are_plain_ids() {
        assert_eq!(check_project(" proj_abc ").unwrap(), "proj_abc");
        assert!(check_project("").is_err());
        assert!(check_project("a/b").is_err());
    }
}
