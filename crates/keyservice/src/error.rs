//! The contract's error body: every 4xx/5xx the service answers is
//! `{"success": false, "error": {"code", "message", "details"}}`.
//! Messages are fixed English text; they never echo a presented key.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::model::rfc3339;

/// One error answer of the contract.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    /// Whole seconds for the `Retry-After` header, when the answer has one.
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
        details: Value,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details,
            retry_after: None,
        }
    }

    pub fn missing_api_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "MISSING_API_KEY",
            "No API key was provided; send it as 'Authorization: Bearer <key>'",
            json!({ "header": "Authorization" }),
        )
    }

    pub fn invalid_api_key(key_id: Option<&str>) -> Self {
        let details = match key_id {
            Some(id) => json!({ "key_id": id }),
            None => json!({}),
        };
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_API_KEY",
            "The provided API key is invalid",
            details,
        )
    }

    pub fn expired_api_key(key_id: &str, expired_at: OffsetDateTime) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "EXPIRED_API_KEY",
            "The provided API key has expired",
            json!({ "key_id": key_id, "expired_at": rfc3339(expired_at) }),
        )
    }

    pub fn insufficient_permissions(required: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            format!("This API key lacks the '{required}' permission needed for this call"),
            json!({ "required": required }),
        )
    }

    pub fn wrong_project(project: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            "This API key belongs to another project",
            json!({ "required": "admin", "project": project }),
        )
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            message,
            json!({ "field": field }),
        )
    }

    pub fn key_limit_reached(limit: usize) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "KEY_LIMIT_REACHED",
            format!("This project already has {limit} active keys; revoke one and try again"),
            json!({ "limit": limit }),
        )
    }

    /// An `Idempotency-Key` whose original answer (with the full key) is no
    /// longer held, because the service restarted since. Nothing is created.
    pub fn idempotent_replay_unavailable(key_id: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "IDEMPOTENCY_REPLAY_UNAVAILABLE",
            "This request was already completed, but its key can no longer be shown; revoke that key and create a new one",
            json!({ "key_id": key_id }),
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("{what} was not found"),
            json!({}),
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "This method is not allowed on this path",
            json!({}),
        )
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            format!("Too many requests with this API key; retry after {retry_after} s"),
            json!({ "retry_after": retry_after }),
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// Refused because this client address failed to authenticate too often.
    pub fn too_many_failed_authentications(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            format!(
                "Too many failed authentications from this address; retry after {retry_after} s"
            ),
            json!({ "retry_after": retry_after, "reason": "failed_authentications" }),
        );
        e.retry_after = Some(retry_after);
        e
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            message,
            json!({}),
        )
    }

    /// The answer a chaos fault with this status gives.
    pub fn injected(status: StatusCode) -> Self {
        match status {
            StatusCode::TOO_MANY_REQUESTS => Self::rate_limited(1),
            StatusCode::SERVICE_UNAVAILABLE => {
                let mut e = Self::new(
                    status,
                    "INTERNAL",
                    "The service is temporarily unavailable",
                    json!({}),
                );
                e.retry_after = Some(1);
                e
            }
            _ => Self::internal("Injected internal error"),
        }
    }

    /// The JSON body of this error, as sent on the wire.
    pub fn body(&self) -> Value {
        json!({
            "success": false,
            "error": { "code": self.code, "message": self.message, "details": self.details },
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
