//! A Netlify site's environment variable as a deploy target
//! (`netlify:PROVIDER:ACCOUNT:SITE:VARIABLE`), through the `netlify`
//! connection's bearer token and the account env API:
//! `GET`/`PUT`/`DELETE /api/v1/accounts/{account}/env/{key}?site_id={site}`
//! and `POST /api/v1/accounts/{account}/env?site_id={site}` to create one.
//! The key is one value for every deploy context (`all`); the variable's
//! scopes are kept (all scopes for a new one). A secret variable, or one
//! with a value per context, cannot be put back as it was and is refused.
//! Nothing here logs or returns a value.

use std::sync::Mutex;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};

use super::remote_value::{check_id, check_variable, remote_failure, segment, Held, VariableStore};
use super::Remote;
use crate::catalog::TargetSpec;
use crate::error::{Error, Result};
use crate::http::{Answer, Auth, Call, HttpEngine};
use crate::secret::Secret;

/// The scopes a new variable gets.
const ALL_SCOPES: [&str; 4] = ["builds", "functions", "runtime", "post-processing"];

/// One variable of one site in one account.
pub struct NetlifyVariable {
    provider: String,
    account: String,
    site: String,
    variable: String,
    remote: Result<Remote>,
    /// The variable's scopes as last read (kept on update).
    scopes: Mutex<Option<Vec<String>>>,
}

impl NetlifyVariable {
    pub fn new(
        provider: &str,
        account: &str,
        site: &str,
        variable: &str,
        remote: Result<Remote>,
    ) -> Self {
        Self {
            provider: provider.to_owned(),
            account: account.to_owned(),
            site: site.to_owned(),
            variable: variable.to_owned(),
            remote,
            scopes: Mutex::new(None),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer> {
        let remote = self.remote.as_ref().map_err(super::again)?;
        let engine = HttpEngine::new(&remote.base_url, remote.policy.clone())?;
        engine
            .send(Call {
                method,
                path,
                auth: Auth::Bearer(&remote.token),
                headers: &[],
                body,
                idempotency_key: None,
            })
            .await
    }

    fn failed(&self, answer: Answer) -> Error {
        remote_failure(
            answer,
            &format!("Netlify site {} in account {}", self.site, self.account),
            &format!(
                "Netlify refused the variable {} (its name or value)",
                self.variable
            ),
        )
    }

    fn one(&self) -> String {
        format!(
            "/api/v1/accounts/{}/env/{}?site_id={}",
            segment(&self.account),
            self.variable,
            segment(&self.site)
        )
    }

    fn scopes(&self) -> Vec<String> {
        self.scopes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| ALL_SCOPES.iter().map(|s| (*s).to_owned()).collect())
    }
}

#[async_trait]
impl VariableStore for NetlifyVariable {
    fn describe(&self) -> String {
        format!("Netlify variable {} of site {}", self.variable, self.site)
    }

    fn spec(&self) -> TargetSpec {
        TargetSpec::Netlify {
            provider: self.provider.clone(),
            account: self.account.clone(),
            site: self.site.clone(),
            variable: self.variable.clone(),
        }
    }

    fn tag(&self) -> &'static str {
        "netlify"
    }

    fn check(&self, value: Option<&Secret>) -> Result<()> {
        check_id("Netlify account (its id or slug)", &self.account)?;
        check_id("Netlify site (its id)", &self.site)?;
        check_variable("Netlify", &self.variable, 255)?;
        if value.is_some_and(|v| v.expose_secret().len() > 5000) {
            return Err(Error::invalid(
                "target",
                "Netlify keeps values of at most 5,000 characters; this key is longer",
            ));
        }
        Ok(())
    }

    async fn read(&self) -> Result<Held> {
        let answer = self.call(Method::GET, &self.one(), None).await?;
        match answer.status.as_u16() {
            200 => {
                let mut body = answer.json()?;
                let scopes = body["scopes"].as_array().map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str())
                        .filter(|s| ALL_SCOPES.contains(s))
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                });
                *self.scopes.lock().unwrap_or_else(|p| p.into_inner()) = scopes;
                let secret = body["is_secret"].as_bool() == Some(true);
                let values = body["values"].as_array().map_or(0, Vec::len);
                let held = if secret {
                    Held::Unreadable(
                        "Netlify keeps it as a secret, whose value cannot be read".into(),
                    )
                } else if values != 1 || body["values"][0]["context"].as_str() != Some("all") {
                    Held::Unreadable(
                        "it has a value per deploy context, which one key cannot replace".into(),
                    )
                } else {
                    match body["values"][0].get_mut("value") {
                        Some(Value::String(v)) => Held::Value(Secret::take_from(v)),
                        _ => Held::Unreadable("Netlify does not give its value back".into()),
                    }
                };
                super::aws_store::wipe(&mut body);
                Ok(held)
            }
            404 => Ok(Held::Absent),
            _ => Err(self.failed(answer)),
        }
    }

    async fn put(&self, value: &Secret, exists: bool) -> Result<Option<String>> {
        let one = json!({
            "key": self.variable,
            "scopes": self.scopes(),
            "values": [{ "value": value.expose_secret(), "context": "all" }],
        });
        let (answer, mut body) = if exists {
            (self.call(Method::PUT, &self.one(), Some(&one)).await, one)
        } else {
            let path = format!(
                "/api/v1/accounts/{}/env?site_id={}",
                segment(&self.account),
                segment(&self.site)
            );
            let all = json!([one]);
            (self.call(Method::POST, &path, Some(&all)).await, all)
        };
        super::aws_store::wipe(&mut body);
        let answer = answer?;
        match answer.status.as_u16() {
            200 | 201 => Ok(None),
            _ => Err(self.failed(answer)),
        }
    }

    async fn delete(&self) -> Result<()> {
        let answer = self.call(Method::DELETE, &self.one(), None).await?;
        match answer.status.as_u16() {
            200 | 204 | 404 => Ok(()),
            _ => Err(self.failed(answer)),
        }
    }
}
