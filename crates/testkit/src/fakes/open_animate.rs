//! A fake Open Animate API server on loopback that behaves like the real
//! one (`shared/services/open-animate.md`), quirks included: real 49-char
//! keys (`anim_` + 8 + `_` + 35 base64url), the prefix lookup that splits
//! on the first `_` after position 5 (so a key whose 8-char id holds a `_`
//! is created but always 401; `force_underscore_ids` makes the next keys
//! such duds deterministically), a POST without a body is a plain-text
//! 500, there is no get-one route (plain-text 404), 10 keys at most,
//! `X-API-Key` is ignored, a delete is hard and immediate. Used as `latchkey_testkit::fakes::open_animate`.
#![allow(dead_code)]
// A test server: an error answer is a whole response, by design.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::Router;
use rand::Rng;
use serde_json::{json, Value};

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#[derive(Clone)]
pub struct FakeKey {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub key: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Default)]
pub struct Inner {
    pub keys: Vec<FakeKey>,
    /// The next this-many keys get an id with a `_` in it (duds).
    pub force_underscore_ids: usize,
    pub calls: Vec<String>,
    pub next_failure: Option<(u16, &'static str, String)>,
    /// The next this-many deletes are refused with a 403.
    pub refuse_deletes: usize,
}

#[derive(Clone)]
pub struct FakeOpenAnimate {
    pub base: String,
    pub state: Arc<Mutex<Inner>>,
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn error(status: u16, message: &str) -> Response {
    (
        StatusCode::from_u16(status).expect("status"),
        axum::Json(json!({ "error": message })),
    )
        .into_response()
}

fn plain(status: u16, body: &str) -> Response {
    (
        StatusCode::from_u16(status).expect("status"),
        [("content-type", "text/plain; charset=UTF-8")],
        body.to_owned(),
    )
        .into_response()
}

fn item(k: &FakeKey) -> Value {
    let mut v = json!({"id": k.id, "name": k.name, "prefix": k.prefix, "created_at": k.created_at});
    if let Some(at) = k.last_used_at {
        v["last_used_at"] = json!(at);
    }
    v
}

fn random(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| B64URL[rng.gen_range(0..B64URL.len())] as char)
        .collect()
}

fn new_key(inner: &mut Inner, name: String) -> FakeKey {
    let id = if inner.force_underscore_ids > 0 {
        inner.force_underscore_ids -= 1;
        format!("ab_{}", random(5).replace('_', "x"))
    } else {
        random(8).replace('_', "Q")
    };
    let key = format!("anim_{id}_{}", random(35));
    let k = FakeKey {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        prefix: key[..13].to_owned(),
        key,
        created_at: now_ms(),
        last_used_at: None,
    };
    inner.keys.push(k.clone());
    k
}

type St = Arc<Mutex<Inner>>;

/// The server's lookup: the prefix ends at the first `_` after position 5.
fn authenticate(inner: &mut Inner, headers: &HeaderMap, call: &str) -> Result<usize, Response> {
    inner.calls.push(call.to_owned());
    if let Some((status, ct, body)) = inner.next_failure.take() {
        return Err((
            StatusCode::from_u16(status).expect("status"),
            [("content-type", ct)],
            body,
        )
            .into_response());
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| error(401, "Not authenticated"))?;
    let cut = token
        .get(5..)
        .and_then(|rest| rest.find('_'))
        .map(|i| i + 5)
        .ok_or_else(|| error(401, "Not authenticated"))?;
    let prefix = &token[..cut];
    let index = inner
        .keys
        .iter()
        .position(|k| k.prefix == prefix && k.key == token)
        .ok_or_else(|| error(401, "Not authenticated"))?;
    inner.keys[index].last_used_at = Some(now_ms());
    Ok(index)
}

impl FakeOpenAnimate {
    pub async fn start() -> Self {
        let state: St = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/api/v1/api-keys", get(list).post(create))
            .route("/api/v1/api-keys/{id}", delete(remove).get(no_route))
            .route("/api/v1/auth/me", get(me))
            .route("/health", get(|| async { axum::Json(json!({"ok": true})) }))
            .fallback(no_route)
            .with_state(state.clone());
        let base = super::serve_app(app).await;
        Self { base, state }
    }

    pub fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A working key made directly (what `oanim login` would hold).
    pub fn seed_key(&self, name: &str) -> String {
        let mut inner = self.inner();
        new_key(&mut inner, name.into()).key
    }

    pub fn force_underscore_ids(&self, n: usize) {
        self.inner().force_underscore_ids = n;
    }

    pub fn fail_next(&self, status: u16, content_type: &'static str, body: &str) {
        self.inner().next_failure = Some((status, content_type, body.to_owned()));
    }

    pub fn key_count(&self) -> usize {
        self.inner().keys.len()
    }
}

async fn no_route() -> Response {
    plain(404, "404 Not Found")
}

async fn list(State(st): State<St>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = authenticate(&mut inner, &headers, "GET list") {
        return r;
    }
    let keys: Vec<Value> = inner.keys.iter().map(item).collect();
    axum::Json(json!({ "api_keys": keys })).into_response()
}

async fn create(State(st): State<St>, headers: HeaderMap, body: Bytes) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = authenticate(&mut inner, &headers, "POST") {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return plain(500, "Internal Server Error");
    };
    if inner.keys.len() >= 10 {
        return error(400, "Maximum of 10 API keys per user");
    }
    let name = body["name"].as_str().unwrap_or("Unnamed key").to_owned();
    let k = new_key(&mut inner, name);
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "api_key": {"id": k.id, "name": k.name, "prefix": k.prefix, "created_at": k.created_at},
            "key": k.key,
        })),
    )
        .into_response()
}

async fn remove(State(st): State<St>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = authenticate(&mut inner, &headers, "DELETE") {
        return r;
    }
    if uuid::Uuid::parse_str(&id).is_err() {
        return plain(500, "Internal Server Error");
    }
    if inner.refuse_deletes > 0 {
        inner.refuse_deletes -= 1;
        return error(403, "Forbidden");
    }
    match inner.keys.iter().position(|k| k.id == id) {
        Some(i) => {
            inner.keys.remove(i);
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(404, "API key not found"),
    }
}

async fn me(State(st): State<St>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = authenticate(&mut inner, &headers, "GET me") {
        return r;
    }
    axum::Json(json!({
        "id": "0b0e7c56-1a4c-4a43-9a57-0d6a2b1f4e10", "email": "dev@example.com",
        "credit_balance_usd": 5.0, "created_at": "2026-12-01T10:00:00.000Z",
    }))
    .into_response()
}
