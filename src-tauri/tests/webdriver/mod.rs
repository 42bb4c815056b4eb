//! A small W3C WebDriver client for the end-to-end tests: starts
//! tauri-driver (which starts WebKitWebDriver, which starts the app), and
//! finds, clicks and types by XPath, as a person would by label.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How often waits look again: short, so the launch benchmark's figures are
/// not rounded up to the next look.
const POLL: Duration = Duration::from_millis(20);

/// How to find an element.
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

/// What the X clipboard holds, read by another process (xclip), as a paste
/// would; empty when it holds nothing.
pub fn clipboard_text() -> String {
    let out = Command::new("xclip")
        .args(["-selection", "clipboard", "-o"])
        .output()
        .expect("xclip");
    if out.status.success() {
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        String::new()
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

fn kill_pids(pids: &[String]) {
    if !pids.is_empty() {
        let _ = Command::new("kill").arg("-KILL").args(pids).status();
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
        let mut app = Self::start_driver(data_dir, env).await;
        app.start_session(binary).await;
        app.wait_for(ready, Duration::from_secs(60)).await;
        app
    }

    /// Starts tauri-driver (and its WebKitWebDriver) with these extra env
    /// vars, and returns once it accepts connections; no app runs yet.
    pub async fn start_driver(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        // Single-instance: a Latchkey still exiting would take this launch
        // for a second instance. Wait until the last one is gone.
        let deadline = Instant::now() + Duration::from_secs(15);
        while !pids_matching("latchkey-desktop", None).is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log_dir = tempfile::tempdir().expect("log dir");
        let log = log_dir.path().join("app.log");
        let log_file = std::fs::File::create(&log).expect("log file");
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
            .env("LATCHKEY_DATA_DIR", data_dir)
            .stdout(Stdio::from(log_file.try_clone().expect("log")))
            .stderr(Stdio::from(log_file));
        for (k, v) in env {
            command.env(k, v);
        }
        let driver = command.spawn().unwrap_or_else(|e| {
            panic!("cannot start {driver_bin}: {e} (cargo install tauri-driver)")
        });
        let app = Self {
            http: reqwest::Client::builder()
                .no_proxy()
                // A session that never comes up fails the test, not hangs it.
                .timeout(Duration::from_secs(90))
                .build()
                .expect("client"),
            base: format!("http://127.0.0.1:{port}"),
            driver: Some(driver),
            log,
            _log_dir: log_dir,
            data_dir: data_dir.to_path_buf(),
            native_port: native,
        };
        // Up once tauri-driver and the WebKitWebDriver behind it both answer,
        // so what follows (the launch benchmark's clock) excludes their start.
        let deadline = Instant::now() + Duration::from_secs(30);
        for base in [app.base.clone(), format!("http://127.0.0.1:{native}")] {
            while !app
                .http
                .get(format!("{base}/status"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                assert!(
                    Instant::now() < deadline,
                    "{driver_bin} did not start ({base})"
                );
                tokio::time::sleep(POLL).await;
            }
        }
        app
    }

    /// Creates the WebDriver session, which spawns `binary`; returns once
    /// the driver answered (the app is up, its page may still be loading).
    pub async fn start_session(&mut self, binary: &str) {
        let app = self;
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "wry",
            "tauri:options": { "application": binary }
        } } });
        let sent = app
            .http
            .post(format!("{}/session", app.base))
            .json(&caps)
            .send()
            .await;
        let answer: Value = match sent {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(e) => panic!(
                "the app's session did not start ({e}); its log:\n{}",
                std::fs::read_to_string(&app.log).unwrap_or_default()
            ),
        };
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_owned();
        app.base = format!("{}/session/{session}", app.base);
    }

    async fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{}", self.base, path);
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        let response = request.send().await.expect("webdriver request");
        response.json().await.unwrap_or(Value::Null)
    }

    async fn try_find(&self, by: &By) -> Option<String> {
        let answer = self
            .raw(
                "POST",
                "/elements",
                Some(json!({ "using": "xpath", "value": by.0 })),
            )
            .await;
        for el in answer["value"].as_array()? {
            let id = el[ELEMENT].as_str()?.to_owned();
            let shown = self
                .raw("GET", &format!("/element/{id}/displayed"), None)
                .await;
            if shown["value"] == json!(true) {
                return Some(id);
            }
        }
        None
    }

    /// Waits until a visible element matches.
    pub async fn wait_for(&self, by: By, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(id) = self.try_find(&by).await {
                return id;
            }
            if Instant::now() >= deadline {
                let page = self.raw("POST", "/execute/sync", Some(json!({ "script": "return [document.body.innerText, Array.from(document.querySelectorAll(\"input,select\")).map(e => e.value).join(\"|\")];", "args": [] }))).await;
                let probe = self
                    .raw(
                        "POST",
                        "/elements",
                        Some(json!({ "using": "xpath", "value": by.0 })),
                    )
                    .await;
                panic!(
                    "nothing visible matches {}; page: {page}; elements: {probe}",
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
            if let Some(id) = self.try_find(&by).await {
                let answer = self.raw("GET", &format!("/element/{id}/text"), None).await;
                return Some(answer["value"].as_str().unwrap_or_default().to_owned());
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, by: By) {
        let what = by.0.clone();
        let id = self.wait_for(by, Duration::from_secs(10)).await;
        let answer = self
            .raw("POST", &format!("/element/{id}/click"), None)
            .await;
        assert!(
            answer["value"].is_null(),
            "click on {what} failed: {answer}"
        );
    }

    pub async fn type_into(&self, by: By, text: &str) {
        let id = self.wait_for(by, Duration::from_secs(10)).await;
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
        self.click(By::button("New key")).await;
        self.type_into(By::labelled_input("Name"), name).await;
        if !env_var.is_empty() {
            self.type_into(By::labelled_input("Env var name"), env_var)
                .await;
        }
        // Enabled once the providers arrived (the vault may still be opening).
        self.wait_for(
            By::xpath("//button[normalize-space()='Create key' and not(@disabled)]"),
            Duration::from_secs(20),
        )
        .await;
        self.click(By::button("Create key")).await;
        self.wait_for(By::button("Done"), Duration::from_secs(20))
            .await;
        self.click(By::button("Done")).await;
        self.attribute(By::xpath(&key_row(name)), "data-key-id")
            .await
    }

    /// Empties a field, then types into it.
    pub async fn replace_text(&self, by: By, text: &str) {
        let id = self.wait_for(by, Duration::from_secs(10)).await;
        let answer = self
            .raw("POST", &format!("/element/{id}/clear"), None)
            .await;
        assert!(answer["value"].is_null(), "clearing failed: {answer}");
        self.type_into_element(&id, text).await;
    }

    pub async fn text(&self, by: By) -> String {
        let id = self.wait_for(by, Duration::from_secs(10)).await;
        self.raw("GET", &format!("/element/{id}/text"), None).await["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn attribute(&self, by: By, name: &str) -> String {
        let id = self.wait_for(by, Duration::from_secs(10)).await;
        self.raw("GET", &format!("/element/{id}/attribute/{name}"), None)
            .await["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A DOM property (an input's current `value`, a checkbox's `checked`).
    pub async fn property(&self, by: By, name: &str) -> Value {
        let id = self.wait_for(by, Duration::from_secs(10)).await;
        self.raw("GET", &format!("/element/{id}/property/{name}"), None)
            .await["value"]
            .clone()
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
        let _ = self.raw("DELETE", "", None).await;
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

impl Drop for App {
    fn drop(&mut self) {
        self.stop();
    }
}
