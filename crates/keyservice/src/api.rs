//! The HTTP edge: routes, request parsing and validation, answers.
//!
//! Every failure is answered with the contract's error body; request bodies
//! are capped, must be JSON, and are checked field by field. Nothing here
//! logs or echoes a presented key.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::chaos::{Fault, Phase};
use crate::error::ApiError;
use crate::model::{random_hex, Permission};
use crate::server::{ConnDropper, PeerIp, Service};
use crate::state::{CreateRequest, Principal};

type Svc = Arc<Service>;
type ApiResult<T> = Result<T, ApiError>;

/// Longest an `Idempotency-Key` may be.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;
/// Name length bounds, in characters.
pub const NAME_CHARS: std::ops::RangeInclusive<usize> = 1..=64;
/// `expires_in_days` bounds.
pub const EXPIRES_DAYS: std::ops::RangeInclusive<u64> = 1..=3650;
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn router(service: Svc) -> Router {
    let mut api = Router::new()
        .route(
            "/api/projects/{project}/api-keys",
            post(create_key).get(list_keys),
        )
        .route(
            "/api/projects/{project}/api-keys/{id}",
            get(get_key).delete(revoke_key),
        )
        .route("/v1/verify", get(verify))
        .route("/v1/generate", post(generate));
    if service.chaos.is_some() {
        api = api
            .route_layer(axum::middleware::from_fn_with_state(
                service.clone(),
                inject_fault,
            ))
            .route("/__chaos", post(arm_chaos));
    }
    api.fallback(|| async { ApiError::not_found("This endpoint") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::middleware::from_fn_with_state(
            service.clone(),
            limit_auth_failures,
        ))
        .with_state(service)
}

/// Outermost layer: refuses every call from an address locked out by its
/// failed authentications, and charges each 401 to its address (see
/// `auth_limit`). Correct credentials are never charged.
async fn limit_auth_failures(State(svc): State<Svc>, request: Request, next: Next) -> Response {
    let Some(PeerIp(ip)) = request.extensions().get::<PeerIp>().copied() else {
        return next.run(request).await;
    };
    if let Err(wait) = svc.auth_failures.check(ip, svc.clock.now()) {
        return ApiError::too_many_failed_authentications(wait).into_response();
    }
    let response = next.run(request).await;
    if response.status() == StatusCode::UNAUTHORIZED {
        svc.auth_failures.charge(ip, svc.clock.now());
    }
    response
}

/// The bearer token of a request: `Ok(None)` when there is none.
fn bearer(headers: &HeaderMap) -> ApiResult<Option<&str>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::invalid_api_key(None))?
        .trim();
    let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::invalid_api_key(None));
    }
    let token = token.trim();
    Ok((!token.is_empty()).then_some(token))
}

fn authenticate(svc: &Service, headers: &HeaderMap) -> ApiResult<Principal> {
    let token = bearer(headers)?;
    let now = svc.clock.now();
    svc.state().authenticate(token, now)
}

/// Authenticates a management call on `project` (admin token, or a key of
/// that project with the `admin` permission).
fn authenticate_manager(svc: &Service, headers: &HeaderMap, project: &str) -> ApiResult<()> {
    let principal = authenticate(svc, headers)?;
    svc.state()
        .authorize(&principal, Permission::Admin, Some(project))
}

fn check_project(project: &str) -> ApiResult<()> {
    let ok = (1..=64).contains(&project.len())
        && project
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(ApiError::validation(
            "project",
            "A project name is 1 to 64 characters of letters, digits, '-', '_' or '.'",
        ))
    }
}

/// Reads a JSON object body: checks content type, size, time, UTF-8, JSON.
async fn json_object(
    svc: &Service,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Map<String, Value>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::validation(
            "content-type",
            "Send the request body as 'Content-Type: application/json'",
        ));
    }
    let limit = svc.max_body_bytes;
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, limit)).await {
        Err(_) => {
            return Err(ApiError::validation(
                "body",
                "The request body did not arrive in time",
            ))
        }
        Ok(Err(_)) => {
            return Err(ApiError::validation(
                "body",
                format!("The request body is larger than {limit} bytes"),
            ))
        }
        Ok(Ok(bytes)) => bytes,
    };
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::validation("body", "The request body is not valid UTF-8"))?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::validation(
            "body",
            "The request body must be a JSON object",
        )),
        Err(_) => Err(ApiError::validation(
            "body",
            "The request body is not valid JSON",
        )),
    }
}

/// Refuses fields other than `allowed`.
fn no_unknown_fields(map: &Map<String, Value>, allowed: &[&str]) -> ApiResult<()> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(field) => {
            let shown: String = field.chars().filter(|c| !c.is_control()).take(64).collect();
            Err(ApiError::validation(
                &shown,
                "This field is not part of the request",
            ))
        }
        None => Ok(()),
    }
}

fn parse_create(map: &Map<String, Value>) -> ApiResult<CreateRequest> {
    no_unknown_fields(map, &["name", "permissions", "expires_in_days"])?;
    let name = match map.get("name") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(ApiError::validation("name", "The name must be a string")),
        None => return Err(ApiError::validation("name", "A name is required")),
    };
    if !NAME_CHARS.contains(&name.chars().count()) {
        return Err(ApiError::validation(
            "name",
            "The name must be 1 to 64 characters long",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::validation(
            "name",
            "The name must not contain control characters",
        ));
    }
    if name.trim().is_empty() {
        return Err(ApiError::validation("name", "The name must not be blank"));
    }
    let permissions = match map.get("permissions") {
        None | Some(Value::Null) => vec![Permission::Read],
        Some(Value::Array(items)) => {
            let mut perms = Vec::new();
            for item in items {
                let p = item.as_str().and_then(Permission::parse).ok_or_else(|| {
                    ApiError::validation(
                        "permissions",
                        "Permissions are any of 'read', 'write', 'admin', 'webhook'",
                    )
                })?;
                if !perms.contains(&p) {
                    perms.push(p);
                }
            }
            if perms.is_empty() {
                return Err(ApiError::validation(
                    "permissions",
                    "Give at least one permission",
                ));
            }
            perms
        }
        Some(_) => {
            return Err(ApiError::validation(
                "permissions",
                "Permissions must be a list of strings",
            ))
        }
    };
    let expires_in_days = match map.get("expires_in_days") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64().filter(|d| EXPIRES_DAYS.contains(d)) {
            Some(d) => Some(d as u32),
            None => {
                return Err(ApiError::validation(
                    "expires_in_days",
                    "expires_in_days must be a whole number from 1 to 3650",
                ))
            }
        },
    };
    Ok(CreateRequest {
        name: name.clone(),
        permissions,
        expires_in_days,
    })
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let bad = || {
        ApiError::validation(
            "Idempotency-Key",
            "An Idempotency-Key is 1 to 128 printable ASCII characters",
        )
    };
    let text = value.to_str().map_err(|_| bad())?;
    if text.is_empty()
        || text.len() > MAX_IDEMPOTENCY_KEY
        || !text.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(bad());
    }
    Ok(Some(text.to_owned()))
}

fn path_error(_: axum::extract::rejection::PathRejection) -> ApiError {
    ApiError::not_found("This endpoint")
}

async fn create_key(
    State(svc): State<Svc>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let Path(project) = path.map_err(path_error)?;
    check_project(&project)?;
    authenticate_manager(&svc, &headers, &project)?;
    let idem = idempotency_key(&headers)?;
    let request = parse_create(&json_object(&svc, &headers, body).await?)?;
    let now = svc.clock.now();
    let created = svc
        .state()
        .create(&project, &request, idem.as_deref(), now)?;
    if !created.replayed {
        if let Err(e) = svc.persist().await {
            svc.state().forget(&created.key.id);
            return Err(e);
        }
    }
    // The answer holds the full key: its bytes are zeroized once the
    // server has written them (the body's owner drops with the last
    // reference to them).
    let body = serde_json::to_vec(&created.key.to_object(Some(&created.full)))
        .map(zeroize::Zeroizing::new)
        .map_err(|_| ApiError::internal("the answer could not be written"))?;
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from(axum::body::Bytes::from_owner(body)),
    )
        .into_response())
}

async fn list_keys(
    State(svc): State<Svc>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Path(project) = path.map_err(path_error)?;
    check_project(&project)?;
    authenticate_manager(&svc, &headers, &project)?;
    let keys: Vec<_> = svc
        .state()
        .list(&project)
        .into_iter()
        .map(|k| k.to_object(None))
        .collect();
    Ok(Json(json!({ "keys": keys })).into_response())
}

async fn get_key(
    State(svc): State<Svc>,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Path((project, id)) = path.map_err(path_error)?;
    check_project(&project)?;
    authenticate_manager(&svc, &headers, &project)?;
    let object = svc.state().get(&project, &id)?.to_object(None);
    Ok(Json(object).into_response())
}

async fn revoke_key(
    State(svc): State<Svc>,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Path((project, id)) = path.map_err(path_error)?;
    check_project(&project)?;
    authenticate_manager(&svc, &headers, &project)?;
    let now = svc.clock.now();
    let changed = svc.state().revoke(&project, &id, now)?;
    if changed {
        if let Err(e) = svc.persist().await {
            svc.state().unrevoke(&id);
            return Err(e);
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The key a `/v1` call is made with; the admin token is not an API key.
fn key_in_use(svc: &Service, headers: &HeaderMap) -> ApiResult<String> {
    match authenticate(svc, headers)? {
        Principal::Key { id } => Ok(id),
        Principal::Admin => Err(ApiError::invalid_api_key(None)),
    }
}

async fn verify(State(svc): State<Svc>, headers: HeaderMap) -> ApiResult<Response> {
    let id = key_in_use(&svc, &headers)?;
    let answer = {
        let state = svc.state();
        let key = state
            .key(&id)
            .ok_or_else(|| ApiError::invalid_api_key(None))?;
        json!({
            "key_id": key.id,
            "project": key.project,
            "permissions": key.permissions,
            "expires_at": key.expires_at.map(crate::model::rfc3339),
        })
    };
    Ok(Json(answer).into_response())
}

async fn generate(State(svc): State<Svc>, headers: HeaderMap, body: Body) -> ApiResult<Response> {
    let id = key_in_use(&svc, &headers)?;
    svc.state()
        .authorize(&Principal::Key { id }, Permission::Read, None)?;
    let map = json_object(&svc, &headers, body).await?;
    no_unknown_fields(&map, &["prompt"])?;
    let prompt = match map.get("prompt") {
        Some(Value::String(s)) if !s.trim().is_empty() => s,
        _ => {
            return Err(ApiError::validation(
                "prompt",
                "A non-empty string 'prompt' is required",
            ))
        }
    };
    let words = prompt.split_whitespace().count();
    let output = format!(
        "Echo ({words} words): {}",
        prompt.chars().take(200).collect::<String>()
    );
    Ok(Json(json!({ "id": format!("gen_{}", random_hex(8)), "output": output })).into_response())
}

/// Route layer with `--chaos`: applies an armed fault before the handler
/// (`phase` "before": the call is not carried out) or after it (`phase`
/// "after": the call is carried out and saved, only its answer is replaced).
async fn inject_fault(State(svc): State<Svc>, request: Request, next: Next) -> Response {
    let Some(fault) = svc.chaos.as_ref().and_then(|c| c.take()) else {
        return next.run(request).await;
    };
    let dropper = request.extensions().get::<ConnDropper>().cloned();
    // `Ok`: the call's own answer (phase after); `Err`: the call, not run yet.
    let done = match fault.phase {
        Phase::Before => Err((request, next)),
        Phase::After => Ok(next.run(request).await),
    };
    if !fault.delay.is_zero() {
        tokio::time::sleep(fault.delay).await;
    }
    if fault.drop_connection {
        if let Some(dropper) = dropper {
            dropper.0.notify_one();
            // The connection is closed under us; never answer.
            std::future::pending::<()>().await;
        }
        return ApiError::internal("Injected dropped connection").into_response();
    }
    match (fault.status, done) {
        (Some(status), _) => ApiError::injected(status).into_response(),
        (None, Ok(answer)) => answer,
        (None, Err((request, next))) => next.run(request).await,
    }
}

async fn arm_chaos(State(svc): State<Svc>, headers: HeaderMap, body: Body) -> ApiResult<Response> {
    if authenticate(&svc, &headers)? != Principal::Admin {
        return Err(ApiError::insufficient_permissions("admin"));
    }
    let map = json_object(&svc, &headers, body).await?;
    no_unknown_fields(
        &map,
        &[
            "fail_next",
            "status",
            "delay_ms",
            "drop_connection",
            "phase",
        ],
    )?;
    let count = map
        .get("fail_next")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| ApiError::validation("fail_next", "fail_next must be a whole number"))?;
    let status = match map.get("status") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(500) => Some(StatusCode::INTERNAL_SERVER_ERROR),
            Some(503) => Some(StatusCode::SERVICE_UNAVAILABLE),
            Some(429) => Some(StatusCode::TOO_MANY_REQUESTS),
            _ => {
                return Err(ApiError::validation(
                    "status",
                    "status must be 500, 503 or 429",
                ))
            }
        },
    };
    let delay_ms = match map.get("delay_ms") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_u64()
            .filter(|&ms| ms <= 60_000)
            .ok_or_else(|| ApiError::validation("delay_ms", "delay_ms must be 0 to 60000"))?,
    };
    let drop_connection = match map.get("drop_connection") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::validation(
                "drop_connection",
                "drop_connection must be true or false",
            ))
        }
    };
    let phase = match map.get("phase") {
        None | Some(Value::Null) => Phase::Before,
        Some(v) => v.as_str().and_then(Phase::parse).ok_or_else(|| {
            ApiError::validation("phase", "phase must be \"before\" or \"after\"")
        })?,
    };
    // A bare `fail_next` means "fail with 500"; a delay alone only slows calls down.
    let status = match (status, drop_connection, delay_ms) {
        (None, false, 0) => Some(StatusCode::INTERNAL_SERVER_ERROR),
        (s, _, _) => s,
    };
    let fault = Fault {
        status,
        delay: Duration::from_millis(delay_ms),
        drop_connection,
        phase,
    };
    if let Some(chaos) = &svc.chaos {
        chaos.arm(count, fault);
    }
    Ok(Json(json!({
        "armed": {
            "fail_next": count,
            "status": status.map(|s| s.as_u16()),
            "delay_ms": delay_ms,
            "drop_connection": drop_connection,
            "phase": phase.as_str(),
        }
    }))
    .into_response())
}
