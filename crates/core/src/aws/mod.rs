//! AWS's Query APIs (IAM access keys, STS `GetCallerIdentity`) over the one
//! HTTP engine, signed with SigV4 (`sigv4`) and read from XML (`xml`).
//! An `aws` connection's credential is an access key pair written
//! `ACCESS_KEY_ID:SECRET`; [`Credentials::parse`] reads it. `base_url`
//! (an emulator such as moto, a private endpoint) replaces every AWS
//! endpoint; without it IAM is `https://iam.amazonaws.com` (signed for
//! `us-east-1`) and STS the region's `https://sts.REGION.amazonaws.com`.
//! AWS errors (`<ErrorResponse><Error><Code>`) become typed errors; no error
//! carries a key.

use reqwest::Method;

use crate::error::{Error, Result};
use crate::http::{HttpEngine, HttpPolicy, SignedCall};
use crate::secret::Secret;
use crate::untrusted::{self, MAX_MESSAGE};

pub mod sigv4;
pub mod xml;

pub use sigv4::Credentials;
pub use xml::Element;

/// `AKIA…` / `ASIA…` and 16 more upper-case letters or digits.
pub fn is_access_key_id(s: &str) -> bool {
    s.len() == 20
        && (s.starts_with("AKIA") || s.starts_with("ASIA"))
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

impl Credentials {
    /// `ACCESS_KEY_ID:SECRET` (how Latchkey keeps an AWS key in the
    /// keychain and reads a connection's credential). The id's form is not
    /// enforced beyond being a plain token (emulators hand out others).
    pub fn parse(pair: &Secret) -> Result<Self> {
        let text = pair.expose_secret().trim();
        let bad = || {
            Error::invalid(
                "admin_token",
                "An AWS credential is an access key pair: ACCESS_KEY_ID:SECRET_ACCESS_KEY",
            )
        };
        let (id, secret) = text.split_once(':').ok_or_else(bad)?;
        if id.is_empty()
            || secret.is_empty()
            || !id.bytes().all(|b| b.is_ascii_alphanumeric())
            || secret.contains(char::is_whitespace)
        {
            return Err(bad());
        }
        Ok(Self {
            access_key_id: id.to_owned(),
            secret_access_key: Secret::new(secret),
            session_token: None,
        })
    }

    /// The pair as the keychain keeps it.
    pub fn to_secret(&self) -> Secret {
        Secret::new(format!(
            "{}:{}",
            self.access_key_id,
            self.secret_access_key.expose_secret()
        ))
    }
}

/// Where one AWS service is reached and signed for.
#[derive(Debug, Clone)]
struct Endpoint {
    engine: HttpEngine,
    region: String,
    service: &'static str,
    version: &'static str,
}

impl Endpoint {
    /// A signed `POST /` with these headers (all signed) and body.
    async fn post(
        &self,
        credentials: &Credentials,
        headers: &[(String, String)],
        body: &[u8],
        idempotent: bool,
    ) -> Result<crate::http::Answer> {
        let signer = |url: &url::Url, body: &[u8]| {
            sigv4::sign(
                &sigv4::Request {
                    method: "POST",
                    url,
                    headers,
                    body,
                },
                credentials,
                sigv4::Scope {
                    region: &self.region,
                    service: self.service,
                },
                time::OffsetDateTime::now_utc(),
            )
        };
        self.engine
            .send_signed(SignedCall {
                method: Method::POST,
                path: "/",
                headers,
                body,
                idempotent,
                secret: &credentials.secret_access_key,
                sign: &signer,
            })
            .await
    }
}

/// IAM and STS (Query APIs), Secrets Manager and SSM (JSON APIs) for one
/// connection.
#[derive(Debug, Clone)]
pub struct AwsClient {
    iam: Endpoint,
    sts: Endpoint,
    secretsmanager: Endpoint,
    ssm: Endpoint,
}

/// A JSON-protocol service: Secrets Manager or SSM Parameter Store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonService {
    SecretsManager,
    Ssm,
}

impl AwsClient {
    pub fn new(base_url: Option<&str>, region: &str, policy: HttpPolicy) -> Result<Self> {
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(Error::invalid(
                "region",
                "An AWS region looks like us-east-1",
            ));
        }
        let (iam_url, sts_url) = match base_url {
            Some(url) => (url.to_owned(), url.to_owned()),
            None => (
                "https://iam.amazonaws.com".to_owned(),
                format!("https://sts.{region}.amazonaws.com"),
            ),
        };
        let regional = |service: &'static str| -> Result<Endpoint> {
            let url = base_url
                .map(str::to_owned)
                .unwrap_or_else(|| format!("https://{service}.{region}.amazonaws.com"));
            Ok(Endpoint {
                engine: HttpEngine::new(&url, policy.clone())?,
                region: region.to_owned(),
                service,
                version: "",
            })
        };
        let secretsmanager = regional("secretsmanager")?;
        let ssm = regional("ssm")?;
        Ok(Self {
            secretsmanager,
            ssm,
            iam: Endpoint {
                engine: HttpEngine::new(&iam_url, policy.clone())?,
                // IAM is global and signed for us-east-1.
                region: "us-east-1".into(),
                service: "iam",
                version: "2010-05-08",
            },
            sts: Endpoint {
                engine: HttpEngine::new(&sts_url, policy)?,
                region: region.to_owned(),
                service: "sts",
                version: "2011-06-15",
            },
        })
    }

    /// An IAM action (`ListAccessKeys`, …) with its parameters.
    pub async fn iam(
        &self,
        credentials: &Credentials,
        action: &str,
        params: &[(&str, &str)],
        idempotent: bool,
    ) -> Result<Element> {
        call(&self.iam, credentials, action, params, idempotent).await
    }

    /// A Secrets Manager or SSM action (`PutSecretValue`, `GetParameter`…)
    /// with its JSON body; the answer's JSON. The body and answer may hold
    /// a secret: the caller wipes what it keeps.
    pub async fn json(
        &self,
        credentials: &Credentials,
        service: JsonService,
        action: &str,
        body: &serde_json::Value,
        idempotent: bool,
    ) -> Result<serde_json::Value> {
        let (endpoint, prefix) = match service {
            JsonService::SecretsManager => (&self.secretsmanager, "secretsmanager"),
            JsonService::Ssm => (&self.ssm, "AmazonSSM"),
        };
        let body = zeroize::Zeroizing::new(serde_json::to_vec(body).unwrap_or_default());
        let headers = vec![
            (
                "content-type".to_owned(),
                "application/x-amz-json-1.1".to_owned(),
            ),
            ("x-amz-target".to_owned(), format!("{prefix}.{action}")),
        ];
        let answer = endpoint
            .post(credentials, &headers, &body, idempotent)
            .await?;
        if answer.status.is_success() {
            return answer.json();
        }
        let status = answer.status.as_u16();
        let Ok(doc) = answer.json() else {
            // Authentication errors come as Query-style XML on every API.
            let text = String::from_utf8_lossy(&answer.body).into_owned();
            if let Some(error) = xml::parse(&text).as_ref().and_then(|d| d.find("Error")) {
                let code = error.text_at(&["Code"]).unwrap_or_default().to_owned();
                let message =
                    answer.clean(error.text_at(&["Message"]).unwrap_or_default(), MAX_MESSAGE);
                return Err(aws_error(status, &code, &message));
            }
            return Err(match status {
                500..=599 => Error::ProviderUnavailable(status),
                _ => answer.into_error(),
            });
        };
        // `{"__type": "com.amazonaws…#ResourceNotFoundException", "message": …}`
        let code = doc["__type"]
            .as_str()
            .unwrap_or_default()
            .rsplit('#')
            .next()
            .unwrap_or_default()
            .to_owned();
        let message = doc["message"]
            .as_str()
            .or_else(|| doc["Message"].as_str())
            .map(|m| answer.clean(m, MAX_MESSAGE))
            .unwrap_or_default();
        Err(aws_error(status, &code, &message))
    }

    /// STS `GetCallerIdentity`: `Ok(None)` when AWS rejects the key itself
    /// (unknown, deleted, switched off or a wrong secret); the caller's ARN
    /// otherwise.
    pub async fn caller_identity(&self, credentials: &Credentials) -> Result<Option<String>> {
        match call(&self.sts, credentials, "GetCallerIdentity", &[], true).await {
            Ok(answer) => Ok(Some(
                answer
                    .text_at(&["GetCallerIdentityResult", "Arn"])
                    .unwrap_or_default()
                    .to_owned(),
            )),
            Err(Error::ProviderUnauthorized) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

async fn call(
    endpoint: &Endpoint,
    credentials: &Credentials,
    action: &str,
    params: &[(&str, &str)],
    idempotent: bool,
) -> Result<Element> {
    let mut body = format!("Action={action}&Version={}", endpoint.version);
    for (k, v) in params {
        body.push('&');
        body.push_str(&sigv4::encode(k.as_bytes()));
        body.push('=');
        body.push_str(&sigv4::encode(v.as_bytes()));
    }
    let headers = vec![(
        "content-type".to_owned(),
        "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
    )];
    let answer = endpoint
        .post(credentials, &headers, body.as_bytes(), idempotent)
        .await?;
    // A create's answer holds a secret: the copy is wiped when dropped.
    let text = zeroize::Zeroizing::new(String::from_utf8_lossy(&answer.body).into_owned());
    let status = answer.status.as_u16();
    let parsed = xml::parse(&text);
    if answer.status.is_success() {
        return parsed.ok_or_else(|| {
            Error::BadResponse(format!(
                "AWS {} answered HTTP {status} with something that is not XML",
                endpoint.service
            ))
        });
    }
    let Some(doc) = parsed else {
        // An HTML error page from a proxy, plain text from an emulator.
        return Err(match status {
            500..=599 => Error::ProviderUnavailable(status),
            _ => answer.into_error(),
        });
    };
    // IAM and STS answer `<ErrorResponse><Error>`, others (and moto)
    // `<ErrorResponse><Errors><Error>`.
    let error = doc.find("Error").unwrap_or(&doc);
    let code = error.text_at(&["Code"]).unwrap_or_default().to_owned();
    let message = answer.clean(error.text_at(&["Message"]).unwrap_or_default(), MAX_MESSAGE);
    Err(aws_error(status, &code, &message))
}

/// An AWS error code (and status) as the typed error it means.
pub fn aws_error(status: u16, code: &str, message: &str) -> Error {
    let said = |fallback: &str| {
        if message.is_empty() {
            fallback.to_owned()
        } else {
            format!("{}. AWS says: {message}", fallback.trim_end_matches('.'))
        }
    };
    match code {
        "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "ExpiredToken"
        | "InvalidAccessKeyId"
        | "UnrecognizedClientException"
        | "AuthFailure" => Error::ProviderUnauthorized,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            Error::ProviderForbidden
        }
        "NoSuchEntity" | "ResourceNotFoundException" | "ParameterNotFound" => {
            Error::NotFound(said("That key, user, secret or parameter on AWS"))
        }
        "LimitExceeded" | "LimitExceededException" => Error::ProviderConflict(said(
            "AWS allows two access keys per user, and this user has two.",
        )),
        "Throttling"
        | "ThrottlingException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded" => Error::RateLimited {
            retry_after_secs: 1,
        },
        "ValidationError"
        | "InvalidParameterValue"
        | "InvalidInput"
        | "MalformedInput"
        | "ValidationException" => {
            Error::invalid("request", said("AWS refused the request as invalid."))
        }
        "ServiceFailure" | "ServiceUnavailable" | "InternalFailure" | "InternalError" => {
            Error::ProviderUnavailable(status.max(500))
        }
        _ => match status {
            401 => Error::ProviderUnauthorized,
            403 => Error::ProviderForbidden,
            404 => Error::NotFound(said("That key, user, secret or parameter on AWS")),
            409 => Error::ProviderConflict(said("AWS refused the change.")),
            429 => Error::RateLimited {
                retry_after_secs: 1,
            },
            500..=599 => Error::ProviderUnavailable(status),
            _ => Error::BadResponse(format!(
                "AWS answered HTTP {status} ({})",
                untrusted::clean(code, 64, &[])
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_parses_and_prints_back_and_never_shows_its_secret() {
        let pair = Secret::new("AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        let c = Credentials::parse(&pair).expect("pair");
        assert_eq!(c.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(c.to_secret().expose_secret(), pair.expose_secret());
        assert!(!format!("{c:?}").contains("EXAMPLEKEY"));
        assert!(is_access_key_id("AKIAIOSFODNN7EXAMPLE"));
        assert!(!is_access_key_id("AKIAIOSFODNN7EXAMPL"));
        for bad in [
            "",
            "AKIA",
            "AKIA:",
            ":secret",
            "AK IA:secret",
            "AKIA:se cret",
        ] {
            let e = Credentials::parse(&Secret::new(bad)).expect_err(bad);
            assert_eq!(e.code().as_str(), "invalid_input", "{bad}");
        }
    }

    #[test]
    fn aws_error_codes_become_typed_errors() {
        let cases = [
            (403, "InvalidClientTokenId", "provider_unauthorized"),
            (403, "SignatureDoesNotMatch", "provider_unauthorized"),
            (403, "AccessDenied", "provider_forbidden"),
            (404, "NoSuchEntity", "not_found"),
            (409, "LimitExceeded", "provider_conflict"),
            (400, "Throttling", "rate_limited"),
            (400, "ValidationError", "invalid_input"),
            (500, "ServiceFailure", "provider_unavailable"),
            (418, "Teapot", "bad_response"),
        ];
        for (status, code, want) in cases {
            assert_eq!(aws_error(status, code, "m").code().as_str(), want, "{code}");
        }
    }
}
