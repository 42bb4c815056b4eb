//! A team's shared store as a deploy target: an AWS Secrets Manager secret
//! (`aws-secret:PROVIDER:SECRET_ID`) or an SSM Parameter Store
//! `SecureString` (`ssm:PROVIDER:PARAMETER_NAME`), reached through the
//! `aws` connection named `PROVIDER`. It is a [`VariableStore`]: the shared
//! `remote_value` path keeps what the store held in the rotation's private
//! backup folder (0600; "absent" when there was nothing), then puts the key
//! (creating the secret or parameter when it does not exist); `holds`
//! reads the value back and compares fingerprints; `restore` puts the
//! backup back, or deletes what the deploy created, only while the store
//! still holds the deployed key.

use async_trait::async_trait;
use serde_json::{json, Value};
use zeroize::Zeroize;

use super::remote_value::{Held, VariableStore};
use super::Remote;
use crate::aws::{AwsClient, Credentials, JsonService};
use crate::catalog::TargetSpec;
use crate::error::{Error, Result};
use crate::providers::aws::AwsSettings;
use crate::secret::Secret;
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
/// (describing a target needs none). A deploy target as
/// `VariableTarget<AwsStoreVariable>`.
pub struct AwsStoreVariable {
    store: AwsStore,
    provider: String,
    id: String,
    reach: Result<(AwsClient, Credentials)>,
}

impl AwsStoreVariable {
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
    async fn fetch(&self) -> Result<Option<Secret>> {
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
    async fn write_value(&self, value: &Secret, exists: bool) -> Result<()> {
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

    async fn remove(&self) -> Result<()> {
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
}

#[async_trait]
impl VariableStore for AwsStoreVariable {
    fn describe(&self) -> String {
        self.store.describe(&self.provider, &self.id)
    }

    fn spec(&self) -> TargetSpec {
        self.store.spec(&self.provider, &self.id)
    }

    fn tag(&self) -> &'static str {
        match self.store {
            AwsStore::SecretsManager => "aws-secret",
            AwsStore::Ssm => "ssm",
        }
    }

    fn check(&self, _: Option<&Secret>) -> Result<()> {
        self.store.check_name(&self.id)
    }

    async fn read(&self) -> Result<Held> {
        Ok(match self.fetch().await? {
            None => Held::Absent,
            Some(value) => Held::Value(value),
        })
    }

    async fn put(&self, value: &Secret, exists: bool) -> Result<Option<String>> {
        self.write_value(value, exists).await.map(|()| None)
    }

    async fn delete(&self) -> Result<()> {
        self.remove().await
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
