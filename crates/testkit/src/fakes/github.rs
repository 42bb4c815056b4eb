//! A fake GitHub Actions secrets API on loopback, for the `github:` deploy
#![allow(dead_code)]
//! target. It holds a real X25519 key pair per repository and per
//! environment, unseals every secret it receives (so sealing is proven by
//! decryption) and keeps the plaintext for assertions; it checks key_id,
//! names, the 48 KB and 100-secret limits (422), the token (401 wrong,
//! 403 read-only on writes), unknown repositories/environments (404), and
//! answers 201 for a new secret, 204 for an update, with an `updated_at`
//! that moves on each write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};

pub const TOKEN: &str = "ghp_faketokenfaketokenfaketokenfake0001";
pub const READ_ONLY: &str = "ghp_readonlyreadonlyreadonlyreadonly02";

struct Scope {
    key: crypto_box::SecretKey,
    key_id: String,
    /// name -> (plaintext, updated_at)
    secrets: HashMap<String, (String, String)>,
}

#[derive(Default)]
struct Inner {
    scopes: HashMap<String, Scope>,
    ticks: u64,
    /// Every PUT answers this status (a persistent failure).
    fail_puts: Option<u16>,
    /// The public key answers 200 with an HTML page.
    html_keys: bool,
}

#[derive(Clone, Default)]
pub struct FakeGithub {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

fn stamp(n: u64) -> String {
    format!(
        "2026-01-01T{:02}:{:02}:{:02}Z",
        n / 3600,
        (n / 60) % 60,
        n % 60
    )
}

fn scope_key(repo: &str, env: Option<&str>) -> String {
    match env {
        Some(e) => format!("{repo}#{e}"),
        None => repo.to_owned(),
    }
}

impl FakeGithub {
    pub async fn start() -> Self {
        let mut fake = FakeGithub::default();
        let (listener, base) = super::listen().await;
        fake.base = base;
        let app = Router::new()
            .route("/user", get(user))
            .route("/repos/{o}/{r}/actions/secrets/public-key", get(repo_key))
            .route(
                "/repos/{o}/{r}/actions/secrets/{name}",
                get(repo_get).put(repo_put).delete(repo_delete),
            )
            .route(
                "/repos/{o}/{r}/environments/{e}/secrets/public-key",
                get(env_key),
            )
            .route(
                "/repos/{o}/{r}/environments/{e}/secrets/{name}",
                get(env_get).put(env_put).delete(env_delete),
            )
            .with_state(fake.clone());
        super::serve(listener, app);
        fake
    }

    fn new_scope(&self, key: String) {
        let mut inner = self.inner.lock().unwrap();
        let n = inner.scopes.len();
        inner.scopes.insert(
            key,
            Scope {
                key: crypto_box::SecretKey::generate(&mut crypto_box::aead::OsRng),
                key_id: format!("568250167242549743{n}"),
                secrets: HashMap::new(),
            },
        );
    }

    pub fn add_repo(&self, repo: &str) {
        self.new_scope(scope_key(repo, None));
    }

    pub fn add_environment(&self, repo: &str, env: &str) {
        self.new_scope(scope_key(repo, Some(env)));
    }

    /// A secret put there by someone else (plaintext), at the next tick.
    pub fn seed(&self, repo: &str, env: Option<&str>, name: &str, value: &str) {
        let mut inner = self.inner.lock().unwrap();
        inner.ticks += 1;
        let at = stamp(inner.ticks);
        let scope = inner.scopes.get_mut(&scope_key(repo, env)).expect("scope");
        scope.secrets.insert(name.into(), (value.into(), at));
    }

    /// The plaintext GitHub would hold (unsealed by the fake).
    pub fn plaintext(&self, repo: &str, env: Option<&str>, name: &str) -> Option<String> {
        let inner = self.inner.lock().unwrap();
        inner
            .scopes
            .get(&scope_key(repo, env))?
            .secrets
            .get(name)
            .map(|(v, _)| v.clone())
    }

    pub fn count(&self, repo: &str, env: Option<&str>) -> usize {
        let inner = self.inner.lock().unwrap();
        inner.scopes[&scope_key(repo, env)].secrets.len()
    }

    pub fn fail_puts(&self, status: Option<u16>) {
        self.inner.lock().unwrap().fail_puts = status;
    }

    pub fn html_keys(&self, on: bool) {
        self.inner.lock().unwrap().html_keys = on;
    }

    pub fn key_id(&self, repo: &str, env: Option<&str>) -> String {
        self.inner.lock().unwrap().scopes[&scope_key(repo, env)]
            .key_id
            .clone()
    }
}

/// 401 for a wrong token, 403 for the read-only one on a write.
fn auth(headers: &HeaderMap, write: bool) -> Option<Response> {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(TOKEN) => None,
        Some(READ_ONLY) if !write => None,
        Some(READ_ONLY) => Some(
            (
                StatusCode::FORBIDDEN,
                Json(json!({"message": "Resource not accessible by personal access token"})),
            )
                .into_response(),
        ),
        _ => Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"message": "Bad credentials"})),
            )
                .into_response(),
        ),
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response()
}

fn invalid(message: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"message": message})),
    )
        .into_response()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
        && !name.to_ascii_uppercase().starts_with("GITHUB_")
}

async fn user(headers: HeaderMap) -> Response {
    if let Some(r) = auth(&headers, false) {
        return r;
    }
    Json(json!({"login": "octocat", "id": 1})).into_response()
}

fn public_key(fake: &FakeGithub, headers: &HeaderMap, key: String) -> Response {
    if let Some(r) = auth(headers, false) {
        return r;
    }
    let inner = fake.inner.lock().unwrap();
    if inner.html_keys {
        return (StatusCode::OK, "<html><body>Sign in</body></html>").into_response();
    }
    let Some(scope) = inner.scopes.get(&key) else {
        return not_found();
    };
    let public =
        base64::engine::general_purpose::STANDARD.encode(scope.key.public_key().as_bytes());
    Json(json!({"key_id": scope.key_id, "key": public})).into_response()
}

fn get_secret(fake: &FakeGithub, headers: &HeaderMap, key: String, name: &str) -> Response {
    if let Some(r) = auth(headers, false) {
        return r;
    }
    let inner = fake.inner.lock().unwrap();
    let Some(scope) = inner.scopes.get(&key) else {
        return not_found();
    };
    match scope.secrets.get(name) {
        Some((_, at)) => {
            Json(json!({"name": name, "created_at": at, "updated_at": at})).into_response()
        }
        None => not_found(),
    }
}

fn put_secret(
    fake: &FakeGithub,
    headers: &HeaderMap,
    key: String,
    name: &str,
    body: Value,
) -> Response {
    if let Some(r) = auth(headers, true) {
        return r;
    }
    let mut inner = fake.inner.lock().unwrap();
    if let Some(status) = inner.fail_puts {
        return (StatusCode::from_u16(status).unwrap(), "<html>down</html>").into_response();
    }
    inner.ticks += 1;
    let at = stamp(inner.ticks);
    let Some(scope) = inner.scopes.get_mut(&key) else {
        return not_found();
    };
    if !valid_name(name) {
        return invalid("Secret names can only contain alphanumeric characters or underscores");
    }
    if body["key_id"].as_str() != Some(scope.key_id.as_str()) {
        return invalid("Invalid request: key_id is wrong or missing");
    }
    let Some(sealed) = body["encrypted_value"]
        .as_str()
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
    else {
        return invalid("encrypted_value is not base64");
    };
    let Ok(plain) = scope.key.unseal(&sealed) else {
        return invalid("encrypted_value could not be decrypted");
    };
    let Ok(plain) = String::from_utf8(plain) else {
        return invalid("not UTF-8");
    };
    if plain.len() > 48 * 1024 {
        return invalid("Secret value is too large (48 KB at most)");
    }
    let existed = scope.secrets.contains_key(name);
    if !existed && scope.secrets.len() >= 100 {
        return invalid("A repository can have at most 100 secrets");
    }
    scope.secrets.insert(name.to_owned(), (plain, at));
    if existed {
        StatusCode::NO_CONTENT.into_response()
    } else {
        StatusCode::CREATED.into_response()
    }
}

fn delete_secret(fake: &FakeGithub, headers: &HeaderMap, key: String, name: &str) -> Response {
    if let Some(r) = auth(headers, true) {
        return r;
    }
    let mut inner = fake.inner.lock().unwrap();
    let Some(scope) = inner.scopes.get_mut(&key) else {
        return not_found();
    };
    match scope.secrets.remove(name) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(),
    }
}

async fn repo_key(
    State(f): State<FakeGithub>,
    Path((o, r)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    public_key(&f, &h, format!("{o}/{r}"))
}

async fn repo_get(
    State(f): State<FakeGithub>,
    Path((o, r, n)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Response {
    get_secret(&f, &h, format!("{o}/{r}"), &n)
}

async fn repo_put(
    State(f): State<FakeGithub>,
    Path((o, r, n)): Path<(String, String, String)>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    put_secret(&f, &h, format!("{o}/{r}"), &n, body)
}

async fn repo_delete(
    State(f): State<FakeGithub>,
    Path((o, r, n)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Response {
    delete_secret(&f, &h, format!("{o}/{r}"), &n)
}

async fn env_key(
    State(f): State<FakeGithub>,
    Path((o, r, e)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Response {
    public_key(&f, &h, format!("{o}/{r}#{e}"))
}

async fn env_get(
    State(f): State<FakeGithub>,
    Path((o, r, e, n)): Path<(String, String, String, String)>,
    h: HeaderMap,
) -> Response {
    get_secret(&f, &h, format!("{o}/{r}#{e}"), &n)
}

async fn env_put(
    State(f): State<FakeGithub>,
    Path((o, r, e, n)): Path<(String, String, String, String)>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    put_secret(&f, &h, format!("{o}/{r}#{e}"), &n, body)
}

async fn env_delete(
    State(f): State<FakeGithub>,
    Path((o, r, e, n)): Path<(String, String, String, String)>,
    h: HeaderMap,
) -> Response {
    delete_secret(&f, &h, format!("{o}/{r}#{e}"), &n)
}
