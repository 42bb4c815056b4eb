//! A fake GitLab API on loopback, written from the documented shapes
//! (`shared/services/README.md`): project CI/CD variables
//! (`/api/v4/projects/{id}/variables[/{key}]` with
//! `filter[environment_scope]`, `PRIVATE-TOKEN`), the masked-value rule (a
//! masked value must be ≥ 8 characters, one line, the Base64 alphabet plus
//! `@ : . ~ - _`, else 400), hidden variables (value `null`), a 200-variable
//! limit (400), 404 "Project Not Found" / "Variable Not Found"; and
//! personal access tokens (`/api/v4/personal_access_tokens[/{id|self}]`,
//! `…/rotate` with reuse detection: rotating a token that was already
//! rotated revokes the newest token of its family); and project access
//! tokens of project 42 (path `acme/app`, given as `acme%2Fapp`):
//! `/api/v4/projects/{id}/access_tokens[/{id|self}[/rotate]]` with the same
//! rotate and reuse rules, held by the project's bot (user 50), whose
//! token `GET /personal_access_tokens/self` describes too. Switches: answer the
//! next N calls 429 with a Retry-After, answer HTML, and a "slow" rotate
//! that is carried out but answered only after a delay (past a client's
//! timeout); rotate calls are counted. Used as `latchkey_testkit::fakes::gitlab`.
#![allow(dead_code)]
// A test server: an error answer is a whole response, by design.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

/// The connection's token (personal access token id 1, user 7).
pub const TOKEN: &str = "glpat-connectiontoken000001";
/// A second token of the same user (id 2).
pub const CI_TOKEN: &str = "glpat-citokenforpipeline0002";
/// Project 42's access token the connection signs in with (id 10, bot
/// user 50, Maintainer).
pub const PROJECT_TOKEN: &str = "glpat-projectbottoken0000010";
/// A second access token of project 42 (id 11, Developer).
pub const PROJECT_CI_TOKEN: &str = "glpat-projectcitoken00000011";
/// Project 42's numeric id and its path.
pub const PROJECT_ID: &str = "42";
pub const PROJECT_PATH: &str = "acme/app";
/// A token that may read but not write variables (403 on writes).
pub const READ_ONLY: &str = "glpat-reporterreadonly000003";

#[derive(Clone, Debug)]
pub struct Var {
    pub value: String,
    pub masked: bool,
    pub hidden: bool,
    pub protected: bool,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub id: u64,
    pub name: String,
    pub value: String,
    pub active: bool,
    pub revoked: bool,
    /// The token this one was rotated into.
    pub rotated_into: Option<u64>,
    pub family: u64,
    pub expires_at: String,
    pub last_used_at: Option<String>,
    /// The project whose access token this is (`None`: a personal one).
    pub project: Option<String>,
    pub access_level: u64,
}

#[derive(Default)]
struct Inner {
    /// project -> (key, scope) -> variable
    projects: HashMap<String, BTreeMap<(String, String), Var>>,
    tokens: Vec<Token>,
    rotate_calls: usize,
    slow_rotate: Option<Duration>,
    /// Rotates are carried out, then answered with this status (a 502
    /// from a proxy in front of GitLab).
    rotate_status: Option<u16>,
    /// The next N calls answer 429 with this Retry-After.
    throttle: Option<(usize, u64)>,
    html: bool,
    seq: u64,
}

#[derive(Clone, Default)]
pub struct FakeGitlab {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

pub const VARIABLE_LIMIT: usize = 200;

fn maskable(v: &str) -> bool {
    v.len() >= 8
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=@:.~-_".contains(&b))
}

impl FakeGitlab {
    pub async fn start() -> Self {
        let mut fake = FakeGitlab::default();
        {
            let mut inner = fake.inner.lock().unwrap();
            for (id, name, value) in [(1, "latchkey", TOKEN), (2, "ci", CI_TOKEN)] {
                inner.tokens.push(Token {
                    id,
                    name: name.into(),
                    value: value.into(),
                    active: true,
                    revoked: false,
                    rotated_into: None,
                    family: id,
                    expires_at: "2027-01-01".into(),
                    last_used_at: Some("2026-11-30T10:00:00.000Z".into()),
                    project: None,
                    access_level: 0,
                });
            }
            for (id, name, value, level) in [
                (10, "project-bot", PROJECT_TOKEN, 40),
                (11, "project-ci", PROJECT_CI_TOKEN, 30),
            ] {
                inner.tokens.push(Token {
                    id,
                    name: name.into(),
                    value: value.into(),
                    active: true,
                    revoked: false,
                    rotated_into: None,
                    family: id,
                    expires_at: "2027-01-01".into(),
                    last_used_at: Some("2026-11-29T10:00:00.000Z".into()),
                    project: Some(PROJECT_ID.into()),
                    access_level: level,
                });
            }
            inner.seq = 11;
        }
        let (listener, base) = super::listen().await;
        fake.base = base;
        let app = Router::new()
            .route("/api/v4/projects/{id}/variables", post(var_create))
            .route(
                "/api/v4/projects/{id}/variables/{key}",
                get(var_get).put(var_update).delete(var_delete),
            )
            .route("/api/v4/personal_access_tokens", get(token_list))
            .route(
                "/api/v4/personal_access_tokens/{id}",
                get(token_get).delete(token_revoke),
            )
            .route(
                "/api/v4/personal_access_tokens/{id}/rotate",
                post(token_rotate),
            )
            .route(
                "/api/v4/projects/{project}/access_tokens",
                get(project_token_list),
            )
            .route(
                "/api/v4/projects/{project}/access_tokens/{id}",
                get(project_token_get).delete(project_token_revoke),
            )
            .route(
                "/api/v4/projects/{project}/access_tokens/{id}/rotate",
                post(project_token_rotate),
            )
            .with_state(fake.clone());
        super::serve(listener, app);
        fake
    }

    pub fn add_project(&self, id: &str) {
        self.inner
            .lock()
            .unwrap()
            .projects
            .insert(id.into(), BTreeMap::new());
    }

    /// A variable put there by someone else.
    pub fn seed(&self, project: &str, key: &str, scope: &str, value: &str, hidden: bool) {
        let mut inner = self.inner.lock().unwrap();
        inner.projects.get_mut(project).expect("project").insert(
            (key.into(), scope.into()),
            Var {
                value: value.into(),
                masked: hidden || maskable(value),
                hidden,
                protected: false,
            },
        );
    }

    pub fn var(&self, project: &str, key: &str, scope: &str) -> Option<Var> {
        self.inner.lock().unwrap().projects[project]
            .get(&(key.to_owned(), scope.to_owned()))
            .cloned()
    }

    pub fn count(&self, project: &str) -> usize {
        self.inner.lock().unwrap().projects[project].len()
    }

    pub fn tokens(&self) -> Vec<Token> {
        self.inner.lock().unwrap().tokens.clone()
    }

    pub fn token(&self, id: u64) -> Token {
        self.tokens()
            .into_iter()
            .find(|t| t.id == id)
            .expect("token")
    }

    pub fn rotate_calls(&self) -> usize {
        self.inner.lock().unwrap().rotate_calls
    }

    /// Rotates are carried out, then answered only after `delay`.
    pub fn slow_rotate(&self, delay: Option<Duration>) {
        self.inner.lock().unwrap().slow_rotate = delay;
    }

    pub fn rotate_status(&self, status: Option<u16>) {
        self.inner.lock().unwrap().rotate_status = status;
    }

    pub fn throttle(&self, calls: usize, retry_after_secs: u64) {
        self.inner.lock().unwrap().throttle = (calls > 0).then_some((calls, retry_after_secs));
    }

    pub fn html(&self, on: bool) {
        self.inner.lock().unwrap().html = on;
    }
}

fn message(status: StatusCode, message: Value) -> Response {
    (status, Json(json!({ "message": message }))).into_response()
}

/// The common gate: throttling, HTML, then the token. `Ok(token)`.
fn gate(fake: &FakeGitlab, headers: &HeaderMap, write: bool) -> Result<Token, Response> {
    let mut inner = fake.inner.lock().unwrap();
    if let Some((left, secs)) = inner.throttle {
        inner.throttle = (left > 1).then_some((left - 1, secs));
        let mut r = message(StatusCode::TOO_MANY_REQUESTS, json!("Retry later"));
        r.headers_mut()
            .insert("retry-after", secs.to_string().parse().unwrap());
        return Err(r);
    }
    if inner.html {
        return Err((StatusCode::OK, "<html><body>Sign in</body></html>").into_response());
    }
    let given = headers
        .get("private-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if given == READ_ONLY {
        if write {
            return Err(message(StatusCode::FORBIDDEN, json!("403 Forbidden")));
        }
        return Ok(Token {
            id: 99,
            name: "reporter".into(),
            value: READ_ONLY.into(),
            active: true,
            revoked: false,
            rotated_into: None,
            family: 99,
            expires_at: "2027-01-01".into(),
            last_used_at: None,
            project: None,
            access_level: 0,
        });
    }
    match inner
        .tokens
        .iter()
        .find(|t| t.value == given && t.active)
        .cloned()
    {
        Some(t) => Ok(t),
        None => Err(message(StatusCode::UNAUTHORIZED, json!("401 Unauthorized"))),
    }
}

fn scope_of(q: &HashMap<String, String>) -> String {
    q.get("filter[environment_scope]")
        .cloned()
        .unwrap_or_else(|| "*".into())
}

fn var_json(key: &str, scope: &str, v: &Var) -> Value {
    json!({
        "key": key,
        "value": if v.hidden { Value::Null } else { json!(v.value) },
        "masked": v.masked,
        "hidden": v.hidden,
        "protected": v.protected,
        "environment_scope": scope,
        "variable_type": "env_var",
        "raw": false,
    })
}

fn project_missing() -> Response {
    message(StatusCode::NOT_FOUND, json!("404 Project Not Found"))
}

fn var_missing() -> Response {
    message(StatusCode::NOT_FOUND, json!("404 Variable Not Found"))
}

/// GitLab's 400 for values and names it refuses.
fn check_value(body: &Value, masked: bool) -> Option<Response> {
    let value = body["value"].as_str()?;
    if value.chars().count() > 10_000 {
        return Some(message(
            StatusCode::BAD_REQUEST,
            json!({"value": ["is too long (maximum is 10000 characters)"]}),
        ));
    }
    if masked && !maskable(value) {
        return Some(message(
            StatusCode::BAD_REQUEST,
            json!({"value": ["is invalid"]}),
        ));
    }
    None
}

async fn var_get(
    State(f): State<FakeGitlab>,
    Path((id, key)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = gate(&f, &h, false) {
        return r;
    }
    let inner = f.inner.lock().unwrap();
    let Some(vars) = inner.projects.get(&id) else {
        return project_missing();
    };
    let scope = scope_of(&q);
    match vars.get(&(key.clone(), scope.clone())) {
        Some(v) => Json(var_json(&key, &scope, v)).into_response(),
        None => var_missing(),
    }
}

async fn var_create(
    State(f): State<FakeGitlab>,
    Path(id): Path<String>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = gate(&f, &h, true) {
        return r;
    }
    let mut inner = f.inner.lock().unwrap();
    let Some(vars) = inner.projects.get_mut(&id) else {
        return project_missing();
    };
    let key = body["key"].as_str().unwrap_or("").to_owned();
    if key.is_empty()
        || key.len() > 255
        || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return message(
            StatusCode::BAD_REQUEST,
            json!({"key": ["can contain only letters, digits and '_'."]}),
        );
    }
    let masked = body["masked"].as_bool().unwrap_or(false);
    if let Some(r) = check_value(&body, masked) {
        return r;
    }
    let scope = body["environment_scope"].as_str().unwrap_or("*").to_owned();
    if vars.contains_key(&(key.clone(), scope.clone())) {
        return message(
            StatusCode::BAD_REQUEST,
            json!({"key": [format!("({key}) has already been taken")]}),
        );
    }
    if vars.len() >= VARIABLE_LIMIT {
        return message(
            StatusCode::BAD_REQUEST,
            json!(format!(
                "Maximum number of project ci variables ({VARIABLE_LIMIT}) exceeded"
            )),
        );
    }
    let var = Var {
        value: body["value"].as_str().unwrap_or("").to_owned(),
        masked,
        hidden: body["masked_and_hidden"].as_bool().unwrap_or(false),
        protected: body["protected"].as_bool().unwrap_or(false),
    };
    let out = var_json(&key, &scope, &var);
    vars.insert((key, scope), var);
    (StatusCode::CREATED, Json(out)).into_response()
}

async fn var_update(
    State(f): State<FakeGitlab>,
    Path((id, key)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = gate(&f, &h, true) {
        return r;
    }
    let mut inner = f.inner.lock().unwrap();
    let Some(vars) = inner.projects.get_mut(&id) else {
        return project_missing();
    };
    let scope = scope_of(&q);
    let Some(var) = vars.get_mut(&(key.clone(), scope.clone())) else {
        return var_missing();
    };
    let masked = body["masked"].as_bool().unwrap_or(var.masked);
    if var.hidden && !masked {
        return message(
            StatusCode::BAD_REQUEST,
            json!({"masked": ["cannot be unset for a hidden variable"]}),
        );
    }
    if let Some(r) = check_value(&body, masked) {
        return r;
    }
    if let Some(v) = body["value"].as_str() {
        var.value = v.to_owned();
    }
    var.masked = masked;
    Json(var_json(&key, &scope, var)).into_response()
}

async fn var_delete(
    State(f): State<FakeGitlab>,
    Path((id, key)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = gate(&f, &h, true) {
        return r;
    }
    let mut inner = f.inner.lock().unwrap();
    let Some(vars) = inner.projects.get_mut(&id) else {
        return project_missing();
    };
    match vars.remove(&(key, scope_of(&q))) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => var_missing(),
    }
}

fn token_json(t: &Token) -> Value {
    let mut out = json!({
        "id": t.id,
        "name": t.name,
        "revoked": t.revoked,
        "created_at": "2026-11-01T00:00:00.000Z",
        "description": null,
        "scopes": ["api"],
        "user_id": if t.project.is_some() { 50 } else { 7 },
        "last_used_at": t.last_used_at,
        "active": t.active,
        "expires_at": t.expires_at,
    });
    if t.project.is_some() {
        out["access_level"] = json!(t.access_level);
    }
    out
}

/// `?user_id=` lists that user's tokens (all are user 7's here); without
/// it an admin's token would see every user's, so the fake answers 400 to
/// make a client that forgets it fail.
async fn token_list(
    State(f): State<FakeGitlab>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = gate(&f, &h, false) {
        return r;
    }
    let inner = f.inner.lock().unwrap();
    match q.get("user_id").map(String::as_str) {
        Some("7") => Json(Value::Array(
            inner
                .tokens
                .iter()
                .filter(|t| t.project.is_none())
                .map(token_json)
                .collect(),
        ))
        .into_response(),
        Some(_) => Json(json!([])).into_response(),
        None => message(StatusCode::BAD_REQUEST, json!("user_id is missing")),
    }
}

/// `self` is the calling token. `project`: the project whose tokens the
/// call is about (`None`: personal tokens, where `self` is any token).
fn resolve(inner: &Inner, caller: &Token, id: &str, project: Option<&str>) -> Option<Token> {
    let found = if id == "self" {
        if project.is_some() && caller.project.as_deref() != project {
            return None;
        }
        Some(caller.clone())
    } else {
        let id: u64 = id.parse().ok()?;
        inner.tokens.iter().find(|t| t.id == id).cloned()
    }?;
    match project {
        Some(p) => (found.project.as_deref() == Some(p)).then_some(found),
        None => (id == "self" || found.project.is_none()).then_some(found),
    }
}

/// A project as the route gives it (decoded): its id or its path.
fn project_of(given: &str) -> Option<&'static str> {
    (given == PROJECT_ID || given == PROJECT_PATH).then_some(PROJECT_ID)
}

async fn token_get(State(f): State<FakeGitlab>, Path(id): Path<String>, h: HeaderMap) -> Response {
    get_in(f, None, id, h)
}

async fn project_token_get(
    State(f): State<FakeGitlab>,
    Path((project, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    match project_of(&project) {
        Some(p) => get_in(f, Some(p), id, h),
        None => project_missing(),
    }
}

fn get_in(f: FakeGitlab, project: Option<&str>, id: String, h: HeaderMap) -> Response {
    let caller = match gate(&f, &h, false) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let inner = f.inner.lock().unwrap();
    match resolve(&inner, &caller, &id, project) {
        Some(t) => Json(token_json(&t)).into_response(),
        None => message(StatusCode::NOT_FOUND, json!("404 Not Found")),
    }
}

async fn token_revoke(
    State(f): State<FakeGitlab>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> Response {
    revoke_in(f, None, id, h)
}

async fn project_token_revoke(
    State(f): State<FakeGitlab>,
    Path((project, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    match project_of(&project) {
        Some(p) => revoke_in(f, Some(p), id, h),
        None => project_missing(),
    }
}

fn revoke_in(f: FakeGitlab, project: Option<&str>, id: String, h: HeaderMap) -> Response {
    let caller = match gate(&f, &h, true) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut inner = f.inner.lock().unwrap();
    let Some(t) = resolve(&inner, &caller, &id, project) else {
        return message(StatusCode::NOT_FOUND, json!("404 Not Found"));
    };
    let t = inner.tokens.iter_mut().find(|x| x.id == t.id).unwrap();
    if t.revoked {
        return message(StatusCode::NOT_FOUND, json!("404 Not Found"));
    }
    t.revoked = true;
    t.active = false;
    StatusCode::NO_CONTENT.into_response()
}

async fn token_rotate(
    State(f): State<FakeGitlab>,
    Path(id): Path<String>,
    h: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    rotate_in(f, None, id, h, body).await
}

async fn project_token_rotate(
    State(f): State<FakeGitlab>,
    Path((project, id)): Path<(String, String)>,
    h: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    match project_of(&project) {
        Some(p) => rotate_in(f, Some(p), id, h, body).await,
        None => project_missing(),
    }
}

async fn rotate_in(
    f: FakeGitlab,
    project: Option<&str>,
    id: String,
    h: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    f.inner.lock().unwrap().rotate_calls += 1;
    // A rotated (revoked) token calling /self is reuse too: look it up by
    // value, active or not.
    let given = h
        .get("private-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let caller = match gate(&f, &h, true) {
        Ok(t) => t,
        Err(r) => {
            if id == "self" {
                let mut inner = f.inner.lock().unwrap();
                if let Some(t) = inner.tokens.iter().find(|t| t.value == given).cloned() {
                    if t.rotated_into.is_some() {
                        revoke_newest(&mut inner, t.family);
                    }
                }
            }
            return r;
        }
    };
    let (answer, delay, status) = {
        let mut inner = f.inner.lock().unwrap();
        let delay = inner.slow_rotate;
        let status = inner.rotate_status;
        let Some(old) = resolve(&inner, &caller, &id, project) else {
            return message(StatusCode::NOT_FOUND, json!("404 Not Found"));
        };
        if old.rotated_into.is_some() || old.revoked {
            // Reuse: the newest token of the family is revoked.
            revoke_newest(&mut inner, old.family);
            return message(
                StatusCode::BAD_REQUEST,
                json!("400 Bad request - Token already revoked"),
            );
        }
        inner.seq += 1;
        let new_id = inner.seq;
        let expires_at = body
            .as_ref()
            .and_then(|b| b["expires_at"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "one-week-default".into());
        let new = Token {
            id: new_id,
            name: old.name.clone(),
            value: format!("glpat-rotated{new_id:0>16}"),
            active: true,
            revoked: false,
            rotated_into: None,
            family: old.family,
            expires_at,
            last_used_at: None,
            project: old.project.clone(),
            access_level: old.access_level,
        };
        let o = inner.tokens.iter_mut().find(|t| t.id == old.id).unwrap();
        o.revoked = true;
        o.active = false;
        o.rotated_into = Some(new_id);
        let mut out = token_json(&new);
        out["token"] = json!(new.value);
        inner.tokens.push(new);
        (out, delay, status)
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    if let Some(status) = status {
        return (
            StatusCode::from_u16(status).unwrap(),
            "<html>502 Bad Gateway</html>",
        )
            .into_response();
    }
    Json(answer).into_response()
}

/// `GET /projects/{id}/access_tokens`: active and revoked alike (the
/// `state` filter, `active` or `inactive`, narrows it).
async fn project_token_list(
    State(f): State<FakeGitlab>,
    Path(project): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
) -> Response {
    if let Err(r) = gate(&f, &h, false) {
        return r;
    }
    let Some(project) = project_of(&project) else {
        return project_missing();
    };
    let inner = f.inner.lock().unwrap();
    let state = q.get("state").map(String::as_str);
    Json(Value::Array(
        inner
            .tokens
            .iter()
            .filter(|t| t.project.as_deref() == Some(project))
            .filter(|t| match state {
                Some("active") => t.active,
                Some("inactive") => !t.active,
                _ => true,
            })
            .map(token_json)
            .collect(),
    ))
    .into_response()
}

fn revoke_newest(inner: &mut Inner, family: u64) {
    if let Some(newest) = inner
        .tokens
        .iter_mut()
        .filter(|t| t.family == family)
        .max_by_key(|t| t.id)
    {
        newest.revoked = true;
        newest.active = false;
    }
}
