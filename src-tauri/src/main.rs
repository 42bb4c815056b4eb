//! Latchkey's desktop shell: builds the app, wires plugins and state, and
//! registers the commands. Everything else lives in `latchkey-core`.
//!
//! On start it opens the vault (keychain + catalog in the data directory,
//! `LATCHKEY_DATA_DIR` overriding the platform's) and runs the Demo provider
//! (the reference key service) in-process on loopback. It never logs a key.
#![forbid(unsafe_code)]
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod ipc;
mod navigation;

use std::sync::Arc;

use latchkey_core::clipboard::{clear_after_from_env, SystemClipboard};
use latchkey_core::clock::SystemClock;
use latchkey_core::paths::{self, DEMO_DATA_FILE};
use latchkey_core::store::KeychainStore;
use latchkey_core::{Error, Vault};
use latchkey_keyservice::ShutdownHandle;
use tauri::Manager;

use crate::ipc::CommandError;

type Opened = Result<Arc<Vault>, CommandError>;

/// Shared by every command. The vault opens in the background while the
/// window loads; commands wait for it.
pub struct AppState {
    vault: tokio::sync::watch::Receiver<Option<Opened>>,
    _demo: std::sync::Mutex<Option<ShutdownHandle>>,
}

impl AppState {
    /// The vault, or why it could not open (e.g. a locked keychain).
    pub async fn vault(&self) -> Opened {
        let mut rx = self.vault.clone();
        let opened = rx.wait_for(Option::is_some).await;
        match opened.as_deref() {
            Ok(Some(result)) => result.clone(),
            _ => Err(CommandError::from(Error::Database(
                "Latchkey stopped while opening".into(),
            ))),
        }
    }
}

/// Opens the vault and starts the Demo provider — or, when another process
/// (e.g. a running `latchkey` command) already serves its state file, uses
/// that one; the handle is `None` then.
async fn open() -> Result<(Arc<Vault>, Option<ShutdownHandle>), Error> {
    let dir = paths::data_dir();
    let store = Arc::new(KeychainStore::open()?);
    let clipboard = Arc::new(SystemClipboard::new()?);
    let mut vault = Vault::open(&dir, store, clipboard, Arc::new(SystemClock))?;
    vault.set_actor(latchkey_core::catalog::Actor::App);
    if let Some(after) = clear_after_from_env() {
        vault.set_clear_after(after);
    }
    let token = vault.demo_admin_token()?;
    let demo = latchkey_keyservice::start_demo(dir.join(DEMO_DATA_FILE), token.expose_secret())
        .await
        .map_err(|e| Error::Network(format!("cannot start the Demo provider: {e}")))?;
    vault.ensure_demo_provider(&format!("http://{}", demo.addr()), &token)?;
    Ok((Arc::new(vault), demo.into_handle()))
}

/// At most one desktop notification a day about keys due for rotation
/// (older than the policy or expiring within 14 days); checked hourly.
async fn remind(app: tauri::AppHandle, vault: Arc<Vault>) {
    use tauri_plugin_notification::NotificationExt;
    loop {
        if let Ok(Some(reminder)) = vault.rotation_reminder() {
            let _ = app
                .notification()
                .builder()
                .title("Latchkey: keys due for rotation")
                .body(reminder.body)
                .show();
        }
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
}

/// Paints the window without WebKit's accelerated compositing: a list of
/// keys needs no GPU layers, and on Linux those layers (Mesa buffers and
/// textures, tile backing stores) are most of the web process's memory —
/// about 60 MiB at launch (see the launch benchmark). It also sidesteps the
/// blank-window GPU driver problems WebKitGTK is known for.
/// `LATCHKEY_GPU_COMPOSITING=1` keeps WebKit's default.
#[cfg(target_os = "linux")]
fn lighter_rendering(window: &tauri::WebviewWindow) {
    if std::env::var_os("LATCHKEY_GPU_COMPOSITING").is_some_and(|v| v == "1") {
        return;
    }
    let _ = window.with_webview(|webview| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
        if let Some(settings) = webview.inner().settings() {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    });
}

fn main() {
    // Before WebKit spawns its helpers: no core dumps, not dumpable, and a
    // copied key cleared on SIGTERM/SIGINT/SIGHUP.
    latchkey_core::harden::process();
    let app = tauri::Builder::default()
        // The window stays on the app's own origin.
        .plugin(navigation::guard())
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        // Used from Rust only (open_dashboard); the webview is granted none
        // of its commands.
        .plugin(tauri_plugin_opener::init())
        // Used from Rust only (the daily rotation reminder).
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            #[cfg(target_os = "linux")]
            if let Some(window) = app.get_webview_window("main") {
                lighter_rendering(&window);
            }
            let (tx, rx) = tokio::sync::watch::channel(None);
            app.manage(AppState {
                vault: rx,
                _demo: std::sync::Mutex::new(None),
            });
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let opened = match open().await {
                    Ok((vault, demo)) => {
                        let state = handle.state::<AppState>();
                        *state._demo.lock().unwrap_or_else(|p| p.into_inner()) = demo;
                        tauri::async_runtime::spawn(remind(handle.clone(), vault.clone()));
                        Ok(vault)
                    }
                    Err(e) => {
                        eprintln!("latchkey: {} ({})", e, e.code());
                        Err(CommandError::from(e))
                    }
                };
                let _ = tx.send(Some(opened));
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::startup_status,
            commands::first_screen,
            commands::list_keys,
            commands::list_local_keys,
            commands::list_providers,
            commands::add_provider,
            commands::test_provider,
            commands::create_key,
            commands::reveal_key,
            commands::copy_key,
            commands::revoke_key,
            commands::add_existing_key,
            commands::audit_log,
            commands::verify_audit_log,
            commands::plan_rotation,
            commands::run_rotation,
            commands::rollback_rotation,
            commands::confirm_rotation_item,
            commands::copy_rotation_key,
            commands::list_rotations,
            commands::add_to_gitignore,
            commands::add_manual_provider,
            commands::provide_new_key,
            commands::confirm_done_by_hand,
            commands::open_dashboard,
            commands::get_settings,
            commands::update_settings,
        ]);
    match app.build(tauri::generate_context!()) {
        Ok(app) => app.run(|_, event| {
            if let tauri::RunEvent::Exit = event {
                // A key still on the clipboard is cleared on the way out
                // (only if the clipboard still holds it).
                latchkey_core::clipboard::clear_pending();
            }
        }),
        Err(e) => {
            eprintln!("latchkey: the window could not start: {e}");
            std::process::exit(1);
        }
    }
}
