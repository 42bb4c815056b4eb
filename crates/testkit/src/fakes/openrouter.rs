//! A fake OpenRouter key API (`/api/v1/keys`, `/api/v1/key`) on loopback,
//! from the documented shapes: keys `sk-or-v1-` + 64 hex, named by a
//! 64-hex `hash`; `{key, data:{hash, name, label, disabled, limit, usage,
//! created_at, updated_at, expires_at}}` on create; `{data:[…]}` listings
//! of 100 per page by `offset`, disabled keys left out unless
//! `include_disabled=true`; `PATCH {disabled}`; `DELETE` → `{deleted:true}`;
//! errors as `{error:{code, message}}`. Only a management key may manage
//! (an ordinary key gets 403); a disabled or deleted key is 401 on `/key`.
//! `fail_next` serves a canned answer; `calls` counts requests. Used as `latchkey_testkit::fakes::openrouter`.
#![allow(dead_code)]
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::{hex, now_rfc3339 as now};

/// A canned answer: status, headers, body.
pub use super::Canned;

#[derive(Clone)]
pub struct FakeKey {
    pub hash: String,
    pub key: String,
    pub name: String,
    pub disabled: bool,
    pub management: bool,
    pub created_at: String,
    pub expires_at: Option<String>,
}

#[derive(Default)]
pub struct Inner {
    pub keys: Vec<FakeKey>,
    pub calls: Vec<String>,
    pub failures: Vec<Canned>,
}

#[derive(Clone)]
pub struct FakeOpenRouter {
    /// The API base: `http://127.0.0.1:PORT/api/v1`.
    pub base: String,
    pub state: Arc<Mutex<Inner>>,
}

type St = Arc<Mutex<Inner>>;

fn fail(status: u16, message: &str) -> Response {
    (
        StatusCode::from_u16(status).expect("status"),
        axum::Json(json!({"error": {"code": status, "message": message}})),
    )
        .into_response()
}

fn record(k: &FakeKey) -> Value {
    json!({
        "hash": k.hash, "name": k.name, "label": format!("{}...{}", &k.key[..12], &k.key[k.key.len() - 3..]),
        "disabled": k.disabled, "limit": null, "usage": 0, "created_at": k.created_at,
        "updated_at": null, "expires_at": k.expires_at,
    })
}

fn canned(inner: &mut Inner, call: &str) -> Option<Response> {
    inner.calls.push(call.to_owned());
    super::take_canned(&mut inner.failures)
}

fn caller(inner: &Inner, headers: &HeaderMap) -> Result<usize, Response> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| fail(401, "No auth credentials found"))?;
    inner
        .keys
        .iter()
        .position(|k| k.key == token && !k.disabled)
        .ok_or_else(|| fail(401, "User not found."))
}

fn manager(inner: &mut Inner, headers: &HeaderMap, call: &str) -> Result<(), Response> {
    if let Some(r) = canned(inner, call) {
        return Err(r);
    }
    let i = caller(inner, headers)?;
    if inner.keys[i].management {
        Ok(())
    } else {
        Err(fail(403, "Only management keys can perform this operation"))
    }
}

fn new_key(name: &str, management: bool, expires_at: Option<String>) -> FakeKey {
    FakeKey {
        hash: hex(64),
        key: format!("sk-or-v1-{}", hex(64)),
        name: name.into(),
        disabled: false,
        management,
        created_at: now(),
        expires_at,
    }
}

impl FakeOpenRouter {
    pub async fn start() -> Self {
        let state: St = Arc::new(Mutex::new(Inner::default()));
        let api = Router::new()
            .route("/keys", get(list).post(create))
            .route("/keys/{hash}", get(one).patch(update).delete(remove))
            .route("/key", get(current))
            .with_state(state.clone());
        let app = Router::new()
            .nest("/api/v1", api)
            .fallback(|| async { fail(404, "Not Found") });
        let base = super::serve_app(app).await;
        Self {
            base: format!("{base}/api/v1"),
            state,
        }
    }

    pub fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A management key (made in the dashboard).
    pub fn seed_management_key(&self) -> String {
        let k = new_key("management", true, None);
        let key = k.key.clone();
        self.inner().keys.push(k);
        key
    }

    /// `n` ordinary keys made elsewhere (to fill pages).
    pub fn seed_keys(&self, n: usize) {
        let mut inner = self.inner();
        for i in 0..n {
            inner.keys.push(new_key(&format!("seed {i}"), false, None));
        }
    }

    pub fn fail_next(&self, status: u16, headers: &[(&'static str, &str)], body: &str) {
        self.inner()
            .failures
            .push(super::canned(status, headers, body));
    }

    pub fn call_count(&self) -> usize {
        self.inner().calls.len()
    }

    /// Ordinary keys (not the management key).
    pub fn key_count(&self) -> usize {
        self.inner().keys.iter().filter(|k| !k.management).count()
    }
}

async fn list(
    State(st): State<St>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "GET list") {
        return r;
    }
    let offset: usize = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let with_disabled = q.get("include_disabled").map(String::as_str) == Some("true");
    let keys: Vec<Value> = inner
        .keys
        .iter()
        .filter(|k| !k.management && (with_disabled || !k.disabled))
        .skip(offset)
        .take(100)
        .map(record)
        .collect();
    axum::Json(json!({ "data": keys })).into_response()
}

async fn create(State(st): State<St>, headers: HeaderMap, body: Bytes) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "POST") {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return fail(400, "Invalid JSON");
    };
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return fail(400, "Name is required");
    };
    let k = new_key(name, false, body["expires_at"].as_str().map(str::to_owned));
    inner.keys.push(k.clone());
    (
        StatusCode::CREATED,
        axum::Json(json!({ "key": k.key, "data": record(&k) })),
    )
        .into_response()
}

fn find(inner: &Inner, hash: &str) -> Result<usize, Response> {
    inner
        .keys
        .iter()
        .position(|k| k.hash == hash && !k.management)
        .ok_or_else(|| fail(404, "API key not found"))
}

async fn one(State(st): State<St>, Path(hash): Path<String>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "GET one") {
        return r;
    }
    match find(&inner, &hash) {
        Ok(i) => axum::Json(json!({ "data": record(&inner.keys[i]) })).into_response(),
        Err(r) => r,
    }
}

async fn update(
    State(st): State<St>,
    Path(hash): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "PATCH") {
        return r;
    }
    let i = match find(&inner, &hash) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return fail(400, "Invalid JSON");
    };
    if let Some(d) = body["disabled"].as_bool() {
        inner.keys[i].disabled = d;
    }
    if let Some(n) = body["name"].as_str() {
        inner.keys[i].name = n.into();
    }
    axum::Json(json!({ "data": record(&inner.keys[i]) })).into_response()
}

async fn remove(State(st): State<St>, Path(hash): Path<String>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "DELETE") {
        return r;
    }
    match find(&inner, &hash) {
        Ok(i) => {
            inner.keys.remove(i);
            axum::Json(json!({ "deleted": true })).into_response()
        }
        Err(r) => r,
    }
}

async fn current(State(st): State<St>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(r) = canned(&mut inner, "GET key") {
        return r;
    }
    match caller(&inner, &headers) {
        Ok(i) => {
            let k = &inner.keys[i];
            axum::Json(json!({"data": {
                "label": record(k)["label"], "usage": 0, "limit": null,
                "is_free_tier": false, "is_provisioning_key": k.management,
            }}))
            .into_response()
        }
        Err(r) => r,
    }
}
