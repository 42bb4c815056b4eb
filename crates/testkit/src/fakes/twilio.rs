//! A fake Twilio IAM key API (`/v1/Keys`, form-encoded) and Verify
//! services list (`/v2/Services`) on one loopback port, from the documented
//! shapes: HTTP Basic with `ACCOUNT_SID:AUTH_TOKEN` (or `SK…:secret`);
//! `POST /v1/Keys` `FriendlyName&AccountSid` → 201 `{sid, friendly_name,
//! date_created, date_updated, secret}`; `GET /v1/Keys?AccountSid=` →
//! `{keys:[…], meta:{page, page_size, next_page_url, …}}` (paged by
//! `Page`/`PageSize`); `GET`/`DELETE /v1/Keys/{sid}` (204); errors as
//! `{code, message, more_info, status}`. An API key cannot manage keys
//! (403, code 20003 style); a restricted key gets 403 on `/v2/Services`.
//! Used as `latchkey_testkit::fakes::twilio`.
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
use base64::Engine as _;
use rand::Rng;
use serde_json::{json, Value};

use super::{hex, now_rfc3339 as now};

/// A canned answer: status, headers, body.
pub use super::Canned;

#[derive(Clone)]
pub struct FakeKey {
    pub sid: String,
    pub secret: String,
    pub name: String,
    pub restricted: bool,
    pub date_created: String,
}

#[derive(Default)]
pub struct Inner {
    pub account: String,
    pub auth_token: String,
    pub keys: Vec<FakeKey>,
    pub calls: Vec<String>,
    pub failures: Vec<Canned>,
}

#[derive(Clone)]
pub struct FakeTwilio {
    /// The IAM base: `http://127.0.0.1:PORT/v1`.
    pub base: String,
    /// `ACCOUNT_SID:AUTH_TOKEN`.
    pub credential: String,
    pub account: String,
    pub state: Arc<Mutex<Inner>>,
}

type St = Arc<Mutex<Inner>>;

fn alnum(len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| A[rng.gen_range(0..A.len())] as char)
        .collect()
}

fn fail(status: u16, code: i64, message: &str) -> Response {
    (
        StatusCode::from_u16(status).expect("status"),
        axum::Json(json!({"code": code, "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status})),
    )
        .into_response()
}

fn record(k: &FakeKey) -> Value {
    json!({"sid": k.sid, "friendly_name": k.name, "date_created": k.date_created, "date_updated": k.date_created})
}

fn canned(inner: &mut Inner, call: &str) -> Option<Response> {
    inner.calls.push(call.to_owned());
    super::take_canned(&mut inner.failures)
}

/// `a=b&c=d` with `+` and `%XX` decoded (no crate: the CLI tests include
/// this file too).
fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(v).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

/// Who calls: `None` for the account itself, `Some(index)` for a key.
fn caller(inner: &mut Inner, headers: &HeaderMap, call: &str) -> Result<Option<usize>, Response> {
    if let Some(r) = canned(inner, call) {
        return Err(r);
    }
    let unauthorized = || fail(401, 20003, "Authenticate");
    let (user, pass) = basic(headers).ok_or_else(unauthorized)?;
    if user == inner.account && pass == inner.auth_token {
        return Ok(None);
    }
    inner
        .keys
        .iter()
        .position(|k| k.sid == user && k.secret == pass)
        .map(Some)
        .ok_or_else(unauthorized)
}

fn account_only(inner: &mut Inner, headers: &HeaderMap, call: &str) -> Result<(), Response> {
    match caller(inner, headers, call)? {
        None => Ok(()),
        Some(_) => Err(fail(403, 20403, "Forbidden: an API key cannot manage keys")),
    }
}

impl FakeTwilio {
    pub async fn start() -> Self {
        let account = format!("AC{}", hex(32));
        let auth_token = hex(32);
        let state: St = Arc::new(Mutex::new(Inner {
            account: account.clone(),
            auth_token: auth_token.clone(),
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/v1/Keys", get(list).post(create))
            .route("/v1/Keys/{sid}", get(one).delete(remove))
            .route("/v2/Services", get(services))
            .fallback(|| async { fail(404, 20404, "The requested resource was not found") })
            .with_state(state.clone());
        let base = super::serve_app(app).await;
        Self {
            base: format!("{base}/v1"),
            credential: format!("{account}:{auth_token}"),
            account,
            state,
        }
    }

    pub fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A key made in the console: `SKSID:SECRET`.
    pub fn seed_key(&self, name: &str, restricted: bool) -> String {
        let k = FakeKey {
            sid: format!("SK{}", hex(32)),
            secret: alnum(32),
            name: name.into(),
            restricted,
            date_created: now(),
        };
        let pair = format!("{}:{}", k.sid, k.secret);
        self.inner().keys.push(k);
        pair
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

async fn list(
    State(st): State<St>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = account_only(&mut inner, &headers, "GET list") {
        return r;
    }
    if q.get("AccountSid") != Some(&inner.account) {
        return fail(400, 20001, "Missing or wrong required parameter AccountSid");
    }
    let size: usize = q
        .get("PageSize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50)
        .clamp(1, 1000);
    let page: usize = q.get("Page").and_then(|s| s.parse().ok()).unwrap_or(0);
    let keys: Vec<Value> = inner
        .keys
        .iter()
        .skip(page * size)
        .take(size)
        .map(record)
        .collect();
    let more = (page + 1) * size < inner.keys.len();
    let next = more.then(|| {
        format!(
            "https://iam.twilio.com/v1/Keys?AccountSid={}&PageSize={size}&Page={}",
            inner.account,
            page + 1
        )
    });
    axum::Json(json!({"keys": keys, "meta": {"page": page, "page_size": size,
        "first_page_url": "", "previous_page_url": null, "url": "", "next_page_url": next, "key": "keys"}}))
        .into_response()
}

async fn create(State(st): State<St>, headers: HeaderMap, body: Bytes) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = account_only(&mut inner, &headers, "POST") {
        return r;
    }
    let is_form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return fail(400, 20001, "Expected a form-encoded body");
    }
    let fields = parse_form(&body);
    if fields.get("AccountSid") != Some(&inner.account) {
        return fail(
            400,
            20001,
            "Missing required parameter AccountSid in the post body",
        );
    }
    let name = fields.get("FriendlyName").cloned().unwrap_or_default();
    if name.len() > 64 {
        return fail(400, 20001, "FriendlyName is too long");
    }
    let k = FakeKey {
        sid: format!("SK{}", hex(32)),
        secret: alnum(32),
        name,
        restricted: false,
        date_created: now(),
    };
    inner.keys.push(k.clone());
    let mut out = record(&k);
    out["secret"] = json!(k.secret);
    (StatusCode::CREATED, axum::Json(out)).into_response()
}

async fn one(State(st): State<St>, Path(sid): Path<String>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = account_only(&mut inner, &headers, "GET one") {
        return r;
    }
    match inner.keys.iter().find(|k| k.sid == sid) {
        Some(k) => axum::Json(record(k)).into_response(),
        None => fail(404, 20404, "The requested resource was not found"),
    }
}

async fn remove(State(st): State<St>, Path(sid): Path<String>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = account_only(&mut inner, &headers, "DELETE") {
        return r;
    }
    match inner.keys.iter().position(|k| k.sid == sid) {
        Some(i) => {
            inner.keys.remove(i);
            StatusCode::NO_CONTENT.into_response()
        }
        None => fail(404, 20404, "The requested resource was not found"),
    }
}

async fn services(State(st): State<St>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    match caller(&mut inner, &headers, "GET services") {
        Ok(Some(i)) if inner.keys[i].restricted => fail(403, 20403, "Forbidden"),
        Ok(_) => axum::Json(json!({"services": [], "meta": {"page": 0, "page_size": 1, "next_page_url": null, "key": "services"}})).into_response(),
        Err(r) => r,
    }
}
