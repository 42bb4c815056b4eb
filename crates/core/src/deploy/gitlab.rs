//! A GitLab CI/CD variable of a project as a deploy target
//! (`gitlab:PROVIDER:PROJECT:VARIABLE[:SCOPE]`), written through the
//! `gitlab` connection's token (`PRIVATE-TOKEN`) with the project
//! variables API: `GET`/`PUT`/`DELETE /api/v4/projects/{id}/variables/{key}`
//! and `POST /api/v4/projects/{id}/variables`, always for one environment
//! scope (`*` when none is named). A value GitLab can mask (at least 8
//! characters on one line, the Base64 alphabet plus `@ : . ~ - _`) is
//! written masked; any other is written unmasked and the write says why.
//! A hidden variable (value `null`) cannot be checked or put back and is
//! refused (see `remote_value`). Nothing here logs or returns a value.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};

use super::remote_value::{check_id, check_variable, remote_failure, segment, Held, VariableStore};
use super::Remote;
use crate::catalog::TargetSpec;
use crate::error::{Error, Result};
use crate::http::{Answer, Auth, Call, HttpEngine};
use crate::secret::Secret;

/// GitLab keeps values of at most 10,000 characters.
pub const MAX_VALUE_CHARS: usize = 10_000;

/// Whether GitLab can mask this value: at least 8 characters, one line,
/// only the Base64 alphabet (both forms) and `@ : . ~`.
pub fn maskable(value: &str) -> bool {
    value.len() >= 8
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=@:.~-_".contains(&b))
}

/// Why a value is not masked, in plain words.
const NOT_MASKED: &str = "it is not masked in job logs: GitLab masks only values of at least 8 characters on one line made of letters, digits and + / = @ : . ~ - _, and this key has others";

/// One variable of one project, for one environment scope.
pub struct GitlabVariable {
    provider: String,
    project: String,
    variable: String,
    scope: Option<String>,
    remote: Result<Remote>,
}

impl GitlabVariable {
    pub fn new(
        provider: &str,
        project: &str,
        variable: &str,
        scope: Option<&str>,
        remote: Result<Remote>,
    ) -> Self {
        Self {
            provider: provider.to_owned(),
            project: project.to_owned(),
            variable: variable.to_owned(),
            scope: scope.map(str::to_owned),
            remote,
        }
    }

    fn scope(&self) -> &str {
        self.scope.as_deref().unwrap_or("*")
    }

    fn base(&self) -> String {
        format!("/api/v4/projects/{}/variables", segment(&self.project))
    }

    fn one(&self) -> String {
        format!(
            "{}/{}?filter%5Benvironment_scope%5D={}",
            self.base(),
            self.variable,
            segment(self.scope())
        )
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer> {
        let remote = self.remote.as_ref().map_err(super::again)?;
        let engine = HttpEngine::new(&remote.base_url, remote.policy.clone())?;
        engine
            .send(Call {
                method,
                path,
                auth: Auth::Header("PRIVATE-TOKEN", &remote.token),
                headers: &[],
                body,
                idempotency_key: None,
            })
            .await
    }

    fn failed(&self, answer: Answer) -> Error {
        remote_failure(
            answer,
            &format!("GitLab project {}", self.project),
            &format!(
                "GitLab refused the variable {} (its name, scope or value)",
                self.variable
            ),
        )
    }
}

#[async_trait]
impl VariableStore for GitlabVariable {
    fn describe(&self) -> String {
        match &self.scope {
            None => format!(
                "GitLab variable {} in project {}",
                self.variable, self.project
            ),
            Some(s) => format!(
                "GitLab variable {} (environment {s}) in project {}",
                self.variable, self.project
            ),
        }
    }

    fn spec(&self) -> TargetSpec {
        TargetSpec::Gitlab {
            provider: self.provider.clone(),
            project: self.project.clone(),
            variable: self.variable.clone(),
            scope: self.scope.clone(),
        }
    }

    fn tag(&self) -> &'static str {
        "gitlab"
    }

    fn check(&self, value: Option<&Secret>) -> Result<()> {
        check_id("GitLab project (its id or path)", &self.project)?;
        check_variable("GitLab", &self.variable, 255)?;
        if let Some(scope) = &self.scope {
            check_id("environment scope", scope)?;
        }
        if value.is_some_and(|v| v.expose_secret().chars().count() > MAX_VALUE_CHARS) {
            return Err(Error::invalid(
                "target",
                "GitLab keeps variable values of at most 10,000 characters; this key is longer",
            ));
        }
        Ok(())
    }

    async fn read(&self) -> Result<Held> {
        let answer = self.call(Method::GET, &self.one(), None).await?;
        match answer.status.as_u16() {
            200 => {
                let mut body = answer.json()?;
                let held = match body.get_mut("value") {
                    Some(Value::String(v)) => Held::Value(Secret::take_from(v)),
                    Some(Value::Null) | None => Held::Unreadable("GitLab hides its value".into()),
                    Some(_) => {
                        return Err(Error::BadResponse(
                            "a GitLab variable whose value is not text".into(),
                        ))
                    }
                };
                super::aws_store::wipe(&mut body);
                Ok(held)
            }
            // GitLab says which thing is missing: only a missing variable
            // is "absent"; a missing project (or any other 404) is an error.
            404 => {
                let variable_missing = answer
                    .json()
                    .ok()
                    .and_then(|b| b["message"].as_str().map(str::to_owned))
                    .is_some_and(|m| m.contains("Variable Not Found"));
                if variable_missing {
                    Ok(Held::Absent)
                } else {
                    Err(self.failed(answer))
                }
            }
            _ => Err(self.failed(answer)),
        }
    }

    async fn put(&self, value: &Secret, exists: bool) -> Result<Option<String>> {
        let masked = maskable(value.expose_secret());
        let mut body = if exists {
            json!({ "value": value.expose_secret(), "masked": masked, "variable_type": "env_var" })
        } else {
            json!({
                "key": self.variable,
                "value": value.expose_secret(),
                "masked": masked,
                "protected": false,
                "environment_scope": self.scope(),
                "variable_type": "env_var",
            })
        };
        let answer = if exists {
            self.call(Method::PUT, &self.one(), Some(&body)).await
        } else {
            self.call(Method::POST, &self.base(), Some(&body)).await
        };
        super::aws_store::wipe(&mut body);
        let answer = answer?;
        match answer.status.as_u16() {
            200 | 201 => Ok((!masked).then(|| NOT_MASKED.to_owned())),
            _ => Err(self.failed(answer)),
        }
    }

    fn plan_note(&self) -> Option<String> {
        Some(
            "GitLab masks the key in job logs when it can (at least 8 characters on one line, \
             letters, digits and + / = @ : . ~ - _); the deploy says so if it cannot"
                .into(),
        )
    }

    async fn delete(&self) -> Result<()> {
        let answer = self.call(Method::DELETE, &self.one(), None).await?;
        match answer.status.as_u16() {
            204 | 404 => Ok(()),
            _ => Err(self.failed(answer)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::maskable;

    #[test]
    fn values_are_masked_only_when_gitlab_can_mask_them() {
        for yes in ["glpat-abcdefgh12345678", "abcdefgh", "a+b/c=d@e:f.g~h-i_j"] {
            assert!(maskable(yes), "{yes}");
        }
        for no in [
            "short",
            "has space in it",
            "two\nlines!",
            "sk-ünïcode-key",
            "a$bcdefgh",
        ] {
            assert!(!maskable(no), "{no}");
        }
    }
}
