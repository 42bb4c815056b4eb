//! A fake Netlify API on loopback, written from the documented shapes
//! (`shared/services/README.md`, Netlify's open-api): account env
//! variables for a site (`GET`/`PUT`/`DELETE
//! /api/v1/accounts/{a}/env/{key}?site_id=`, `POST
//! /api/v1/accounts/{a}/env?site_id=` with a list), `{key, scopes,
//! values:[{id, value, context}], is_secret}`; secret values are not given
//! back; 400 for a bad key, an existing key on create or an empty value
//! list; 401 unknown token, 403 read-only token on writes, 404 unknown
//! account, site or variable (`{code, message}`); `GET /api/v1/user`.
//! Switches: the next N calls 429 with a Retry-After. Used as `latchkey_testkit::fakes::netlify`.
#![allow(dead_code)]
// A test server: an error answer is a whole response, by design.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub const TOKEN: &str = "nfp_connectiontoken0000000000000001";
pub const READ_ONLY: &str = "nfp_readonlytoken00000000000000002";

#[derive(Clone, Debug)]
pub struct Var {
    pub scopes: Vec<String>,
    /// (context, value)
    pub values: Vec<(String, String)>,
    pub is_secret: bool,
}

#[derive(Default)]
struct Inner {
    /// account -> its sites
    accounts: HashMap<String, HashSet<String>>,
    /// (account, site, key)
    vars: HashMap<(String, String, String), Var>,
    throttle: Option<(usize, u64)>,
}

#[derive(Clone, Default)]
pub struct FakeNetlify {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

impl FakeNetlify {
    pub async fn start() -> Self {
        let mut fake = FakeNetlify::default();
        let (listener, base) = super::listen().await;
        fake.base = base;
        let app = Router::new()
            .route("/api/v1/user", get(user))
            .route("/api/v1/accounts/{a}/env", post(create))
            .route(
                "/api/v1/accounts/{a}/env/{key}",
                get(read).put(update).delete(remove),
            )
            .with_state(fake.clone());
        super::serve(listener, app);
        fake
    }

    pub fn add_site(&self, account: &str, site: &str) {
        self.inner
            .lock()
            .unwrap()
            .accounts
            .entry(account.into())
            .or_default()
            .insert(site.into());
    }

    pub fn seed(&self, account: &str, site: &str, key: &str, var: Var) {
        self.inner
            .lock()
            .unwrap()
            .vars
            .insert((account.into(), site.into(), key.into()), var);
    }

    pub fn var(&self, account: &str, site: &str, key: &str) -> Option<Var> {
        self.inner
            .lock()
            .unwrap()
            .vars
            .get(&(account.into(), site.into(), key.into()))
            .cloned()
    }

    pub fn count(&self) -> usize {
        self.inner.lock().unwrap().vars.len()
    }

    pub fn throttle(&self, calls: usize, retry_after_secs: u64) {
        self.inner.lock().unwrap().throttle = (calls > 0).then_some((calls, retry_after_secs));
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "code": status.as_u16(), "message": message })),
    )
        .into_response()
}

fn gate(fake: &FakeNetlify, headers: &HeaderMap, write: bool) -> Option<Response> {
    let mut inner = fake.inner.lock().unwrap();
    if let Some((left, secs)) = inner.throttle {
        inner.throttle = (left > 1).then_some((left - 1, secs));
        let mut r = error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
        r.headers_mut()
            .insert("retry-after", secs.to_string().parse().unwrap());
        return Some(r);
    }
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    match given {
        TOKEN => None,
        READ_ONLY if !write => None,
        READ_ONLY => Some(error(StatusCode::FORBIDDEN, "Forbidden")),
        _ => Some(error(StatusCode::UNAUTHORIZED, "Access Denied")),
    }
}

fn var_json(key: &str, v: &Var) -> Value {
    json!({
        "key": key,
        "scopes": v.scopes,
        "is_secret": v.is_secret,
        "values": v.values.iter().enumerate().map(|(i, (context, value))| json!({
            "id": format!("val_{i}"),
            "context": context,
            // Secret values are never given back.
            "value": if v.is_secret { json!("") } else { json!(value) },
        })).collect::<Vec<_>>(),
        "updated_at": "2026-12-01T00:00:00Z",
    })
}

/// The site named by `site_id`, in `account`; 404 otherwise.
fn place(inner: &Inner, account: &str, q: &HashMap<String, String>) -> Result<String, Response> {
    let site = q.get("site_id").cloned().unwrap_or_default();
    match inner.accounts.get(account) {
        Some(sites) if sites.contains(&site) => Ok(site),
        _ => Err(error(StatusCode::NOT_FOUND, "Not Found")),
    }
}

fn parse(body: &Value) -> Result<(String, Var), Response> {
    let key = body["key"].as_str().unwrap_or("");
    let valid = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Err(error(StatusCode::BAD_REQUEST, "Invalid key"));
    }
    let values: Vec<(String, String)> = body["values"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| {
                    (
                        v["context"].as_str().unwrap_or("").to_owned(),
                        v["value"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if values.is_empty() || values.iter().any(|(c, _)| c.is_empty()) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "values must each have a context",
        ));
    }
    let scopes = body["scopes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok((
        key.to_owned(),
        Var {
            scopes,
            values,
            is_secret: body["is_secret"].as_bool().unwrap_or(false),
        },
    ))
}

async fn user(State(f): State<FakeNetlify>, h: HeaderMap) -> Response {
    if let Some(r) = gate(&f, &h, false) {
        return r;
    }
    Json(json!({ "id": "u1", "email": "octo@example.com" })).into_response()
}

async fn read(
    State(f): State<FakeNetlify>,
    Path((a, key)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
) -> Response {
    if let Some(r) = gate(&f, &h, false) {
        return r;
    }
    let inner = f.inner.lock().unwrap();
    let site = match place(&inner, &a, &q) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match inner.vars.get(&(a, site, key.clone())) {
        Some(v) => Json(var_json(&key, v)).into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn create(
    State(f): State<FakeNetlify>,
    Path(a): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = gate(&f, &h, true) {
        return r;
    }
    let mut inner = f.inner.lock().unwrap();
    let site = match place(&inner, &a, &q) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(list) = body.as_array() else {
        return error(StatusCode::BAD_REQUEST, "Expected a list");
    };
    let mut made = vec![];
    for item in list {
        let (key, var) = match parse(item) {
            Ok(x) => x,
            Err(r) => return r,
        };
        if inner
            .vars
            .contains_key(&(a.clone(), site.clone(), key.clone()))
        {
            return error(
                StatusCode::BAD_REQUEST,
                "Environment variable already exists",
            );
        }
        made.push((key, var));
    }
    let out: Vec<Value> = made.iter().map(|(k, v)| var_json(k, v)).collect();
    for (key, var) in made {
        inner.vars.insert((a.clone(), site.clone(), key), var);
    }
    (StatusCode::CREATED, Json(Value::Array(out))).into_response()
}

async fn update(
    State(f): State<FakeNetlify>,
    Path((a, key)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = gate(&f, &h, true) {
        return r;
    }
    let mut inner = f.inner.lock().unwrap();
    let site = match place(&inner, &a, &q) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (body_key, var) = match parse(&body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if body_key != key {
        return error(StatusCode::BAD_REQUEST, "Key mismatch");
    }
    let slot = (a, site, key.clone());
    if !inner.vars.contains_key(&slot) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let out = var_json(&key, &var);
    inner.vars.insert(slot, var);
    Json(out).into_response()
}

async fn remove(
    State(f): State<FakeNetlify>,
    Path((a, key)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
) -> Response {
    if let Some(r) = gate(&f, &h, true) {
        return r;
    }
    let mut inner = f.inner.lock().unwrap();
    let site = match place(&inner, &a, &q) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match inner.vars.remove(&(a, site, key)) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}
