//! The desktop app and the `latchkey` CLI see the same vault: same keychain
//! entries, same catalog, same Demo provider, both running at once.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

mod webdriver;
use webdriver::{cli_binary, output_within, App, By};

fn cli(data: &Path, args: &[&str]) -> (i32, String, String) {
    let out = output_within(
        Command::new(cli_binary())
            .args(args)
            .env("LATCHKEY_DATA_DIR", data),
        Duration::from_secs(60),
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_and_the_cli_see_the_same_keys() {
    let data = tempfile::tempdir().expect("data dir");
    let app = App::launch(env!("CARGO_BIN_EXE_latchkey-desktop"), data.path(), &[]).await;

    app.create_key("made in the app", "APP_MADE_KEY").await;

    // The CLI, while the app runs: the app's key, from the same catalog.
    let (code, out, err) = cli(data.path(), &["list", "--json"]);
    assert_eq!(code, 0, "{err}");
    let listing: serde_json::Value = serde_json::from_str(&out).expect("json");
    let keys = listing["keys"].as_array().expect("keys");
    let made = keys
        .iter()
        .find(|k| k["name"] == "made in the app")
        .expect("the CLI lists the app's key");
    assert_eq!(made["provider_name"], "Demo");
    // Its secret, from the keychain (not the catalog's word for it): the
    // CLI reads it there to hand it to a child process...
    let (code, secret, err) = cli(data.path(), &["run", "--", "printenv", "APP_MADE_KEY"]);
    assert_eq!(code, 0, "the CLI found no secret for the app's key: {err}");
    let secret = secret.trim();
    assert!(secret.starts_with("lk_"), "{secret:?}");
    // ...and it is the live key the app created on the Demo service.
    let (code, out, err) = cli(data.path(), &["providers", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    let providers: serde_json::Value = serde_json::from_str(&out).expect("json");
    let demo = providers
        .as_array()
        .and_then(|all| all.iter().find(|p| p["name"] == "Demo"))
        .and_then(|p| p["base_url"].as_str())
        .unwrap_or_else(|| panic!("no Demo provider in {providers}"))
        .to_owned();
    let verified = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
        .get(format!("{}/v1/verify", demo.trim_end_matches('/')))
        .bearer_auth(secret)
        .send()
        .await
        .expect("verify");
    assert_eq!(
        verified.status(),
        200,
        "the keychain's secret is not the live key"
    );

    // A key made by the CLI on the Demo provider shows in the app.
    let (code, secret, err) = cli(
        data.path(),
        &["create", "--provider", "Demo", "--name", "made in the cli"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(secret.trim().starts_with("lk_"));
    app.click(By::button("Refresh")).await;
    let row = "//div[@role='row' and .//span[normalize-space()='made in the cli']]";
    app.wait_for(By::xpath(row), webdriver::WAIT).await;
    assert_eq!(app.attribute(By::xpath(row), "data-status").await, "active");

    // Revoked from the CLI, revoked in the app.
    let (code, _, err) = cli(data.path(), &["revoke", "made in the app"]);
    assert_eq!(code, 0, "{err}");
    app.click(By::button("Refresh")).await;
    app.wait_for(
        By::xpath("//div[@role='row' and .//span[normalize-space()='made in the app'] and @data-status='revoked']"),
        webdriver::WAIT,
    )
    .await;
    app.close().await;
}
