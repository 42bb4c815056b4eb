//! Connector for GitLab personal or project access tokens, with the
//! connection's own token (`PRIVATE-TOKEN`). A connection without a
//! project manages its user's personal access tokens; one with a project
//! (its numeric id or its path, `group/app` or `group%2Fapp`) manages that
//! project's access tokens instead, through the same calls under
//! `/api/v4/projects/{id}/access_tokens` (list, get, revoke, rotate and
//! `self/rotate`; listed active and revoked alike). The personal access
//! tokens API:
//! `GET /api/v4/personal_access_tokens` (the tokens the connection's user
//! owns), `GET …/{id}`, `DELETE …/{id}` (revoke, final),
//! `GET …/self` (verify: 200 works, 401 does not) and
//! `POST …/{id|self}/rotate` (roll in place, with an `expires_at` 30 days
//! ahead: GitLab's own default is one week). GitLab cannot make a
//! personal access token through this API, so `create` is not supported.
//!
//! The rotate is never sent twice: GitLab treats a rotate of a token that
//! was already rotated as reuse and revokes the newest token of that
//! family. A rotate without a clear answer (a timeout, a dropped
//! connection, a 5xx) is `Error::OutcomeUnknown`, never retried. Nothing
//! here logs a token; the rotate's answer is wiped once read.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};

use super::gone_is_done;
use super::{not_supported, Capabilities, Connector, KeySpec, RemoteKey, Verification};
use crate::clock::{Clock, SystemClock};
use crate::deploy::aws_store::wipe;
use crate::error::{Error, Result};
use crate::http::{Answer, Auth, Call, HttpEngine, HttpPolicy};
use crate::secret::Secret;
use crate::untrusted::{self, MAX_ID, MAX_NAME, MAX_TIMESTAMP};

/// GitLab.com; a self-managed instance is its own address.
pub const DEFAULT_BASE_URL: &str = "https://gitlab.com";
/// How long a rolled token lives (GitLab's default is one week).
pub const ROLL_EXPIRY_DAYS: i64 = 30;

/// The personal access tokens API; its `self` describes any token, a
/// project bot's too (how the connection finds its own token's id).
const TOKENS: &str = "/api/v4/personal_access_tokens";

/// Which tokens a connection manages: its user's personal access tokens
/// or one project's access tokens. Chosen once; every call is made under
/// its base path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    Personal,
    /// The project's path segment as sent (`42`, `group%2Fapp`).
    Project(String),
}

pub struct GitlabProvider {
    http: HttpEngine,
    token: Secret,
    clock: Arc<dyn Clock>,
    scope: Scope,
    /// `/api/v4/personal_access_tokens` or `/api/v4/projects/{id}/access_tokens`.
    base: String,
}

/// A connection record's project as a GitLab project, `None` for a
/// personal-token connection (no project, or the `gitlab` marker older
/// connections carry: a project path always has a namespace). A numeric
/// id, or a path (`group/sub/app` or URL-encoded `group%2Fsub%2Fapp`) of
/// GitLab's path characters, kept decoded (`group/sub/app`).
pub fn check_project(project: &str) -> Result<Option<String>> {
    let project = project.trim();
    if project.is_empty() || project == "gitlab" {
        return Ok(None);
    }
    let decoded = project.replace("%2F", "/").replace("%2f", "/");
    let numeric = decoded.bytes().all(|b| b.is_ascii_digit()) && decoded.len() <= 20;
    let path = decoded.len() <= 255
        && decoded.contains('/')
        && decoded.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        });
    if numeric || path {
        Ok(Some(decoded))
    } else {
        Err(Error::invalid(
            "project",
            "Give the GitLab project as its numeric id or its path (group/project)",
        ))
    }
}

impl std::fmt::Debug for GitlabProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitlabProvider")
            .field("base", &self.http.base_url().as_str())
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// A token id as GitLab gives them: digits only.
fn id_of(remote_id: &str) -> Result<&str> {
    if !remote_id.is_empty()
        && remote_id.len() <= 20
        && remote_id.bytes().all(|b| b.is_ascii_digit())
    {
        Ok(remote_id)
    } else {
        Err(Error::invalid(
            "remote_id",
            "This token has no usable GitLab id",
        ))
    }
}

fn text(v: &Value, field: &str, max: usize, secrets: &[&Secret]) -> Option<String> {
    v[field].as_str().map(|s| untrusted::clean(s, max, secrets))
}

/// A token as GitLab describes it (never its value).
fn remote_key(v: &Value, secrets: &[&Secret]) -> Result<RemoteKey> {
    let id = match &v["id"] {
        Value::Number(n) if n.is_u64() => n.to_string(),
        _ => return Err(Error::BadResponse("a GitLab token without its id".into())),
    };
    let revoked = v["revoked"].as_bool() == Some(true) || v["active"].as_bool() == Some(false);
    Ok(RemoteKey {
        remote_id: id,
        name: text(v, "name", MAX_NAME, secrets).unwrap_or_default(),
        preview: String::new(),
        scopes: v["scopes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .take(32)
                    .map(|s| untrusted::clean(s, MAX_NAME, secrets))
                    .collect()
            })
            .unwrap_or_default(),
        created_at: text(v, "created_at", MAX_TIMESTAMP, secrets),
        expires_at: text(v, "expires_at", MAX_TIMESTAMP, secrets),
        last_used_at: text(v, "last_used_at", MAX_TIMESTAMP, secrets),
        // GitLab says only that a token is revoked, not when.
        revoked_at: revoked.then(|| "revoked".to_owned()),
        request_count: None,
    })
}

impl GitlabProvider {
    pub fn new(base_url: &str, token: Secret, policy: HttpPolicy) -> Result<Self> {
        Self::with_clock(base_url, token, policy, Arc::new(SystemClock))
    }

    pub fn with_clock(
        base_url: &str,
        token: Secret,
        policy: HttpPolicy,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        Ok(Self {
            http: HttpEngine::new(base_url, policy)?,
            token,
            clock,
            scope: Scope::Personal,
            base: TOKENS.to_owned(),
        })
    }

    /// Manages `project`'s access tokens instead of the user's personal
    /// ones (`project` as [`check_project`] takes it; `None`: personal).
    pub fn for_project(mut self, project: &str) -> Result<Self> {
        if let Some(project) = check_project(project)? {
            let segment: String =
                url::form_urlencoded::byte_serialize(project.as_bytes()).collect();
            self.base = format!("/api/v4/projects/{segment}/access_tokens");
            self.scope = Scope::Project(segment);
        } else {
            self.scope = Scope::Personal;
            self.base = TOKENS.to_owned();
        }
        Ok(self)
    }

    /// The list call: a project's tokens (active and revoked), or the
    /// personal tokens of the connection's own user (`user_id`: an admin's
    /// token would otherwise list every user's tokens).
    async fn list_path(&self) -> Result<String> {
        if let Scope::Project(_) = self.scope {
            return Ok(format!("{}?per_page=100", self.base));
        }
        let own = self
            .managed(Method::GET, &format!("{TOKENS}/self"), None)
            .await?
            .json()?;
        let user = own["user_id"]
            .as_u64()
            .ok_or_else(|| Error::BadResponse("a GitLab token without its user_id".into()))?;
        Ok(format!("{}?user_id={user}&per_page=100", self.base))
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        key: &Secret,
        body: Option<&Value>,
    ) -> Result<Answer> {
        self.http
            .send(Call {
                method,
                path,
                auth: Auth::Header("PRIVATE-TOKEN", key),
                headers: &[],
                body,
                idempotency_key: None,
            })
            .await
    }

    /// A managed call with the connection's token; non-2xx as errors.
    async fn managed(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer> {
        let answer = self.send(method, path, &self.token, body).await?;
        if answer.status.is_success() {
            Ok(answer)
        } else {
            Err(failure(answer))
        }
    }

    /// The connection's own token as GitLab describes it.
    async fn own(&self) -> Result<RemoteKey> {
        let answer = self
            .managed(Method::GET, &format!("{TOKENS}/self"), None)
            .await?;
        remote_key(&answer.json()?, &[&self.token])
    }

    /// `YYYY-MM-DD`, `ROLL_EXPIRY_DAYS` after today (by the clock).
    fn roll_expiry(&self) -> String {
        let day = (self.clock.now() + time::Duration::days(ROLL_EXPIRY_DAYS)).date();
        format!(
            "{:04}-{:02}-{:02}",
            day.year(),
            u8::from(day.month()),
            day.day()
        )
    }
}

/// GitLab's answers as errors: a missing token is `not_found`; the rest
/// as the HTTP engine maps them (400 is a refused request).
fn failure(answer: Answer) -> Error {
    match answer.status.as_u16() {
        404 => Error::NotFound("That GitLab token".into()),
        400 => Error::invalid("request", "GitLab refused the request as invalid"),
        _ => answer.into_error(),
    }
}

#[async_trait]
impl Connector for GitlabProvider {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            roll: true,
            last_used: true,
            ..Capabilities::basic(true, false, true, true)
        }
    }

    /// The tokens of the connection's own user, or of its project.
    async fn list(&self) -> Result<Vec<RemoteKey>> {
        let path = self.list_path().await?;
        let answer = self.managed(Method::GET, &path, None).await?;
        let body = answer.json()?;
        let items = body
            .as_array()
            .ok_or_else(|| Error::BadResponse("a GitLab token list that is not a list".into()))?;
        items
            .iter()
            .map(|v| remote_key(v, &[&self.token]))
            .collect()
    }

    async fn create(&self, _: &KeySpec, _: &str) -> Result<(RemoteKey, Secret)> {
        Err(not_supported(match self.scope {
            Scope::Personal => "creating a GitLab personal access token (make one in GitLab's settings, then roll it here)",
            Scope::Project(_) => "creating a GitLab project access token (make one in the project's settings, then roll it here)",
        }))
    }

    async fn get(&self, remote_id: &str) -> Result<Option<RemoteKey>> {
        let path = format!("{}/{}", self.base, id_of(remote_id)?);
        match self.managed(Method::GET, &path, None).await {
            Ok(answer) => remote_key(&answer.json()?, &[&self.token]).map(Some),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Revoked for good; one already gone (404) counts as revoked.
    async fn revoke(&self, remote_id: &str) -> Result<()> {
        let path = format!("{}/{}", self.base, id_of(remote_id)?);
        gone_is_done(self.managed(Method::DELETE, &path, None).await)
    }

    /// A pasted token says which one it is: `GET /personal_access_tokens/self`
    /// with the token itself.
    async fn identify(&self, key: &Secret) -> Result<Option<String>> {
        let answer = self
            .send(Method::GET, &format!("{TOKENS}/self"), key, None)
            .await?;
        if answer.status.as_u16() != 200 {
            return Ok(None);
        }
        Ok(Some(
            remote_key(&answer.json()?, &[&self.token, key])?.remote_id,
        ))
    }

    /// `GET /personal_access_tokens/self` with the key: 200 works, 401
    /// does not.
    async fn verify(&self, key: &Secret) -> Result<Verification> {
        let answer = self
            .send(Method::GET, &format!("{TOKENS}/self"), key, None)
            .await?;
        match answer.status.as_u16() {
            200 => Ok(Verification::Accepted),
            401 => Ok(Verification::Rejected {
                code: "HTTP 401".into(),
            }),
            _ => Err(failure(answer)),
        }
    }

    /// The token works, and (for a project) the project's tokens can be
    /// read with it.
    async fn test(&self) -> Result<()> {
        self.own().await?;
        if let Scope::Project(_) = self.scope {
            self.managed(Method::GET, &format!("{}?per_page=1", self.base), None)
                .await?;
        }
        Ok(())
    }

    /// Rotates the token once (`/self/rotate` for the connection's own,
    /// found with `GET /personal_access_tokens/self`, which describes a
    /// project bot's token too).
    /// Sent exactly once: a rotate without a clear answer may have been
    /// carried out, and a second one would make GitLab revoke the newest
    /// token of the family, so it is `OutcomeUnknown`.
    async fn roll(&self, remote_id: &str) -> Result<(RemoteKey, Secret)> {
        let id = id_of(remote_id)?;
        let own = self.own().await?;
        let path = if own.remote_id == id {
            format!("{}/self/rotate", self.base)
        } else {
            format!("{}/{id}/rotate", self.base)
        };
        let body = json!({ "expires_at": self.roll_expiry() });
        let unknown = || {
            Error::OutcomeUnknown(format!(
                "GitLab may or may not have rotated token {id}. It was not asked again (a second \
                 rotate would make GitLab revoke the newest token). Look at the token in GitLab's \
                 settings before doing anything else with it"
            ))
        };
        // POST without an idempotency key: the engine sends it once.
        let answer = match self
            .send(Method::POST, &path, &self.token, Some(&body))
            .await
        {
            Ok(answer) => answer,
            Err(Error::Timeout | Error::Network(_)) => return Err(unknown()),
            Err(e) => return Err(e),
        };
        if answer.status.is_server_error() {
            return Err(unknown());
        }
        if !answer.status.is_success() {
            return Err(failure(answer));
        }
        let mut body = answer.json().map_err(|_| unknown())?;
        let token = match body.get_mut("token") {
            Some(Value::String(t)) if !t.is_empty() => Secret::take_from(t),
            _ => {
                wipe(&mut body);
                return Err(unknown());
            }
        };
        let key = remote_key(&body, &[&self.token, &token]);
        wipe(&mut body);
        let key = key.map_err(|_| unknown())?;
        if key.remote_id.len() > MAX_ID {
            return Err(unknown());
        }
        Ok((key, token))
    }

    async fn last_used(&self, remote_id: &str) -> Result<Option<String>> {
        match self.get(remote_id).await? {
            Some(k) => Ok(k.last_used_at),
            None => Err(Error::NotFound("That GitLab token".into())),
        }
    }
}
