//! End-to-end: the app and the desktop around it, over the desktop's own
//! D-Bus protocols, on the test's private session bus, with the real app
//! under WebDriver, the real keychain and the in-process Demo key service.
//!
//! - The tray icon's menu, clicked the way a panel clicks it. On Linux the
//!   icon is a StatusNotifierItem (libayatana-appindicator) whose menu is
//!   exported over D-Bus (com.canonical.dbusmenu); a panel reads its layout
//!   and sends "clicked" events. Story: "copies a key once in the app; the
//!   tray menu then offers 'Copy <name>'; choosing it puts the key on the
//!   clipboard (the same Rust copy: audited, cleared after the timeout);
//!   'Quick copy…' opens the palette".
//! - The daily rotation reminder, received by a notification server
//!   (org.freedesktop.Notifications) the test runs. Story: "a key expires in
//!   a week; the app, opened, says so once; opened again the same day, it
//!   does not repeat itself".
#![cfg(target_os = "linux")]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dbus::arg::{PropMap, RefArg, Variant};
use dbus::blocking::stdintf::org_freedesktop_dbus::Properties;
use dbus::blocking::Connection;
use dbus::channel::{MatchingReceiver, Sender};
use dbus::message::MatchRule;

mod webdriver;
use webdriver::{
    cli_binary, clipboard_text, key_row, keychain_secret, output_within, App, By, WAIT,
};

/// The tests here share one session bus and one clipboard: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const CALL: Duration = Duration::from_secs(10);

/// One entry of the exported menu: its dbusmenu id and label.
#[derive(Debug)]
struct Entry {
    id: i32,
    label: String,
}

/// The app's tray menu as a shell finds it: the app's connection on the
/// session bus (by its process id), the StatusNotifierItem it exports, and
/// the menu object that item names in its `Menu` property.
struct TrayMenu {
    conn: Connection,
    bus_name: String,
    path: dbus::Path<'static>,
}

impl TrayMenu {
    fn find(app_pid: u32) -> Result<Self, String> {
        let conn = Connection::new_session().map_err(|e| format!("session bus: {e}"))?;
        let bus = conn.with_proxy("org.freedesktop.DBus", "/org/freedesktop/DBus", CALL);
        let (names,): (Vec<String>,) = bus
            .method_call("org.freedesktop.DBus", "ListNames", ())
            .map_err(|e| format!("ListNames: {e}"))?;
        for name in names.into_iter().filter(|n| n.starts_with(':')) {
            let pid: Result<(u32,), _> = bus.method_call(
                "org.freedesktop.DBus",
                "GetConnectionUnixProcessID",
                (name.as_str(),),
            );
            if pid.ok().map(|(p,)| p) != Some(app_pid) {
                continue;
            }
            let items = conn.with_proxy(name.as_str(), "/org/ayatana/NotificationItem", CALL);
            let Ok((xml,)): Result<(String,), _> =
                items.method_call("org.freedesktop.DBus.Introspectable", "Introspect", ())
            else {
                continue;
            };
            for item in child_nodes(&xml) {
                let item_path = format!("/org/ayatana/NotificationItem/{item}");
                let proxy = conn.with_proxy(name.as_str(), item_path.as_str(), CALL);
                if let Ok(menu) = proxy.get::<dbus::Path>("org.kde.StatusNotifierItem", "Menu") {
                    return Ok(Self {
                        path: menu.into_static(),
                        bus_name: name,
                        conn,
                    });
                }
            }
        }
        Err(format!(
            "no StatusNotifierItem with a menu from process {app_pid}"
        ))
    }

    /// Waits for the app's tray icon (it is put there a moment after the
    /// window).
    async fn of(app: &App) -> Self {
        let app_pid: u32 = app
            .app_pid()
            .expect("the app's process")
            .parse()
            .expect("pid");
        let deadline = Instant::now() + WAIT;
        loop {
            match Self::find(app_pid) {
                Ok(tray) => return tray,
                Err(e) if Instant::now() > deadline => panic!("the tray icon: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// The menu's top-level entries (separators have no label).
    fn entries(&self) -> Vec<Entry> {
        let proxy = self
            .conn
            .with_proxy(self.bus_name.as_str(), self.path.clone(), CALL);
        type Layout = (i32, PropMap, Vec<Variant<Box<dyn RefArg>>>);
        let (_revision, (_root, _props, children)): (u32, Layout) = proxy
            .method_call(
                "com.canonical.dbusmenu",
                "GetLayout",
                (0i32, -1i32, vec!["label".to_owned()]),
            )
            .expect("GetLayout");
        children
            .iter()
            .filter_map(|child| {
                // Each child is a (id, properties, children) structure.
                let mut fields = child.0.as_iter()?;
                let id = fields.next()?.as_i64()? as i32;
                let props = fields.next()?;
                let mut kv = props.as_iter()?;
                let mut label = None;
                while let (Some(k), Some(v)) = (kv.next(), kv.next()) {
                    if k.as_str() == Some("label") {
                        label = v.as_str().map(str::to_owned);
                    }
                }
                Some(Entry { id, label: label? })
            })
            .collect()
    }

    /// Clicks an entry, as a panel does when a person chooses it.
    fn click(&self, id: i32) {
        let proxy = self
            .conn
            .with_proxy(self.bus_name.as_str(), self.path.clone(), CALL);
        let _: () = proxy
            .method_call(
                "com.canonical.dbusmenu",
                "Event",
                (id, "clicked", Variant(0i32), 0u32),
            )
            .expect("Event clicked");
    }

    /// Waits until an entry showing this label is in the menu.
    async fn wait_for(&self, label: &str) -> Entry {
        let deadline = Instant::now() + WAIT;
        loop {
            let entries = self.entries();
            if let Some(e) = entries.into_iter().find(|e| shown(&e.label) == label) {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "no tray entry {label:?}; the menu has {:?}",
                self.entries()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A dbusmenu label as a panel shows it: `_` marks the next character as
/// the mnemonic (and is not shown); `__` is one underscore.
fn shown(label: &str) -> String {
    let mut out = String::new();
    let mut chars = label.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
        } else if chars.peek() == Some(&'_') {
            chars.next();
            out.push('_');
        }
    }
    out
}

/// The names of an introspection document's child nodes.
fn child_nodes(xml: &str) -> Vec<String> {
    xml.split("<node name=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_owned))
        .collect()
}

/// Puts text on the X clipboard from another process (xclip serves it).
fn set_clipboard(text: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("xclip")
        .args(["-selection", "clipboard", "-i"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("xclip");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(text.as_bytes()).expect("write to xclip");
    drop(stdin);
    // xclip forks to serve the selection; the first process ends at once.
    let _ = child.wait();
}

async fn clipboard_becomes(what: &str, expected: &str, within: Duration) {
    let deadline = Instant::now() + within;
    while clipboard_text() != expected {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_menu_copies_a_recent_key_and_opens_quick_copy() {
    let _serial = SERIAL.lock().await;
    let data = tempfile::tempdir().expect("data dir");
    let app = App::launch(
        env!("CARGO_BIN_EXE_latchkey-desktop"),
        data.path(),
        &[("LATCHKEY_CLIPBOARD_CLEAR_SECS", "3")],
    )
    .await;
    let tray = TrayMenu::of(&app).await;
    // Before any copy: no "Copy …" entries, only the fixed ones.
    let labels: Vec<String> = tray.entries().iter().map(|e| shown(&e.label)).collect();
    assert_eq!(
        labels,
        ["Open Latchkey", "Quick copy…", "Quit"],
        "{labels:?}"
    );

    // A name with the characters menus read as mnemonic marks (`&` for the
    // menu library, `_` for GTK and dbusmenu): the menu shows it as is.
    let name = "ci_deploy & backup";
    let key_id = app.create_key(name, "CI_DEPLOY_KEY").await;
    let canary = keychain_secret(&key_id);

    // One copy in the app puts the key in the tray's recent copies.
    app.click(By::xpath(&format!(
        "{}//button[normalize-space()='Copy']",
        key_row(name)
    )))
    .await;
    clipboard_becomes("the app's copy", &canary, Duration::from_secs(5)).await;
    let copy = tray.wait_for(&format!("Copy {name}")).await;
    clipboard_becomes("cleared after 3 s", "", Duration::from_secs(10)).await;

    // The tray's copy: the key on the clipboard, then cleared after the
    // same timeout, and audited as a copy.
    set_clipboard("something else");
    tray.click(copy.id);
    clipboard_becomes("the tray's copy", &canary, Duration::from_secs(10)).await;
    clipboard_becomes("cleared after 3 s", "", Duration::from_secs(10)).await;
    let copies = app.invoke("activity").await.map(|v| {
        v.as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["action"] == "copy" && e["key_id"] == key_id.as_str())
            .count()
    });
    assert_eq!(
        copies,
        Ok(2),
        "two audited copies (the app's and the tray's)"
    );

    // A copy that cannot be made (the key is gone from the keychain) says
    // so in a notification; the clipboard keeps what it had.
    let server = NotificationServer::start();
    latchkey_core::store::KeychainStore::open()
        .and_then(|store| {
            use latchkey_core::store::SecretStore;
            store.delete(&latchkey_core::store::key_account(&key_id))
        })
        .expect("the key taken out of the keychain");
    set_clipboard("something else");
    // The menu was rebuilt after the copy: its entries have new ids.
    let copy = tray.wait_for(&format!("Copy {name}")).await;
    tray.click(copy.id);
    let deadline = Instant::now() + WAIT;
    while server.received().is_empty() {
        assert!(
            Instant::now() < deadline,
            "no notification of the failed copy"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let said = &server.received()[0];
    assert_eq!(said.summary, "Latchkey: the key was not copied", "{said:?}");
    assert!(!said.body.is_empty(), "{said:?}");
    assert_eq!(clipboard_text(), "something else");
    drop(server);

    // "Quick copy…" brings the window forward with the palette open.
    let quick = tray.wait_for("Quick copy…").await;
    tray.click(quick.id);
    app.wait_for(By::xpath("//dialog[@aria-label='Quick copy']"), WAIT)
        .await;

    let log = app.close().await;
    assert!(!log.contains(&canary), "the key reached the app's output");

    // Started again, the tray lists the key from the audit log at once.
    let app = App::launch(env!("CARGO_BIN_EXE_latchkey-desktop"), data.path(), &[]).await;
    let tray = TrayMenu::of(&app).await;
    tray.wait_for(&format!("Copy {name}")).await;
    app.close().await;
}

/// The app on `data`, once its vault is open ("New key" can be used).
async fn launch_opened(data: &std::path::Path) -> App {
    let app = App::launch(env!("CARGO_BIN_EXE_latchkey-desktop"), data, &[]).await;
    app.wait_for(
        By::xpath("//button[normalize-space()='New key' and not(@disabled)]"),
        WAIT,
    )
    .await;
    app
}

/// One notification as the server received it.
#[derive(Debug, Clone)]
struct Notification {
    app_name: String,
    summary: String,
    body: String,
}

/// A notification server on the session bus (what a desktop runs): owns
/// `org.freedesktop.Notifications` and records every `Notify`.
struct NotificationServer {
    received: Arc<Mutex<Vec<Notification>>>,
    /// While set, every Notify is answered with an error and counted here.
    refusing: Arc<std::sync::atomic::AtomicBool>,
    refused: Arc<std::sync::atomic::AtomicUsize>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NotificationServer {
    fn start() -> Self {
        let received: Arc<Mutex<Vec<Notification>>> = Arc::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let refusing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = {
            let received = received.clone();
            let stop = stop.clone();
            let (refusing, refused) = (refusing.clone(), refused.clone());
            std::thread::spawn(move || {
                let conn = Connection::new_session().expect("session bus");
                conn.request_name("org.freedesktop.Notifications", false, true, true)
                    .expect("the notification server's name");
                conn.start_receive(
                    MatchRule::new_method_call(),
                    Box::new(move |msg, conn| {
                        let member = msg.member().map(|m| m.to_string()).unwrap_or_default();
                        let reply = match member.as_str() {
                            "Notify" if refusing.load(std::sync::atomic::Ordering::SeqCst) => {
                                refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                dbus::Message::error(
                                    &msg,
                                    &"org.freedesktop.DBus.Error.Failed".into(),
                                    &std::ffi::CString::new("refused by the test").expect("text"),
                                )
                            }
                            "Notify" => {
                                let (app_name, _replaces, _icon, summary, body): (
                                    String,
                                    u32,
                                    String,
                                    String,
                                    String,
                                ) = msg.read5().expect("Notify's arguments");
                                let mut all = received.lock().expect("lock");
                                all.push(Notification {
                                    app_name,
                                    summary,
                                    body,
                                });
                                msg.method_return().append1(all.len() as u32)
                            }
                            "GetCapabilities" => msg.method_return().append1(vec!["body"]),
                            "GetServerInformation" => msg
                                .method_return()
                                .append2("latchkey-test", "latchkey")
                                .append2("1", "1.2"),
                            _ => dbus::Message::error(
                                &msg,
                                &"org.freedesktop.DBus.Error.UnknownMethod".into(),
                                &std::ffi::CString::new("not here").expect("text"),
                            ),
                        };
                        let _ = conn.send(reply);
                        true
                    }),
                );
                ready_tx.send(()).expect("ready");
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = conn.process(Duration::from_millis(100));
                }
            })
        };
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the notification server started");
        Self {
            received,
            refusing,
            refused,
            stop,
            thread: Some(thread),
        }
    }

    fn received(&self) -> Vec<Notification> {
        self.received.lock().expect("lock").clone()
    }

    fn refuse(&self, refuse: bool) {
        self.refusing
            .store(refuse, std::sync::atomic::Ordering::SeqCst);
    }

    fn refused(&self) -> usize {
        self.refused.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for NotificationServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_due_for_rotation_is_announced_once_a_day() {
    let _serial = SERIAL.lock().await;
    let server = NotificationServer::start();
    let data = tempfile::tempdir().expect("data dir");
    // A new vault (the first launch makes its Demo provider): nothing is
    // due, nothing is said.
    let app = launch_opened(data.path()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    app.close().await;
    assert!(server.received().is_empty(), "{:?}", server.received());

    // A key that expires in a week is due for rotation (within 14 days).
    let made = output_within(
        std::process::Command::new(cli_binary())
            .args([
                "create",
                "--provider",
                "Demo",
                "--name",
                "expires next week",
                "--expires-in-days",
                "7",
            ])
            .env("LATCHKEY_DATA_DIR", data.path()),
        Duration::from_secs(60),
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let secret = String::from_utf8_lossy(&made.stdout).trim().to_owned();
    assert!(secret.starts_with("lk_"), "the CLI printed no key");

    // The notification service fails the first time: that reminder was
    // never seen, so it does not count for the day.
    server.refuse(true);
    let app = App::launch(env!("CARGO_BIN_EXE_latchkey-desktop"), data.path(), &[]).await;
    let deadline = Instant::now() + WAIT;
    while server.refused() == 0 {
        assert!(Instant::now() < deadline, "no reminder was tried");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.close().await;
    assert!(server.received().is_empty(), "{:?}", server.received());
    server.refuse(false);

    let app = App::launch(env!("CARGO_BIN_EXE_latchkey-desktop"), data.path(), &[]).await;
    let deadline = Instant::now() + WAIT;
    while server.received().is_empty() {
        assert!(Instant::now() < deadline, "no notification came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = server.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].app_name, "Latchkey");
    assert_eq!(got[0].summary, "Latchkey: keys due for rotation");
    assert!(
        got[0]
            .body
            .starts_with("1 key is due for rotation: “expires next week”"),
        "{}",
        got[0].body
    );
    assert!(!got[0].body.contains(&secret), "the key in a notification");
    app.close().await;

    // Opened again the same day: the vault is open (its list is shown), and
    // no second reminder comes.
    let app = App::launch(env!("CARGO_BIN_EXE_latchkey-desktop"), data.path(), &[]).await;
    app.wait_for(By::xpath(&key_row("expires next week")), WAIT)
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(server.received().len(), 1, "{:?}", server.received());
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_launch_hands_over_to_the_first_window() {
    let _serial = SERIAL.lock().await;
    let data = tempfile::tempdir().expect("data dir");
    let app = launch_opened(data.path()).await;
    let first = app.app_pid().expect("the first instance");
    // The second launch finds the first on the session bus, hands over, and
    // ends with 0 without a window of its own.
    let second = output_within(
        std::process::Command::new(env!("CARGO_BIN_EXE_latchkey-desktop"))
            .env("LATCHKEY_DATA_DIR", data.path()),
        Duration::from_secs(30),
    );
    assert!(
        second.status.success(),
        "the second launch: {:?} {}",
        second.status,
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(app.app_pid().as_deref(), Some(first.as_str()));
    // The first one still answers.
    assert_eq!(app.execute("return 1 + 1;").await, 2);
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_to_make_keys_opens_the_browser() {
    let _serial = SERIAL.lock().await;
    // The desktop's URL opener (xdg-open), replaced by one that writes down
    // what it was asked to open, after whether it inherited the web view's
    // JavaScriptCore setting (it must not: see src/browser.rs).
    let bin = tempfile::tempdir().expect("bin dir");
    let opened = bin.path().join("opened.txt");
    let opener = bin.path().join("xdg-open");
    std::fs::write(
        &opener,
        format!(
            "#!/bin/sh\nprintf 'JSC_useDFGJIT=%s\\n' \"${{JSC_useDFGJIT-unset}}\" >> '{0}'\nprintf '%s\\n' \"$@\" >> '{0}'\n",
            opened.display()
        ),
    )
    .expect("write xdg-open");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let data = tempfile::tempdir().expect("data dir");
    let app = App::launch(
        env!("CARGO_BIN_EXE_latchkey-desktop"),
        data.path(),
        &[("PATH", path.as_str())],
    )
    .await;
    app.click(By::button("Providers")).await;
    app.click(By::xpath(
        "(//button[normalize-space()='Where to make keys'])[1]",
    ))
    .await;
    let deadline = Instant::now() + WAIT;
    let url = loop {
        let text = std::fs::read_to_string(&opened).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        if let [inherited, url, ..] = lines[..] {
            assert_eq!(
                inherited, "JSC_useDFGJIT=unset",
                "the opener inherited the tuning"
            );
            break url.to_owned();
        }
        assert!(Instant::now() < deadline, "nothing was opened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(url.starts_with("https://"), "{url}");
    // The app's own web process does run with it.
    let ours = format!("LATCHKEY_DATA_DIR={}", data.path().display());
    let web_process_env: Vec<Vec<u8>> = std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path().join("exe"))
                .is_ok_and(|exe| exe.ends_with("WebKitWebProcess"))
        })
        .map(|e| std::fs::read(e.path().join("environ")).unwrap_or_default())
        .map(|env| {
            env.split(|b| *b == 0)
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>()
        })
        .find(|env| env.iter().any(|kv| kv == ours.as_bytes()))
        .expect("the app's WebKitWebProcess");
    assert!(
        web_process_env
            .iter()
            .any(|kv| kv == b"JSC_useDFGJIT=false"),
        "the web process runs with JavaScriptCore's DFG tier"
    );
    app.close().await;
}
