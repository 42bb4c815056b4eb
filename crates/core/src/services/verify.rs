//! A catalogue service's cheap "does this key work?" request, and how its
//! answer reads: which statuses mean accepted, rejected, valid-but-
//! restricted; anything else is unknown (never taken as success).

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::http::{Auth, Call, HttpEngine, HttpPolicy};
use crate::secret::Secret;

/// How the key is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export, rename = "VerifyAuth")]
pub enum AuthScheme {
    /// `Authorization: Bearer KEY`
    Bearer,
    /// `HEADER: KEY` (the entry's `header`).
    Header,
    /// `Authorization: Basic base64(USER:KEY)` (the entry's `basic_user`;
    /// `{paired}` is the key's other half, e.g. Twilio's key SID).
    Basic,
    /// AWS Signature Version 4 over the access key pair.
    AwsSigv4,
}

/// The request, as a catalogue file writes it.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct VerifyRequest {
    pub method: String,
    /// Absolute, or starting `{base}` for the connection's base URL.
    pub url: String,
    pub auth: AuthScheme,
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub basic_user: Option<String>,
    /// Further headers (not secrets), e.g. an API version.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub accepted: Vec<u16>,
    pub rejected: Vec<u16>,
    pub restricted: Vec<u16>,
}

/// What the answer says about the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum VerifyOutcome {
    Accepted,
    Rejected,
    /// The key works, but may not do what the verify call asked.
    Restricted,
    /// The answer says nothing certain (another status).
    Unknown,
}

/// A request ready to send. Its `Debug` never shows the key.
pub struct VerifyCall {
    pub method: Method,
    pub url: String,
    key: Secret,
    auth: AuthScheme,
    header: String,
    basic_user: String,
    headers: Vec<(String, String)>,
}

impl std::fmt::Debug for VerifyCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyCall")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("auth", &self.auth)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl VerifyRequest {
    /// The call for `key`. `base` replaces `{base}`, or the scheme and host
    /// of an absolute URL (a self-hosted server, an emulator, a test).
    /// `paired` is the key's other half where the scheme needs one.
    pub fn build(
        &self,
        key: &Secret,
        base: Option<&str>,
        paired: Option<&str>,
    ) -> Result<VerifyCall> {
        if self.auth == AuthScheme::AwsSigv4 {
            return Err(Error::NotSupported(
                "checking an AWS key needs a signed (SigV4) request, which this check does not make yet"
                    .into(),
            ));
        }
        let url = match (self.url.strip_prefix("{base}"), base) {
            (Some(path), Some(base)) => format!("{}{path}", base.trim_end_matches('/')),
            (Some(_), None) => {
                return Err(Error::invalid(
                    "base_url",
                    "This service's check needs the connection's base URL",
                ))
            }
            (None, Some(base)) => {
                let mut parsed = url::Url::parse(&self.url)
                    .map_err(|_| Error::invalid("url", "The check's URL is not usable"))?;
                let base = url::Url::parse(base)
                    .map_err(|_| Error::invalid("base_url", "The base URL is not usable"))?;
                let prefix = base.path().trim_end_matches('/');
                let path = format!("{prefix}{}", parsed.path());
                parsed.set_path(&path);
                let _ = parsed.set_scheme(base.scheme());
                parsed
                    .set_host(base.host_str())
                    .map_err(|_| Error::invalid("base_url", "The base URL is not usable"))?;
                let _ = parsed.set_port(base.port());
                parsed.to_string()
            }
            (None, None) => self.url.clone(),
        };
        let method = Method::from_bytes(self.method.as_bytes())
            .map_err(|_| Error::invalid("method", "The check's method is not usable"))?;
        let basic_user = match self
            .basic_user
            .as_deref()
            .filter(|_| self.auth == AuthScheme::Basic)
        {
            Some("{paired}") => paired
                .ok_or_else(|| {
                    Error::invalid(
                        "paired",
                        "This service's check needs the key's other half (e.g. its key SID)",
                    )
                })?
                .to_owned(),
            Some(user) => user.to_owned(),
            None => String::new(),
        };
        Ok(VerifyCall {
            method,
            url,
            key: key.clone(),
            auth: self.auth,
            header: self.header.clone().unwrap_or_default(),
            basic_user,
            headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    /// What a status means for this service.
    pub fn read(&self, status: u16) -> VerifyOutcome {
        if self.accepted.contains(&status) {
            VerifyOutcome::Accepted
        } else if self.rejected.contains(&status) {
            VerifyOutcome::Rejected
        } else if self.restricted.contains(&status) {
            VerifyOutcome::Restricted
        } else {
            VerifyOutcome::Unknown
        }
    }

    /// Builds, sends (through the one HTTP engine: timeouts, retries on
    /// 429/5xx, size cap) and reads the check. A 5xx the retries did not
    /// cure is the service's trouble: an error, not an outcome.
    pub async fn run(
        &self,
        key: &Secret,
        base: Option<&str>,
        paired: Option<&str>,
        policy: HttpPolicy,
    ) -> Result<VerifyOutcome> {
        let call = self.build(key, base, paired)?;
        // The engine takes an address without a query; the query rides on
        // the path.
        let (address, query) = match call.url.split_once('?') {
            Some((address, query)) => (address, format!("?{query}")),
            None => (call.url.as_str(), String::new()),
        };
        let engine = HttpEngine::new(address, policy)?;
        let headers: Vec<(&str, &str)> = call
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let auth = match call.auth {
            AuthScheme::Bearer => Auth::Bearer(&call.key),
            AuthScheme::Header => Auth::Header(&call.header, &call.key),
            AuthScheme::Basic => Auth::Basic {
                user: &call.basic_user,
                password: &call.key,
            },
            AuthScheme::AwsSigv4 => unreachable_sigv4()?,
        };
        let answer = engine
            .send(Call {
                method: call.method.clone(),
                path: &query,
                auth,
                headers: &headers,
                body: None,
                idempotency_key: None,
            })
            .await?;
        let status = answer.status.as_u16();
        if status >= 500 {
            return Err(answer.into_error());
        }
        Ok(self.read(status))
    }
}

/// `build` refuses SigV4 before a call exists.
fn unreachable_sigv4<T>() -> Result<T> {
    Err(Error::NotSupported("signing AWS requests (SigV4)".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str, auth: AuthScheme) -> VerifyRequest {
        VerifyRequest {
            method: "GET".into(),
            url: url.into(),
            auth,
            header: Some("x-api-key".into()),
            basic_user: Some("{paired}".into()),
            headers: BTreeMap::new(),
            accepted: vec![200],
            rejected: vec![401],
            restricted: vec![403],
        }
    }

    #[test]
    fn a_base_url_replaces_scheme_and_host_and_keeps_the_path_and_query() {
        let r = request(
            "https://api.example.com/v1/models?limit=1",
            AuthScheme::Bearer,
        );
        let key = Secret::new("sk-canary-verify-0000");
        let call = r
            .build(&key, Some("http://127.0.0.1:4567/prefix"), None)
            .expect("call");
        assert_eq!(call.url, "http://127.0.0.1:4567/prefix/v1/models?limit=1");
        assert!(!format!("{call:?}").contains("canary"));
        let call = r.build(&key, None, None).expect("call");
        assert_eq!(call.url, "https://api.example.com/v1/models?limit=1");
        let based = request("{base}/v1/verify", AuthScheme::Bearer);
        assert_eq!(
            based
                .build(&key, Some("http://h:1/"), None)
                .expect("call")
                .url,
            "http://h:1/v1/verify"
        );
        assert!(based.build(&key, None, None).is_err());
    }

    #[test]
    fn statuses_read_as_the_entry_says_and_the_rest_is_unknown() {
        let r = request("https://x/", AuthScheme::Basic);
        assert_eq!(r.read(200), VerifyOutcome::Accepted);
        assert_eq!(r.read(401), VerifyOutcome::Rejected);
        assert_eq!(r.read(403), VerifyOutcome::Restricted);
        assert_eq!(r.read(404), VerifyOutcome::Unknown);
        assert_eq!(r.read(302), VerifyOutcome::Unknown);
        let key = Secret::new("k");
        assert_eq!(
            r.build(&key, None, None).expect_err("needs the SID").code(),
            "invalid_input"
        );
        assert_eq!(
            request("https://x/", AuthScheme::AwsSigv4)
                .build(&key, None, None)
                .expect_err("sigv4")
                .code(),
            "not_supported"
        );
    }
}
