//! Connector for Twilio API keys (IAM API, `https://iam.twilio.com/v1/Keys`,
//! form-encoded). The connection's credential is `ACCOUNT_SID:AUTH_TOKEN`
//! (HTTP Basic). A key's secret is kept in Latchkey as `SKSID:SECRET` (like
//! an AWS pair), so a key knows its own id (`owns` matches by SID). A key
//! is checked with Basic `SK:secret` on `GET /v2/Services` of Twilio Verify
//! (`https://verify.twilio.com`, or the connection's own origin when it is
//! not the hosted IAM API: an emulator): 2xx accepted, 401 rejected; a 403
//! (a restricted key, UNVERIFIED) is not taken as accepted and stays an
//! error. Twilio publishes no last-used time. Errors come as `{code,
//! message, more_info, status}`. Never logs or returns a secret in an error.

use async_trait::async_trait;
use base64::Engine as _;
use reqwest::Method;
use serde_json::Value;
use zeroize::Zeroize;

use super::gone_is_done;
use super::rest;
use super::{Capabilities, Connector, KeySpec, RemoteKey, Verification};
use crate::error::{Error, Result};
use crate::http::{Answer, Auth, Call, HttpEngine, HttpPolicy, SignedCall};
use crate::secret::Secret;
use crate::untrusted::{MAX_ID, MAX_MESSAGE, MAX_NAME};

/// The hosted IAM API.
pub const DEFAULT_BASE_URL: &str = "https://iam.twilio.com/v1";
/// Where keys are checked when the IAM API is the hosted one.
pub const VERIFY_BASE_URL: &str = "https://verify.twilio.com";
/// Pages of the listing read at most.
const MAX_PAGES: usize = 50;

/// A connection to one Twilio account's API keys.
#[derive(Debug)]
pub struct TwilioConnector {
    http: HttpEngine,
    verify_http: HttpEngine,
    account: String,
    token: Secret,
}

fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `{code, message}`, cleaned.
fn message(answer: &Answer) -> String {
    answer
        .json()
        .ok()
        .and_then(|b| b["message"].as_str().map(|m| answer.clean(m, MAX_MESSAGE)))
        .unwrap_or_default()
}

fn error_of(answer: Answer) -> Error {
    let text = message(&answer);
    match answer.status.as_u16() {
        400 | 422 => Error::InvalidInput {
            field: "request".into(),
            message: if text.is_empty() {
                "Twilio refused the request as invalid".into()
            } else {
                format!("Twilio refused the request: {text}")
            },
        },
        _ => answer.into_error(),
    }
}

fn remote_key(v: &Value, secrets: &[&Secret]) -> Result<RemoteKey> {
    Ok(RemoteKey {
        remote_id: rest::text(v, "sid", MAX_ID, secrets)?,
        name: rest::text_or_empty(v, "friendly_name", MAX_NAME, secrets)?,
        preview: String::new(),
        scopes: vec![],
        created_at: rest::timestamp(v, "date_created", secrets)?,
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
        request_count: None,
    })
}

/// `application/x-www-form-urlencoded` of the pairs.
fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

impl TwilioConnector {
    pub fn new(base_url: &str, credential: &Secret, policy: HttpPolicy) -> Result<Self> {
        let (account, token) = credential
            .expose_secret()
            .trim()
            .split_once(':')
            .filter(|(a, t)| is_sid(a, "AC") && !t.is_empty())
            .ok_or_else(|| {
                Error::invalid(
                    "admin_token",
                    "A Twilio connection needs ACCOUNT_SID:AUTH_TOKEN (the SID starts with AC)",
                )
            })?;
        let base = if base_url.trim().is_empty() {
            DEFAULT_BASE_URL
        } else {
            base_url
        };
        let http = HttpEngine::new(base, policy.clone())?;
        let verify_base = if base.trim_end_matches('/') == DEFAULT_BASE_URL {
            VERIFY_BASE_URL.to_owned()
        } else {
            http.base_url().origin().ascii_serialization()
        };
        Ok(Self {
            verify_http: HttpEngine::new(&verify_base, policy)?,
            http,
            account: account.to_owned(),
            token: Secret::new(token),
        })
    }

    fn auth(&self) -> Auth<'_> {
        Auth::Basic {
            user: &self.account,
            password: &self.token,
        }
    }

    async fn read(&self, method: Method, path: &str) -> Result<Answer> {
        rest::call(&self.http, method, path, self.auth(), None, error_of).await
    }

    fn key_path(remote_id: &str) -> Result<String> {
        let sid = rest::path_id(remote_id)?;
        if is_sid(sid, "SK") {
            Ok(format!("/Keys/{sid}"))
        } else {
            Err(Error::invalid(
                "remote_id",
                "A Twilio key's id is its SID (SK and 32 hex digits)",
            ))
        }
    }
}

#[async_trait]
impl Connector for TwilioConnector {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            ..Capabilities::basic(true, true, true, true)
        }
    }

    /// A key is `SKSID:SECRET`: it is the record with that SID.
    fn owns(&self, key: &Secret, remote: &RemoteKey) -> bool {
        key.expose_secret()
            .split_once(':')
            .is_some_and(|(sid, _)| sid == remote.remote_id)
    }

    async fn list(&self) -> Result<Vec<RemoteKey>> {
        let mut all = Vec::new();
        let mut page = 0;
        loop {
            let path = format!("/Keys?AccountSid={}&PageSize=100&Page={page}", self.account);
            let body = self.read(Method::GET, &path).await?.json()?;
            let keys = body["keys"]
                .as_array()
                .ok_or_else(|| Error::BadResponse("a key list without 'keys'".into()))?;
            for k in keys {
                all.push(remote_key(k, &[&self.token])?);
            }
            page += 1;
            if body["meta"]["next_page_url"].as_str().is_none() || keys.is_empty() {
                return Ok(all);
            }
            if page >= MAX_PAGES {
                return Err(Error::BadResponse("a key list that never ends".into()));
            }
        }
    }

    async fn create(&self, spec: &KeySpec, _idempotency_key: &str) -> Result<(RemoteKey, Secret)> {
        rest::no_scopes(&spec.scopes, "Twilio")?;
        if spec.expires_in_days.is_some() {
            return Err(Error::invalid(
                "expires_in_days",
                "Twilio API keys do not expire",
            ));
        }
        let body = form(&[
            ("AccountSid", self.account.as_str()),
            ("FriendlyName", spec.name.as_str()),
        ]);
        let headers = [(
            "Content-Type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )];
        let sign = |_: &url::Url, _: &[u8]| {
            let mut pair = format!("{}:{}", self.account, self.token.expose_secret());
            let value = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair.as_bytes())
            );
            pair.zeroize();
            vec![
                ("Authorization".to_owned(), value),
                ("Accept".to_owned(), "application/json".to_owned()),
            ]
        };
        let answer = self
            .http
            .send_signed(SignedCall {
                method: Method::POST,
                path: "/Keys",
                headers: &headers,
                body: &body,
                idempotent: false,
                secret: &self.token,
                sign: &sign,
            })
            .await?;
        if !answer.status.is_success() {
            return Err(error_of(answer));
        }
        let mut value = answer.json()?;
        drop(answer);
        let sid = value["sid"].as_str().unwrap_or("").to_owned();
        if !is_sid(&sid, "SK") {
            rest::wipe(&mut value);
            return Err(Error::BadResponse("a created key without its SID".into()));
        }
        let secret = rest::take_secret(&mut value, "/secret", |s| {
            !s.is_empty() && !s.contains(':') && s.bytes().all(|b| b.is_ascii_graphic())
        })?;
        let key = Secret::new(format!("{sid}:{}", secret.expose_secret()));
        drop(secret);
        let parsed = remote_key(&value, &[&self.token]);
        rest::wipe(&mut value);
        let mut remote = parsed?;
        remote.preview = sid;
        Ok((remote, key))
    }

    async fn get(&self, remote_id: &str) -> Result<Option<RemoteKey>> {
        match self.read(Method::GET, &Self::key_path(remote_id)?).await {
            Ok(answer) => remote_key(&answer.json()?, &[&self.token]).map(Some),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn revoke(&self, remote_id: &str) -> Result<()> {
        gone_is_done(self.read(Method::DELETE, &Self::key_path(remote_id)?).await)
    }

    async fn verify(&self, key: &Secret) -> Result<Verification> {
        let Some((sid, secret)) = key.expose_secret().split_once(':') else {
            return Ok(Verification::Rejected {
                code: "NOT_A_KEY_PAIR".into(),
            });
        };
        let secret = Secret::new(secret);
        let answer = self
            .verify_http
            .send(Call {
                method: Method::GET,
                path: "/v2/Services?PageSize=1",
                auth: Auth::Basic {
                    user: sid,
                    password: &secret,
                },
                headers: &[],
                body: None,
                idempotency_key: None,
            })
            .await?;
        match answer.status.as_u16() {
            200..=299 => {
                answer.json()?["services"].as_array().ok_or_else(|| {
                    Error::BadResponse("a service list without 'services'".into())
                })?;
                Ok(Verification::Accepted)
            }
            401 => Ok(Verification::Rejected {
                code: answer
                    .json()
                    .ok()
                    .and_then(|b| b["code"].as_i64())
                    .map_or_else(|| "UNAUTHORIZED".into(), |c| c.to_string()),
            }),
            _ => Err(error_of(answer)),
        }
    }

    async fn test(&self) -> Result<()> {
        let path = format!("/Keys?AccountSid={}&PageSize=1", self.account);
        self.read(Method::GET, &path).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_is_an_account_sid_and_token() {
        let ok = Secret::new(format!("AC{}:token", "a".repeat(32)));
        assert!(TwilioConnector::new("", &ok, HttpPolicy::default()).is_ok());
        for bad in ["token", "SKabc:token", &format!("AC{}:", "a".repeat(32))] {
            let e = TwilioConnector::new("", &Secret::new(bad), HttpPolicy::default()).unwrap_err();
            assert_eq!(e.code().as_str(), "invalid_input");
            assert!(!e.to_string().contains("token"), "{e}");
        }
    }

    #[test]
    fn forms_are_urlencoded() {
        assert_eq!(form(&[("FriendlyName", "a b&c")]), b"FriendlyName=a+b%26c");
    }
}
