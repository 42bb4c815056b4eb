//! A small W3C WebDriver client for the end-to-end tests: starts
//! tauri-driver (which starts WebKitWebDriver, which starts the app), and
//! finds, clicks and types by XPath, as a person would by label.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod input;
#[allow(unused_imports)]
pub use input::keys;
use latchkey_testkit::process;
#[allow(unused_imports)]
pub use process::{output_within, wait_within};

/// The CLI binary beside this package's binary, as `cargo test
/// --workspace` built it. A test does not build it: with only this package
/// under test, build it first (`cargo build -p latchkey-cli --features
/// failpoints`, the features its own tests build it with).
pub fn cli_binary() -> std::path::PathBuf {
    let desktop = std::path::PathBuf::from(env!("CARGO_BIN_EXE_latchkey-desktop"));
    let cli = desktop.with_file_name("latchkey");
    assert!(
        cli.is_file(),
        "{} is not built: run `cargo test --workspace`, or `cargo build -p latchkey-cli --features failpoints` first",
        cli.display()
    );
    cli
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How often waits look again: short, so the launch benchmark's figures are
/// not rounded up to the next look.
const POLL: Duration = Duration::from_millis(20);
/// How long an element may take to appear before a step fails: long enough
/// for a first screen on a loaded machine, bounded so a missing element
/// fails the test with what the page showed instead of hanging it.
pub const WAIT: Duration = Duration::from_secs(30);
/// How long one attempt to start a session (driver, WebKitWebDriver, the
/// app and its first page) may take, and how many attempts there are.
const SESSION_TIMEOUT: Duration = Duration::from_secs(120);
const SESSION_ATTEMPTS: usize = 2;

/// How to find an element.
#[derive(Clone)]
pub struct By(String);

impl By {
    pub fn xpath(x: &str) -> Self {
        Self(x.to_owned())
    }

    /// A button by its visible text.
    pub fn button(text: &str) -> Self {
        Self(format!("//button[normalize-space()='{text}']"))
    }

    /// An input by the text of its label.
    pub fn labelled_input(label: &str) -> Self {
        Self(format!("//label[normalize-space(text())='{label}']//input"))
    }
}

/// A `.env` file holding `{KEY}` (replace it) among other lines.
pub const DOTENV_TEMPLATE: &str = "# local settings\nexport DEMO_API_KEY=\"{KEY}\"\nPORT=3000\n";

/// The keys list's row for a key name.
pub fn key_row(name: &str) -> String {
    format!("//div[@role='row' and .//span[normalize-space()='{name}']]")
}

/// A key's secret as the app stored it: read from the same keychain (the
/// test's private Secret Service).
pub fn keychain_secret(key_id: &str) -> String {
    use latchkey_core::store::{key_account, KeychainStore, SecretStore};
    KeychainStore::open()
        .expect("the keychain the app uses")
        .get(&key_account(key_id))
        .expect("keychain read")
        .expect("the key in the keychain")
        .expose_secret()
        .to_owned()
}

/// What the X clipboard holds, read by another process (xclip), as a paste
/// would; empty when it holds nothing.
pub fn clipboard_text() -> String {
    let out = output_within(
        Command::new("xclip").args(["-selection", "clipboard", "-o"]),
        Duration::from_secs(10),
    );
    if out.status.success() {
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        String::new()
    }
}

/// Answers GTK's file chooser (a native window, out of WebDriver's reach)
/// from the keyboard, as a person would: Ctrl+L, the path, Return
/// (`Some`), or Esc (`None`). `title`: the chooser window's title. Needs
/// xdotool (Debian package `xdotool`) and the test's X display.
#[allow(dead_code)]
pub async fn answer_file_chooser(title: &str, path: Option<&str>) {
    let xdo =
        |args: &[&str]| output_within(Command::new("xdotool").args(args), Duration::from_secs(10));
    let deadline = Instant::now() + WAIT;
    let window = loop {
        let found = xdo(&["search", "--name", title]);
        if let Some(w) = String::from_utf8_lossy(&found.stdout).lines().next() {
            break w.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no window named {title:?} opened"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let run = |args: &[&str]| {
        let out = xdo(args);
        assert!(out.status.success(), "xdotool {args:?}: {out:?}");
    };
    run(&["windowfocus", "--sync", &window]);
    match path {
        Some(path) => {
            run(&["key", "ctrl+l"]);
            run(&["type", "--delay", "10", path]);
            // GTK may complete the typed path inline (selected text): Delete
            // drops a completion, then Return chooses.
            tokio::time::sleep(Duration::from_millis(300)).await;
            run(&["key", "Delete", "Return"]);
        }
        None => run(&["key", "Escape"]),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The running app under WebDriver.
pub struct App {
    http: reqwest::Client,
    base: String,
    driver: Option<Child>,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
    data_dir: PathBuf,
    native_port: u16,
}

/// Pids of processes whose command line contains `needle` and, when given,
/// whose environment holds `env` (a `KEY=value`).
fn pids_matching(needle: &str, env: Option<&str>) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_string_lossy().into_owned();
            pid.bytes().all(|b| b.is_ascii_digit()).then_some(pid)
        })
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let has = |hay: &[u8], n: &[u8]| hay.windows(n.len()).any(|w| w == n);
            has(&cmdline, needle.as_bytes())
                && env.is_none_or(|env| {
                    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
                    environ.split(|b| *b == 0).any(|kv| kv == env.as_bytes())
                })
        })
        .collect()
}

fn caps_for(binary: &str) -> Value {
    json!({ "capabilities": { "alwaysMatch": {
        "browserName": "wry",
        "tauri:options": { "application": binary }
    } } })
}

fn kill_pids(pids: &[String]) {
    if !pids.is_empty() {
        let _ = output_within(
            Command::new("kill").arg("-KILL").args(pids),
            Duration::from_secs(10),
        );
    }
}

impl App {
    /// Starts tauri-driver and a session of `binary` with these extra env vars.
    pub async fn launch(binary: &str, data_dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::launch_until(binary, data_dir, env, By::button("New key")).await
    }

    /// As `launch`, ready once `ready` is visible.
    pub async fn launch_until(
        binary: &str,
        data_dir: &Path,
        env: &[(&str, &str)],
        ready: By,
    ) -> Self {
        // Single-instance: a Latchkey still exiting would take this launch
        // for a second instance. Wait until the last one is gone.
        let deadline = Instant::now() + Duration::from_secs(15);
        while !pids_matching("latchkey-desktop", None).is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut app = Self::unstarted(data_dir);
        let caps = caps_for(binary);
        // Under load the first screen can be slow to come up: each attempt
        // is bounded, and a failed one is cleared away (driver, its
        // WebKitWebDriver, the app) before a fresh driver tries again.
        let mut failures = Vec::new();
        for attempt in 1..=SESSION_ATTEMPTS {
            let started = match app.spawn_driver(env).await {
                Ok(()) => app.new_session(&caps).await,
                Err(e) => Err(e),
            };
            match started {
                Ok(session) => {
                    app.base = format!("{}/session/{session}", app.base);
                    app.wait_for(ready, Duration::from_secs(60)).await;
                    return app;
                }
                Err(e) => {
                    failures.push(format!("attempt {attempt}: {e}"));
                    app.stop();
                }
            }
        }
        panic!(
            "the app's session did not start ({}); the log:\n{}",
            failures.join("; "),
            std::fs::read_to_string(&app.log).unwrap_or_default()
        )
    }

    /// No driver, no session yet.
    fn unstarted(data_dir: &Path) -> Self {
        let log_dir = tempfile::tempdir().expect("log dir");
        let log = log_dir.path().join("app.log");
        Self {
            http: reqwest::Client::builder()
                .no_proxy()
                // A command that never answers fails the test, not hangs it.
                .timeout(Duration::from_secs(90))
                .build()
                .expect("client"),
            base: String::new(),
            driver: None,
            log,
            _log_dir: log_dir,
            data_dir: data_dir.to_path_buf(),
            native_port: 0,
        }
    }

    /// Starts tauri-driver (and its WebKitWebDriver) with these extra env
    /// vars, and returns once both answer; no app runs yet (the launch
    /// benchmark's clock starts after this).
    pub async fn start_driver(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        let mut app = Self::unstarted(data_dir);
        if let Err(e) = app.spawn_driver(env).await {
            panic!("{e}");
        }
        app
    }

    /// Creates the WebDriver session, which spawns `binary`; returns once
    /// the driver answered (the app is up, its page may still be loading).
    pub async fn start_session(&mut self, binary: &str) {
        match self.new_session(&caps_for(binary)).await {
            Ok(session) => self.base = format!("{}/session/{session}", self.base),
            Err(e) => panic!(
                "the app's session did not start ({e}); the log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            ),
        }
    }

    /// Starts tauri-driver on fresh ports (its output appended to the log)
    /// and waits, bounded, until it answers.
    async fn spawn_driver(&mut self, env: &[(&str, &str)]) -> Result<(), String> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let (port, native) = (free_port(), free_port());
        let driver_bin = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let mut command = Command::new(&driver_bin);
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("LATCHKEY_DATA_DIR", &self.data_dir)
            .stdout(Stdio::from(log_file.try_clone().expect("log")))
            .stderr(Stdio::from(log_file));
        for (k, v) in env {
            command.env(k, v);
        }
        let driver = command.spawn().unwrap_or_else(|e| {
            panic!("cannot start {driver_bin}: {e} (cargo install tauri-driver)")
        });
        self.driver = Some(driver);
        self.base = format!("http://127.0.0.1:{port}");
        self.native_port = native;
        // Up once tauri-driver and the WebKitWebDriver behind it both answer.
        let deadline = Instant::now() + Duration::from_secs(30);
        for base in [self.base.clone(), format!("http://127.0.0.1:{native}")] {
            while !self
                .http
                .get(format!("{base}/status"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                if Instant::now() >= deadline {
                    return Err(format!("{driver_bin} did not answer within 30 s ({base})"));
                }
                tokio::time::sleep(POLL).await;
            }
        }
        Ok(())
    }

    /// One bounded attempt at a new session; its id, or why not.
    async fn new_session(&self, caps: &Value) -> Result<String, String> {
        let sent = self
            .http
            .post(format!("{}/session", self.base))
            .timeout(SESSION_TIMEOUT)
            .json(caps)
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let answer = answer_of(sent).await?;
        answer["value"]["sessionId"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no session id in {answer}"))
    }

    /// A WebDriver command's answer; a transport failure, an answer that is
    /// not JSON or a WebDriver error is an `Err`, never a success.
    async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}{}", self.base, path);
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        let response = request
            .send()
            .await
            .map_err(|e| format!("{method} {path}: no answer: {e}"))?;
        answer_of(response)
            .await
            .map_err(|e| format!("{method} {path}: {e}"))
    }

    /// As `request`, failing the test on an error.
    async fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.request(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("webdriver: {e}"))
    }

    /// The first visible match now, if any. An element removed between the
    /// search and its `displayed` check is not shown; any other WebDriver
    /// error is an `Err` the caller may look past until its deadline; it
    /// is never taken for a match.
    async fn try_find(&self, by: &By) -> Result<Option<String>, String> {
        let answer = self
            .request(
                "POST",
                "/elements",
                Some(json!({ "using": "xpath", "value": by.0 })),
            )
            .await?;
        let elements = answer["value"]
            .as_array()
            .ok_or_else(|| format!("no element list in {answer}"))?;
        for el in elements {
            let id = el[ELEMENT]
                .as_str()
                .ok_or_else(|| format!("no element id in {el}"))?
                .to_owned();
            let shown = match self
                .request("GET", &format!("/element/{id}/displayed"), None)
                .await
            {
                Ok(shown) => shown,
                // Removed from the page between the two calls (a dialog
                // closing): that element is not shown; the others decide.
                Err(e) if e.contains("stale element reference") => continue,
                Err(e) => return Err(e),
            };
            if shown["value"] == json!(true) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// Whether a visible element matches right now (no waiting).
    pub async fn shown_now(&self, by: By) -> bool {
        self.try_find(&by)
            .await
            .unwrap_or_else(|e| panic!("looking for {}: {e}", by.0))
            .is_some()
    }

    /// Waits until a visible element matches.
    pub async fn wait_for(&self, by: By, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut last_error = String::new();
        loop {
            match self.try_find(&by).await {
                Ok(Some(id)) => return id,
                Ok(None) => {}
                Err(e) => last_error = e,
            }
            if Instant::now() >= deadline {
                let page = self.request("POST", "/execute/sync", Some(json!({ "script": "return [document.body.innerText, Array.from(document.querySelectorAll(\"input,select\")).map(e => e.value).join(\"|\")];", "args": [] }))).await;
                panic!(
                    "nothing visible matches {} after {timeout:?}; last WebDriver error: {last_error:?}; page: {page:?}",
                    by.0
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The text of a visible match, if one appears within `timeout`.
    pub async fn try_text(&self, by: By, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(id)) = self.try_find(&by).await {
                if let Ok(answer) = self
                    .request("GET", &format!("/element/{id}/text"), None)
                    .await
                {
                    return Some(answer["value"].as_str().unwrap_or_default().to_owned());
                }
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, by: By) {
        let what = by.0.clone();
        let id = self.wait_for(by, WAIT).await;
        let answer = self
            .raw("POST", &format!("/element/{id}/click"), None)
            .await;
        assert!(
            answer["value"].is_null(),
            "click on {what} failed: {answer}"
        );
    }

    pub async fn type_into(&self, by: By, text: &str) {
        let id = self.wait_for(by, WAIT).await;
        self.type_into_element(&id, text).await;
    }

    async fn type_into_element(&self, id: &str, text: &str) {
        let answer = self
            .raw(
                "POST",
                &format!("/element/{id}/value"),
                Some(json!({ "text": text })),
            )
            .await;
        assert!(answer["value"].is_null(), "typing failed: {answer}");
    }

    /// Creates a key on the default (Demo) provider through "New key",
    /// closes the show-once panel, and returns the new row's key id.
    pub async fn create_key(&self, name: &str, env_var: &str) -> String {
        self.open_key_dialog("New key").await;
        self.type_into(By::labelled_input("Name"), name).await;
        if !env_var.is_empty() {
            self.type_into(By::labelled_input("Env var name"), env_var)
                .await;
        }
        // Enabled once the providers arrived (the vault may still be opening).
        self.wait_for(
            By::xpath("//button[normalize-space()='Create key' and not(@disabled)]"),
            WAIT,
        )
        .await;
        self.click(By::button("Create key")).await;
        self.wait_for(By::button("Done"), WAIT).await;
        self.click(By::button("Done")).await;
        self.attribute(By::xpath(&key_row(name)), "data-key-id")
            .await
    }

    /// Clicks the button that opens a key dialog ("New key", "Add existing
    /// key") and waits until its providers are loaded: until then the
    /// dialog shows "Loading providers…" and cannot submit.
    pub async fn open_key_dialog(&self, button: &str) {
        self.click(By::button(button)).await;
        self.wait_for(
            By::xpath(
                "//label[normalize-space(text())='Provider']//select\
                 [option and not(option[normalize-space()='Loading providers…'])]",
            ),
            WAIT,
        )
        .await;
    }

    /// Calls an app command through Tauri's IPC, as the page does; its
    /// answer (`Ok`) or its error (`Err`).
    pub async fn invoke(&self, command: &str) -> Result<Value, Value> {
        let answer = self
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 window.__TAURI_INTERNALS__.invoke(arguments[0], {})
                   .then((ok) => done({ ok }), (err) => done({ err }));",
                &[command],
            )
            .await;
        match (answer.get("ok"), answer.get("err")) {
            (Some(ok), None) => Ok(ok.clone()),
            (None, Some(err)) => Err(err.clone()),
            _ => panic!("{command}: an answer that is neither: {answer}"),
        }
    }

    /// Empties a field, then types into it.
    pub async fn replace_text(&self, by: By, text: &str) {
        let id = self.wait_for(by, WAIT).await;
        let answer = self
            .raw("POST", &format!("/element/{id}/clear"), None)
            .await;
        assert!(answer["value"].is_null(), "clearing failed: {answer}");
        self.type_into_element(&id, text).await;
    }

    pub async fn text(&self, by: By) -> String {
        let id = self.wait_for(by, WAIT).await;
        self.raw("GET", &format!("/element/{id}/text"), None).await["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn attribute(&self, by: By, name: &str) -> String {
        let id = self.wait_for(by, WAIT).await;
        self.raw("GET", &format!("/element/{id}/attribute/{name}"), None)
            .await["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A DOM property (an input's current `value`, a checkbox's `checked`).
    pub async fn property(&self, by: By, name: &str) -> Value {
        let id = self.wait_for(by, WAIT).await;
        self.raw("GET", &format!("/element/{id}/property/{name}"), None)
            .await["value"]
            .clone()
    }

    /// Waits until the DOM property `name` of `by` is `expected` (a field
    /// filled in from outside the page, e.g. by a native picker).
    #[allow(dead_code)]
    pub async fn wait_for_property(&self, by: By, name: &str, expected: &Value) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let now = self.property(by.clone(), name).await;
            if &now == expected {
                return;
            }
            assert!(Instant::now() < deadline, "{name} is {now}, not {expected}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn execute(&self, script: &str) -> Value {
        self.raw(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await["value"]
            .clone()
    }

    /// Where the badge starting with `text` in the row of `key_id` lies
    /// outside its table cell (cut off or overflowing at this window size):
    /// "" when it lies inside, else both rectangles.
    pub async fn badge_outside_its_cell(&self, key_id: &str, text: &str) -> String {
        let found = self
            .raw(
                "POST",
                "/execute/sync",
                Some(json!({
                    "script": "const [id, text] = arguments; \
                        const row = document.querySelector(`[data-key-id='${CSS.escape(id)}']`); \
                        const badge = row && Array.from(row.querySelectorAll('.badge')).find((b) => b.textContent.trim().startsWith(text)); \
                        if (!badge) return `no badge '${text}' in the row of ${id}`; \
                        const b = badge.getBoundingClientRect(), c = badge.closest('[role=cell]').getBoundingClientRect(); \
                        return b.left >= c.left && b.right <= c.right + 0.5 && b.top >= c.top - 0.5 && b.bottom <= c.bottom + 0.5 ? '' \
                          : `badge ${b.left}-${b.right} x ${b.top}-${b.bottom} outside its cell ${c.left}-${c.right} x ${c.top}-${c.bottom}`;",
                    "args": [key_id, text],
                })),
            )
            .await["value"]
            .clone();
        found.as_str().unwrap_or("no answer").to_string()
    }

    /// Runs an async script; `args` are passed before the callback.
    pub async fn execute_async(&self, script: &str, args: &[&str]) -> Value {
        self.raw(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
        .await["value"]
            .clone()
    }

    /// Records every IPC answer the page receives from now on.
    pub async fn capture_ipc(&self) {
        let hooked = self
            .execute(
                r#"
                // Tauri's IPC reaches Rust through fetch() on the ipc:// protocol
                // (http://ipc.localhost on some platforms); record each answer.
                const original = window.fetch;
                window.__lkCapture = [];
                window.fetch = async function (input, init) {
                  const response = await original.call(this, input, init);
                  const url = String((input && input.url) || input);
                  if (url.startsWith("ipc:") || url.includes("ipc.localhost")) {
                    const text = await response.clone().text();
                    const cmd = decodeURIComponent(url.split("?")[0].split("/").pop());
                    window.__lkCapture.push({ cmd, ok: response.ok, response: text });
                  }
                  return response;
                };
                return window.fetch !== original;
                "#,
            )
            .await;
        assert_eq!(hooked, json!(true), "could not hook IPC");
    }

    pub async fn captured_ipc(&self) -> Vec<Value> {
        self.execute("return window.__lkCapture;")
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The app's process id (the `latchkey-desktop` on this data directory).
    pub fn app_pid(&self) -> Option<String> {
        let app_env = format!("LATCHKEY_DATA_DIR={}", self.data_dir.display());
        pids_matching("latchkey-desktop", Some(&app_env))
            .into_iter()
            .next()
    }

    /// Ends the session and the driver; returns everything they logged.
    /// Returns once the app has exited, so a relaunch is not taken for a
    /// second instance (single-instance would forward to the dying one).
    pub async fn close(mut self) -> String {
        // The app may be gone already (a test killed it): nothing to end.
        let _ = self.request("DELETE", "", None).await;
        let app_env = format!("LATCHKEY_DATA_DIR={}", self.data_dir.display());
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pids_matching("latchkey-desktop", Some(&app_env)).is_empty()
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.stop();
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the driver, its WebKitWebDriver and the app, and waits for them.
    fn stop(&mut self) {
        if let Some(mut driver) = self.driver.take() {
            let _ = driver.kill();
            // SIGKILL: reaped at once.
            let _ = driver.wait();
        }
        kill_pids(&pids_matching(
            &format!("--port={}", self.native_port),
            None,
        ));
        let app_env = format!("LATCHKEY_DATA_DIR={}", self.data_dir.display());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = pids_matching("latchkey-desktop", Some(&app_env));
            if left.is_empty() || Instant::now() > deadline {
                break;
            }
            kill_pids(&left);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A WebDriver answer's JSON; not JSON, an HTTP error status or a W3C
/// error object is an `Err`.
async fn answer_of(response: reqwest::Response) -> Result<Value, String> {
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| format!("{status}: unreadable answer: {e}"))?;
    let answer: Value =
        serde_json::from_str(&text).map_err(|e| format!("{status}: not JSON ({e}): {text:?}"))?;
    if !status.is_success() || answer["value"].get("error").is_some() {
        return Err(format!("{status}: {answer}"));
    }
    Ok(answer)
}

impl Drop for App {
    fn drop(&mut self) {
        self.stop();
    }
}
