//! The desktop app and the `latchkey` CLI see the same vault: same keychain
//! entries, same catalog, same Demo provider, both running at once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod webdriver;
use webdriver::{App, By};

/// The CLI binary beside this package's binary (built by `cargo test
/// --workspace`; built here when this package is tested alone).
fn cli_binary() -> PathBuf {
    let desktop = PathBuf::from(env!("CARGO_BIN_EXE_latchkey-desktop"));
    let cli = desktop.with_file_name("latchkey");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&cli) < modified(&desktop) {
        let status = Command::new(env!("CARGO"))
            // The features `cargo test` builds it with (failpoints come with
            // its tests' dev-dependencies), so this never replaces the binary
            // the CLI's own fault tests use with a different build.
            .args([
                "build",
                "-p",
                "latchkey-cli",
                "--bin",
                "latchkey",
                "--features",
                "failpoints",
            ])
            .status()
            .expect("cargo build");
        assert!(status.success(), "could not build the CLI");
    }
    cli
}

fn cli(data: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(cli_binary())
        .args(args)
        .env("LATCHKEY_DATA_DIR", data)
        .output()
        .expect("run latchkey");
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

    app.create_key("made in the app", "").await;

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
    assert_eq!(made["has_secret"], true);

    // A key made by the CLI on the Demo provider shows in the app.
    let (code, secret, err) = cli(
        data.path(),
        &["create", "--provider", "Demo", "--name", "made in the cli"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(secret.trim().starts_with("lk_"));
    app.click(By::button("Refresh")).await;
    let row = "//div[@role='row' and .//span[normalize-space()='made in the cli']]";
    app.wait_for(By::xpath(row), Duration::from_secs(20)).await;
    assert_eq!(app.attribute(By::xpath(row), "data-status").await, "active");

    // Revoked from the CLI, revoked in the app.
    let (code, _, err) = cli(data.path(), &["revoke", "made in the app"]);
    assert_eq!(code, 0, "{err}");
    app.click(By::button("Refresh")).await;
    app.wait_for(
        By::xpath("//div[@role='row' and .//span[normalize-space()='made in the app'] and @data-status='revoked']"),
        Duration::from_secs(20),
    )
    .await;
    app.close().await;
}
