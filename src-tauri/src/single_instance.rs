//! One Latchkey window per desktop session (Linux).
//!
//! The first instance owns `<identifier>.SingleInstance` on the session bus
//! and serves `org.SingleInstance.DBus.ExecuteCallback(argv, cwd)` at the
//! name's path: the same name, path and method as Tauri's single-instance
//! plugin, so an instance built with either finds the other. A later
//! instance calls that method (the first one shows its window) and exits 0.
//! Without a session bus the app starts normally. Written on the `dbus`
//! crate the keychain already links; the plugin (used on macOS and Windows)
//! brings a second D-Bus stack (zbus) for this one name.

use std::time::Duration;

use dbus::blocking::Connection;
use dbus::channel::{MatchingReceiver, Sender};
use dbus::message::MatchRule;
use tauri::plugin::{Builder, TauriPlugin};
use tauri::{AppHandle, Runtime};

const INTERFACE: &str = "org.SingleInstance.DBus";
const METHOD: &str = "ExecuteCallback";

/// The bus name and object path for an app identifier.
fn name_and_path(identifier: &str) -> (String, String) {
    let name = format!("{identifier}.SingleInstance");
    let path = format!("/{}", name.replace('.', "/").replace('-', "_"));
    (name, path)
}

/// `on_other` runs (on the main thread) when a later instance starts.
pub fn init<R: Runtime>(on_other: fn(&AppHandle<R>)) -> TauriPlugin<R> {
    Builder::new("latchkey-single-instance")
        .setup(move |app, _api| {
            let (name, path) = name_and_path(&app.config().identifier);
            let Ok(conn) = Connection::new_session() else {
                return Ok(());
            };
            use dbus::blocking::stdintf::org_freedesktop_dbus::RequestNameReply;
            match conn.request_name(name.as_str(), false, false, true) {
                Ok(RequestNameReply::PrimaryOwner) | Ok(RequestNameReply::AlreadyOwner) => {
                    serve(conn, path, app.clone(), on_other);
                }
                Ok(_) => {
                    let first = conn.with_proxy(name.as_str(), path.as_str(), Duration::from_secs(10));
                    let argv: Vec<String> = std::env::args_os()
                        .map(|a| a.to_string_lossy().into_owned())
                        .collect();
                    let cwd = std::env::current_dir()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned();
                    let handed: Result<(), _> = first.method_call(INTERFACE, METHOD, (argv, cwd));
                    match handed {
                        Ok(()) => {
                            app.cleanup_before_exit();
                            std::process::exit(0);
                        }
                        // The first instance is there but does not answer
                        // (hung, or going away): start normally rather than
                        // leave the person with nothing.
                        Err(e) => eprintln!(
                            "latchkey: another Latchkey holds the session but did not answer ({}); starting anyway",
                            e.name().unwrap_or("no reply")
                        ),
                    }
                }
                Err(_) => {}
            }
            Ok(())
        })
        .build()
}

/// Answers later instances for the rest of the process's life, on a thread
/// of its own (the connection keeps the name).
fn serve<R: Runtime>(
    conn: Connection,
    path: String,
    app: AppHandle<R>,
    on_other: fn(&AppHandle<R>),
) {
    let spawned = std::thread::Builder::new()
        .name("single-instance".into())
        .spawn(move || {
            conn.start_receive(
                MatchRule::new_method_call(),
                Box::new(move |msg, conn| {
                    let ours = msg.path().is_some_and(|p| *p == *path)
                        && msg.interface().is_some_and(|i| &*i == INTERFACE)
                        && msg.member().is_some_and(|m| &*m == METHOD);
                    let reply = if ours {
                        let app2 = app.clone();
                        let _ = app.run_on_main_thread(move || on_other(&app2));
                        msg.method_return()
                    } else {
                        dbus::Message::error(
                            &msg,
                            &"org.freedesktop.DBus.Error.UnknownMethod".into(),
                            c"No such method",
                        )
                    };
                    let _ = conn.send(reply);
                    true
                }),
            );
            loop {
                if conn.process(Duration::from_secs(3600)).is_err() {
                    // The bus went away: nothing more will come.
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        eprintln!("latchkey: single-instance thread not started ({e})");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_plugins_name_and_path() {
        assert_eq!(
            super::name_and_path("dev.latchkey.desktop"),
            (
                "dev.latchkey.desktop.SingleInstance".to_owned(),
                "/dev/latchkey/desktop/SingleInstance".to_owned()
            )
        );
        assert_eq!(super::name_and_path("a-b.c").1, "/a_b/c/SingleInstance");
    }
}
