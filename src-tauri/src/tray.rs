//! The tray icon: "Open Latchkey", "Quick copy…", the keys copied most
//! recently ("Copy …", the same Rust copy as the app's button: auto-clear,
//! history exclusion, audit) and "Quit". The menu is rebuilt after every
//! copy. On Linux the tray needs the AppIndicator library; without it the
//! app runs without a tray (and says so once on stderr).

use std::sync::Arc;

use latchkey_core::Vault;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

const TRAY_ID: &str = "latchkey";
const RECENT: usize = 5;
/// How long after start the icon is put in the tray (see main.rs).
pub const DELAY: std::time::Duration = std::time::Duration::from_millis(1500);

/// Whether this system can show a tray icon.
fn supported() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    // tray-icon loads libayatana-appindicator3 (or libappindicator3) at
    // run time and cannot recover when neither is there.
    let names = ["libayatana-appindicator3.so.1", "libappindicator3.so.1"];
    let dirs = [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
        "/lib/x86_64-linux-gnu",
    ];
    dirs.iter().any(|d| {
        names
            .iter()
            .any(|n| std::path::Path::new(d).join(n).exists())
    })
}

fn menu<R: Runtime>(app: &AppHandle<R>, vault: Option<&Vault>) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    menu.append(&MenuItem::with_id(
        app,
        "open",
        "Open Latchkey",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        "palette",
        "Quick copy…",
        true,
        None::<&str>,
    )?)?;
    let recent = vault
        .and_then(|v| v.recent_copies(RECENT).ok())
        .unwrap_or_default();
    if !recent.is_empty() {
        menu.append(&PredefinedMenuItem::separator(app)?)?;
        for k in recent {
            let label = copy_label(&k.name);
            menu.append(&MenuItem::with_id(
                app,
                format!("copy:{}", k.id),
                label,
                true,
                None::<&str>,
            )?)?;
        }
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?)?;
    Ok(menu)
}

/// Longest key name a "Copy …" entry shows whole.
const LABEL_CHARS: usize = 48;

/// "Copy <name>" as the menu shows it. The menu library reads `&` as the
/// mark of a mnemonic (on GTK it becomes `_`, and the `&` vanishes from the
/// label), so a literal one is doubled; a long name is cut with "…".
fn copy_label(name: &str) -> String {
    let shown: String = if name.chars().count() > LABEL_CHARS {
        name.chars()
            .take(LABEL_CHARS - 1)
            .chain(std::iter::once('…'))
            .collect()
    } else {
        name.to_owned()
    };
    format!("Copy {}", shown.replace('&', "&&"))
}

/// Shows the main window, brought forward (also when a second launch hands
/// over to this one).
pub fn show<R: Runtime>(app: &AppHandle<R>) -> Option<tauri::WebviewWindow<R>> {
    let window = app.get_webview_window("main")?;
    let _ = window.show();
    let _ = window.unminimize();
    let _ = window.set_focus();
    Some(window)
}

/// Puts the icon in the tray (when the system can show one).
pub fn install<R: Runtime>(app: &AppHandle<R>) {
    if !supported() {
        eprintln!("latchkey: no tray icon (the AppIndicator library is not installed)");
        return;
    }
    let vault = app
        .try_state::<crate::AppState>()
        .and_then(|s| s.vault_now());
    let built = menu(app, vault.as_deref()).and_then(|m| {
        let mut builder = TrayIconBuilder::with_id(TRAY_ID)
            .tooltip("Latchkey")
            .menu(&m)
            .on_menu_event(|app, event| on_menu(app, event.id().as_ref()));
        if let Some(icon) = app.default_window_icon() {
            builder = builder.icon(icon.clone());
        }
        builder.build(app)
    });
    if let Err(e) = built {
        eprintln!("latchkey: no tray icon ({e})");
    }
}

/// Rebuilds the menu's "Copy …" entries (after a copy, once the vault opened).
pub fn refresh<R: Runtime>(app: &AppHandle<R>, vault: &Vault) {
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        if let Ok(m) = menu(app, Some(vault)) {
            let _ = tray.set_menu(Some(m));
        }
    }
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, id: &str) {
    match id {
        "open" => {
            show(app);
        }
        "palette" => {
            if let Some(window) = show(app) {
                // The same shortcut a person presses (the UI listens for it).
                let _ = window.eval(
                    "window.dispatchEvent(new KeyboardEvent('keydown', { key: 'k', ctrlKey: true }))",
                );
            }
        }
        "quit" => app.exit(0),
        other => {
            if let Some(key_id) = other.strip_prefix("copy:") {
                let key_id = key_id.to_owned();
                let app = app.clone();
                tauri::async_runtime::spawn(async move {
                    let Some(state) = app.try_state::<crate::AppState>() else {
                        return;
                    };
                    let Ok(vault): Result<Arc<Vault>, _> = state.vault().await else {
                        return;
                    };
                    if let Err(e) = vault.copy_key(&key_id) {
                        eprintln!("latchkey: copy from the tray failed ({})", e.code());
                        // The menu has closed and no window may be open:
                        // say so where the person is looking. (Errors carry
                        // fixed text and names, never a secret.)
                        let _ = crate::notify::show(
                            &app,
                            "Latchkey: the key was not copied",
                            &e.to_string(),
                        )
                        .await;
                    }
                    refresh(&app, &vault);
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::copy_label;

    #[test]
    fn labels_keep_ampersands_and_cut_long_names() {
        assert_eq!(copy_label("R&D key"), "Copy R&&D key");
        assert_eq!(copy_label("ci_deploy"), "Copy ci_deploy");
        let long = "x".repeat(60);
        let label = copy_label(&long);
        assert_eq!(label.chars().count(), "Copy ".len() + 48);
        assert!(label.ends_with("x…"), "{label}");
        assert_eq!(
            copy_label(&"y".repeat(48)),
            format!("Copy {}", "y".repeat(48))
        );
    }
}
