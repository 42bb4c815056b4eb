//! Plumbing shared by the JSON API connectors (Cloudflare, Dakora, Open
//! Animate, OpenRouter, OpenAI, SendGrid, Twilio): one authenticated call
//! whose error answers go through the connector's own mapping, fields read
//! from untrusted JSON and cleaned as they are read, a new key's secret
//! taken out of an answer with the rest of that answer wiped, and ids
//! checked before they go into a path. It never puts a secret in an error:
//! a field that should hold a key and does not is named, never shown.

use reqwest::Method;
use serde_json::Value;
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::http::{Answer, Auth, Call, HttpEngine};
use crate::secret::Secret;
use crate::untrusted::{self, MAX_TIMESTAMP};

/// How a connector turns a non-success answer into an error.
pub(crate) type ErrorOf = fn(Answer) -> Error;

/// Sends one call; a non-2xx answer is mapped by `error_of`.
pub(crate) async fn call(
    http: &HttpEngine,
    method: Method,
    path: &str,
    auth: Auth<'_>,
    body: Option<&Value>,
    error_of: ErrorOf,
) -> Result<Answer> {
    let answer = http
        .send(Call {
            method,
            path,
            auth,
            headers: &[],
            body,
            idempotency_key: None,
        })
        .await?;
    if answer.status.is_success() {
        Ok(answer)
    } else {
        Err(error_of(answer))
    }
}

/// A service reached with one management credential sent as a bearer
/// token, whose refusals read through its `error_of` (Cloudflare, OpenAI,
/// OpenRouter, SendGrid).
#[derive(Debug)]
pub(crate) struct Bearer {
    pub(crate) http: HttpEngine,
    pub(crate) credential: Secret,
    error_of: ErrorOf,
}

impl Bearer {
    /// `ask`: what to enter when the credential is empty; `default`: the
    /// service's own address, used when `base_url` is blank.
    pub(crate) fn new(
        base_url: &str,
        default: &str,
        credential: Secret,
        ask: &str,
        policy: crate::http::HttpPolicy,
        error_of: ErrorOf,
    ) -> Result<Self> {
        let http = engine(base_url, default, &credential, ask, policy)?;
        Ok(Self {
            http,
            credential,
            error_of,
        })
    }

    /// One call with the credential; a refusal is the service's error.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer> {
        call(
            &self.http,
            method,
            path,
            Auth::Bearer(&self.credential),
            body,
            self.error_of,
        )
        .await
    }
}

/// Zeroizes every string in a JSON value (an answer that held a new key).
/// The HTTP engine of a connection to `base_url` (empty: the service's
/// own `default`), refused with `ask` (what to enter) when there is no
/// credential.
pub(crate) fn engine(
    base_url: &str,
    default: &str,
    credential: &Secret,
    ask: &str,
    policy: crate::http::HttpPolicy,
) -> Result<HttpEngine> {
    if credential.is_empty() {
        return Err(Error::invalid("admin_token", ask));
    }
    let base = if base_url.trim().is_empty() {
        default
    } else {
        base_url
    };
    HttpEngine::new(base, policy)
}

pub(crate) fn wipe(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(fields) => fields.values_mut().for_each(wipe),
        _ => {}
    }
}

/// A required string field, cleaned.
pub(crate) fn text(v: &Value, field: &str, max: usize, secrets: &[&Secret]) -> Result<String> {
    v[field]
        .as_str()
        .map(|s| untrusted::clean(s, max, secrets))
        .ok_or_else(|| Error::BadResponse(format!("a key without a valid '{field}'")))
}

/// An optional string field (missing or null: empty), cleaned.
pub(crate) fn text_or_empty(
    v: &Value,
    field: &str,
    max: usize,
    secrets: &[&Secret],
) -> Result<String> {
    match &v[field] {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(untrusted::clean(s, max, secrets)),
        _ => Err(Error::BadResponse(format!(
            "a key with a mistyped '{field}'"
        ))),
    }
}

/// An optional RFC 3339 timestamp sent as a string.
pub(crate) fn timestamp(v: &Value, field: &str, secrets: &[&Secret]) -> Result<Option<String>> {
    match &v[field] {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(untrusted::clean(s, MAX_TIMESTAMP, secrets))),
        _ => Err(Error::BadResponse(format!(
            "a key with a mistyped '{field}'"
        ))),
    }
}

/// An optional time in unix seconds, as RFC 3339 UTC.
pub(crate) fn unix_seconds(v: &Value, field: &str) -> Result<Option<String>> {
    match &v[field] {
        Value::Null => Ok(None),
        Value::Number(n) => {
            let secs = n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .ok_or_else(|| Error::BadResponse(format!("a key with a mistyped '{field}'")))?;
            rfc3339(secs)
                .map(Some)
                .ok_or_else(|| Error::BadResponse(format!("a key with an impossible '{field}'")))
        }
        _ => Err(Error::BadResponse(format!(
            "a key with a mistyped '{field}'"
        ))),
    }
}

/// Unix seconds as RFC 3339 UTC.
pub(crate) fn rfc3339(secs: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Now plus `days`, as RFC 3339 UTC to the second (an expiry to send).
pub(crate) fn days_from_now(days: u32) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    rfc3339(now + i64::from(days) * 86_400).unwrap_or_default()
}

/// Takes the secret at `pointer` (a JSON pointer) out of `value` when
/// `shape` accepts it; otherwise wipes the whole value and says the key
/// is missing (never what was there instead).
pub(crate) fn take_secret(
    value: &mut Value,
    pointer: &str,
    shape: impl Fn(&str) -> bool,
) -> Result<Secret> {
    match value.pointer_mut(pointer) {
        Some(Value::String(k)) if shape(k) => Ok(Secret::take_from(k)),
        _ => {
            wipe(value);
            Err(Error::BadResponse(
                "a created key without its secret".into(),
            ))
        }
    }
}

/// An id the service gave, checked before it goes into a path: letters,
/// digits, `-`, `_` and `.` only, and not empty.
pub(crate) fn path_id(remote_id: &str) -> Result<&str> {
    let ok = !remote_id.is_empty()
        && remote_id.len() <= 128
        && remote_id != "."
        && remote_id != ".."
        && remote_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(remote_id)
    } else {
        Err(Error::invalid(
            "remote_id",
            "This key has no usable id on the service",
        ))
    }
}

/// Refuses scopes for a service whose keys take none here.
pub(crate) fn no_scopes(scopes: &[String], service: &str) -> Result<()> {
    if scopes.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(
            "scopes",
            format!("{service} keys made by Latchkey take no scopes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unix_seconds_are_utc() {
        let v = json!({"t": 1_764_806_400_i64});
        assert_eq!(
            unix_seconds(&v, "t").unwrap().as_deref(),
            Some("2025-12-04T00:00:00Z")
        );
        assert_eq!(unix_seconds(&v, "missing").unwrap(), None);
        assert!(unix_seconds(&json!({"t": "x"}), "t").is_err());
    }

    #[test]
    fn ids_in_paths_are_plain() {
        assert!(path_id("SKabc_1-2.3").is_ok());
        for bad in ["", "..", "a/b", "a?b", "a b", "%2e"] {
            assert_eq!(path_id(bad).unwrap_err().code().as_str(), "invalid_input");
        }
    }

    #[test]
    fn a_missing_secret_wipes_the_answer_and_is_not_shown() {
        let mut v = json!({"key": "nope-not-a-key", "other": "x"});
        let e = take_secret(&mut v, "/key", |k| k.starts_with("sk-")).unwrap_err();
        assert!(!e.to_string().contains("nope"));
        assert_eq!(v["other"], "");
    }
}
