//! End-to-end: a dashboard-only service in the real app. A person adds it
//! as a manual service, adds a key they made in its dashboard, and rotates
//! it: pastes the new key, then revokes the old one "in the dashboard" —
//! Latchkey refuses to believe a revoke the service does not confirm.
//! The "dashboard" is a reference key service on loopback, driven over HTTP.

use std::time::Duration;

use latchkey_keyservice::Config;
use serde_json::{json, Value};

mod webdriver;
use webdriver::{App, By};

const ADMIN: &str = "e2e-manual-admin";

async fn make_key(http: &reqwest::Client, base: &str, name: &str) -> Value {
    http.post(format!("{base}/api/projects/web/api-keys"))
        .bearer_auth(ADMIN)
        .json(&json!({ "name": name }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotates_a_key_of_a_dashboard_only_service() {
    let (base, _service) = latchkey_testkit::keyservice::serve(Config::new(ADMIN)).await;
    let http = reqwest::Client::new();
    let old = make_key(&http, &base, "by hand 1").await;
    let old_key = old["key"].as_str().expect("key").to_owned();

    let data = tempfile::tempdir().expect("data dir");
    let project = tempfile::tempdir().expect("project");
    let env_path = project.path().join(".env");
    std::fs::write(&env_path, format!("SERVICE_KEY={old_key}\n")).expect("write");
    let app = App::launch(env!("CARGO_BIN_EXE_latchkey-desktop"), data.path(), &[]).await;

    app.click(By::button("Providers")).await;
    app.type_into(By::labelled_input("Service name"), "Dashboard-only")
        .await;
    app.type_into(
        By::labelled_input("Dashboard URL"),
        &format!("{base}/dashboard"),
    )
    .await;
    app.type_into(
        By::labelled_input("Verify URL"),
        &format!("{base}/v1/verify"),
    )
    .await;
    app.click(By::button("Save manual service")).await;
    app.wait_for(
        By::xpath("//li[.//strong[normalize-space()='Dashboard-only']]//*[@role='status' and normalize-space()='Connected']"),
        Duration::from_secs(20),
    )
    .await;

    app.click(By::button("Keys")).await;
    app.open_key_dialog("Add existing key").await;
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
    let row = "//div[@role='row' and .//span[normalize-space()='service key']]";
    app.wait_for(By::xpath(row), Duration::from_secs(20)).await;

    app.click(By::xpath(&format!(
        "{row}//button[normalize-space()='Rotate']"
    )))
    .await;
    app.type_into(
        By::labelled_input(".env file path"),
        &env_path.display().to_string(),
    )
    .await;
    app.click(By::button("Start rotation")).await;
    app.wait_for(By::button("Save new key"), Duration::from_secs(20))
        .await;
    let dashboard = app
        .text(By::xpath("//div[@aria-label='Dashboard step']"))
        .await;
    assert!(
        dashboard.contains(&format!("{base}/dashboard")),
        "{dashboard}"
    );

    // The person makes the new key in the dashboard and pastes it.
    let new = make_key(&http, &base, "by hand 2").await;
    let new_key = new["key"].as_str().expect("key").to_owned();
    app.type_into(By::labelled_input("New key"), &new_key).await;
    app.click(By::button("Save new key")).await;
    app.wait_for(By::button("I revoked the old key"), Duration::from_secs(30))
        .await;
    assert_eq!(
        std::fs::read_to_string(&env_path).expect("read"),
        format!("SERVICE_KEY={new_key}\n")
    );

    // Claimed but not done: Latchkey checks and refuses.
    app.click(By::button("I revoked the old key")).await;
    app.wait_for(
        By::xpath("//dialog//p[@role='alert' and contains(., 'dashboard')]"),
        Duration::from_secs(20),
    )
    .await;
    // Done for real.
    let id = old["id"].as_str().expect("id");
    let gone = http
        .delete(format!("{base}/api/projects/web/api-keys/{id}"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("revoke");
    assert_eq!(gone.status(), 204);
    app.click(By::button("I revoked the old key")).await;
    app.wait_for(
        By::xpath("//p[@data-state='done']"),
        Duration::from_secs(30),
    )
    .await;
    app.click(By::button("Done")).await;
    // The old key is now an older generation: shown with "Show revoked".
    app.click(By::xpath("//label[contains(., 'Show revoked')]/input"))
        .await;
    app.wait_for(
        By::xpath(&format!("{row}[@data-status='revoked']")),
        Duration::from_secs(20),
    )
    .await;
    app.close().await;
}
