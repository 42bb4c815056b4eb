//! End-to-end: a key's "Requests over time" sparkline in its details, from
//! real use. The real app under tauri-driver + WebKitWebDriver (Xvfb), the
//! real keychain (scripts/with-keyring.sh) and the in-process Demo key
//! service: a key made in the app is used against the Demo service (its
//! `request_count` goes up), the app lists keys again after each round of
//! use (each listing records the count it finds: schema 8, `key_usage`),
//! and the key's details draw one point per recorded count.
//!
//! Fails when a listing records no usage (no sparkline: it needs two
//! points), when it records the wrong counts, or when the details do not
//! draw what was recorded.

use std::time::Duration;

use latchkey_core::store::{key_account, KeychainStore, SecretStore};
use serde_json::Value;

mod webdriver;
use webdriver::{key_row, App, By};

const KEY: &str = "usage e2e key";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_details_draw_the_requests_the_service_counted() {
    let data = tempfile::tempdir().expect("data dir");
    let app = App::launch(env!("CARGO_BIN_EXE_latchkey-desktop"), data.path(), &[]).await;
    let key_id = app.create_key(KEY, "USAGE_API_KEY").await;

    // The key itself, from the keychain the app saved it in, and the Demo
    // service's address, as the app knows them.
    let secret = KeychainStore::open()
        .expect("the same keychain the app uses")
        .get(&key_account(&key_id))
        .expect("keychain read")
        .expect("key in keychain");
    let providers = app.invoke("list_providers").await.expect("providers");
    let demo = providers
        .as_array()
        .and_then(|all| all.iter().find(|p| p["is_demo"] == true))
        .and_then(|p| p["base_url"].as_str())
        .unwrap_or_else(|| panic!("no Demo provider in {providers}"))
        .trim_end_matches('/')
        .to_owned();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");

    // A listing before any use (0 requests), then 3 requests and a listing,
    // then 2 more and a listing: samples 0, 3, 5.
    for uses in [0, 3, 2] {
        for _ in 0..uses {
            let used = http
                .get(format!("{demo}/v1/verify"))
                .bearer_auth(secret.expose_secret())
                .send()
                .await
                .expect("a request with the key");
            assert_eq!(used.status(), 200, "the Demo service accepts the key");
        }
        // The same command the Keys screen's sync (and Refresh) calls.
        let listing = app.invoke("list_keys").await.expect("list_keys");
        let ours = listing["keys"]
            .as_array()
            .and_then(|keys| keys.iter().find(|k| k["id"] == key_id.as_str()))
            .cloned()
            .unwrap_or(Value::Null);
        assert_eq!(ours["name"], KEY, "the listing has the key: {ours}");
    }

    // Its details: one point per recorded count, the newest count in the
    // caption and the range in the picture's description.
    app.click(By::xpath(&format!(
        "{}//button[@aria-label='Details of {KEY}']",
        key_row(KEY)
    )))
    .await;
    let sparkline = format!(
        "//dialog//section[@aria-label='Key details' and @data-key-id='{key_id}']\
         //figure[.//*[name()='svg' and @role='img' and @aria-label='Requests over time']]"
    );
    app.wait_for(By::xpath(&sparkline), Duration::from_secs(20))
        .await;
    let points = app
        .execute(&format!(
            "return document.evaluate(\"{sparkline}//*[name()='circle']\", document, null, \
             XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength;"
        ))
        .await;
    assert_eq!(
        points.as_u64(),
        Some(3),
        "one point per recorded count (0, 3, 5)"
    );
    let caption = app
        .text(By::xpath(&format!("{sparkline}//figcaption")))
        .await;
    assert_eq!(caption, "Requests over time · 5 in all");
    let described = app
        .execute(&format!(
            "return document.evaluate(\"{sparkline}//*[name()='svg']/*[name()='title']\", document, \
             null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue.textContent;"
        ))
        .await;
    let described = described.as_str().unwrap_or_default();
    assert!(
        described.starts_with("Requests over time: 0 to 5 requests,"),
        "{described}"
    );
    app.close().await;
}
