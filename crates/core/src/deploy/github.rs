//! A GitHub Actions secret (a repository's, or one environment's) as a
//! deploy target. The value is sealed to the repository's (environment's)
//! public key with a libsodium sealed box and PUT; GitHub never gives a
//! secret back, so `holds` cannot compare values: it says whether GitHub
//! reports the secret updated since the deploy started (its `updated_at`
//! moved past the one noted before our write). The deployed digest keeps
//! that `updated_at:<before>` (empty: the secret did not exist, and a
//! rollback deletes it). Nothing here logs or returns the value or the
//! sealed value.

use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};

use crate::catalog::{TargetSpec, TargetState, TargetStatus};
use crate::deploy::{Backup, DeployTarget, Remote, Written};
use crate::error::{Error, Result};
use crate::http::{Answer, Auth, Call, HttpEngine};
use crate::secret::{Fingerprint, Secret};

/// GitHub refuses a secret value above 48 KB.
pub const MAX_VALUE_BYTES: usize = 48 * 1024;

const HEADERS: &[(&str, &str)] = &[
    ("Accept", "application/vnd.github+json"),
    ("X-GitHub-Api-Version", "2022-11-28"),
];

/// What the deployed digest starts with.
const BEFORE: &str = "updated_at:";

/// Letters, digits and `_`, not starting with a digit or `GITHUB_`.
pub fn check_secret_name(name: &str) -> Result<()> {
    let ok_chars = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if !ok_chars {
        return Err(Error::invalid(
            "target",
            "A GitHub secret name is letters, digits and _ only, and does not start with a digit",
        ));
    }
    if name.to_ascii_uppercase().starts_with("GITHUB_") {
        return Err(Error::invalid(
            "target",
            "A GitHub secret name cannot start with GITHUB_",
        ));
    }
    Ok(())
}

/// `OWNER/REPO`: two non-empty parts of letters, digits, `-`, `_`, `.`.
pub fn check_repo(repo: &str) -> Result<()> {
    let part = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    match repo.split_once('/') {
        Some((o, r)) if part(o) && part(r) => Ok(()),
        _ => Err(Error::invalid(
            "target",
            format!(
                "'{}' is not a repository: use OWNER/REPO",
                crate::untrusted::clean(repo, 100, &[])
            ),
        )),
    }
}

fn check_environment(env: &str) -> Result<()> {
    if env.is_empty() || env.len() > 255 || env.chars().any(|c| c.is_control() || c == '/') {
        return Err(Error::invalid(
            "target",
            "An environment name cannot be empty or contain / or control characters",
        ));
    }
    Ok(())
}

/// One secret of a repository or of one of its environments.
pub struct GithubTarget {
    provider: String,
    repo: String,
    secret: String,
    environment: Option<String>,
    /// The connection, resolved when the target was opened.
    remote: std::result::Result<Remote, Error>,
    /// The deployed digest the journal holds (`updated_at:<before>`).
    deployed: Option<String>,
}

impl std::fmt::Debug for GithubTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubTarget")
            .field("provider", &self.provider)
            .field("repo", &self.repo)
            .field("secret", &self.secret)
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

/// The secret as GitHub describes it: only when it was last updated.
struct Meta {
    updated_at: String,
}

impl GithubTarget {
    pub fn new(
        provider: &str,
        repo: &str,
        secret: &str,
        environment: Option<&str>,
        remote: Result<Remote>,
        deployed: Option<&str>,
    ) -> Self {
        Self {
            provider: provider.to_owned(),
            repo: repo.to_owned(),
            secret: secret.to_owned(),
            environment: environment.map(str::to_owned),
            remote,
            deployed: deployed.map(str::to_owned),
        }
    }

    fn remote(&self) -> Result<&Remote> {
        self.remote.as_ref().map_err(super::again)
    }

    /// `/repos/o/r/actions` or `/repos/o/r/environments/ENV`.
    fn scope(&self) -> String {
        match &self.environment {
            None => format!("/repos/{}/actions", self.repo),
            Some(env) => format!(
                "/repos/{}/environments/{}",
                self.repo,
                url::form_urlencoded::byte_serialize(env.as_bytes()).collect::<String>()
            ),
        }
    }

    fn where_(&self) -> String {
        match &self.environment {
            None => format!("repository {}", self.repo),
            Some(env) => format!("environment {env} of {}", self.repo),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer> {
        let remote = self.remote()?;
        let engine = HttpEngine::new(&remote.base_url, remote.policy.clone())?;
        engine
            .send(Call {
                method,
                path,
                auth: Auth::Bearer(&remote.token),
                headers: HEADERS,
                body,
                idempotency_key: None,
            })
            .await
    }

    /// A non-success answer as the error it means here.
    fn failed(&self, answer: Answer) -> Error {
        super::remote_value::remote_failure(
            answer,
            &format!("The {}", self.where_()),
            &format!("GitHub refused the secret {} as invalid", self.secret),
        )
    }

    async fn public_key(&self) -> Result<(String, [u8; 32])> {
        let path = format!("{}/secrets/public-key", self.scope());
        let answer = self.call(Method::GET, &path, None).await?;
        if answer.status.as_u16() != 200 {
            return Err(self.failed(answer));
        }
        let body = answer.json()?;
        let key_id = body["key_id"]
            .as_str()
            .filter(|k| !k.is_empty() && k.len() <= 200)
            .ok_or_else(|| Error::BadResponse("a public key without its key_id".into()))?;
        let key = body["key"]
            .as_str()
            .and_then(|k| base64::engine::general_purpose::STANDARD.decode(k).ok())
            .and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok())
            .ok_or_else(|| {
                Error::BadResponse("a public key that is not 32 bytes of base64".into())
            })?;
        Ok((answer.clean(key_id, 200), key))
    }

    /// The secret's `updated_at`, or `None` when it does not exist.
    async fn meta(&self) -> Result<Option<Meta>> {
        let path = format!("{}/secrets/{}", self.scope(), self.secret);
        let answer = self.call(Method::GET, &path, None).await?;
        match answer.status.as_u16() {
            200 => {
                let body = answer.json()?;
                let updated_at = body["updated_at"]
                    .as_str()
                    .filter(|t| crate::clock::parse_rfc3339(t).is_some())
                    .ok_or_else(|| Error::BadResponse("a secret without its updated_at".into()))?;
                Ok(Some(Meta {
                    updated_at: updated_at.to_owned(),
                }))
            }
            // The secret is absent; a missing repository answers 404 to
            // the public key (checked first by every caller).
            404 => Ok(None),
            _ => Err(self.failed(answer)),
        }
    }

    /// Seals `value` to the scope's public key and PUTs it.
    async fn put(&self, value: &Secret) -> Result<()> {
        if value.expose_secret().len() > MAX_VALUE_BYTES {
            return Err(Error::invalid(
                "target",
                "GitHub keeps secrets of at most 48 KB; this key is larger",
            ));
        }
        let (key_id, key) = self.public_key().await?;
        let public = crypto_box::PublicKey::from(key);
        let sealed = public
            .seal(
                &mut crypto_box::aead::OsRng,
                value.expose_secret().as_bytes(),
            )
            .map_err(|_| Error::invalid("target", "The key could not be sealed"))?;
        let body = json!({
            "encrypted_value": base64::engine::general_purpose::STANDARD.encode(sealed),
            "key_id": key_id,
        });
        let path = format!("{}/secrets/{}", self.scope(), self.secret);
        let answer = self.call(Method::PUT, &path, Some(&body)).await?;
        match answer.status.as_u16() {
            201 | 204 => Ok(()),
            _ => Err(self.failed(answer)),
        }
    }

    async fn delete(&self) -> Result<()> {
        let path = format!("{}/secrets/{}", self.scope(), self.secret);
        let answer = self.call(Method::DELETE, &path, None).await?;
        match answer.status.as_u16() {
            204 | 404 => Ok(()),
            _ => Err(self.failed(answer)),
        }
    }
}

/// Whether `now` is later than `before` (RFC 3339 times).
fn later(now: &str, before: &str) -> bool {
    match (
        crate::clock::parse_rfc3339(now),
        crate::clock::parse_rfc3339(before),
    ) {
        (Some(n), Some(b)) => n > b,
        _ => false,
    }
}

#[async_trait::async_trait]
impl DeployTarget for GithubTarget {
    fn describe(&self) -> String {
        format!("GitHub secret {} in {}", self.secret, self.where_())
    }

    /// Checks the repository (environment) and the token by reading the
    /// public key, and notes whether the secret exists. Nothing is written.
    async fn prepare(&self) -> Result<TargetState> {
        check_repo(&self.repo)?;
        check_secret_name(&self.secret)?;
        if let Some(env) = &self.environment {
            check_environment(env)?;
        }
        self.public_key().await?;
        let before = self.meta().await?;
        Ok(TargetState {
            spec: TargetSpec::Github {
                provider: self.provider.clone(),
                repo: self.repo.clone(),
                secret: self.secret.clone(),
                environment: self.environment.clone(),
            },
            status: TargetStatus::Pending,
            digest: Some(format!(
                "{BEFORE}{}",
                before.map(|m| m.updated_at).unwrap_or_default()
            )),
            confirmed: vec![],
            message: None,
            gitignore_warning: None,
            deployed_digest: None,
        })
    }

    /// Notes the secret's `updated_at` before writing (the deployed
    /// digest), then seals and PUTs the key.
    async fn write(&self, secret: &Secret, _: &Backup<'_>, _: Option<&str>) -> Result<Written> {
        check_secret_name(&self.secret)?;
        let before = match (&self.deployed, self.meta().await?) {
            // A resume: the first write's note stands.
            (Some(noted), _) if noted.starts_with(BEFORE) => noted.clone(),
            (_, meta) => format!("{BEFORE}{}", meta.map(|m| m.updated_at).unwrap_or_default()),
        };
        self.put(secret).await?;
        Ok(Written::Done {
            digest: Some(before),
            message: format!("GitHub secret {} now holds the new key", self.secret),
        })
    }

    /// GitHub never gives a secret back: true when GitHub reports the
    /// secret updated after the `updated_at` noted before our write, not a
    /// comparison of values. Without a note (a crash between the write and
    /// its journal row), an existing secret counts as ours.
    async fn holds(&self, _: &Fingerprint) -> Result<bool> {
        self.public_key().await?;
        let Some(meta) = self.meta().await? else {
            return Ok(false);
        };
        Ok(
            match self
                .deployed
                .as_deref()
                .and_then(|d| d.strip_prefix(BEFORE))
            {
                None => true,
                Some("") => true,
                Some(before) => later(&meta.updated_at, before),
            },
        )
    }

    /// Writes the old key back; a secret that did not exist before the
    /// rotation is deleted.
    async fn restore(
        &self,
        _: &Backup<'_>,
        deployed_digest: Option<&str>,
        _: Option<&Secret>,
        old_key: &(dyn Fn() -> Result<Secret> + Sync),
    ) -> Result<String> {
        let noted = deployed_digest.or(self.deployed.as_deref());
        if noted == Some(BEFORE) {
            self.public_key().await?;
            self.delete().await?;
            return Ok(format!(
                "GitHub secret {} is deleted again (it did not exist before)",
                self.secret
            ));
        }
        let old = old_key()?;
        self.put(&old).await?;
        Ok(format!(
            "GitHub secret {} holds the old key again",
            self.secret
        ))
    }
}
