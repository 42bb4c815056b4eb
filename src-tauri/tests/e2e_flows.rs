//! End-to-end: the controls no other test clicks, in the real app
//! (tauri-driver + WebKitWebDriver under Xvfb, the real keychain through
//! scripts/with-keyring.sh, a real reference key service on loopback), then
//! a canary scan of everything the app leaves behind.
//!
//! Story: a person adds their key service under Providers while it is
//! still down ("Save provider", the test says it cannot be reached), once
//! with a mistyped admin token; brings it up and presses "Test connection"
//! on each (the wrong token's error, then "Connected"); creates keys on it;
//! rotates a dashboard-only service's key by hand; rotates a key kept in a
//! `.env` file of a git repository plus a two-item checklist ("Add to
//! .gitignore", "Copy new key" read back from the X clipboard, each item
//! confirmed). Then a `latchkey rotate` in a terminal is killed mid-way
//! (SIGKILL at a failpoint); the app, started again, shows the unfinished
//! rotation and "Resume" finishes it. Finally: no key and no admin token in
//! the data folder, the project folders, WebKit's storage under HOME, the
//! app's output, the CLI's output or any IPC answer.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use latchkey_keyservice::{Config, ShutdownHandle};
use latchkey_testkit::files::files_containing;
use serde_json::{json, Value};

mod webdriver;
use webdriver::{cli_binary, clipboard_text, key_row, keychain_secret, output_within, App, By};

const ADMIN: &str = "e2e-flows-admin-token";
const WRONG_ADMIN: &str = "e2e-flows-mistyped-token";

/// How many regular files are under `dir`, recursively.
fn count_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => count_files(&e.path()),
            Ok(t) if t.is_file() => 1,
            _ => 0,
        })
        .sum()
}

/// The names directly in a folder, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The value of `var` in a `.env` text (`VAR=value`, no quotes).
fn dotenv_value(text: &str, var: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{var}=")))
        .unwrap_or_else(|| panic!("{var} not in {text:?}"))
        .to_owned()
}

/// A script that starts the app with its stdout appended to `stdout`:
/// WebKitWebDriver sends the app's stdout to /dev/null (its stderr reaches
/// the log the kit returns from `close()`).
fn app_with_stdout_to(dir: &Path, stdout: &Path) -> String {
    let script = dir.join("latchkey-desktop-stdout.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec '{}' \"$@\" >>'{}'\n",
            env!("CARGO_BIN_EXE_latchkey-desktop"),
            stdout.display()
        ),
    )
    .expect("write script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script.display().to_string()
}

/// The app's stdout goes to `stdout`, its stderr to the kit's log.
fn assert_output_captured(app: &App, stdout: &Path) {
    let pid = app.app_pid().expect("the app's pid");
    let fd = |n: u8| std::fs::read_link(format!("/proc/{pid}/fd/{n}")).expect("fd");
    assert_eq!(fd(1), stdout, "the app's stdout");
    assert!(fd(2).ends_with("app.log"), "the app's stderr: {:?}", fd(2));
}

struct KeyService {
    base: String,
    http: reqwest::Client,
    _handle: ShutdownHandle,
}

impl KeyService {
    /// Starts the reference key service on `port` (retrying while the port
    /// is still being let go of).
    async fn start_on(port: u16) -> Self {
        let (base, handle) = latchkey_testkit::keyservice::serve_on(
            &format!("127.0.0.1:{port}"),
            Config::new(ADMIN),
        )
        .await;
        Self {
            base,
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
            _handle: handle,
        }
    }

    async fn verify_status(&self, key: &str) -> u16 {
        self.http
            .get(format!("{}/v1/verify", self.base))
            .bearer_auth(key)
            .send()
            .await
            .expect("verify")
            .status()
            .as_u16()
    }

    /// A key made "in the dashboard" (the admin API).
    async fn make_key(&self, project: &str, name: &str) -> Value {
        self.http
            .post(format!("{}/api/projects/{project}/api-keys", self.base))
            .bearer_auth(ADMIN)
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json")
    }

    async fn revoke(&self, project: &str, id: &str) {
        let gone = self
            .http
            .delete(format!(
                "{}/api/projects/{project}/api-keys/{id}",
                self.base
            ))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("revoke");
        assert_eq!(gone.status(), 204);
    }

    async fn live_names(&self, project: &str) -> Vec<String> {
        let body: Value = self
            .http
            .get(format!("{}/api/projects/{project}/api-keys", self.base))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        body["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter(|k| k["revoked_at"].is_null())
            .map(|k| k["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

fn provider_item(name: &str) -> String {
    format!("//li[.//strong[normalize-space()='{name}']]")
}

/// Clicks a button in a provider's entry.
async fn click_in_provider(app: &App, name: &str, button: &str) {
    app.click(By::xpath(&format!(
        "{}//button[normalize-space()='{button}']",
        provider_item(name)
    )))
    .await;
}

/// Waits for a provider's status line to pass an XPath test.
async fn wait_provider_status(app: &App, name: &str, test: &str) {
    app.wait_for(
        By::xpath(&format!(
            "{}//span[@role='status' and {test}]",
            provider_item(name)
        )),
        Duration::from_secs(30),
    )
    .await;
}

/// Waits until a provider's connection result is not "Testing…" and
/// returns it.
async fn provider_result(app: &App, name: &str) -> String {
    let status = format!(
        "{}//span[@role='status' and normalize-space()!='Testing…']",
        provider_item(name)
    );
    app.text(By::xpath(&status)).await
}

/// Adds a reference key service through the Providers form.
async fn save_provider(app: &App, name: &str, base: &str, token: &str, project: &str) {
    app.type_into(By::labelled_input("Name"), name).await;
    app.type_into(By::labelled_input("Base URL"), base).await;
    app.type_into(By::labelled_input("Admin token"), token)
        .await;
    app.type_into(By::labelled_input("Project"), project).await;
    app.click(By::button("Save provider")).await;
    // Saved: listed, its connection tested, the form free again.
    app.wait_for(By::xpath(&provider_item(name)), Duration::from_secs(20))
        .await;
    app.wait_for(
        By::xpath("//button[normalize-space()='Save provider' and not(@disabled)]"),
        Duration::from_secs(60),
    )
    .await;
}

/// Creates a key on `provider` through "New key"; returns its key id.
async fn create_key_on(app: &App, provider: &str, name: &str, env_var: &str) -> String {
    app.click(By::button("New key")).await;
    app.click(By::xpath(&format!(
        "//dialog//select/option[normalize-space()='{provider}']"
    )))
    .await;
    app.type_into(By::labelled_input("Name"), name).await;
    app.type_into(By::labelled_input("Env var name"), env_var)
        .await;
    app.wait_for(
        By::xpath("//button[normalize-space()='Create key' and not(@disabled)]"),
        Duration::from_secs(20),
    )
    .await;
    app.click(By::button("Create key")).await;
    app.wait_for(By::button("Done"), Duration::from_secs(30))
        .await;
    app.click(By::button("Done")).await;
    app.attribute(By::xpath(&key_row(name)), "data-key-id")
        .await
}

/// Opens the wizard of the key named `name` and fills its targets.
async fn start_rotation(app: &App, name: &str, env_path: &Path, checklist: &[&str]) {
    app.click(By::xpath(&format!(
        "{}//button[normalize-space()='Rotate']",
        key_row(name)
    )))
    .await;
    app.type_into(
        By::labelled_input(".env file path"),
        &env_path.display().to_string(),
    )
    .await;
    for item in checklist {
        app.click(By::button("Add checklist item")).await;
        // The newest (empty) one.
        app.type_into(
            By::xpath("(//label[normalize-space(text())='Where to paste it']//input)[last()]"),
            item,
        )
        .await;
    }
    app.click(By::button("Start rotation")).await;
}

const DIALOG_STATE: &str = "//dialog//p[@role='status' and @data-state]";

/// The manual-service flow (as e2e_manual.rs): a dashboard-only service on
/// the same key service, project "dash"; returns the old and new keys.
async fn manual_service_flow(app: &App, service: &KeyService, project: &Path) -> [String; 2] {
    let old = service.make_key("dash", "by hand 1").await;
    let old_key = old["key"].as_str().expect("key").to_owned();
    let env_path = project.join(".env");
    std::fs::write(&env_path, format!("SERVICE_KEY={old_key}\n")).expect("write");

    app.click(By::button("Providers")).await;
    app.type_into(By::labelled_input("Service name"), "Dashboard-only")
        .await;
    app.type_into(
        By::labelled_input("Dashboard URL"),
        &format!("{}/dashboard", service.base),
    )
    .await;
    app.type_into(
        By::labelled_input("Verify URL"),
        &format!("{}/v1/verify", service.base),
    )
    .await;
    app.click(By::button("Save manual service")).await;
    app.wait_for(
        By::xpath(&format!(
            "{}//*[@role='status' and normalize-space()='Connected']",
            provider_item("Dashboard-only")
        )),
        Duration::from_secs(20),
    )
    .await;

    app.click(By::button("Keys")).await;
    app.click(By::button("Add existing key")).await;
    app.click(By::xpath(
        "//dialog//select/option[normalize-space()='Dashboard-only']",
    ))
    .await;
    app.type_into(By::labelled_input("Name"), "service key")
        .await;
    app.type_into(By::labelled_input("Key"), &old_key).await;
    app.type_into(By::labelled_input("Env var name"), "SERVICE_KEY")
        .await;
    app.click(By::button("Add key")).await;
    app.wait_for(By::xpath(&key_row("service key")), Duration::from_secs(20))
        .await;

    start_rotation(app, "service key", &env_path, &[]).await;
    app.wait_for(By::button("Save new key"), Duration::from_secs(30))
        .await;
    let new = service.make_key("dash", "by hand 2").await;
    let new_key = new["key"].as_str().expect("key").to_owned();
    app.type_into(By::labelled_input("New key"), &new_key).await;
    app.click(By::button("Save new key")).await;
    app.wait_for(By::button("I revoked the old key"), Duration::from_secs(30))
        .await;
    service
        .revoke("dash", old["id"].as_str().expect("id"))
        .await;
    app.click(By::button("I revoked the old key")).await;
    app.wait_for(
        By::xpath("//p[@data-state='done']"),
        Duration::from_secs(30),
    )
    .await;
    app.click(By::button("Done")).await;
    assert_eq!(
        std::fs::read_to_string(&env_path).expect("read"),
        format!("SERVICE_KEY={new_key}\n")
    );
    assert_eq!(service.verify_status(&new_key).await, 200);
    assert_eq!(service.verify_status(&old_key).await, 401);
    [old_key, new_key]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_wizard_controls_and_resume_then_nothing_leaks() {
    assert!(
        std::env::var_os("LATCHKEY_IN_KEYRING_SESSION").is_some(),
        "run under scripts/with-keyring.sh (it scans HOME)"
    );
    let home = PathBuf::from(std::env::var_os("HOME").expect("HOME"));
    let data = tempfile::tempdir().expect("data dir");
    let plain = tempfile::tempdir().expect("project folder");
    let repo = tempfile::tempdir().expect("git project folder");
    let dash = tempfile::tempdir().expect("manual project folder");
    let out_dir = tempfile::tempdir().expect("stdout dir");
    let stdout = out_dir.path().join("stdout.log");
    let bin = &app_with_stdout_to(out_dir.path(), &stdout);
    // Every key the flows handle, for the canary scan.
    let mut canaries: Vec<String> = vec![ADMIN.into(), WRONG_ADMIN.into()];
    let mut ipc_answers: Vec<Value> = Vec::new();

    // The service is down while the person adds it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let app = App::launch(bin, data.path(), &[]).await;
    app.capture_ipc().await;

    // ---- Providers: Save provider, Test connection ----
    app.click(By::button("Providers")).await;
    save_provider(&app, "Acme", &base, ADMIN, "web").await;
    // Another project of the same service (its keys are not Acme's).
    save_provider(&app, "Acme (old token)", &base, WRONG_ADMIN, "ops").await;
    for (name, project) in [("Acme", "web"), ("Acme (old token)", "ops")] {
        let down = provider_result(&app, name).await;
        assert!(
            down.contains("Could not reach the service"),
            "{name} while the service is down: {down}"
        );
        let item = app.text(By::xpath(&provider_item(name))).await;
        assert!(
            item.contains(&format!("{base} · project {project}")),
            "{item}"
        );
    }
    let service = KeyService::start_on(port).await;
    assert_eq!(service.base, base);
    click_in_provider(&app, "Acme (old token)", "Test connection").await;
    wait_provider_status(
        &app,
        "Acme (old token)",
        "contains(., 'rejected our credentials')",
    )
    .await;
    click_in_provider(&app, "Acme", "Test connection").await;
    wait_provider_status(&app, "Acme", "normalize-space()='Connected'").await;
    // Still the token's error on the other one: each button tests its own.
    let wrong = provider_result(&app, "Acme (old token)").await;
    assert!(
        wrong.contains("Check the provider's admin token under Providers"),
        "{wrong}"
    );
    // The Keys screen names the refused connection and leads to Providers.
    app.click(By::button("Keys")).await;
    let open_providers = "//p[@role='status' and starts-with(normalize-space(), 'Acme (old token): The service rejected our credentials')]//button[normalize-space()='Open Providers']";
    app.wait_for(By::xpath(open_providers), Duration::from_secs(30))
        .await;
    let axe = app.axe_serious().await;
    assert!(axe.is_empty(), "Keys with a connection warning: {axe:?}");
    app.click(By::xpath(open_providers)).await;
    app.wait_for(
        By::xpath("//h1[normalize-space()='Providers']"),
        Duration::from_secs(10),
    )
    .await;
    // "Change token": the service refuses the mistyped token again and the
    // form says so; the right one replaces it and the connection works.
    click_in_provider(&app, "Acme (old token)", "Change token").await;
    let new_token = By::labelled_input("New token for Acme (old token)");
    app.type_into(new_token, WRONG_ADMIN).await;
    app.click(By::button("Save token")).await;
    let not_saved = app
        .try_text(
            By::xpath(&format!(
                "{}//p[@role='alert' and contains(., 'Not saved')]",
                provider_item("Acme (old token)")
            )),
            Duration::from_secs(30),
        )
        .await
        .expect("the refused token is not reported");
    assert!(
        not_saved.contains("rejected our credentials"),
        "{not_saved}"
    );
    let axe = app.axe_serious().await;
    assert!(axe.is_empty(), "Change token, refused: {axe:?}");
    app.replace_text(By::labelled_input("New token for Acme (old token)"), ADMIN)
        .await;
    app.click(By::button("Save token")).await;
    wait_provider_status(
        &app,
        "Acme (old token)",
        "normalize-space()='Token replaced; connected'",
    )
    .await;
    assert!(
        !app.shown_now(By::button("Save token")).await,
        "the form stays open after the token was replaced"
    );
    click_in_provider(&app, "Acme (old token)", "Test connection").await;
    wait_provider_status(&app, "Acme (old token)", "normalize-space()='Connected'").await;
    // Remove: asked first; "Keep" keeps it, then it goes with its token.
    click_in_provider(&app, "Acme (old token)", "Remove").await;
    app.click(By::button("Keep")).await;
    assert!(
        app.shown_now(By::xpath(&provider_item("Acme (old token)")))
            .await
    );
    click_in_provider(&app, "Acme (old token)", "Remove").await;
    let axe = app.axe_serious().await;
    assert!(axe.is_empty(), "Remove, asking: {axe:?}");
    app.click(By::button("Remove connection")).await;
    app.wait_for(
        By::xpath("//p[@role='status' and normalize-space()='Removed \"Acme (old token)\" and its credential.']"),
        Duration::from_secs(10),
    )
    .await;
    assert!(
        !app.shown_now(By::xpath(&provider_item("Acme (old token)")))
            .await
    );

    // The saved provider is usable: keys made on it live on the service.
    app.click(By::button("Keys")).await;
    let backend_id = create_key_on(&app, "Acme", "backend", "ACME_API_KEY").await;
    let frontend_id = create_key_on(&app, "Acme", "frontend", "FRONTEND_KEY").await;
    let backend_old = keychain_secret(&backend_id);
    let frontend_old = keychain_secret(&frontend_id);
    assert_eq!(service.verify_status(&backend_old).await, 200);
    assert_eq!(service.verify_status(&frontend_old).await, 200);
    let mut live = service.live_names("web").await;
    live.sort();
    assert_eq!(live, ["backend", "frontend"]);
    canaries.extend([backend_old.clone(), frontend_old.clone()]);

    // ---- The manual-service flow ----
    let [manual_old, manual_new] = manual_service_flow(&app, &service, dash.path()).await;
    canaries.extend([manual_old.clone(), manual_new]);

    // ---- A .env in a git repository, plus a two-item checklist ----
    let git = output_within(
        Command::new("git")
            .args(["init", "-q"])
            .current_dir(repo.path()),
        Duration::from_secs(30),
    );
    assert!(git.status.success());
    let repo_env = repo.path().join(".env");
    std::fs::write(
        &repo_env,
        format!("FRONTEND_KEY={frontend_old}\nPORT=3000\n"),
    )
    .expect("write .env");
    let items = ["CI secret FRONTEND_KEY", "staging server"];
    start_rotation(&app, "frontend", &repo_env, &items).await;
    let warning = app
        .text(By::xpath(
            "//dialog//p[@role='alert' and contains(., 'git')]",
        ))
        .await;
    assert!(
        warning.contains("git does not ignore it"),
        "the warning for a .env git does not ignore: {warning}"
    );
    // Nothing happened yet: the wizard waits on the warning.
    assert_eq!(
        app.attribute(By::xpath(DIALOG_STATE), "data-state").await,
        "planned"
    );
    assert!(!repo.path().join(".gitignore").exists());
    let check_ignore = || {
        output_within(
            Command::new("git")
                .args(["check-ignore", "-q", ".env"])
                .current_dir(repo.path()),
            Duration::from_secs(30),
        )
        .status
        .success()
    };
    assert!(!check_ignore(), "git does not ignore the .env yet");
    app.click(By::button("Add to .gitignore")).await;
    app.wait_for(
        By::xpath("//dialog//p[@role='status' and contains(., 'to .gitignore')]"),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".gitignore")).expect(".gitignore"),
        "/.env\n*.latchkey-tmp\n"
    );
    assert!(check_ignore(), "git ignores the .env now");
    // The warning it answered goes, with its button.
    for gone in [
        "//dialog//p[@role='alert' and contains(., 'git does not ignore it')]",
        "//dialog//button[normalize-space()='Add to .gitignore']",
    ] {
        assert!(
            app.try_text(By::xpath(gone), Duration::from_millis(500))
                .await
                .is_none(),
            "still shown after Add to .gitignore: {gone}"
        );
    }

    app.click(By::xpath("//dialog//button[normalize-space()='Resume']"))
        .await;
    app.wait_for(By::button("Copy new key"), Duration::from_secs(30))
        .await;
    let deployed = std::fs::read_to_string(&repo_env).expect("read");
    let frontend_new = dotenv_value(&deployed, "FRONTEND_KEY");
    assert_ne!(frontend_new, frontend_old);
    assert_eq!(
        deployed,
        format!("FRONTEND_KEY={frontend_new}\nPORT=3000\n")
    );
    canaries.push(frontend_new.clone());
    assert_ne!(clipboard_text(), frontend_new, "not on the clipboard yet");
    app.click(By::button("Copy new key")).await;
    app.wait_for(
        By::xpath(
            "//dialog//p[@role='status' and starts-with(normalize-space(), 'New key copied.')]",
        ),
        Duration::from_secs(10),
    )
    .await;
    let copied = clipboard_text();
    assert_eq!(copied, frontend_new, "the clipboard holds the new key");
    assert_eq!(service.verify_status(&copied).await, 200);

    let checklist = format!(
        "//dialog//li[@data-status and contains(., 'Checklist ({})')]",
        items.len()
    );
    let checkbox = |item: &str| {
        By::xpath(&format!(
            "{checklist}//label[contains(normalize-space(), 'Pasted in {item}')]//input[@type='checkbox']"
        ))
    };
    app.click(checkbox(items[0])).await;
    app.wait_for(
        By::xpath(&format!(
            "{checklist}//label[contains(normalize-space(), 'Pasted in {}')]//input[@disabled]",
            items[0]
        )),
        Duration::from_secs(10),
    )
    .await;
    // One item left: Continue does not get past the checklist.
    app.click(By::xpath("//dialog//button[normalize-space()='Continue']"))
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    app.wait_for(
        By::xpath("//dialog//button[normalize-space()='Continue' and not(@disabled)]"),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        app.attribute(By::xpath(&checklist), "data-status").await,
        "awaiting_confirmation"
    );
    assert_eq!(
        service.verify_status(&frontend_old).await,
        200,
        "the old key stays while an item is unconfirmed"
    );
    app.click(checkbox(items[1])).await;
    app.wait_for(
        By::xpath(&format!(
            "{checklist}//label[contains(normalize-space(), 'Pasted in {}')]//input[@disabled]",
            items[1]
        )),
        Duration::from_secs(10),
    )
    .await;
    app.click(By::xpath("//dialog//button[normalize-space()='Continue']"))
        .await;
    app.wait_for(
        By::xpath("//dialog//p[@data-state='done']"),
        Duration::from_secs(30),
    )
    .await;
    let target = app.attribute(By::xpath(&checklist), "data-status").await;
    assert_eq!(target, "verified", "the checklist step is done");
    let deploy_step = app
        .attribute(
            By::xpath("//ol[@aria-label='Rotation steps']/li[contains(., 'Deploy')]"),
            "class",
        )
        .await;
    assert!(deploy_step.contains("done"), "Deploy step: {deploy_step}");
    app.click(By::button("Done")).await;
    assert_eq!(service.verify_status(&frontend_old).await, 401);
    assert_eq!(service.verify_status(&frontend_new).await, 200);
    ipc_answers.extend(app.captured_ipc().await);
    assert_output_captured(&app, &stdout);
    let mut app_output = app.close().await;

    // ---- A terminal's rotation killed mid-way ----
    let plain_env = plain.path().join(".env");
    std::fs::write(&plain_env, format!("ACME_API_KEY={backend_old}\n")).expect("write .env");
    let killed = output_within(
        Command::new(cli_binary())
            .args(["rotate", "backend", "--dotenv"])
            .arg(&plain_env)
            .arg("--yes")
            .env("LATCHKEY_DATA_DIR", data.path())
            .env("FAILPOINTS", "rotation::verify::before=return"),
        Duration::from_secs(120),
    );
    let mut cli_output = String::from_utf8_lossy(&killed.stdout).into_owned();
    cli_output.push_str(&String::from_utf8_lossy(&killed.stderr));
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        killed.status.signal(),
        Some(9),
        "the CLI was not killed at the failpoint (built without failpoints?): {cli_output}"
    );
    let half = std::fs::read_to_string(&plain_env).expect("read");
    let backend_new = dotenv_value(&half, "ACME_API_KEY");
    assert_ne!(backend_new, backend_old, "killed after the deploy");
    canaries.push(backend_new.clone());
    // The old key is still live: asked of the service's listing, not by
    // signing in with it, which is a use after the deploy (from the next
    // second on, the revoke rightly holds on it as still in use).
    let live = service.live_names("web").await;
    assert_eq!(
        live.iter().filter(|n| n.starts_with("backend")).count(),
        2,
        "the old and the new backend key are live: {live:?}"
    );

    // ---- The app again: the banner's Resume finishes it ----
    let app = App::launch(bin, data.path(), &[]).await;
    app.capture_ipc().await;
    let banner = "//div[@role='alert' and contains(@aria-label, 'Unfinished rotation of backend')]";
    app.click(By::xpath(&format!(
        "{banner}//button[normalize-space()='Resume']"
    )))
    .await;
    app.wait_for(
        By::xpath("//dialog//p[@data-state='done']"),
        Duration::from_secs(60),
    )
    .await;
    app.click(By::button("Done")).await;
    assert!(
        app.try_text(By::xpath(banner), Duration::from_secs(3))
            .await
            .is_none(),
        "the banner is gone once the rotation is done"
    );
    assert_eq!(
        std::fs::read_to_string(&plain_env).expect("read"),
        format!("ACME_API_KEY={backend_new}\n")
    );
    assert_eq!(service.verify_status(&backend_new).await, 200);
    assert_eq!(service.verify_status(&backend_old).await, 401);
    // The old key is now an older generation: shown with "Show revoked".
    app.click(By::xpath("//label[contains(., 'Show revoked')]/input"))
        .await;
    app.wait_for(
        By::xpath(&format!(
            "//div[@role='row' and @data-key-id='{backend_id}' and @data-status='revoked']"
        )),
        Duration::from_secs(20),
    )
    .await;
    ipc_answers.extend(app.captured_ipc().await);
    assert_output_captured(&app, &stdout);
    app_output.push_str(&app.close().await);

    // ---- Canary scan ----
    // The scan finds what is there: the key in use, in its .env.
    assert_eq!(
        files_containing(plain.path(), &backend_new),
        [plain_env.display().to_string()]
    );
    // The project folders hold only what the person put there.
    assert_eq!(names_in(plain.path()), [".env"]);
    assert_eq!(names_in(dash.path()), [".env"]);
    assert_eq!(names_in(repo.path()), [".env", ".git", ".gitignore"]);
    // No backup is left once the rotations ended.
    assert_eq!(count_files(&data.path().join("backups")), 0);
    // ...and it reads the data folder's SQLite files: the new key's
    // public prefix is in the catalog.
    assert!(!files_containing(data.path(), &backend_new[..12]).is_empty());
    // WebKit's storage for the app is under the test's HOME.
    let webkit: Vec<PathBuf> = [".local/share", ".cache"]
        .iter()
        .map(|d| home.join(d).join("dev.latchkey.desktop"))
        .filter(|p| p.exists())
        .collect();
    assert!(
        webkit.iter().map(|p| count_files(p)).sum::<usize>() > 0,
        "no WebKit storage found under {}",
        home.display()
    );
    assert!(
        ipc_answers.len() >= 20,
        "IPC capture saw too little: {}",
        ipc_answers.len()
    );
    // (Where the app's stdout and stderr go was checked while it ran:
    // `assert_output_captured`; either may be empty.)
    app_output.push_str(&std::fs::read_to_string(&stdout).expect("the app's stdout"));
    for canary in &canaries {
        let mut needles = vec![canary.as_str()];
        if canary.starts_with("lk_") {
            // The secret part alone, past the public prefix.
            needles.push(&canary[12..]);
        }
        for needle in needles {
            for (place, dir) in [
                ("the data folder", data.path()),
                ("a project folder", plain.path()),
                ("a project folder", dash.path()),
                ("a project folder", repo.path()),
                ("HOME (WebKit storage)", home.as_path()),
            ] {
                // The .env files hold the keys in use, as they should.
                let hits: Vec<String> = files_containing(dir, needle)
                    .into_iter()
                    .filter(|f| !f.ends_with("/.env"))
                    .collect();
                assert_eq!(hits, Vec::<String>::new(), "a key or token in {place}");
            }
            assert!(
                !app_output.contains(needle),
                "a key or token in the app's output"
            );
            assert!(
                !cli_output.contains(needle),
                "a key or token in the CLI's output"
            );
            let carrying: Vec<&Value> = ipc_answers
                .iter()
                .filter(|a| a["response"].to_string().contains(needle))
                .collect();
            assert!(
                carrying.is_empty(),
                "IPC answers carrying a key: {carrying:?}"
            );
        }
    }
    // Retired keys are gone from the .env files too.
    for (file, retired) in [
        (&plain_env, &backend_old),
        (&repo_env, &frontend_old),
        (&dash.path().join(".env"), &manual_old),
    ] {
        let text = std::fs::read_to_string(file).expect("read");
        assert!(!text.contains(retired.as_str()), "{}", file.display());
    }
}

/// Story: a person stops using a service. Providers → Remove on its
/// connection says how many keys go with it and that the service keeps
/// them; "Remove connection and 1 key" forgets the key (its secret leaves
/// the keychain, its row the list) while the service still accepts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_connection_forgets_its_keys_and_the_service_keeps_them() {
    let data = tempfile::tempdir().expect("data dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let service = KeyService::start_on(port).await;
    let app = App::launch(env!("CARGO_BIN_EXE_latchkey-desktop"), data.path(), &[]).await;
    app.click(By::button("Providers")).await;
    save_provider(&app, "Acme", &service.base, ADMIN, "web").await;
    app.click(By::button("Keys")).await;
    let key_id = create_key_on(&app, "Acme", "retiring", "ACME_API_KEY").await;
    let secret = keychain_secret(&key_id);
    assert_eq!(service.verify_status(&secret).await, 200);

    app.click(By::button("Providers")).await;
    click_in_provider(&app, "Acme", "Remove").await;
    let asking = app
        .text(By::xpath(
            "//div[@role='group' and @aria-label='Remove Acme']",
        ))
        .await;
    for said in [
        "Remove “Acme” and forget its 1 key?",
        "1 key is still active there and keeps working until revoked",
    ] {
        assert!(asking.contains(said), "{said}: {asking}");
    }
    let axe = app.axe_serious().await;
    assert!(axe.is_empty(), "Remove with keys, asking: {axe:?}");
    app.click(By::button("Remove connection and 1 key")).await;
    app.wait_for(
        By::xpath("//p[@role='status' and normalize-space()='Removed \"Acme\" and its credential, and forgot its 1 key.']"),
        Duration::from_secs(10),
    )
    .await;
    assert!(!app.shown_now(By::xpath(&provider_item("Acme"))).await);
    use latchkey_core::store::{key_account, KeychainStore, SecretStore};
    let store = KeychainStore::open().expect("the app's keychain");
    assert!(store.get(&key_account(&key_id)).expect("read").is_none());
    assert_eq!(
        service.verify_status(&secret).await,
        200,
        "forgetting is not revoking"
    );
    app.click(By::button("Keys")).await;
    app.wait_for(
        By::xpath("//*[contains(., 'No keys yet') or @data-key-id]"),
        Duration::from_secs(20),
    )
    .await;
    assert!(!app.shown_now(By::xpath(&key_row("retiring"))).await);
    app.close().await;
}
