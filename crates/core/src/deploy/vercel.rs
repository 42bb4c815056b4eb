//! A Vercel project's environment variable as a deploy target
//! (`vercel:PROVIDER:PROJECT:VARIABLE`), through the `vercel` connection's
//! bearer token. The key is written with
//! `POST /v10/projects/{idOrName}/env?upsert=true` as an `encrypted`
//! variable for production, preview and development; it is found again in
//! `GET /v10/projects/{idOrName}/env` and read back with
//! `GET /v1/projects/{idOrName}/env/{id}` (the decrypted value); a rollback
//! of a variable the deploy created is `DELETE /v9/projects/{p}/env/{id}`.
//! A `sensitive` variable cannot be read back and is refused. A running
//! deployment keeps its old value: the change takes effect on the next
//! deployment, which every write says. Nothing here logs or returns a value.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};

use super::remote_value::{check_id, check_variable, remote_failure, segment, Held, VariableStore};
use super::Remote;
use crate::catalog::TargetSpec;
use crate::error::{Error, Result};
use crate::http::{Answer, Auth, Call, HttpEngine};
use crate::secret::Secret;

/// Vercel keeps at most 64 KB of environment variables per deployment.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

const TARGETS: [&str; 3] = ["production", "preview", "development"];

/// `find`'s type for a key the project has more than once.
const SPLIT: &str = "latchkey:split";

/// One variable of one project.
pub struct VercelVariable {
    provider: String,
    project: String,
    variable: String,
    remote: Result<Remote>,
}

impl VercelVariable {
    pub fn new(provider: &str, project: &str, variable: &str, remote: Result<Remote>) -> Self {
        Self {
            provider: provider.to_owned(),
            project: project.to_owned(),
            variable: variable.to_owned(),
            remote,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Answer> {
        let remote = self.remote.as_ref().map_err(super::again)?;
        let engine = HttpEngine::new(&remote.base_url, remote.policy.clone())?;
        engine
            .send(Call {
                method,
                path,
                auth: Auth::Bearer(&remote.token),
                headers: &[],
                body,
                idempotency_key,
            })
            .await
    }

    fn failed(&self, answer: Answer) -> Error {
        remote_failure(
            answer,
            &format!("Vercel project {}", self.project),
            &format!(
                "Vercel refused the variable {} (its name or value)",
                self.variable
            ),
        )
    }

    fn project_path(&self) -> String {
        segment(&self.project)
    }

    /// The variable's id and type, when the project has it.
    async fn find(&self) -> Result<Option<(String, String)>> {
        let path = format!("/v10/projects/{}/env", self.project_path());
        let answer = self.call(Method::GET, &path, None, None).await?;
        if answer.status.as_u16() != 200 {
            return Err(self.failed(answer));
        }
        let body = answer.json()?;
        let envs = body["envs"]
            .as_array()
            .ok_or_else(|| Error::BadResponse("a Vercel env list without envs".into()))?;
        let mut found = envs
            .iter()
            .filter(|e| e["key"].as_str() == Some(self.variable.as_str()));
        let first = found.next();
        if first.is_some() && found.next().is_some() {
            // One value per environment: one key cannot replace them all,
            // nor could a rollback put them back.
            return Ok(Some((String::new(), SPLIT.to_owned())));
        }
        Ok(match first {
            None => None,
            Some(e) => {
                let id = e["id"]
                    .as_str()
                    .filter(|id| !id.is_empty() && id.len() <= 200)
                    .ok_or_else(|| Error::BadResponse("a Vercel variable without its id".into()))?;
                Some((
                    answer.clean(id, 200),
                    e["type"].as_str().unwrap_or("").to_owned(),
                ))
            }
        })
    }
}

#[async_trait]
impl VariableStore for VercelVariable {
    fn describe(&self) -> String {
        format!(
            "Vercel variable {} in project {}",
            self.variable, self.project
        )
    }

    fn spec(&self) -> TargetSpec {
        TargetSpec::Vercel {
            provider: self.provider.clone(),
            project: self.project.clone(),
            variable: self.variable.clone(),
        }
    }

    fn tag(&self) -> &'static str {
        "vercel"
    }

    fn check(&self, value: Option<&Secret>) -> Result<()> {
        check_id("Vercel project (its id or name)", &self.project)?;
        check_variable("Vercel", &self.variable, 256)?;
        if value.is_some_and(|v| v.expose_secret().len() > MAX_VALUE_BYTES) {
            return Err(Error::invalid(
                "target",
                "Vercel keeps at most 64 KB of variables; this key is larger",
            ));
        }
        Ok(())
    }

    async fn read(&self) -> Result<Held> {
        let Some((id, kind)) = self.find().await? else {
            return Ok(Held::Absent);
        };
        if kind == SPLIT {
            return Ok(Held::Unreadable(
                "it has a separate value per environment, which one key cannot replace".into(),
            ));
        }
        if kind == "sensitive" {
            return Ok(Held::Unreadable(
                "Vercel keeps it as a sensitive variable, whose value cannot be read".into(),
            ));
        }
        let path = format!("/v1/projects/{}/env/{}", self.project_path(), segment(&id));
        let answer = self.call(Method::GET, &path, None, None).await?;
        match answer.status.as_u16() {
            200 => {
                let mut body = answer.json()?;
                let decrypted = body["decrypted"].as_bool() == Some(true);
                let held = match body.get_mut("value") {
                    Some(Value::String(v)) if decrypted => Held::Value(Secret::take_from(v)),
                    _ => Held::Unreadable("Vercel does not give its value back".into()),
                };
                super::aws_store::wipe(&mut body);
                Ok(held)
            }
            // Deleted between the list and the read.
            404 => Ok(Held::Absent),
            _ => Err(self.failed(answer)),
        }
    }

    /// An upsert: the same call creates or replaces, and sending it again
    /// sets the same value, so it is safe to retry.
    async fn put(&self, value: &Secret, _exists: bool) -> Result<Option<String>> {
        let mut body = json!({
            "key": self.variable,
            "value": value.expose_secret(),
            "type": "encrypted",
            "target": TARGETS,
        });
        let path = format!("/v10/projects/{}/env?upsert=true", self.project_path());
        let retry_key = uuid::Uuid::new_v4().to_string();
        let answer = self
            .call(Method::POST, &path, Some(&body), Some(&retry_key))
            .await;
        super::aws_store::wipe(&mut body);
        let answer = answer?;
        match answer.status.as_u16() {
            200 | 201 => Ok(None),
            _ => Err(self.failed(answer)),
        }
    }

    async fn delete(&self) -> Result<()> {
        let Some((id, kind)) = self.find().await? else {
            return Ok(());
        };
        if kind == SPLIT {
            return Err(Error::RollbackFailed(format!(
                "{} now has a value per environment; it was left as it is",
                self.describe()
            )));
        }
        let path = format!("/v9/projects/{}/env/{}", self.project_path(), segment(&id));
        let answer = self.call(Method::DELETE, &path, None, None).await?;
        match answer.status.as_u16() {
            200 | 204 | 404 => Ok(()),
            _ => Err(self.failed(answer)),
        }
    }

    fn after_write(&self) -> Option<String> {
        Some("it takes effect on the project's next deployment: redeploy to use it".into())
    }
}
