//! A fake Vercel API on loopback, written from the documented shapes
//! (`shared/services/README.md`, Vercel's REST reference): project env
//! variables (`POST /v10/projects/{p}/env?upsert=true`, `GET
//! /v10/projects/{p}/env`, `GET /v1/projects/{p}/env/{id}` with the
//! decrypted value — none for `sensitive` ones —, `DELETE
//! /v9/projects/{p}/env/{id}`), a 64 KB value limit and name rules (400),
//! and account tokens (`POST /v3/user/tokens` → `{token, bearerToken}`,
//! `GET /v6/user/tokens`, `DELETE /v3/user/tokens/{id}`, `GET /v2/user`).
//! Errors are `{error:{code, message}}`: 401 unknown token, 403 read-only
//! token on writes, 404 unknown project or token. Switches: the next N
//! calls 429 with a Retry-After. Used as `latchkey_testkit::fakes::vercel`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

/// The connection's token.
pub const TOKEN: &str = "vercel_connection_token_0001";
/// May read, not write (403 on writes).
pub const READ_ONLY: &str = "vercel_read_only_token_0002";

#[derive(Clone, Debug)]
pub struct Env {
    pub id: String,
    pub key: String,
    pub value: String,
    pub kind: String,
    pub target: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub id: String,
    pub name: String,
    pub value: String,
    pub expires_at: Option<i64>,
}

#[derive(Default)]
struct Inner {
    projects: HashMap<String, Vec<Env>>,
    tokens: Vec<Token>,
    throttle: Option<(usize, u64)>,
    creates: usize,
    seq: u64,
}

#[derive(Clone, Default)]
pub struct FakeVercel {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

impl FakeVercel {
    pub async fn start() -> Self {
        let mut fake = FakeVercel::default();
        fake.inner.lock().unwrap().tokens.push(Token {
            id: "tok_connection".into(),
            name: "latchkey".into(),
            value: TOKEN.into(),
            expires_at: None,
        });
        let (listener, base) = super::listen().await;
        fake.base = base;
        let app = Router::new()
            .route("/v10/projects/{p}/env", get(env_list).post(env_upsert))
            .route("/v1/projects/{p}/env/{id}", get(env_get))
            .route("/v9/projects/{p}/env/{id}", delete(env_delete))
            .route("/v2/user", get(user))
            .route("/v6/user/tokens", get(token_list))
            .route("/v3/user/tokens", post(token_create))
            .route("/v3/user/tokens/{id}", delete(token_delete))
            .with_state(fake.clone());
        super::serve(listener, app);
        fake
    }

    pub fn add_project(&self, name: &str) {
        self.inner
            .lock()
            .unwrap()
            .projects
            .insert(name.into(), vec![]);
    }

    /// A variable put there by someone else (`kind`: encrypted, sensitive).
    pub fn seed(&self, project: &str, key: &str, value: &str, kind: &str) {
        let mut inner = self.inner.lock().unwrap();
        inner.seq += 1;
        let id = format!("env_{}", inner.seq);
        let envs = inner.projects.get_mut(project).expect("project");
        envs.retain(|e| e.key != key);
        envs.push(Env {
            id,
            key: key.into(),
            value: value.into(),
            kind: kind.into(),
            target: vec!["production".into()],
        });
    }

    /// One more value of `key`, for some targets only (a key the project
    /// has once per environment).
    pub fn seed_for(&self, project: &str, key: &str, value: &str, target: &str) {
        let mut inner = self.inner.lock().unwrap();
        inner.seq += 1;
        let id = format!("env_{}", inner.seq);
        inner.projects.get_mut(project).expect("project").push(Env {
            id,
            key: key.into(),
            value: value.into(),
            kind: "encrypted".into(),
            target: vec![target.into()],
        });
    }

    pub fn env(&self, project: &str, key: &str) -> Option<Env> {
        self.inner.lock().unwrap().projects[project]
            .iter()
            .find(|e| e.key == key)
            .cloned()
    }

    pub fn count(&self, project: &str) -> usize {
        self.inner.lock().unwrap().projects[project].len()
    }

    pub fn tokens(&self) -> Vec<Token> {
        self.inner.lock().unwrap().tokens.clone()
    }

    pub fn creates(&self) -> usize {
        self.inner.lock().unwrap().creates
    }

    pub fn throttle(&self, calls: usize, retry_after_secs: u64) {
        self.inner.lock().unwrap().throttle = (calls > 0).then_some((calls, retry_after_secs));
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

fn gate(fake: &FakeVercel, headers: &HeaderMap, write: bool) -> Option<Response> {
    let mut inner = fake.inner.lock().unwrap();
    if let Some((left, secs)) = inner.throttle {
        inner.throttle = (left > 1).then_some((left - 1, secs));
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Rate limit exceeded",
        );
        r.headers_mut()
            .insert("retry-after", secs.to_string().parse().unwrap());
        return Some(r);
    }
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if given == READ_ONLY {
        return write.then(|| error(StatusCode::FORBIDDEN, "forbidden", "Not authorized"));
    }
    if inner.tokens.iter().any(|t| t.value == given) {
        None
    } else {
        Some(error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The token is not valid",
        ))
    }
}

fn no_project() -> Response {
    error(StatusCode::NOT_FOUND, "not_found", "Project not found")
}

fn env_json(e: &Env, with_value: bool) -> Value {
    json!({
        "id": e.id,
        "key": e.key,
        "type": e.kind,
        "target": e.target,
        // The list gives an encrypted blob, never the value.
        "value": if with_value { json!(e.value) } else { json!("eyJ2IjoiZW5jcnlwdGVkIn0") },
        "createdAt": 1_764_800_000_000i64,
        "updatedAt": 1_764_800_000_000i64,
    })
}

async fn env_list(State(f): State<FakeVercel>, Path(p): Path<String>, h: HeaderMap) -> Response {
    if let Some(r) = gate(&f, &h, false) {
        return r;
    }
    let inner = f.inner.lock().unwrap();
    match inner.projects.get(&p) {
        Some(envs) => Json(json!({
            "envs": envs.iter().map(|e| env_json(e, false)).collect::<Vec<_>>()
        }))
        .into_response(),
        None => no_project(),
    }
}

async fn env_get(
    State(f): State<FakeVercel>,
    Path((p, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    if let Some(r) = gate(&f, &h, false) {
        return r;
    }
    let inner = f.inner.lock().unwrap();
    let Some(envs) = inner.projects.get(&p) else {
        return no_project();
    };
    match envs.iter().find(|e| e.id == id) {
        Some(e) if e.kind == "sensitive" => {
            let mut out = env_json(e, false);
            out["decrypted"] = json!(false);
            out.as_object_mut().unwrap().remove("value");
            Json(out).into_response()
        }
        Some(e) => {
            let mut out = env_json(e, true);
            out["decrypted"] = json!(true);
            Json(out).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Environment Variable not found",
        ),
    }
}

async fn env_upsert(
    State(f): State<FakeVercel>,
    Path(p): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = gate(&f, &h, true) {
        return r;
    }
    let mut inner = f.inner.lock().unwrap();
    inner.seq += 1;
    let id = format!("env_{}", inner.seq);
    let Some(envs) = inner.projects.get_mut(&p) else {
        return no_project();
    };
    let key = body["key"].as_str().unwrap_or("");
    let valid = !key.is_empty()
        && !key.as_bytes()[0].is_ascii_digit()
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return error(StatusCode::BAD_REQUEST, "bad_request", "Invalid key");
    }
    let Some(value) = body["value"].as_str() else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "Missing value");
    };
    if value.len() > 64 * 1024 {
        return error(StatusCode::BAD_REQUEST, "env_too_large", "Value too large");
    }
    let kind = body["type"].as_str().unwrap_or("");
    if !["encrypted", "sensitive", "plain"].contains(&kind) {
        return error(StatusCode::BAD_REQUEST, "bad_request", "Invalid type");
    }
    let target: Vec<String> = body["target"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if target.is_empty() {
        return error(StatusCode::BAD_REQUEST, "bad_request", "Missing target");
    }
    let upsert = q.get("upsert").map(String::as_str) == Some("true");
    if let Some(e) = envs.iter_mut().find(|e| e.key == key) {
        if !upsert {
            return error(
                StatusCode::BAD_REQUEST,
                "ENV_ALREADY_EXISTS",
                "Already exists",
            );
        }
        e.value = value.into();
        e.kind = kind.into();
        e.target = target;
        let out = env_json(e, false);
        return (StatusCode::CREATED, Json(json!({ "created": out }))).into_response();
    }
    let e = Env {
        id,
        key: key.into(),
        value: value.into(),
        kind: kind.into(),
        target,
    };
    let out = env_json(&e, false);
    envs.push(e);
    (StatusCode::CREATED, Json(json!({ "created": out }))).into_response()
}

async fn env_delete(
    State(f): State<FakeVercel>,
    Path((p, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    if let Some(r) = gate(&f, &h, true) {
        return r;
    }
    let mut inner = f.inner.lock().unwrap();
    let Some(envs) = inner.projects.get_mut(&p) else {
        return no_project();
    };
    let before = envs.len();
    envs.retain(|e| e.id != id);
    if envs.len() == before {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Environment Variable not found",
        );
    }
    Json(json!({ "id": id })).into_response()
}

async fn user(State(f): State<FakeVercel>, h: HeaderMap) -> Response {
    if let Some(r) = gate(&f, &h, false) {
        return r;
    }
    Json(json!({ "user": { "id": "usr_1", "username": "octo" } })).into_response()
}

fn token_json(t: &Token) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "type": "oauth2-token",
        "origin": "manual",
        "activeAt": 1_764_800_000_000i64,
        "createdAt": 1_764_700_000_000i64,
        "expiresAt": t.expires_at,
    })
}

async fn token_list(State(f): State<FakeVercel>, h: HeaderMap) -> Response {
    if let Some(r) = gate(&f, &h, false) {
        return r;
    }
    let inner = f.inner.lock().unwrap();
    Json(json!({
        "tokens": inner.tokens.iter().map(token_json).collect::<Vec<_>>(),
        "pagination": { "count": inner.tokens.len(), "next": null, "prev": null },
    }))
    .into_response()
}

async fn token_create(
    State(f): State<FakeVercel>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = gate(&f, &h, true) {
        return r;
    }
    let mut inner = f.inner.lock().unwrap();
    inner.creates += 1;
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "Missing name");
    };
    inner.seq += 1;
    let t = Token {
        id: format!("tok_{}", inner.seq),
        name: name.into(),
        value: format!("vercel_new_token_{:0>8}", inner.seq),
        expires_at: body["expiresAt"].as_i64(),
    };
    let out = json!({ "token": token_json(&t), "bearerToken": t.value });
    inner.tokens.push(t);
    Json(out).into_response()
}

async fn token_delete(
    State(f): State<FakeVercel>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> Response {
    if let Some(r) = gate(&f, &h, true) {
        return r;
    }
    let mut inner = f.inner.lock().unwrap();
    let before = inner.tokens.len();
    inner.tokens.retain(|t| t.id != id);
    if inner.tokens.len() == before {
        return error(StatusCode::NOT_FOUND, "not_found", "Token not found");
    }
    Json(json!({ "tokenId": id })).into_response()
}
