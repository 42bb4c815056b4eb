//! Latchkey's desktop shell: builds the app, wires plugins and state, and
//! registers the commands. Everything else lives in `latchkey-core`.
//!
//! On start it opens the vault (keychain + catalog in the data directory,
//! `LATCHKEY_DATA_DIR` overriding the platform's) and runs the Demo provider
//! (the reference key service) in-process on loopback. It never logs a key.
#![forbid(unsafe_code)]
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod browser;
#[macro_use]
mod command_list;
mod commands;
mod ipc;
mod navigation;
mod notify;
mod picker;
#[cfg(target_os = "linux")]
mod single_instance;
mod tray;

use std::sync::Arc;

use latchkey_core::catalog::Actor;
use latchkey_core::session::{self, Demo};
use latchkey_core::{Error, Vault};
use latchkey_keyservice::ShutdownHandle;

/// Every freed heap block is wiped (see `latchkey_core::harden`).
#[global_allocator]
static ALLOC: latchkey_core::harden::ZeroOnFree = latchkey_core::harden::ZERO_ON_FREE;
use tauri::Manager;

use crate::ipc::CommandError;

/// The IPC handler for every command of `command_list.rs`.
macro_rules! handler {
    ($($command:ident,)*) => {
        tauri::generate_handler![$(commands::$command),*]
    };
}

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

    /// The vault if it is open by now; never waits.
    pub fn vault_now(&self) -> Option<Arc<Vault>> {
        match &*self.vault.borrow() {
            Some(Ok(vault)) => Some(vault.clone()),
            _ => None,
        }
    }
}

/// Opens the vault and starts the Demo provider — or, when another process
/// (e.g. a running `latchkey` command) already serves its state file, uses
/// that one; the handle is `None` then.
async fn open() -> Result<(Arc<Vault>, Option<ShutdownHandle>), Error> {
    let session = session::open(Actor::App, Demo::Serve).await?;
    Ok(session.into_parts())
}

/// At most one desktop notification a day about keys due for rotation
/// (older than the policy or expiring within 14 days); checked hourly.
async fn remind(app: tauri::AppHandle, vault: Arc<Vault>) {
    loop {
        if let Ok(Some(reminder)) = vault.rotation_reminder() {
            // Only a reminder that was shown counts for the day; one that
            // failed (no notification service yet) is tried again next hour.
            match notify::show(&app, "Latchkey: keys due for rotation", &reminder.body).await {
                Ok(()) => {
                    if let Err(e) = vault.reminder_shown(&reminder) {
                        eprintln!("latchkey: the reminder was not recorded ({})", e.code());
                    }
                }
                Err(e) => eprintln!("latchkey: no rotation reminder ({e})"),
            }
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

/// A second launch shows the first window (as the tray's "Open Latchkey"
/// does) and ends itself.
#[cfg(target_os = "linux")]
fn single_instance<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    single_instance::init(|app| {
        tray::show(app);
    })
}

#[cfg(not(target_os = "linux"))]
fn single_instance<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_single_instance::init(|app, _args, _cwd| {
        tray::show(app);
    })
}

fn main() {
    // First, while this is the only thread: the web engine reads it.
    browser::tune_web_engine();
    // Before WebKit spawns its helpers: no core dumps, not dumpable, and a
    // copied key cleared on SIGTERM/SIGINT/SIGHUP.
    latchkey_core::harden::process();
    let app = tauri::Builder::default()
        // The window stays on the app's own origin.
        .plugin(navigation::guard())
        .plugin(single_instance())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .setup(|app| {
            #[cfg(target_os = "linux")]
            if let Some(window) = app.get_webview_window("main") {
                lighter_rendering(&window);
            }
            // The tray icon comes a moment after the window: building it
            // (GTK menus, the AppIndicator's D-Bus objects) runs on the main
            // thread, which also carries the first screen's IPC.
            let later = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                tokio::time::sleep(tray::DELAY).await;
                let handle = later.clone();
                let _ = later.run_on_main_thread(move || tray::install(&handle));
            });
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
                // Sent before the tray's refresh: a tray built meanwhile
                // finds the vault open, one built earlier is refreshed.
                let vault = opened.as_ref().ok().cloned();
                let _ = tx.send(Some(opened));
                if let Some(vault) = vault {
                    tray::refresh(&handle, &vault);
                }
            });
            Ok(())
        })
        .invoke_handler(with_commands!(handler));
    // Used from Rust only (the daily rotation reminder); Linux has its own
    // (notify.rs).
    #[cfg(not(target_os = "linux"))]
    let app = app.plugin(tauri_plugin_notification::init());
    // The pickers (picker.rs), used from Rust only; Linux uses GTK's own.
    #[cfg(not(target_os = "linux"))]
    let app = app.plugin(tauri_plugin_dialog::init());
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

#[cfg(test)]
mod one_command_list {
    use std::collections::BTreeSet;

    macro_rules! names {
        ($($command:ident,)*) => {
            [$(stringify!($command)),*].into_iter().map(str::to_owned).collect::<BTreeSet<String>>()
        };
    }

    fn declared() -> BTreeSet<String> {
        with_commands!(names)
    }

    fn show(what: &str, found: &BTreeSet<String>) -> String {
        let declared = declared();
        format!(
            "{what} disagrees with src/command_list.rs: missing {:?}, extra {:?}",
            declared.difference(found).collect::<Vec<_>>(),
            found.difference(&declared).collect::<Vec<_>>()
        )
    }

    #[test]
    fn the_capability_file_allows_exactly_the_declared_commands() {
        let file: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/main.json")).expect("json");
        let allowed: BTreeSet<String> = file["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .map(|p| {
                let p = p.as_str().expect("a permission name");
                p.strip_prefix("allow-")
                    .unwrap_or_else(|| panic!("{p}: only allow-<command> permissions"))
                    .replace('-', "_")
            })
            .collect();
        assert_eq!(
            allowed,
            declared(),
            "{}",
            show("capabilities/main.json", &allowed)
        );
    }

    #[test]
    fn commands_rs_defines_exactly_the_declared_commands() {
        let source = include_str!("commands.rs");
        let mut defined = BTreeSet::new();
        let mut lines = source.lines();
        while let Some(line) = lines.next() {
            if line.trim() == "#[tauri::command]" {
                let sig = lines
                    .by_ref()
                    .map(str::trim)
                    .find(|l| l.contains("fn "))
                    .expect("a function after #[tauri::command]");
                let name = sig.split("fn ").nth(1).expect("fn name");
                let name: String = name
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                defined.insert(name);
            }
        }
        assert_eq!(defined, declared(), "{}", show("commands.rs", &defined));
    }

    #[test]
    fn the_ui_wrapper_calls_exactly_the_declared_commands() {
        let source = include_str!("../../ui/src/lib/api.ts");
        let called: BTreeSet<String> = source
            .split("call<")
            .skip(1)
            .filter_map(|rest| rest.split_once(">(\"").map(|(_, after)| after))
            .filter_map(|after| after.split_once('"').map(|(name, _)| name.to_owned()))
            .collect();
        assert_eq!(called, declared(), "{}", show("ui/src/lib/api.ts", &called));
        // Nothing in the UI calls `invoke` past the wrapper.
        assert_eq!(
            source.matches("invoke<").count() + source.matches("invoke(").count(),
            1
        );
    }
}
