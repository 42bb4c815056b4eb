//! Connector for AWS IAM access keys of one IAM user (`--user`, default
//! the caller's own). A key Latchkey holds for AWS is the pair
//! `ACCESS_KEY_ID:SECRET_ACCESS_KEY`; its remote id is the access key id.
//! Create / list / deactivate / reactivate / delete and last used are IAM
//! calls; a key is checked with STS `GetCallerIdentity` signed by it.
//! AWS allows two keys per user: a create over the limit is
//! `provider_conflict` naming the keys there. The connection's settings
//! live in its record's `project` as `region=R[ user=NAME]` (see
//! [`AwsSettings`]).

use std::time::Duration;

use async_trait::async_trait;
use zeroize::Zeroize;

use super::gone_is_done;
use super::{Capabilities, Connector, KeySpec, RemoteKey, Verification};
use crate::aws::{AwsClient, Credentials, Element};
use crate::error::{Error, Result};
use crate::http::HttpPolicy;
use crate::secret::Secret;
use crate::untrusted::{self, MAX_ID, MAX_NAME, MAX_TIMESTAMP};

/// Where an `aws` connection works: its region and IAM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    pub region: String,
    /// `None`: the user whose key the connection holds.
    pub user: Option<String>,
}

impl AwsSettings {
    pub const DEFAULT_REGION: &'static str = "us-east-1";

    /// From a record's `project` (`region=eu-west-1 user=deploy-bot`).
    pub fn parse(project: &str) -> Self {
        let mut settings = Self {
            region: Self::DEFAULT_REGION.into(),
            user: None,
        };
        for part in project.split_whitespace() {
            match part.split_once('=') {
                Some(("region", r)) if !r.is_empty() => settings.region = r.to_owned(),
                Some(("user", u)) if !u.is_empty() => settings.user = Some(u.to_owned()),
                _ => {}
            }
        }
        settings
    }

    /// As a record's `project` keeps it.
    pub fn to_project(&self) -> String {
        match &self.user {
            Some(user) => format!("region={} user={user}", self.region),
            None => format!("region={}", self.region),
        }
    }

    /// Checks a user name as IAM allows it (`[\w+=,.@-]{1,64}`).
    pub fn check_user(user: &str) -> Result<()> {
        let ok = (1..=64).contains(&user.len())
            && user
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(
                "user",
                "An IAM user name is 1 to 64 letters, digits or _+=,.@-",
            ))
        }
    }
}

/// How long a new key may take to work: AWS documents "a few seconds",
/// 10-20 s is common.
pub const PROPAGATION_WAIT: Duration = Duration::from_secs(30);

/// A connection to one IAM user's access keys.
#[derive(Debug)]
pub struct AwsConnector {
    client: AwsClient,
    credentials: Credentials,
    user: Option<String>,
    propagation: Duration,
}

impl AwsConnector {
    pub fn new(
        base_url: &str,
        project: &str,
        credential: &Secret,
        policy: HttpPolicy,
    ) -> Result<Self> {
        let settings = AwsSettings::parse(project);
        if let Some(user) = &settings.user {
            AwsSettings::check_user(user)?;
        }
        let base = Some(base_url).filter(|b| !b.is_empty());
        Ok(Self {
            client: AwsClient::new(base, &settings.region, policy)?,
            credentials: Credentials::parse(credential)?,
            user: settings.user,
            propagation: PROPAGATION_WAIT,
        })
    }

    /// How long `providers::verify_new` waits for a new key to work (tests shorten it).
    pub fn with_propagation_wait(mut self, wait: Duration) -> Self {
        self.propagation = wait;
        self
    }

    fn with_user<'a>(&'a self, params: &mut Vec<(&'a str, &'a str)>) {
        if let Some(user) = &self.user {
            params.push(("UserName", user));
        }
    }

    async fn iam(
        &self,
        action: &str,
        params: &[(&str, &str)],
        idempotent: bool,
    ) -> Result<Element> {
        self.client
            .iam(&self.credentials, action, params, idempotent)
            .await
    }

    /// The user's keys as IAM lists them (with their status).
    async fn metadata(&self) -> Result<Vec<(RemoteKey, bool)>> {
        let mut params = Vec::new();
        self.with_user(&mut params);
        let answer = self.iam("ListAccessKeys", &params, true).await?;
        let list = answer
            .at(&["ListAccessKeysResult", "AccessKeyMetadata"])
            .ok_or_else(|| Error::BadResponse("a key list without AccessKeyMetadata".into()))?;
        list.all("member").map(key_metadata).collect()
    }

    fn sign_in(&self, key: &Secret) -> Result<Credentials> {
        Credentials::parse(key).map_err(|_| {
            Error::invalid(
                "key",
                "An AWS key is an access key pair: ACCESS_KEY_ID:SECRET_ACCESS_KEY",
            )
        })
    }
}

/// One `member` of `AccessKeyMetadata` (or a created `AccessKey`), and
/// whether it is active.
fn key_metadata(member: &Element) -> Result<(RemoteKey, bool)> {
    let id = member
        .text_at(&["AccessKeyId"])
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Error::BadResponse("an access key without its id".into()))?;
    let id = untrusted::clean(id, MAX_ID, &[]);
    let active = member.text_at(&["Status"]) != Some("Inactive");
    let created_at = member
        .text_at(&["CreateDate"])
        .map(|d| untrusted::clean(d, MAX_TIMESTAMP, &[]));
    Ok((
        RemoteKey {
            preview: preview_of(&id),
            name: untrusted::clean(&id, MAX_NAME, &[]),
            remote_id: id,
            scopes: Vec::new(),
            created_at,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            request_count: None,
        },
        active,
    ))
}

/// An access key id is not secret; it is shown whole in AWS's console.
fn preview_of(access_key_id: &str) -> String {
    access_key_id.to_owned()
}

#[async_trait]
impl Connector for AwsConnector {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            set_active: true,
            last_used: true,
            ..Capabilities::basic(true, true, true, true)
        }
    }

    /// Access keys have no names: an orphan is found by its creation time.
    fn names_keys(&self) -> bool {
        false
    }

    fn owns(&self, key: &Secret, remote: &RemoteKey) -> bool {
        key.expose_secret()
            .split_once(':')
            .is_some_and(|(id, _)| id == remote.remote_id)
    }

    fn key_limit(&self) -> Option<usize> {
        Some(2)
    }

    /// The connection's own pair starts with its access key id.
    async fn signs_in_with(&self, remote_id: &str) -> Result<bool> {
        Ok(self.credentials.access_key_id == remote_id)
    }

    async fn list(&self) -> Result<Vec<RemoteKey>> {
        Ok(self.metadata().await?.into_iter().map(|(k, _)| k).collect())
    }

    /// IAM keys have no name, scopes or expiry: `spec` only names the key
    /// in Latchkey. AWS has no idempotency key: a create is sent once.
    async fn create(&self, spec: &KeySpec, _idempotency_key: &str) -> Result<(RemoteKey, Secret)> {
        if spec.expires_in_days.is_some() {
            return Err(Error::invalid(
                "expires_in_days",
                "AWS access keys do not expire; leave the expiry empty",
            ));
        }
        let mut params = Vec::new();
        self.with_user(&mut params);
        let answer = match self.iam("CreateAccessKey", &params, false).await {
            Err(Error::ProviderConflict(_)) => {
                // Name the keys in the way, so the person can choose one.
                let there = self.metadata().await.unwrap_or_default();
                let named: Vec<String> = there
                    .iter()
                    .map(|(k, active)| {
                        format!(
                            "{}{}",
                            k.remote_id,
                            if *active { "" } else { " (inactive)" }
                        )
                    })
                    .collect();
                return Err(Error::ProviderConflict(format!(
                    "AWS allows two access keys per user and this user has {}: {}. Delete one of them first.",
                    named.len(),
                    named.join(", ")
                )));
            }
            other => other?,
        };
        let mut created = answer
            .at(&["CreateAccessKeyResult", "AccessKey"])
            .cloned()
            .ok_or_else(|| Error::BadResponse("a create without its AccessKey".into()))?;
        drop(answer);
        let secret = created
            .text_at(&["SecretAccessKey"])
            .filter(|s| !s.is_empty())
            .map(Secret::new);
        let parsed = key_metadata(&created);
        wipe(&mut created);
        let (mut remote, _) = parsed?;
        let secret =
            secret.ok_or_else(|| Error::BadResponse("a created key without its secret".into()))?;
        let pair = Secret::new(format!("{}:{}", remote.remote_id, secret.expose_secret()));
        remote.name = spec.name.clone();
        Ok((remote, pair))
    }

    async fn revoke(&self, remote_id: &str) -> Result<()> {
        let mut params = vec![("AccessKeyId", remote_id)];
        self.with_user(&mut params);
        // Already gone: what a revoke wants.
        gone_is_done(self.iam("DeleteAccessKey", &params, true).await)
    }

    async fn verify(&self, key: &Secret) -> Result<Verification> {
        let credentials = self.sign_in(key)?;
        Ok(match self.client.caller_identity(&credentials).await? {
            Some(_) => Verification::Accepted,
            None => Verification::Rejected {
                code: "InvalidClientTokenId".into(),
            },
        })
    }

    /// A new key can be refused for a while after it is made: asked again
    /// (after 1, 2, 3… s) until it works or `PROPAGATION_WAIT` is over.
    fn propagation(&self) -> Option<Duration> {
        Some(self.propagation)
    }

    async fn get(&self, remote_id: &str) -> Result<Option<RemoteKey>> {
        Ok(self
            .metadata()
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .find(|k| k.remote_id == remote_id))
    }

    async fn test(&self) -> Result<()> {
        match self.client.caller_identity(&self.credentials).await? {
            Some(_) => self.list().await.map(|_| ()),
            None => Err(Error::ProviderUnauthorized),
        }
    }

    async fn set_active(&self, remote_id: &str, active: bool) -> Result<()> {
        let status = if active { "Active" } else { "Inactive" };
        let mut params = vec![("AccessKeyId", remote_id), ("Status", status)];
        self.with_user(&mut params);
        self.iam("UpdateAccessKey", &params, true).await.map(|_| ())
    }

    async fn last_used(&self, remote_id: &str) -> Result<Option<String>> {
        let answer = self
            .iam("GetAccessKeyLastUsed", &[("AccessKeyId", remote_id)], true)
            .await?;
        Ok(answer
            .text_at(&[
                "GetAccessKeyLastUsedResult",
                "AccessKeyLastUsed",
                "LastUsedDate",
            ])
            .filter(|d| !d.is_empty())
            .map(|d| untrusted::clean(d, MAX_TIMESTAMP, &[])))
    }
}

/// Overwrites every text in the tree (a create's answer holds a secret).
fn wipe(element: &mut Element) {
    element.text.zeroize();
    element.children.iter_mut().for_each(wipe);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_and_print_back() {
        let s = AwsSettings::parse("region=eu-west-1 user=deploy-bot");
        assert_eq!(s.region, "eu-west-1");
        assert_eq!(s.user.as_deref(), Some("deploy-bot"));
        assert_eq!(AwsSettings::parse(&s.to_project()), s);
        let own = AwsSettings::parse("");
        assert_eq!(own.region, "us-east-1");
        assert_eq!(own.user, None);
        assert!(AwsSettings::check_user("a+b=c,d.e@f-g_h").is_ok());
        assert!(AwsSettings::check_user("no spaces").is_err());
        assert!(AwsSettings::check_user("").is_err());
    }
}
