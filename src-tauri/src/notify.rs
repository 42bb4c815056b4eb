//! Desktop notifications (the daily rotation reminder).
//!
//! On Linux: one `Notify` call to the desktop's notification server
//! (`org.freedesktop.Notifications`, the Desktop Notifications
//! Specification) on the session bus, through the D-Bus library the keychain
//! already links. Tauri's notification plugin would bring a second D-Bus
//! stack (notify-rust on zbus) for this one call. Elsewhere the plugin
//! shows it.

/// Shows a notification; an error says why it could not (no notification
/// server, a bus error). The D-Bus call blocks, so it runs off the async
/// runtime's workers.
pub async fn show<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    title: &str,
    body: &str,
) -> Result<(), String> {
    let (app, title, body) = (app.clone(), title.to_owned(), body.to_owned());
    tauri::async_runtime::spawn_blocking(move || show_now(&app, &title, &body))
        .await
        .map_err(|e| e.to_string())?
}

#[cfg(target_os = "linux")]
fn show_now<R: tauri::Runtime>(
    _app: &tauri::AppHandle<R>,
    title: &str,
    body: &str,
) -> Result<(), String> {
    use dbus::arg::{PropMap, RefArg, Variant};
    use dbus::blocking::Connection;

    let conn = Connection::new_session().map_err(|e| format!("session bus: {e}"))?;
    let server = conn.with_proxy(
        "org.freedesktop.Notifications",
        "/org/freedesktop/Notifications",
        std::time::Duration::from_secs(10),
    );
    // The desktop entry lets the server show the app's name and icon.
    let mut hints = PropMap::new();
    hints.insert(
        "desktop-entry".to_owned(),
        Variant(Box::new("Latchkey".to_owned()) as Box<dyn RefArg>),
    );
    let (_id,): (u32,) = server
        .method_call(
            "org.freedesktop.Notifications",
            "Notify",
            (
                "Latchkey",
                0u32,
                "",
                title,
                body,
                Vec::<String>::new(),
                hints,
                -1i32,
            ),
        )
        .map_err(|e| format!("notification server: {e}"))?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn show_now<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    title: &str,
    body: &str,
) -> Result<(), String> {
    use tauri_plugin_notification::NotificationExt;
    app.notification()
        .builder()
        .title(title)
        .body(body)
        .show()
        .map_err(|e| e.to_string())
}
