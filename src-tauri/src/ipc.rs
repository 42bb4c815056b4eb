//! What crosses IPC besides the core's views: the commands' inputs, the
//! copy receipt, and errors as `{code, message}`. Inputs are converted to
//! core types here, before the core sees them.

use latchkey_core::catalog::TargetSpec;
use latchkey_core::rotation::driver::RotationRequest;
use latchkey_core::rotation::Strategy;
use latchkey_core::vault::{
    ExistingKey, NewKey, NewManualProvider, NewProvider, NewServiceProvider,
};
use latchkey_core::{Error, Secret, WireError};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The error every command fails with; the UI switches on `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandError(pub WireError);

impl From<Error> for CommandError {
    fn from(e: Error) -> Self {
        Self(e.to_wire())
    }
}

impl From<WireError> for CommandError {
    fn from(e: WireError) -> Self {
        Self(e)
    }
}

pub type CommandResult<T> = Result<T, CommandError>;

/// "Add provider" form.
#[derive(Debug, Deserialize, TS)]
#[ts(export)]
pub struct NewProviderInput {
    pub name: String,
    pub base_url: String,
    /// Goes straight to the keychain.
    #[ts(type = "string")]
    pub admin_token: Secret,
    pub project: String,
}

impl From<NewProviderInput> for NewProvider {
    fn from(i: NewProviderInput) -> Self {
        NewProvider {
            name: i.name,
            base_url: i.base_url,
            admin_token: i.admin_token,
            project: i.project,
        }
    }
}

/// "Change token" on a connection: its new management credential.
#[derive(Debug, Deserialize, TS)]
#[ts(export)]
pub struct ProviderCredentialInput {
    pub provider_id: String,
    /// Goes straight to the keychain once the service accepts it.
    #[ts(type = "string")]
    pub credential: Secret,
}

/// "New key" form.
#[derive(Debug, Deserialize, TS)]
#[ts(export)]
pub struct NewKeyInput {
    pub provider_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_in_days: Option<u32>,
    pub environment: String,
    pub env_var: String,
}

impl From<NewKeyInput> for NewKey {
    fn from(i: NewKeyInput) -> Self {
        NewKey {
            provider_id: i.provider_id,
            name: i.name,
            scopes: i.scopes,
            expires_in_days: i.expires_in_days,
            environment: i.environment,
            env_var: i.env_var,
        }
    }
}

/// "Add existing key" form.
#[derive(Debug, Deserialize, TS)]
#[ts(export)]
pub struct ExistingKeyInput {
    pub provider_id: String,
    pub name: String,
    /// The pasted key; goes straight to the keychain.
    #[ts(type = "string")]
    pub secret: Secret,
    pub environment: String,
    pub env_var: String,
    /// The person chose "Replace" after being told the vault holds this
    /// key's secret already.
    #[serde(default)]
    #[ts(optional)]
    pub replace: Option<bool>,
}

impl From<ExistingKeyInput> for ExistingKey {
    fn from(i: ExistingKeyInput) -> Self {
        ExistingKey {
            provider_id: i.provider_id,
            name: i.name,
            secret: i.secret,
            environment: i.environment,
            env_var: i.env_var,
            replace: i.replace.unwrap_or(false),
        }
    }
}

/// Answer to "Copy": the key is on the clipboard until `clears_in_secs`.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CopyReceipt {
    pub clears_in_secs: u32,
}

/// Whether the vault could open (keychain, catalog, Demo provider).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct StartupStatus {
    pub ready: bool,
    pub error: Option<WireError>,
}

/// The first screen's data, in one answer.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct FirstScreen {
    pub status: StartupStatus,
    pub keys: Vec<latchkey_core::vault::KeyView>,
    pub providers: Vec<latchkey_core::vault::ProviderView>,
}

/// The Settings screen: the shared settings, and what the environment fixes.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SettingsView {
    pub settings: latchkey_core::settings::Settings,
    /// `LATCHKEY_CLIPBOARD_CLEAR_SECS` is set, so the clipboard timeout
    /// setting does not apply to this process.
    pub clipboard_fixed_by_env: bool,
    /// Where the catalog lives (the keys themselves are in the keychain).
    pub data_dir: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_cross_ipc_as_code_and_message() {
        let json = serde_json::to_value(CommandError::from(Error::SecretMissing)).expect("json");
        assert_eq!(json["code"], "secret_missing");
        assert!(json["message"]
            .as_str()
            .is_some_and(|m| m.contains("keychain")));
        assert_eq!(json.as_object().map(|o| o.len()), Some(2));
    }
}

/// A rotation to start: the key and where its successor goes.
#[derive(Debug, Deserialize, TS)]
#[ts(export)]
pub struct RotationPlanInput {
    pub key_id: String,
    pub targets: Vec<TargetSpec>,
    /// The person's choice; absent: the safest the service can do.
    #[serde(default)]
    #[ts(optional)]
    pub strategy: Option<Strategy>,
}

impl From<RotationPlanInput> for RotationRequest {
    fn from(i: RotationPlanInput) -> Self {
        Self {
            key_id: i.key_id,
            targets: i.targets,
        }
    }
}

/// "Add service": a connection to a catalogue service.
#[derive(Debug, Deserialize, TS)]
#[ts(export)]
pub struct NewServiceProviderInput {
    pub service: String,
    pub name: String,
    /// Empty: the service's own address.
    pub base_url: String,
    pub project: String,
    /// The management credential where the service needs one (goes
    /// straight to the keychain); empty otherwise.
    #[ts(type = "string")]
    pub credential: Secret,
    /// AWS: the region (empty: us-east-1).
    #[serde(default)]
    pub region: String,
    /// AWS: the IAM user whose keys are managed (empty: the pair's own).
    #[serde(default)]
    pub user: String,
}

impl From<NewServiceProviderInput> for NewServiceProvider {
    fn from(i: NewServiceProviderInput) -> Self {
        let some = |s: String| Some(s).filter(|s| !s.trim().is_empty());
        Self {
            service: i.service,
            name: i.name,
            base_url: some(i.base_url),
            project: some(i.project),
            credential: Some(i.credential).filter(|c| !c.is_empty()),
            region: some(i.region),
            user: some(i.user),
        }
    }
}

/// "Add manual service" form (a dashboard-only service).
#[derive(Debug, Deserialize, TS)]
#[ts(export)]
pub struct NewManualProviderInput {
    pub name: String,
    pub dashboard_url: String,
    pub verify_url: String,
}

impl From<NewManualProviderInput> for NewManualProvider {
    fn from(i: NewManualProviderInput) -> Self {
        Self {
            name: i.name,
            dashboard_url: i.dashboard_url,
            verify_url: i.verify_url,
        }
    }
}
