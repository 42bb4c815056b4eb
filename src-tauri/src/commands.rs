//! Tauri commands: each delegates to one `latchkey-core` operation.
//! None returns a secret except `reveal_key`, the one audited reveal, which
//! needs the one-time grant `create_key` returned.

use latchkey_core::catalog::TargetSpec;
use latchkey_core::catalog::{AuditCheck, AuditEntry};
use latchkey_core::reveal::RevealGrant;
use latchkey_core::rotation::driver::{RotationView, RunOptions};
use latchkey_core::rotation::StrategyChoice;
use latchkey_core::scan::ScanReport;
use latchkey_core::vault::{
    ActivityRow, CreatedKey, ExportFormat, KeyDetails, KeyInTheWay, KeyListing, KeyView,
    ProviderView,
};
use tauri::ipc::Channel;
use tauri::State;

use latchkey_core::{Error, Secret};

use crate::ipc::{
    CommandError, CommandResult, CopyReceipt, ExistingKeyInput, FirstScreen, NewKeyInput,
    NewManualProviderInput, NewProviderInput, NewServiceProviderInput, ProviderCredentialInput,
    RotationPlanInput, SettingsView, StartupStatus,
};
use crate::AppState;
use latchkey_core::settings::Settings;

#[tauri::command]
pub async fn startup_status(state: State<'_, AppState>) -> CommandResult<StartupStatus> {
    let error = state.vault().await.err().map(|e| e.0);
    Ok(StartupStatus {
        ready: error.is_none(),
        error,
    })
}

/// Everything the first screen needs in one call (one IPC round trip at
/// launch): whether the vault opened, and if so the catalog's keys (no
/// network) and the providers.
#[tauri::command]
pub async fn first_screen(state: State<'_, AppState>) -> CommandResult<FirstScreen> {
    let vault = match state.vault().await {
        Ok(vault) => vault,
        Err(e) => {
            return Ok(FirstScreen {
                status: StartupStatus {
                    ready: false,
                    error: Some(e.0),
                },
                keys: vec![],
                providers: vec![],
            })
        }
    };
    Ok(FirstScreen {
        status: StartupStatus {
            ready: true,
            error: None,
        },
        keys: vault.local_keys()?,
        providers: vault.providers()?,
    })
}

#[tauri::command]
pub async fn list_keys(state: State<'_, AppState>) -> CommandResult<KeyListing> {
    Ok(state.vault().await?.list_keys().await?)
}

/// The catalog's keys with no network call, so the list renders at once.
#[tauri::command]
pub async fn list_local_keys(state: State<'_, AppState>) -> CommandResult<Vec<KeyView>> {
    Ok(state.vault().await?.local_keys()?)
}

#[tauri::command]
pub async fn list_providers(state: State<'_, AppState>) -> CommandResult<Vec<ProviderView>> {
    Ok(state.vault().await?.providers()?)
}

#[tauri::command]
pub async fn add_provider(
    state: State<'_, AppState>,
    input: NewProviderInput,
) -> CommandResult<ProviderView> {
    Ok(state.vault().await?.add_provider(input.into())?)
}

#[tauri::command]
pub async fn test_provider(state: State<'_, AppState>, provider_id: String) -> CommandResult<()> {
    Ok(state.vault().await?.test_provider(&provider_id).await?)
}

/// Removes a connection that holds no keys; with `forget_keys`, one that
/// holds that many keys, which Latchkey forgets. Returns the keys forgotten.
#[tauri::command]
pub async fn remove_provider(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    provider_id: String,
    forget_keys: Option<usize>,
) -> CommandResult<usize> {
    let vault = state.vault().await?;
    let forgotten = match forget_keys {
        None => vault.remove_provider(&provider_id).map(|()| 0)?,
        Some(expected) => vault.remove_provider_and_keys(&provider_id, expected)?,
    };
    if forgotten > 0 {
        // The tray's "Copy …" entries may name a forgotten key.
        crate::tray::refresh(&app, &vault);
    }
    Ok(forgotten)
}

/// Replaces a connection's credential; the old one stays unless the
/// service accepts the new one.
#[tauri::command]
pub async fn set_provider_credential(
    state: State<'_, AppState>,
    input: ProviderCredentialInput,
) -> CommandResult<ProviderView> {
    Ok(state
        .vault()
        .await?
        .set_provider_credential(&input.provider_id, input.credential)
        .await?)
}

/// Creates a key; the answer carries the one grant that may reveal it.
#[tauri::command]
pub async fn create_key(
    state: State<'_, AppState>,
    input: NewKeyInput,
) -> CommandResult<CreatedKey> {
    Ok(state
        .vault()
        .await?
        .create_key_revealable(input.into())
        .await?)
}

/// The one audited reveal: the only IPC answer that carries a key, and
/// only with the unused grant `create_key` gave for it (within 2 minutes).
#[tauri::command]
pub async fn reveal_key(
    state: State<'_, AppState>,
    key_id: String,
    grant: String,
) -> CommandResult<String> {
    Ok(state
        .vault()
        .await?
        .reveal_key(&key_id, &RevealGrant::from_token(grant))?
        .expose_secret()
        .to_owned())
}

#[tauri::command]
pub async fn copy_key(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    key_id: String,
) -> CommandResult<CopyReceipt> {
    let vault = state.vault().await?;
    let timer = vault.copy_key(&key_id)?;
    crate::tray::refresh(&app, &vault);
    Ok(CopyReceipt {
        clears_in_secs: timer.after().as_secs() as u32,
    })
}

#[tauri::command]
pub async fn revoke_key(state: State<'_, AppState>, key_id: String) -> CommandResult<KeyView> {
    Ok(state.vault().await?.revoke_key(&key_id).await?)
}

#[tauri::command]
pub async fn add_existing_key(
    state: State<'_, AppState>,
    input: ExistingKeyInput,
) -> CommandResult<KeyView> {
    Ok(state.vault().await?.add_existing_key(input.into()).await?)
}

#[tauri::command]
pub async fn audit_log(
    state: State<'_, AppState>,
    limit: Option<u32>,
) -> CommandResult<Vec<AuditEntry>> {
    Ok(state
        .vault()
        .await?
        .audit_log(limit.unwrap_or(500) as usize)?)
}

/// Checks the audit log's chain and head (Activity screen).
#[tauri::command]
pub async fn verify_audit_log(state: State<'_, AppState>) -> CommandResult<AuditCheck> {
    Ok(state.vault().await?.verify_audit()?.into())
}

/// One key's details: generations, rotations, targets, activity.
#[tauri::command]
pub async fn key_details(state: State<'_, AppState>, key_id: String) -> CommandResult<KeyDetails> {
    Ok(state.vault().await?.key_details(&key_id)?)
}

/// The service catalogue ("Add service").
#[tauri::command]
pub async fn list_services() -> CommandResult<Vec<latchkey_core::services::Service>> {
    Ok(latchkey_core::services::catalogue().to_vec())
}

/// Connects a catalogue service.
#[tauri::command]
pub async fn add_service_provider(
    state: State<'_, AppState>,
    input: NewServiceProviderInput,
) -> CommandResult<ProviderView> {
    Ok(state.vault().await?.add_service_provider(input.into())?)
}

/// Opens where a catalogue service's keys are made (its prefilled create
/// page where it has one), in the browser, from Rust.
#[tauri::command]
pub async fn open_service_page(service_id: String) -> CommandResult<()> {
    let service = latchkey_core::services::by_id(&service_id)
        .ok_or_else(|| CommandError::from(Error::NotFound("That service".into())))?;
    let url = [
        &service.create_url,
        &Some(service.dashboard.clone()),
        &Some(service.docs.clone()),
    ]
    .into_iter()
    .flatten()
    .find(|u| u.starts_with("https://"))
    .cloned()
    .ok_or_else(|| {
        CommandError::from(Error::invalid(
            "service",
            "This service publishes no key page",
        ))
    })?;
    crate::browser::open_detached(url).await.map_err(|_| {
        CommandError::from(Error::invalid(
            "dashboard_url",
            "Could not open a browser; open the service's key page by hand",
        ))
    })
}

/// The services a pasted key's format belongs to, most specific first.
#[tauri::command]
pub async fn recognise_key(key: Secret) -> CommandResult<Vec<latchkey_core::services::Recognised>> {
    Ok(latchkey_core::services::recognise(key.expose_secret()))
}

/// Finds the vault's keys in a folder's files (by fingerprint).
#[tauri::command]
pub async fn scan_folder(state: State<'_, AppState>, folder: String) -> CommandResult<ScanReport> {
    let vault = state.vault().await?;
    Ok(latchkey_core::blocking::wait(|| {
        vault.scan_folder(std::path::Path::new(&folder))
    })?)
}

/// The audit log with key and service names (Activity screen).
#[tauri::command]
pub async fn activity(
    state: State<'_, AppState>,
    limit: Option<u32>,
) -> CommandResult<Vec<ActivityRow>> {
    Ok(state
        .vault()
        .await?
        .activity(limit.unwrap_or(500) as usize)?)
}

/// "Choose…": the system's picker for a folder or a file, over the window;
/// answers the chosen path, or nothing when the person cancelled.
#[tauri::command]
pub async fn pick_path(
    app: tauri::AppHandle,
    kind: crate::picker::PickKind,
    start: Option<String>,
) -> CommandResult<Option<String>> {
    crate::picker::pick(&app, kind, start).await.map_err(|e| {
        CommandError::from(Error::invalid(
            "picker",
            format!("The picker could not open: {e}"),
        ))
    })
}

/// Writes the whole audit log as CSV or JSON to the Downloads folder (the
/// data folder when there is none); answers the file's path.
#[tauri::command]
pub async fn export_activity(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    format: ExportFormat,
) -> CommandResult<String> {
    use tauri::Manager;
    let dir = app
        .path()
        .download_dir()
        .ok()
        .filter(|d| d.is_dir() || std::fs::create_dir_all(d).is_ok())
        .unwrap_or_else(latchkey_core::paths::data_dir);
    let path = state.vault().await?.export_activity(format, &dir)?;
    Ok(path.display().to_string())
}

// ---- rotation wizard ----

/// Plans a rotation (checks targets, takes the key's lock); nothing remote yet.
#[tauri::command]
pub async fn plan_rotation(
    state: State<'_, AppState>,
    input: RotationPlanInput,
) -> CommandResult<RotationView> {
    let strategy = input.strategy;
    Ok(state
        .vault()
        .await?
        .plan_rotation_with(input.into(), strategy)
        .await?)
}

/// How a rotation of this key can swap the keys, the default first.
#[tauri::command]
pub async fn rotation_strategies(
    state: State<'_, AppState>,
    key_id: String,
) -> CommandResult<Vec<StrategyChoice>> {
    Ok(state.vault().await?.rotation_strategies(&key_id)?)
}

/// The other keys on the account when a service's key limit (AWS: two
/// per IAM user) leaves no room for the rotation's new key: the wizard
/// names each, with when it was last used.
#[tauri::command]
pub async fn keys_in_the_way(
    state: State<'_, AppState>,
    key_id: String,
) -> CommandResult<Vec<KeyInTheWay>> {
    Ok(state.vault().await?.keys_in_the_way(&key_id).await?)
}

/// "Delete this key": deletes one key in the way, on the person's explicit
/// choice of that key.
#[tauri::command]
pub async fn delete_key_in_the_way(
    state: State<'_, AppState>,
    key_id: String,
    remote_id: String,
) -> CommandResult<()> {
    Ok(state
        .vault()
        .await?
        .delete_key_in_the_way(&key_id, &remote_id)
        .await?)
}

/// A target spec as the CLI spells it (`gitlab:…`), checked and parsed:
/// the wizard's "Add target" builds one from its fields.
#[tauri::command]
pub async fn parse_target(spec: String) -> CommandResult<TargetSpec> {
    Ok(spec.parse::<TargetSpec>()?)
}

/// "Revoke anyway": runs on past the last-used guard.
#[tauri::command]
pub async fn revoke_anyway(
    state: State<'_, AppState>,
    rotation_id: String,
    on_progress: Channel<RotationView>,
) -> CommandResult<RotationView> {
    let progress = sender(on_progress);
    let options = RunOptions { force_revoke: true };
    Ok(state
        .vault()
        .await?
        .run_rotation_with(&rotation_id, options, &progress)
        .await?)
}

/// "Reactivate": the switched-off old key goes back on and the rotation
/// rolls back.
#[tauri::command]
pub async fn reactivate_rotation(
    state: State<'_, AppState>,
    rotation_id: String,
    on_progress: Channel<RotationView>,
) -> CommandResult<RotationView> {
    let progress = sender(on_progress);
    Ok(state
        .vault()
        .await?
        .reactivate_rotation(&rotation_id, &progress)
        .await?)
}

/// Sends each progress view down an IPC channel (a closed one is ignored).
fn sender(channel: Channel<RotationView>) -> impl Fn(&RotationView) + Send + Sync {
    move |v: &RotationView| {
        let _ = channel.send(v.clone());
    }
}

/// Runs or resumes a rotation; every journaled step is sent on `on_progress`.
#[tauri::command]
pub async fn run_rotation(
    state: State<'_, AppState>,
    rotation_id: String,
    on_progress: Channel<RotationView>,
) -> CommandResult<RotationView> {
    let progress = sender(on_progress);
    Ok(state
        .vault()
        .await?
        .run_rotation(&rotation_id, &progress)
        .await?)
}

#[tauri::command]
pub async fn rollback_rotation(
    state: State<'_, AppState>,
    rotation_id: String,
    on_progress: Channel<RotationView>,
) -> CommandResult<RotationView> {
    let progress = sender(on_progress);
    Ok(state
        .vault()
        .await?
        .rollback_rotation(&rotation_id, &progress)
        .await?)
}

#[tauri::command]
pub async fn confirm_rotation_item(
    state: State<'_, AppState>,
    rotation_id: String,
    target: u32,
    item: u32,
) -> CommandResult<RotationView> {
    Ok(state
        .vault()
        .await?
        .confirm_manual_item(&rotation_id, target as usize, item as usize)?)
}

/// Copies the rotation's new key for the checklist (auto-cleared).
#[tauri::command]
pub async fn copy_rotation_key(
    state: State<'_, AppState>,
    rotation_id: String,
) -> CommandResult<CopyReceipt> {
    let timer = state.vault().await?.copy_rotation_key(&rotation_id)?;
    Ok(CopyReceipt {
        clears_in_secs: timer.after().as_secs() as u32,
    })
}

#[tauri::command]
pub async fn list_rotations(state: State<'_, AppState>) -> CommandResult<Vec<RotationView>> {
    Ok(state.vault().await?.rotations()?)
}

#[tauri::command]
pub async fn add_to_gitignore(state: State<'_, AppState>, path: String) -> CommandResult<()> {
    Ok(state.vault().await?.add_to_gitignore(&path)?)
}

// ---- manual (dashboard-only) providers ----

#[tauri::command]
pub async fn add_manual_provider(
    state: State<'_, AppState>,
    input: NewManualProviderInput,
) -> CommandResult<ProviderView> {
    Ok(state.vault().await?.add_manual_provider(input.into())?)
}

/// The new key, made in the dashboard and pasted; straight to the keychain.
#[tauri::command]
pub async fn provide_new_key(
    state: State<'_, AppState>,
    rotation_id: String,
    secret: Secret,
) -> CommandResult<RotationView> {
    Ok(state.vault().await?.provide_new_key(&rotation_id, secret)?)
}

#[tauri::command]
pub async fn confirm_done_by_hand(
    state: State<'_, AppState>,
    rotation_id: String,
) -> CommandResult<RotationView> {
    Ok(state.vault().await?.confirm_done_by_hand(&rotation_id)?)
}

/// Opens the rotation's provider dashboard in the browser, from Rust.
#[tauri::command]
pub async fn open_dashboard(state: State<'_, AppState>, rotation_id: String) -> CommandResult<()> {
    let view = state.vault().await?.rotation(&rotation_id)?;
    let url = view.dashboard_url.ok_or_else(|| {
        CommandError::from(Error::invalid(
            "rotation",
            "This provider has no dashboard link",
        ))
    })?;
    crate::browser::open_detached(url).await.map_err(|_| {
        CommandError::from(Error::invalid(
            "dashboard_url",
            "Could not open a browser; open the dashboard link by hand",
        ))
    })
}

fn settings_view(vault: &latchkey_core::Vault) -> CommandResult<SettingsView> {
    Ok(SettingsView {
        settings: vault.settings()?,
        clipboard_fixed_by_env: vault.clear_after_overridden(),
        data_dir: latchkey_core::paths::data_dir().display().to_string(),
    })
}

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> CommandResult<SettingsView> {
    settings_view(&*state.vault().await?)
}

#[tauri::command]
pub async fn update_settings(
    state: State<'_, AppState>,
    settings: Settings,
) -> CommandResult<SettingsView> {
    let vault = state.vault().await?;
    vault.update_settings(settings)?;
    settings_view(&vault)
}
