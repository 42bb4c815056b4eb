//! The one HTTP engine every connector uses: reqwest + rustls, connect and
//! total timeouts, bounded retries with jittered backoff that honour
//! `Retry-After` (seconds or an HTTP date) for idempotent calls only, https
//! only (plain http for loopback), no redirects, a response size cap, and
//! typed errors for 401/403/404/409/422/429/5xx/timeouts/garbage. Loopback
//! calls never go through a proxy (the environment's `HTTP_PROXY` & co.
//! apply to remote services only). Base URLs with user info, a query or a
//! fragment are refused.
//!
//! It never logs a request, and no error it returns carries a header value
//! or an echo of the call's token. Answer bodies are zeroized when dropped.

use std::time::Duration;

use rand::Rng;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::untrusted::{self, MAX_MESSAGE, MAX_NAME};

/// Retry and timeout settings.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
    /// Attempts in all, for idempotent calls (non-idempotent ones get one).
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is returned as `rate_limited`
    /// instead of waited out.
    pub max_retry_after: Duration,
    pub max_response_bytes: usize,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(20),
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(10),
            max_response_bytes: 4 * 1024 * 1024,
        }
    }
}

/// An answer the engine did not turn into an error by itself. The body is
/// zeroized when the answer is dropped (a create's body holds a new key).
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
    /// The call's token: a service message echoing it is redacted.
    token: Option<Secret>,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.body.zeroize();
    }
}

impl Answer {
    /// An answer from a status and body (the engine adds the call's token).
    pub fn new(status: StatusCode, body: Vec<u8>) -> Self {
        Self {
            status,
            body,
            token: None,
        }
    }

    /// Service text made safe to show or store: see [`untrusted::clean`];
    /// the call's token and key-shaped runs are redacted.
    pub fn clean(&self, text: &str, max: usize) -> String {
        let secrets: Vec<&Secret> = self.token.iter().collect();
        untrusted::clean_message(text, max, &secrets)
    }

    /// The body as JSON, or `bad_response`.
    pub fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).map_err(|_| {
            let looks_html = self.body.iter().take(256).any(|&b| b == b'<');
            Error::BadResponse(if looks_html {
                format!(
                    "HTTP {} with an HTML page instead of JSON",
                    self.status.as_u16()
                )
            } else {
                format!("HTTP {} with a body that is not JSON", self.status.as_u16())
            })
        })
    }

    /// Maps a non-success answer to the error it means.
    pub fn into_error(self) -> Error {
        let status = self.status;
        let body = self.json().ok();
        let service_message = body
            .as_ref()
            .and_then(|b| b["error"]["message"].as_str())
            .map(|m| self.clean(m, MAX_MESSAGE))
            .unwrap_or_default();
        match status.as_u16() {
            401 => Error::ProviderUnauthorized,
            403 => Error::ProviderForbidden,
            404 => Error::NotFound("That key or project on the service".into()),
            409 => Error::ProviderConflict(if service_message.is_empty() {
                "the request conflicts with the service's state".into()
            } else {
                service_message
            }),
            422 => {
                let field = body
                    .as_ref()
                    .and_then(|b| b["error"]["details"]["field"].as_str())
                    .map(|f| self.clean(f, MAX_NAME))
                    .unwrap_or_else(|| "request".into());
                let message = if service_message.is_empty() {
                    "The service refused the request as invalid".into()
                } else {
                    format!("The service refused the request: {service_message}")
                };
                Error::InvalidInput { field, message }
            }
            429 => Error::RateLimited {
                retry_after_secs: 1,
            },
            500..=599 => Error::ProviderUnavailable(status.as_u16()),
            300..=399 => Error::BadResponse(format!(
                "a redirect (HTTP {}), which Latchkey does not follow",
                status.as_u16()
            )),
            other => Error::BadResponse(format!("HTTP {other}")),
        }
    }
}

/// Whether a URL's host is this computer (`localhost`, 127/8, ::1).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Checks a provider URL: https, or http on a loopback host; no user info
/// (a password in a URL ends up in the catalog and in error messages), no
/// query and no fragment (the paths are appended to it).
pub fn check_base_url(text: &str) -> Result<Url> {
    let url = Url::parse(text.trim()).map_err(|_| {
        Error::invalid("base_url", "Enter a full URL, e.g. https://api.example.com")
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            "base_url",
            "Remove the user name or password from the URL; the admin token is entered separately",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid(
            "base_url",
            "Remove the '?…' or '#…' part: the provider URL is the service's address only",
        ));
    }
    let loopback = is_loopback(&url);
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(Error::InsecureUrl(
            "Plain http is only allowed for this computer (localhost); use an https:// URL".into(),
        )),
        _ => Err(Error::invalid(
            "base_url",
            "The URL must start with https://",
        )),
    }
}

/// A configured HTTP client for one base URL.
#[derive(Debug, Clone)]
pub struct HttpEngine {
    client: reqwest::Client,
    base: Url,
    policy: HttpPolicy,
}

/// How a call proves who it is. The secret is never logged; an answer
/// that echoes it is redacted.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// `Authorization: Bearer …`
    Bearer(&'a Secret),
    /// The secret as the whole value of a named header (`X-API-Key: …`).
    Header(&'a str, &'a Secret),
    /// `Authorization: Basic base64(user:secret)`.
    Basic { user: &'a str, password: &'a Secret },
}

impl Auth<'_> {
    pub fn secret(&self) -> &Secret {
        match self {
            Auth::Bearer(s) | Auth::Header(_, s) => s,
            Auth::Basic { password, .. } => password,
        }
    }
}

/// One call: method, path under the base URL, credential, optional body.
pub struct Call<'a> {
    pub method: Method,
    pub path: &'a str,
    pub auth: Auth<'a>,
    /// Further headers (never secrets), e.g. an API version.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Option<&'a Value>,
    /// Sent as `Idempotency-Key`; makes a POST safe to retry.
    pub idempotency_key: Option<&'a str>,
}

/// Computes a signed call's headers from its URL and body, per attempt.
pub type Signer<'a> = dyn Fn(&Url, &[u8]) -> Vec<(String, String)> + Send + Sync + 'a;

impl<'a> Call<'a> {
    /// A GET with `key` as its bearer token: how most services check a key.
    pub fn bearer_get(path: &'a str, key: &'a Secret) -> Self {
        Call {
            method: Method::GET,
            path,
            auth: Auth::Bearer(key),
            headers: &[],
            body: None,
            idempotency_key: None,
        }
    }
}

/// A call whose headers are signed (see [`HttpEngine::send_signed`]).
pub struct SignedCall<'a> {
    pub method: Method,
    pub path: &'a str,
    /// Headers sent as they are (never secrets).
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    /// Safe to send again (a read, or a change that can be repeated).
    pub idempotent: bool,
    /// What an answer must never echo.
    pub secret: &'a Secret,
    pub sign: &'a Signer<'a>,
}

/// One client per pair of timeouts (and loopback or not) for the whole
/// process: building one (TLS roots included) costs milliseconds, and a
/// shared one keeps its connections alive between calls. Loopback clients
/// use no proxy: a proxy would see (and could keep) the tokens we send to
/// this computer's own services, and usually cannot reach them anyway.
fn shared_client(policy: &HttpPolicy, loopback: bool) -> Result<reqwest::Client> {
    type Clients = Vec<((Duration, Duration, bool), reqwest::Client)>;
    static CLIENTS: std::sync::OnceLock<std::sync::Mutex<Clients>> = std::sync::OnceLock::new();
    let key = (policy.connect_timeout, policy.total_timeout, loopback);
    let mut clients = CLIENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some((_, c)) = clients.iter().find(|(k, _)| *k == key) {
        return Ok(c.clone());
    }
    let mut builder = reqwest::Client::builder();
    if loopback {
        builder = builder.no_proxy();
    }
    let client = builder
        .use_rustls_tls()
        .https_only(false)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(policy.connect_timeout)
        .timeout(policy.total_timeout)
        .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|_| Error::Network("could not set up HTTPS".into()))?;
    clients.push((key, client.clone()));
    Ok(client)
}

impl HttpEngine {
    pub fn new(base_url: &str, policy: HttpPolicy) -> Result<Self> {
        let base = check_base_url(base_url)?;
        let client = shared_client(&policy, is_loopback(&base))?;
        Ok(Self {
            client,
            base,
            policy,
        })
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Result<Url> {
        let base = self.base.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path}"))
            .map_err(|_| Error::invalid("base_url", "The provider URL is not usable"))
    }

    /// Sends a call, retrying idempotent ones on network errors, 429 and 5xx.
    /// Returns every answer it did not retry; map non-2xx with `into_error`.
    pub async fn send(&self, call: Call<'_>) -> Result<Answer> {
        let idempotent = matches!(
            call.method,
            Method::GET | Method::HEAD | Method::DELETE | Method::PUT
        ) || call.idempotency_key.is_some();
        let url = self.url(call.path)?;
        let build = |client: &reqwest::Client| {
            let mut request = client
                .request(call.method.clone(), url.clone())
                .header("Accept", "application/json");
            request = match call.auth {
                Auth::Bearer(token) => request.bearer_auth(token.expose_secret()),
                Auth::Header(name, token) => request.header(name, token.expose_secret()),
                Auth::Basic { user, password } => {
                    request.basic_auth(user, Some(password.expose_secret()))
                }
            };
            for (name, value) in call.headers {
                request = request.header(*name, *value);
            }
            if let Some(body) = call.body {
                request = request.json(body);
            }
            if let Some(key) = call.idempotency_key {
                request = request.header("Idempotency-Key", key);
            }
            request
        };
        self.exchange(idempotent, call.auth.secret(), build).await
    }

    /// Sends a request whose headers are computed for each attempt (a
    /// signature that covers the time of sending: AWS SigV4). Same retries
    /// and errors as [`send`](Self::send).
    pub async fn send_signed(&self, call: SignedCall<'_>) -> Result<Answer> {
        let url = self.url(call.path)?;
        let build = |client: &reqwest::Client| {
            let mut request = client.request(call.method.clone(), url.clone());
            for (name, value) in call
                .headers
                .iter()
                .cloned()
                .chain((call.sign)(&url, call.body))
            {
                request = request.header(name, value);
            }
            request.body(call.body.to_vec())
        };
        self.exchange(call.idempotent, call.secret, build).await
    }

    async fn exchange(
        &self,
        idempotent: bool,
        secret: &Secret,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Answer> {
        let attempts = if idempotent {
            self.policy.max_attempts.max(1)
        } else {
            1
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= attempts;
            let request = build(&self.client);
            let outcome = match request.send().await {
                Ok(response) => self.read(response).await.map(|(mut answer, wait)| {
                    answer.token = Some(secret.clone());
                    (answer, wait)
                }),
                Err(e) => Err(transport_error(&e)),
            };
            match outcome {
                Ok((answer, retry_after)) => {
                    let retryable = answer.status == StatusCode::TOO_MANY_REQUESTS
                        || matches!(answer.status.as_u16(), 500 | 502 | 503 | 504);
                    if !retryable {
                        return Ok(answer);
                    }
                    if let Some(wait) = retry_after {
                        if wait > self.policy.max_retry_after {
                            // Only a 429 is rate limiting; a 5xx asking
                            // for a long wait is the service in trouble.
                            return Err(if answer.status == StatusCode::TOO_MANY_REQUESTS {
                                Error::RateLimited {
                                    retry_after_secs: wait.as_secs().max(1),
                                }
                            } else {
                                Error::ProviderUnavailable(answer.status.as_u16())
                            });
                        }
                    }
                    if last {
                        return match (answer.status, retry_after) {
                            (StatusCode::TOO_MANY_REQUESTS, wait) => Err(Error::RateLimited {
                                retry_after_secs: wait.map_or(1, |w| w.as_secs().max(1)),
                            }),
                            _ => Ok(answer),
                        };
                    }
                    tokio::time::sleep(self.backoff(attempt).max(retry_after.unwrap_or_default()))
                        .await;
                }
                Err(Error::Timeout | Error::Network(_)) if !last => {
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Full jitter: a random delay up to base × 2^(attempt-1), capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .policy
            .base_delay
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(self.policy.max_delay);
        let millis = ceiling.as_millis().max(1) as u64;
        Duration::from_millis(rand::thread_rng().gen_range(millis / 2..=millis))
    }

    async fn read(&self, mut response: reqwest::Response) -> Result<(Answer, Option<Duration>)> {
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let cap = self.policy.max_response_bytes;
        if response.content_length().is_some_and(|n| n as usize > cap) {
            return Err(Error::BadResponse(format!(
                "an answer larger than {} KiB",
                cap / 1024
            )));
        }
        // Sized up front where the length is known. A buffer the growth
        // below moves is wiped when freed (harden::ZeroOnFree in both
        // binaries), and the answer wipes its body when dropped.
        let expected = response.content_length().unwrap_or(0) as usize;
        let mut answer = Answer::new(status, Vec::with_capacity(expected));
        while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e))? {
            if answer.body.len() + chunk.len() > cap {
                return Err(Error::BadResponse(format!(
                    "an answer larger than {} KiB",
                    cap / 1024
                )));
            }
            answer.body.extend_from_slice(&chunk);
        }
        Ok((answer, retry_after))
    }
}

fn transport_error(e: &reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout
    } else if e.is_connect() {
        Error::Network("the connection was refused or could not be made".into())
    } else {
        Error::Network("the connection was interrupted".into())
    }
}

/// `Retry-After`: whole seconds, or an HTTP date.
pub fn parse_retry_after(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests;
