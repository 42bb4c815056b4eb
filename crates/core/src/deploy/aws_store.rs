//! A team's shared store as a deploy target: an AWS Secrets Manager secret
//! (`aws-secret:PROVIDER:SECRET_ID`) or an SSM Parameter Store
//! `SecureString` (`ssm:PROVIDER:PARAMETER_NAME`), reached through the
//! `aws` connection named `PROVIDER`. A write keeps what the store held in
//! the rotation's private backup folder (0600; "absent" when there was
//! nothing), then puts the key (creating the secret or parameter when it
//! does not exist); `holds` reads the value back and compares
//! fingerprints; `restore` puts the backup back, or deletes what the
//! deploy created, only while the store still holds the deployed key.

use std::path::PathBuf;

use async_trait::async_trait;
use serde_json::{json, Value};
use zeroize::Zeroize;

use super::file::write_private;
use super::{Backup, DeployTarget, Remote, Written};
use crate::aws::{AwsClient, Credentials, JsonService};
use crate::catalog::{TargetSpec, TargetState, TargetStatus};
use crate::error::{Error, Result};
use crate::providers::aws::AwsSettings;
use crate::secret::{Fingerprint, Secret};
use crate::untrusted;

/// Which store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsStore {
    SecretsManager,
    Ssm,
}

impl AwsStore {
    /// The journal's spec of a target in this store.
    pub fn spec(self, provider: &str, id: &str) -> TargetSpec {
        match self {
            AwsStore::SecretsManager => TargetSpec::AwsSecret {
                provider: provider.to_owned(),
                secret_id: id.to_owned(),
            },
            AwsStore::Ssm => TargetSpec::Ssm {
                provider: provider.to_owned(),
                name: id.to_owned(),
            },
        }
    }

    pub fn describe(self, provider: &str, id: &str) -> String {
        match self {
            AwsStore::SecretsManager => format!("AWS secret {id} (via {provider})"),
            AwsStore::Ssm => format!("SSM parameter {id} (via {provider})"),
        }
    }

    /// A secret id (a name or an ARN) or a parameter name as AWS takes it.
    pub fn check_name(self, id: &str) -> Result<()> {
        let (what, ok) = match self {
            // Names: letters, digits and /_+=.@-; ARNs add ':'.
            AwsStore::SecretsManager => (
                "secret id",
                (1..=2048).contains(&id.len())
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-:".contains(&b)),
            ),
            AwsStore::Ssm => (
                "parameter name",
                (1..=2048).contains(&id.len())
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"/_.-".contains(&b)),
            ),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(
                "target",
                format!(
                    "'{}' is not a valid AWS {what}",
                    untrusted::clean(id, 64, &[])
                ),
            ))
        }
    }

    /// What the store calls one item, and its spec placeholder.
    pub fn noun(self) -> &'static str {
        match self {
            AwsStore::SecretsManager => "secret",
            AwsStore::Ssm => "parameter",
        }
    }

    pub fn placeholder(self) -> &'static str {
        match self {
            AwsStore::SecretsManager => "SECRET_ID",
            AwsStore::Ssm => "PARAMETER_NAME",
        }
    }

    fn service(self) -> JsonService {
        match self {
            AwsStore::SecretsManager => JsonService::SecretsManager,
            AwsStore::Ssm => JsonService::Ssm,
        }
    }
}

/// One secret or parameter through one AWS connection. The connection is
/// looked up when the target is opened; a missing one fails the first call
/// (describing a target needs none).
pub struct AwsStoreTarget {
    store: AwsStore,
    provider: String,
    id: String,
    reach: Result<(AwsClient, Credentials)>,
}

impl AwsStoreTarget {
    pub fn new(store: AwsStore, provider: &str, id: &str, remote: Result<Remote>) -> Self {
        let reach = remote.and_then(|r| {
            let settings = AwsSettings::parse(&r.project);
            let base = Some(r.base_url.as_str()).filter(|b| !b.is_empty());
            Ok((
                AwsClient::new(base, &settings.region, r.policy)?,
                Credentials::parse(&r.token)?,
            ))
        });
        Self {
            store,
            provider: provider.to_owned(),
            id: id.to_owned(),
            reach,
        }
    }

    fn reach(&self) -> Result<&(AwsClient, Credentials)> {
        self.reach.as_ref().map_err(super::again)
    }

    async fn call(&self, action: &str, body: &Value, idempotent: bool) -> Result<Value> {
        let (client, credentials) = self.reach()?;
        client
            .json(credentials, self.store.service(), action, body, idempotent)
            .await
    }

    /// What the store holds now (`None`: no such secret or parameter).
    async fn read(&self) -> Result<Option<Secret>> {
        let answer = match self.store {
            AwsStore::SecretsManager => {
                self.call("GetSecretValue", &json!({ "SecretId": self.id }), true)
                    .await
            }
            AwsStore::Ssm => {
                self.call(
                    "GetParameter",
                    &json!({ "Name": self.id, "WithDecryption": true }),
                    true,
                )
                .await
            }
        };
        let mut value = match answer {
            Ok(v) => v,
            Err(Error::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let field = match self.store {
            AwsStore::SecretsManager => value.get_mut("SecretString"),
            AwsStore::Ssm => value.get_mut("Parameter").and_then(|p| p.get_mut("Value")),
        };
        let held = match field {
            Some(Value::String(s)) => Some(Secret::take_from(s)),
            // A binary secret: not something Latchkey wrote.
            _ => Some(Secret::new("")),
        };
        wipe(&mut value);
        Ok(held)
    }

    /// Puts `value` in the store, creating the secret or parameter when
    /// `exists` is false.
    async fn put(&self, value: &Secret, exists: bool) -> Result<()> {
        let mut body = match (self.store, exists) {
            (AwsStore::SecretsManager, true) => {
                json!({ "SecretId": self.id, "SecretString": value.expose_secret() })
            }
            (AwsStore::SecretsManager, false) => json!({
                "Name": self.id,
                "SecretString": value.expose_secret(),
                "Description": "Deployed by Latchkey",
            }),
            (AwsStore::Ssm, _) => json!({
                "Name": self.id,
                "Value": value.expose_secret(),
                "Type": "SecureString",
                "Overwrite": true,
            }),
        };
        let action = match (self.store, exists) {
            (AwsStore::SecretsManager, true) => "PutSecretValue",
            (AwsStore::SecretsManager, false) => "CreateSecret",
            (AwsStore::Ssm, _) => "PutParameter",
        };
        let result = self.call(action, &body, true).await;
        wipe(&mut body);
        result.map(|_| ())
    }

    async fn delete(&self) -> Result<()> {
        let result = match self.store {
            AwsStore::SecretsManager => {
                self.call(
                    "DeleteSecret",
                    &json!({ "SecretId": self.id, "ForceDeleteWithoutRecovery": true }),
                    true,
                )
                .await
            }
            AwsStore::Ssm => {
                self.call("DeleteParameter", &json!({ "Name": self.id }), true)
                    .await
            }
        };
        match result {
            Ok(_) | Err(Error::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn backup_path(&self, backup: &Backup<'_>) -> PathBuf {
        let kind = match self.store {
            AwsStore::SecretsManager => "aws-secret",
            AwsStore::Ssm => "ssm",
        };
        backup.dir.join(format!("{}-{kind}.backup", backup.index))
    }
}

/// The backup file: `absent`, or `value:` and what the store held.
const ABSENT: &[u8] = b"absent";
const VALUE: &[u8] = b"value:";

#[async_trait]
impl DeployTarget for AwsStoreTarget {
    fn describe(&self) -> String {
        self.store.describe(&self.provider, &self.id)
    }

    /// Checks the name and the connection, and that AWS answers for it
    /// (a missing secret or parameter is fine: the deploy creates it).
    async fn prepare(&self) -> Result<TargetState> {
        self.store.check_name(&self.id)?;
        self.read().await?;
        Ok(TargetState {
            spec: self.store.spec(&self.provider, &self.id),
            status: TargetStatus::Pending,
            digest: None,
            confirmed: vec![],
            message: None,
            gitignore_warning: None,
            deployed_digest: None,
        })
    }

    async fn write(
        &self,
        secret: &Secret,
        backup: &Backup<'_>,
        _expected_digest: Option<&str>,
    ) -> Result<Written> {
        let held = self.read().await?;
        let path = self.backup_path(backup);
        if held.as_ref().map(Secret::fingerprint) != Some(secret.fingerprint()) {
            // What it held goes to the private backup first (a resume
            // after a crash between the backup and the put keeps the
            // first backup: it is the one from before this rotation).
            if !path.exists() {
                let mut bytes = match &held {
                    None => ABSENT.to_vec(),
                    Some(old) => [VALUE, old.expose_secret().as_bytes()].concat(),
                };
                let kept = write_private(&path, &bytes);
                bytes.zeroize();
                kept?;
            }
            self.put(secret, held.is_some()).await?;
        }
        Ok(Written::Done {
            digest: None,
            message: format!("{} now holds the new key", self.describe()),
        })
    }

    async fn holds(&self, fingerprint: &Fingerprint) -> Result<bool> {
        Ok(self.read().await?.map(|s| s.fingerprint()).as_ref() == Some(fingerprint))
    }

    async fn restore(
        &self,
        backup: &Backup<'_>,
        _deployed_digest: Option<&str>,
        new: Option<&Secret>,
        old_key: &(dyn Fn() -> Result<Secret> + Sync),
    ) -> Result<String> {
        let held = self.read().await?;
        if let (Some(new), Some(held)) = (new, &held) {
            if held.fingerprint() != new.fingerprint() {
                return Err(Error::RollbackFailed(format!(
                    "{} was changed by someone else since the deploy; it was left as it is",
                    self.describe()
                )));
            }
        }
        let path = self.backup_path(backup);
        let saved = std::fs::read(&path).ok();
        let result = match saved.as_deref() {
            Some(ABSENT) => self.delete().await.map(|()| "removed again".to_owned()),
            Some(bytes) if bytes.starts_with(VALUE) => {
                let old = Secret::new(String::from_utf8_lossy(&bytes[VALUE.len()..]).into_owned());
                self.put(&old, held.is_some())
                    .await
                    .map(|()| "holds the old key again".to_owned())
            }
            _ => {
                let old = old_key()?;
                self.put(&old, held.is_some())
                    .await
                    .map(|()| "holds the old key again".to_owned())
            }
        };
        if let Some(mut bytes) = saved {
            bytes.zeroize();
        }
        Ok(format!("{} {}", self.describe(), result?))
    }
}

pub(crate) fn wipe(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(fields) => fields.values_mut().for_each(wipe),
        _ => {}
    }
}
