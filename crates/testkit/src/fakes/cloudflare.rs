//! A fake Cloudflare API (`/client/v4/user/tokens`) on loopback, from the
//! documented shapes: the `{success, errors, messages, result}` envelope,
//! 32-hex token ids, `cfut_` token values (40 + 8 hex), `issued_on`,
//! `modified_on`, `last_used_on`, `expires_on`, `status` and `policies`;
//! management calls need a token whose policies hold "API Tokens Write"
//! (else 403, code 9109); an unknown token is 401 (code 1000); a disabled
//! token answers `/verify` with its status and is refused elsewhere; roll
//! replaces the value at once. `fail_next` serves one canned answer (429
//! with `Retry-After`, HTML, …) and `calls` counts every request. Used as `latchkey_testkit::fakes::cloudflare`.
#![allow(dead_code)]
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use rand::Rng;
use serde_json::{json, Value};

use super::{hex, now_rfc3339 as now};

pub const WRITE_GROUP: &str = "API Tokens Write";

/// A canned answer: status, headers, body.
pub use super::Canned;

#[derive(Clone)]
pub struct FakeToken {
    pub id: String,
    pub name: String,
    pub value: String,
    pub status: String,
    pub policies: Value,
    pub issued_on: String,
    pub modified_on: String,
    pub last_used_on: Option<String>,
    pub expires_on: Option<String>,
}

#[derive(Default)]
pub struct Inner {
    pub tokens: Vec<FakeToken>,
    pub calls: Vec<String>,
    /// Canned answers served (in order) before any real handling.
    pub failures: Vec<Canned>,
}

#[derive(Clone)]
pub struct FakeCloudflare {
    /// The API base: `http://127.0.0.1:PORT/client/v4`.
    pub base: String,
    pub state: Arc<Mutex<Inner>>,
}

type St = Arc<Mutex<Inner>>;

fn value() -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let body: String = (0..40)
        .map(|_| ALNUM[rng.gen_range(0..ALNUM.len())] as char)
        .collect();
    format!("cfut_{body}{}", hex(8))
}

fn envelope(status: u16, result: Value) -> Response {
    (
        StatusCode::from_u16(status).expect("status"),
        axum::Json(json!({"success": true, "errors": [], "messages": [], "result": result})),
    )
        .into_response()
}

fn fail(status: u16, code: i64, message: &str) -> Response {
    (
        StatusCode::from_u16(status).expect("status"),
        axum::Json(json!({
            "success": false,
            "errors": [{"code": code, "message": message}],
            "messages": [],
            "result": null,
        })),
    )
        .into_response()
}

fn record(t: &FakeToken) -> Value {
    json!({
        "id": t.id, "name": t.name, "status": t.status, "issued_on": t.issued_on,
        "modified_on": t.modified_on, "last_used_on": t.last_used_on,
        "expires_on": t.expires_on, "policies": t.policies,
        "condition": {},
    })
}

fn write_policies() -> Value {
    json!([{
        "id": hex(32),
        "effect": "allow",
        "resources": {"com.cloudflare.api.user.*": "*"},
        "permission_groups": [{"id": hex(32), "name": WRITE_GROUP}],
    }])
}

fn can_manage(t: &FakeToken) -> bool {
    t.policies
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| {
            p["permission_groups"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .any(|g| g["name"] == WRITE_GROUP)
}

/// The caller's token index: `verify_only` lets a disabled token through
/// (the verify route reports its status).
fn authenticate(
    inner: &mut Inner,
    headers: &HeaderMap,
    call: &str,
    verify_only: bool,
) -> Result<usize, Response> {
    inner.calls.push(call.to_owned());
    if let Some(response) = super::take_canned(&mut inner.failures) {
        return Err(response);
    }
    let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Err(fail(400, 6003, "Invalid request headers"));
    };
    let Some(token) = auth.strip_prefix("Bearer ") else {
        return Err(fail(400, 6111, "Invalid format for Authorization header"));
    };
    let index = inner
        .tokens
        .iter()
        .position(|t| t.value == token)
        .ok_or_else(|| fail(401, 1000, "Invalid API Token"))?;
    if !verify_only && inner.tokens[index].status != "active" {
        return Err(fail(401, 1000, "Invalid API Token"));
    }
    inner.tokens[index].last_used_on = Some(now());
    Ok(index)
}

fn manager(inner: &mut Inner, headers: &HeaderMap, call: &str) -> Result<usize, Response> {
    let index = authenticate(inner, headers, call, false)?;
    if can_manage(&inner.tokens[index]) {
        Ok(index)
    } else {
        Err(fail(403, 9109, "Unauthorized to access requested resource"))
    }
}

impl FakeCloudflare {
    pub async fn start() -> Self {
        let state: St = Arc::new(Mutex::new(Inner::default()));
        let api = Router::new()
            .route("/user/tokens", get(list).post(create))
            .route("/user/tokens/verify", get(verify))
            .route("/user/tokens/{id}", get(one).put(update).delete(remove))
            .route("/user/tokens/{id}/value", put(roll))
            .with_state(state.clone());
        let app = Router::new()
            .nest("/client/v4", api)
            .fallback(|| async { fail(404, 7000, "No route for that URI") });
        let base = super::serve_app(app).await;
        Self {
            base: format!("{base}/client/v4"),
            state,
        }
    }

    pub fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A token made in the dashboard: `manage` gives it "API Tokens Write"
    /// (the "Create additional tokens" template), else a read policy.
    pub fn seed_token(&self, name: &str, manage: bool) -> String {
        let t = FakeToken {
            id: hex(32),
            name: name.into(),
            value: value(),
            status: "active".into(),
            policies: if manage {
                write_policies()
            } else {
                json!([{"id": hex(32), "effect": "allow", "resources": {"com.cloudflare.api.account.*": "*"},
                        "permission_groups": [{"id": hex(32), "name": "Workers Scripts Read"}]}])
            },
            issued_on: now(),
            modified_on: now(),
            last_used_on: None,
            expires_on: None,
        };
        let v = t.value.clone();
        self.inner().tokens.push(t);
        v
    }

    /// Serves this answer to the next request, whatever it is.
    pub fn fail_next(&self, status: u16, headers: &[(&'static str, &str)], body: &str) {
        self.inner()
            .failures
            .push(super::canned(status, headers, body));
    }

    pub fn call_count(&self) -> usize {
        self.inner().calls.len()
    }

    pub fn token_count(&self) -> usize {
        self.inner().tokens.len()
    }
}

async fn list(State(st): State<St>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "GET list") {
        return r;
    }
    let all: Vec<Value> = inner.tokens.iter().map(record).collect();
    envelope(200, json!(all))
}

async fn verify(State(st): State<St>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    match authenticate(&mut inner, &headers, "GET verify", true) {
        Ok(i) => {
            let t = &inner.tokens[i];
            envelope(
                200,
                json!({"id": t.id, "status": t.status, "expires_on": t.expires_on}),
            )
        }
        Err(r) => r,
    }
}

async fn create(State(st): State<St>, headers: HeaderMap, body: Bytes) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "POST") {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return fail(400, 6007, "Malformed JSON in request body");
    };
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return fail(400, 1001, "name is required");
    };
    if body["policies"].as_array().is_none_or(|p| p.is_empty()) {
        return fail(400, 1002, "policies are required");
    }
    let t = FakeToken {
        id: hex(32),
        name: name.into(),
        value: value(),
        status: "active".into(),
        policies: body["policies"].clone(),
        issued_on: now(),
        modified_on: now(),
        last_used_on: None,
        expires_on: body["expires_on"].as_str().map(str::to_owned),
    };
    let mut out = record(&t);
    out["value"] = json!(t.value);
    inner.tokens.push(t);
    envelope(200, out)
}

fn find(inner: &Inner, id: &str) -> Result<usize, Response> {
    inner
        .tokens
        .iter()
        .position(|t| t.id == id)
        .ok_or_else(|| fail(404, 1003, "Token not found"))
}

async fn one(State(st): State<St>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "GET one") {
        return r;
    }
    match find(&inner, &id) {
        Ok(i) => envelope(200, record(&inner.tokens[i])),
        Err(r) => r,
    }
}

async fn update(
    State(st): State<St>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "PUT") {
        return r;
    }
    let i = match find(&inner, &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return fail(400, 6007, "Malformed JSON in request body");
    };
    // A PUT replaces the token: name and policies must be sent again.
    if body["name"].as_str().is_none() || !body["policies"].is_array() {
        return fail(400, 1001, "name and policies are required");
    }
    let status = body["status"].as_str().unwrap_or("active");
    if !matches!(status, "active" | "disabled") {
        return fail(400, 1004, "invalid status");
    }
    let t = &mut inner.tokens[i];
    t.name = body["name"].as_str().expect("name").to_owned();
    t.policies = body["policies"].clone();
    t.status = status.into();
    t.modified_on = now();
    envelope(200, record(t))
}

async fn remove(State(st): State<St>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "DELETE") {
        return r;
    }
    match find(&inner, &id) {
        Ok(i) => {
            inner.tokens.remove(i);
            envelope(200, json!({"id": id}))
        }
        Err(r) => r,
    }
}

async fn roll(State(st): State<St>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = manager(&mut inner, &headers, "PUT value") {
        return r;
    }
    match find(&inner, &id) {
        Ok(i) => {
            let fresh = value();
            inner.tokens[i].value = fresh.clone();
            envelope(200, json!(fresh))
        }
        Err(r) => r,
    }
}
