//! A fake OpenAI admin API for one project's keys on loopback, from the
//! documented shapes: `POST /v1/organization/projects/{p}/service_accounts`
//! `{name}` → `{object, id:"svc_acct_…", name, role, created_at,
//! api_key:{object, id:"key_…", name, value, created_at}}`;
//! `GET …/api_keys?limit&after` → `{object:"list", data:[{object, id, name,
//! redacted_value:"sk-…...wxyz", created_at, last_used_at, owner:{type,
//! service_account|user}}], first_id, last_id, has_more}`; `GET/DELETE
//! …/api_keys/{id}`; `DELETE …/service_accounts/{id}` (deletes its keys);
//! `GET /v1/models` with a key (401 unknown, 403 restricted). Times are
//! unix seconds; errors `{error:{message, type, param, code}}`. Admin
//! routes need the `sk-admin-` key (a project key gets 403); an unknown
//! project is 404. Used as `latchkey_testkit::fakes::openai`.
#![allow(dead_code)]
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use rand::Rng;
use serde_json::{json, Value};

pub const PROJECT: &str = "proj_latchkey";

/// A canned answer: status, headers, body.
pub use super::Canned;

#[derive(Clone)]
pub struct FakeKey {
    pub id: String,
    pub name: String,
    pub value: String,
    pub account: Option<String>,
    pub restricted: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Default)]
pub struct Inner {
    pub admin: String,
    pub keys: Vec<FakeKey>,
    pub accounts: Vec<(String, String)>,
    pub calls: Vec<String>,
    pub failures: Vec<Canned>,
}

#[derive(Clone)]
pub struct FakeOpenAi {
    /// The API base: `http://127.0.0.1:PORT/v1`.
    pub base: String,
    pub admin: String,
    pub state: Arc<Mutex<Inner>>,
}

type St = Arc<Mutex<Inner>>;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn alnum(len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| A[rng.gen_range(0..A.len())] as char)
        .collect()
}

fn fail(status: u16, message: &str, code: &str) -> Response {
    (
        StatusCode::from_u16(status).expect("status"),
        axum::Json(json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}})),
    )
        .into_response()
}

fn redacted(value: &str) -> String {
    let head = if value.starts_with("sk-svcacct-") {
        "sk-svcacct-"
    } else {
        "sk-proj-"
    };
    format!("{head}...{}", &value[value.len() - 4..])
}

fn record(inner: &Inner, k: &FakeKey) -> Value {
    let owner = match &k.account {
        Some(a) => {
            let name = inner
                .accounts
                .iter()
                .find(|(id, _)| id == a)
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            json!({"type": "service_account", "service_account": {
                "object": "organization.project.service_account", "id": a, "name": name,
                "role": "member", "created_at": k.created_at}})
        }
        None => json!({"type": "user", "user": {"object": "organization.project.user",
            "id": "user_abc", "name": "Dev", "email": "dev@example.com", "role": "owner"}}),
    };
    json!({
        "object": "organization.project.api_key", "id": k.id, "name": k.name,
        "redacted_value": redacted(&k.value), "created_at": k.created_at,
        "last_used_at": k.last_used_at, "owner": owner,
    })
}

fn canned(inner: &mut Inner, call: &str) -> Option<Response> {
    inner.calls.push(call.to_owned());
    super::take_canned(&mut inner.failures)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

fn admin(
    inner: &mut Inner,
    headers: &HeaderMap,
    project: &str,
    call: &str,
) -> Result<(), Response> {
    if let Some(r) = canned(inner, call) {
        return Err(r);
    }
    let token = bearer(headers).unwrap_or("");
    if token == inner.admin {
        if project == PROJECT {
            Ok(())
        } else {
            Err(fail(404, "No such project", "not_found"))
        }
    } else if inner.keys.iter().any(|k| k.value == token) {
        Err(fail(
            403,
            "You have insufficient permissions for this operation. Missing scopes: api.management.read.",
            "insufficient_permissions",
        ))
    } else {
        Err(fail(401, "Incorrect API key provided.", "invalid_api_key"))
    }
}

fn new_key(name: &str, account: Option<String>) -> FakeKey {
    let value = if account.is_some() {
        format!("sk-svcacct-{}T3BlbkFJ{}", alnum(40), alnum(40))
    } else {
        format!("sk-proj-{}T3BlbkFJ{}", alnum(40), alnum(40))
    };
    FakeKey {
        id: format!("key_{}", alnum(16)),
        name: name.into(),
        value,
        account,
        restricted: false,
        created_at: now(),
        last_used_at: None,
    }
}

impl FakeOpenAi {
    pub async fn start() -> Self {
        let admin = format!("sk-admin-{}", alnum(40));
        let state: St = Arc::new(Mutex::new(Inner {
            admin: admin.clone(),
            ..Inner::default()
        }));
        let api = Router::new()
            .route(
                "/organization/projects/{project}/service_accounts",
                post(create),
            )
            .route(
                "/organization/projects/{project}/service_accounts/{id}",
                delete(remove_account),
            )
            .route("/organization/projects/{project}/api_keys", get(list))
            .route(
                "/organization/projects/{project}/api_keys/{id}",
                get(one).delete(remove),
            )
            .route("/models", get(models))
            .with_state(state.clone());
        let app = Router::new()
            .nest("/v1", api)
            .fallback(|| async { fail(404, "Invalid URL", "unknown_url") });
        let base = super::serve_app(app).await;
        Self {
            base: format!("{base}/v1"),
            admin,
            state,
        }
    }

    pub fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A user's own project key (listed, not made by Latchkey);
    /// `restricted` keys get 403 on `/models`.
    pub fn seed_user_key(&self, name: &str, restricted: bool) -> String {
        let mut k = new_key(name, None);
        k.restricted = restricted;
        let v = k.value.clone();
        self.inner().keys.push(k);
        v
    }

    pub fn seed_user_keys(&self, n: usize) {
        let mut inner = self.inner();
        for i in 0..n {
            inner.keys.push(new_key(&format!("seed {i}"), None));
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

    pub fn key_count(&self) -> usize {
        self.inner().keys.len()
    }

    pub fn account_count(&self) -> usize {
        self.inner().accounts.len()
    }
}

async fn create(
    State(st): State<St>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = admin(&mut inner, &headers, &project, "POST account") {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return fail(
            400,
            "We could not parse the JSON body of your request.",
            "invalid_json",
        );
    };
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return fail(
            400,
            "Missing required parameter: 'name'.",
            "missing_required_parameter",
        );
    };
    let account = format!("svc_acct_{}", alnum(16));
    inner.accounts.push((account.clone(), name.to_owned()));
    let k = new_key("Secret Key", Some(account.clone()));
    inner.keys.push(k.clone());
    axum::Json(json!({
        "object": "organization.project.service_account", "id": account, "name": name,
        "role": "member", "created_at": k.created_at,
        "api_key": {"object": "organization.project.service_account.api_key",
            "value": k.value, "name": k.name, "created_at": k.created_at, "id": k.id},
    }))
    .into_response()
}

async fn list(
    State(st): State<St>,
    Path(project): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = admin(&mut inner, &headers, &project, "GET list") {
        return r;
    }
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20)
        .min(100);
    let start = match q.get("after") {
        Some(after) => match inner.keys.iter().position(|k| &k.id == after) {
            Some(i) => i + 1,
            None => return fail(400, "Invalid 'after'", "invalid_value"),
        },
        None => 0,
    };
    let page: Vec<Value> = inner
        .keys
        .iter()
        .skip(start)
        .take(limit)
        .map(|k| record(&inner, k))
        .collect();
    let has_more = start + page.len() < inner.keys.len();
    axum::Json(json!({
        "object": "list", "data": page,
        "first_id": page.first().map(|k| k["id"].clone()),
        "last_id": page.last().map(|k| k["id"].clone()),
        "has_more": has_more,
    }))
    .into_response()
}

async fn one(
    State(st): State<St>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = admin(&mut inner, &headers, &project, "GET one") {
        return r;
    }
    match inner.keys.iter().find(|k| k.id == id) {
        Some(k) => axum::Json(record(&inner, k)).into_response(),
        None => fail(404, "No such API key", "not_found"),
    }
}

async fn remove(
    State(st): State<St>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = admin(&mut inner, &headers, &project, "DELETE key") {
        return r;
    }
    match inner.keys.iter().position(|k| k.id == id) {
        Some(i) => {
            inner.keys.remove(i);
            axum::Json(json!({"object": "organization.project.api_key.deleted", "id": id, "deleted": true}))
                .into_response()
        }
        None => fail(404, "No such API key", "not_found"),
    }
}

async fn remove_account(
    State(st): State<St>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(r) = admin(&mut inner, &headers, &project, "DELETE account") {
        return r;
    }
    match inner.accounts.iter().position(|(a, _)| *a == id) {
        Some(i) => {
            inner.accounts.remove(i);
            inner
                .keys
                .retain(|k| k.account.as_deref() != Some(id.as_str()));
            axum::Json(json!({"object": "organization.project.service_account.deleted", "id": id, "deleted": true}))
                .into_response()
        }
        None => fail(404, "No such service account", "not_found"),
    }
}

async fn models(State(st): State<St>, headers: HeaderMap) -> Response {
    let mut inner = st.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(r) = canned(&mut inner, "GET models") {
        return r;
    }
    let token = bearer(&headers).unwrap_or("").to_owned();
    let Some(k) = inner.keys.iter_mut().find(|k| k.value == token) else {
        return fail(401, "Incorrect API key provided.", "invalid_api_key");
    };
    k.last_used_at = Some(now());
    if k.restricted {
        return fail(
            403,
            "You have insufficient permissions for this operation. Missing scopes: model.read.",
            "insufficient_permissions",
        );
    }
    axum::Json(json!({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "created": 1_721_172_741, "owned_by": "system"}]}))
        .into_response()
}
