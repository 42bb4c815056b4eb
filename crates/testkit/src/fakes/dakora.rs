//! A fake Dakora server on loopback that behaves like the real one
//! (`shared/services/dakora.md`), quirks included: a `dkr_` key sent as a
//! bearer token is 401, `X-API-Key` wins over `Authorization`, at most 4
//! non-revoked keys (expired ones count), keys made with an expiry get a
//! plain-text 500 when used, a revoked key is still accepted for a
//! configurable cache window, a second DELETE is 404, a non-UUID project
//! is 422, `{}` is a valid create body. Used as `latchkey_testkit::fakes::dakora`.
#![allow(dead_code)]
// A test server: an error answer is a whole response, by design.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rand::Rng;
use serde_json::{json, Value};

/// The session token (a JWT) the fake accepts as `Authorization: Bearer`.
pub const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl";

const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

#[derive(Clone)]
pub struct FakeKey {
    pub id: String,
    pub name: Option<String>,
    pub key: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked: Option<Instant>,
    seq: u64,
}

#[derive(Default)]
pub struct Inner {
    pub keys: Vec<FakeKey>,
    /// How long a revoked key is still accepted (the server's cache).
    pub cache_window: Duration,
    /// The next answer to any call, once: status, content type, body.
    pub next_failure: Option<(u16, &'static str, String)>,
    pub calls: Vec<String>,
    seq: u64,
}

#[derive(Clone)]
pub struct FakeDakora {
    pub base: String,
    pub project: String,
    pub state: Arc<Mutex<Inner>>,
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time")
}

fn detail(status: u16, message: &str) -> Response {
    (
        StatusCode::from_u16(status).expect("status"),
        axum::Json(json!({ "detail": message })),
    )
        .into_response()
}

fn plain(status: u16, body: &str) -> Response {
    (
        StatusCode::from_u16(status).expect("status"),
        [("content-type", "text/plain; charset=utf-8")],
        body.to_owned(),
    )
        .into_response()
}

fn item(k: &FakeKey) -> Value {
    let chars: Vec<char> = k.key.chars().collect();
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    json!({
        "id": k.id, "name": k.name, "key_preview": format!("{head}...{tail}"),
        "created_at": k.created_at, "last_used_at": k.last_used_at, "expires_at": k.expires_at,
    })
}

impl FakeDakora {
    pub async fn start(cache_window: Duration) -> Self {
        let state = Arc::new(Mutex::new(Inner {
            cache_window,
            ..Inner::default()
        }));
        let project = uuid::Uuid::new_v4().to_string();
        let app = Router::new()
            .route("/api/projects/{project}/api-keys", get(list).post(create))
            .route(
                "/api/projects/{project}/api-keys/{id}",
                get(get_one).delete(revoke),
            )
            .route("/api/me/context", get(context))
            .with_state((state.clone(), project.clone()));
        let base = super::serve_app(app).await;
        Self {
            base,
            project,
            state,
        }
    }

    pub fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes a key directly (as the dashboard would); its secret.
    pub fn seed_key(&self, name: &str, expires_in_days: Option<u32>) -> String {
        let mut inner = self.inner();
        new_key(&mut inner, Some(name.into()), expires_in_days).key
    }

    pub fn fail_next(&self, status: u16, content_type: &'static str, body: &str) {
        self.inner().next_failure = Some((status, content_type, body.to_owned()));
    }

    /// The ids of the keys not revoked.
    pub fn live_ids(&self) -> Vec<String> {
        self.inner()
            .keys
            .iter()
            .filter(|k| k.revoked.is_none())
            .map(|k| k.id.clone())
            .collect()
    }
}

fn new_key(inner: &mut Inner, name: Option<String>, expires_in_days: Option<u32>) -> FakeKey {
    let mut rng = rand::thread_rng();
    let body: String = (0..44)
        .map(|_| BASE58[rng.gen_range(0..BASE58.len())] as char)
        .collect();
    inner.seq += 1;
    let key = FakeKey {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        key: format!("dkr_{body}"),
        created_at: now(),
        // As the real server: no time zone on expires_at.
        expires_at: expires_in_days.map(|d| {
            let at = time::OffsetDateTime::now_utc() + time::Duration::days(i64::from(d));
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.281455",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute(),
                at.second()
            )
        }),
        last_used_at: None,
        revoked: None,
        seq: inner.seq,
    };
    inner.keys.push(key.clone());
    key
}

type St = (Arc<Mutex<Inner>>, String);

/// Authenticates a call as the real server does; `Err` is the answer.
fn authenticate(inner: &mut Inner, headers: &HeaderMap) -> Result<(), Response> {
    if let Some(api_key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        let window = inner.cache_window;
        let Some(k) = inner.keys.iter_mut().find(|k| k.key == api_key) else {
            return Err(detail(401, "Invalid API key"));
        };
        if let Some(at) = k.revoked {
            if at.elapsed() >= window {
                return Err(detail(401, "API key has been revoked"));
            }
        }
        if k.expires_at.is_some() {
            // The server's time-zone bug: every key with an expiry fails.
            return Err(plain(500, "Internal Server Error"));
        }
        k.last_used_at = Some(now());
        return Ok(());
    }
    match headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        Some(token) if token == JWT => Ok(()),
        // Anything else, a dkr_ key included, is parsed as a JWT and fails.
        Some(_) => Err(detail(401, "Invalid authentication credentials")),
        None => Err(detail(
            401,
            "Authentication required. Provide X-API-Key or Authorization: Bearer header.",
        )),
    }
}

/// The common front of every project route.
fn front(st: &St, project: &str, headers: &HeaderMap, call: &str) -> Result<(), Response> {
    let mut inner = st.0.lock().unwrap_or_else(|p| p.into_inner());
    inner.calls.push(call.to_owned());
    if let Some((status, ct, body)) = inner.next_failure.take() {
        return Err((
            StatusCode::from_u16(status).expect("status"),
            [("content-type", ct)],
            body,
        )
            .into_response());
    }
    if uuid::Uuid::parse_str(project).is_err() {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"detail": [{
                "type": "uuid_parsing", "loc": ["path", "project_id"],
                "msg": "Input should be a valid UUID, invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `n` at 1",
                "input": project,
            }]})),
        )
            .into_response());
    }
    authenticate(&mut inner, headers)?;
    if project != st.1 {
        return Err(detail(404, "Project not found"));
    }
    Ok(())
}

async fn list(State(st): State<St>, Path(project): Path<String>, headers: HeaderMap) -> Response {
    if let Err(r) = front(&st, &project, &headers, "GET list") {
        return r;
    }
    let inner = st.0.lock().unwrap_or_else(|p| p.into_inner());
    let mut live: Vec<&FakeKey> = inner.keys.iter().filter(|k| k.revoked.is_none()).collect();
    live.sort_by_key(|k| std::cmp::Reverse(k.seq));
    let keys: Vec<Value> = live.iter().map(|k| item(k)).collect();
    axum::Json(json!({"count": keys.len(), "keys": keys, "limit": 4})).into_response()
}

async fn create(
    State(st): State<St>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = front(&st, &project, &headers, "POST") {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"detail": [{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error", "input": {}}]})),
        )
            .into_response();
    };
    let expires = match &body["expires_in_days"] {
        Value::Null => None,
        Value::Number(n) if matches!(n.as_u64(), Some(30 | 90 | 365)) => {
            n.as_u64().map(|d| d as u32)
        }
        _ => return detail(400, "expires_in_days must be 30, 90, 365, or null"),
    };
    let name = body["name"].as_str().map(str::to_owned);
    let mut inner = st.0.lock().unwrap_or_else(|p| p.into_inner());
    if inner.keys.iter().filter(|k| k.revoked.is_none()).count() >= 4 {
        return detail(
            400,
            "Maximum 4 API keys per project. Revoke an existing key to create a new one.",
        );
    }
    let k = new_key(&mut inner, name, expires);
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "id": k.id, "name": k.name, "key": k.key, "key_prefix": &k.key[..8],
            "created_at": k.created_at, "expires_at": k.expires_at,
        })),
    )
        .into_response()
}

async fn get_one(
    State(st): State<St>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = front(&st, &project, &headers, "GET one") {
        return r;
    }
    let inner = st.0.lock().unwrap_or_else(|p| p.into_inner());
    match inner
        .keys
        .iter()
        .find(|k| k.id == id && k.revoked.is_none())
    {
        Some(k) => axum::Json(item(k)).into_response(),
        None => detail(404, "API key not found"),
    }
}

async fn revoke(
    State(st): State<St>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = front(&st, &project, &headers, "DELETE") {
        return r;
    }
    let mut inner = st.0.lock().unwrap_or_else(|p| p.into_inner());
    match inner
        .keys
        .iter_mut()
        .find(|k| k.id == id && k.revoked.is_none())
    {
        Some(k) => {
            k.revoked = Some(Instant::now());
            StatusCode::NO_CONTENT.into_response()
        }
        None => detail(404, "API key not found"),
    }
}

async fn context(State(st): State<St>, headers: HeaderMap) -> Response {
    let mut inner = st.0.lock().unwrap_or_else(|p| p.into_inner());
    inner.calls.push("GET context".into());
    if let Some((status, ct, body)) = inner.next_failure.take() {
        return (
            StatusCode::from_u16(status).expect("status"),
            [("content-type", ct)],
            body,
        )
            .into_response();
    }
    if let Err(r) = authenticate(&mut inner, &headers) {
        return r;
    }
    axum::Json(json!({
        "user_id": "u-1", "email": "dev@example.com", "name": "Dev",
        "project_id": st.1, "project_slug": "demo", "project_name": "Demo",
        "is_platform_admin": false,
    }))
    .into_response()
}
