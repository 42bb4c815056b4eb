//! A fake SendGrid key API (`/v3/api_keys`, `/v3/scopes`) on loopback,
//! from the documented shapes: keys `SG.` + 22 + `.` + 43 characters named
//! by `api_key_id`; `POST` `{name, scopes?}` → 201 `{api_key, api_key_id,
//! name, scopes}`; `GET` → `{result:[{api_key_id, name}]}`; `GET /{id}` →
//! `{result:[{api_key_id, name, scopes}]}`; `DELETE` → 204; 100 keys at
//! most; errors `{errors:[{field, message}]}`. Managing needs the
//! `api_keys.*` scopes (else 403); an unknown key is 401. `fail_next`
//! serves a canned answer; `calls` counts requests. Used as `latchkey_testkit::fakes::sendgrid`.
#![allow(dead_code)]
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rand::Rng;
use serde_json::{json, Value};

/// A canned answer: status, headers, body.
pub use super::Canned;

const MANAGE: [&str; 4] = [
    "api_keys.create",
    "api_keys.read",
    "api_keys.update",
    "api_keys.delete",
];

#[derive(Clone)]
pub struct FakeKey {
    pub id: String,
    pub key: String,
    pub name: String,
    pub scopes: Vec<String>,
}

#[derive(Default)]
pub struct Inner {
    pub keys: Vec<FakeKey>,
    pub calls: Vec<String>,
    pub failures: Vec<Canned>,
}

#[derive(Clone)]
pub struct FakeSendgrid {
    pub base: String,
    pub state: Arc<Mutex<Inner>>,
}

type St = Arc<Mutex<Inner>>;

fn chars(len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| A[rng.gen_range(0..A.len())] as char)
        .collect()
}

fn fail(status: u16, message: &str) -> Response {
    (
        StatusCode::from_u16(status).expect("status"),
        axum::Json(json!({"errors": [{"field": null, "message": message}]})),
    )
        .into_response()
}

fn new_key(name: &str, scopes: Vec<String>) -> FakeKey {
    let id = chars(22);
    FakeKey {
        key: format!("SG.{id}.{}", chars(43)),
        id,
        name: name.into(),
        scopes,
    }
}

fn canned(inner: &mut Inner, call: &str) -> Option<Response> {
    inner.calls.push(call.to_owned());
    super::take_canned(&mut inner.failures)
}

fn caller(inner: &mut Inner, headers: &HeaderMap, call: &str) -> Result<usize, Response> {
    if let Some(r) = canned(inner, call) {
        return Err(r);
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    inner
        .keys
        .iter()
        .position(|k| k.key == token)
        .ok_or_else(|| {
            fail(
                401,
                "The provided authorization grant is invalid, expired, or revoked",
            )
        })
}

fn manager(inner: &mut Inner, headers: &HeaderMap, call: &str) -> Result<(), Response> {
    let i = caller(inner, headers, call)?;
    if MANAGE
        .iter()
        .all(|s| inner.keys[i].scopes.iter().any(|k| k == s))
    {
        Ok(())
    } else {
        Err(fail(403, "access forbidden"))
    }
}

impl FakeSendgrid {
    pub async fn start() -> Self {
        let state: St = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/v3/api_keys", get(list).post(create))
            .route("/v3/api_keys/{id}", get(one).delete(remove))
            .route("/v3/scopes", get(scopes))
            .fallback(|| async { fail(404, "resource not found") })
            .with_state(state.clone());
        let base = super::serve_app(app).await;
        Self { base, state }
    }

    pub fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key made in the app with the API Keys permission.
    pub fn seed_admin_key(&self) -> String {
        let k = new_key("admin", MANAGE.iter().map(|s| (*s).to_owned()).collect());
        let v = k.key.clone();
        self.inner().keys.push(k);
        v
    }

    /// A key with only `mail.send` (cannot manage keys).
    pub fn seed_mail_key(&self) -> String {
        let k = new_key("mail", vec!["mail.send".into()]);
        let v = k.key.clone();
        self.inner().keys.push(k);
        v
    }

    pub fn fail_next(&self, status: u16, headers: &[(&'static str, &str)], body: &str) {
        self.inner()
            .failures
            .push(super::canned(status, headers, body));
    }

    pub fn call_count(&self) -> usize {
        self.inner().calls.len()
    }

    pub fn key_count(&self) -> usize {
        self.inner().keys.len()
    }
}

async fn list(State(st): State<St>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "GET list") {
        return r;
    }
    let keys: Vec<Value> = inner
        .keys
        .iter()
        .map(|k| json!({"api_key_id": k.id, "name": k.name}))
        .collect();
    axum::Json(json!({ "result": keys })).into_response()
}

async fn create(State(st): State<St>, headers: HeaderMap, body: Bytes) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "POST") {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return fail(400, "invalid JSON");
    };
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return fail(400, "missing required argument: name");
    };
    if inner.keys.len() >= 100 {
        return fail(403, "Cannot create more than 100 API keys");
    }
    let scopes: Vec<String> = match body["scopes"].as_array() {
        Some(s) => s
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        None => vec!["mail.send".into(), "alerts.read".into()],
    };
    let k = new_key(name, scopes);
    inner.keys.push(k.clone());
    (
        StatusCode::CREATED,
        axum::Json(
            json!({"api_key": k.key, "api_key_id": k.id, "name": k.name, "scopes": k.scopes}),
        ),
    )
        .into_response()
}

async fn one(State(st): State<St>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "GET one") {
        return r;
    }
    match inner.keys.iter().find(|k| k.id == id) {
        Some(k) => axum::Json(
            json!({"result": [{"api_key_id": k.id, "name": k.name, "scopes": k.scopes}]}),
        )
        .into_response(),
        None => fail(404, "unable to find API Key"),
    }
}

async fn remove(State(st): State<St>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "DELETE") {
        return r;
    }
    match inner.keys.iter().position(|k| k.id == id) {
        Some(i) => {
            inner.keys.remove(i);
            StatusCode::NO_CONTENT.into_response()
        }
        None => fail(404, "unable to find API Key"),
    }
}

async fn scopes(State(st): State<St>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    match caller(&mut inner, &headers, "GET scopes") {
        Ok(i) => axum::Json(json!({"scopes": inner.keys[i].scopes})).into_response(),
        Err(r) => r,
    }
}
