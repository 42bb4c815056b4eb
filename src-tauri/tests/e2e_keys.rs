//! End-to-end: the real app (this package's binary) driven through
//! tauri-driver + WebKitWebDriver under Xvfb, with the real keychain
//! (scripts/with-keyring.sh) and the in-process Demo key service.
//!
//! Story: "creates a key, copies it, sees the clipboard cleared, revokes it",
//! then a canary scan of logs, SQLite files and captured IPC answers.

use std::time::{Duration, Instant};

use latchkey_core::store::{key_account, KeychainStore, SecretStore};
use latchkey_testkit::files::files_containing;
use serde_json::{json, Value};

mod webdriver;
use webdriver::{answer_file_chooser, clipboard_text, App, By};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_a_key_copies_it_and_revokes_it() {
    let data = tempfile::tempdir().expect("data dir");
    let app = App::launch(
        env!("CARGO_BIN_EXE_latchkey-desktop"),
        data.path(),
        &[("LATCHKEY_CLIPBOARD_CLEAR_SECS", "3")],
    )
    .await;
    app.capture_ipc().await;

    // Create a key through the New key dialog.
    app.open_key_dialog("New key").await;
    app.type_into(By::labelled_input("Name"), "e2e deploy key")
        .await;
    app.type_into(By::labelled_input("Env var name"), "DEMO_API_KEY")
        .await;
    // Enabled once the providers arrived (the vault may still be opening).
    app.wait_for(
        By::xpath("//button[normalize-space()='Create key' and not(@disabled)]"),
        Duration::from_secs(20),
    )
    .await;
    app.click(By::button("Create key")).await;
    app.wait_for(By::button("Done"), Duration::from_secs(20))
        .await;
    let note = app
        .text(By::xpath("//section[@aria-label='Show-once panel']"))
        .await;
    assert!(note.contains("saved in your keychain"), "{note}");

    let key_id = app
        .attribute(
            By::xpath("//div[@role='row' and .//span[normalize-space()='e2e deploy key']]"),
            "data-key-id",
        )
        .await;
    let store = KeychainStore::open().expect("the same keychain the app uses");
    let stored = store
        .get(&key_account(&key_id))
        .expect("keychain read")
        .expect("key in keychain");
    let canary = stored.expose_secret().to_owned();
    assert!(canary.starts_with("lk_"));

    // Health at a glance: one fresh key on a reachable service needs nothing.
    let fine = app
        .try_text(
            By::xpath("//*[@aria-label='Keys that need attention']"),
            Duration::from_secs(20),
        )
        .await
        .expect("the health counts are shown");
    for label in [
        "0 rotation due",
        "0 expiring within 14 days",
        "0 expired",
        "0 unused for 90 days",
        "0 not verified",
        "0 on unreachable services",
    ] {
        assert!(fine.contains(label), "{label}: {fine}");
    }

    // Copy from the show-once panel; another process pastes the same key.
    app.click(By::xpath(
        "//section[@aria-label='Show-once panel']//button[normalize-space()='Copy']",
    ))
    .await;
    app.wait_for(
        By::xpath("//*[contains(., 'The clipboard clears in 3 s')]"),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(clipboard_text(), canary);
    // The one audited reveal.
    app.click(By::button("Reveal")).await;
    let revealed = "//*[@data-testid='new-key-value' and not(contains(., '•'))]";
    app.wait_for(By::xpath(revealed), Duration::from_secs(5))
        .await;
    let shown = app.text(By::xpath(revealed)).await;
    assert_eq!(shown, canary);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !clipboard_text().is_empty() {
        assert!(Instant::now() < deadline, "clipboard was not cleared");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.click(By::button("Done")).await;

    // Copy from the row too.
    let row = "//div[@role='row' and .//span[normalize-space()='e2e deploy key']]";
    app.click(By::xpath(&format!(
        "{row}//button[normalize-space()='Copy']"
    )))
    .await;
    app.wait_for(
        By::xpath("//*[@role='status' and contains(., 'Copied')]"),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(clipboard_text(), canary);

    // Quick copy: Ctrl+K, part of the name, Enter (the same Rust copy).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !clipboard_text().is_empty() {
        assert!(Instant::now() < deadline, "clipboard was not cleared");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.execute(
        "window.dispatchEvent(new KeyboardEvent('keydown', { key: 'k', ctrlKey: true, bubbles: true }));",
    )
    .await;
    app.type_into(
        By::xpath("//input[@aria-label='Quick copy search']"),
        "e2e\u{E007}",
    )
    .await;
    app.wait_for(
        By::xpath("//dialog[@aria-label='Quick copy']//*[@role='status' and contains(., 'Copied \"e2e deploy key\"')]"),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(clipboard_text(), canary);
    let deadline = Instant::now() + Duration::from_secs(5);
    while app
        .shown_now(By::xpath("//dialog[@aria-label='Quick copy']"))
        .await
    {
        assert!(Instant::now() < deadline, "quick copy did not close");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Find in folder: the key in a nested .env and in a YAML file git
    // tracks is found by fingerprint (the value never reaches the webview);
    // the tracked one is flagged as leaked.
    let project = tempfile::tempdir().expect("project");
    let root = std::fs::canonicalize(project.path()).expect("canonical");
    std::fs::create_dir_all(root.join("app")).expect("mkdir");
    std::fs::create_dir_all(root.join("deploy")).expect("mkdir");
    let env_file = root.join("app/.env");
    let yaml_file = root.join("deploy/values.yaml");
    std::fs::write(&env_file, format!("PORT=1\nDEMO_API_KEY={canary}\n")).expect("write");
    std::fs::write(&yaml_file, format!("api:\n  key: \"{canary}\"\n")).expect("write");
    for args in [&["init", "-q"][..], &["add", "deploy/values.yaml"]] {
        let out = latchkey_testkit::process::output_within(
            std::process::Command::new("git")
                .arg("-C")
                .arg(&root)
                .args(args),
            Duration::from_secs(30),
        );
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }
    // The folder comes from the system's picker ("Choose…", GTK's chooser
    // here): a cancel leaves the field as it was, a choice fills it in.
    app.click(By::button("Find in folder…")).await;
    let folder = root.display().to_string();
    let field = || async { app.property(By::labelled_input("Folder"), "value").await };
    app.click(By::button("Choose…")).await;
    answer_file_chooser("Choose a folder to search", None).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(field().await, json!(""));
    app.click(By::button("Choose…")).await;
    answer_file_chooser("Choose a folder to search", Some(&format!("{folder}/"))).await;
    app.wait_for_property(By::labelled_input("Folder"), "value", &json!(folder))
        .await;
    app.click(By::button("Search")).await;
    let summary = app
        .try_text(
            By::xpath("//*[@data-testid='scan-summary']"),
            Duration::from_secs(20),
        )
        .await
        .expect("the scan's summary");
    assert!(summary.starts_with("2 places hold"), "{summary}");
    let hits = app
        .text(By::xpath("//ul[@aria-label='Where keys are used']"))
        .await;
    assert!(!hits.contains(&canary), "{hits}");
    let env_hit = app
        .text(By::xpath(
            "//ul[@aria-label='Where keys are used']/li[contains(., 'app/.env:2')]",
        ))
        .await;
    assert!(env_hit.contains("e2e deploy key"), "{env_hit}");
    assert!(!env_hit.contains("Leaked"), "{env_hit}");
    let yaml_hit = "//ul[@aria-label='Where keys are used']/li[contains(., 'values.yaml:2')]";
    let leaked = app.text(By::xpath(yaml_hit)).await;
    assert!(leaked.contains("Leaked: git tracks this file"), "{leaked}");

    // "Rotate now" opens the key's rotation, which offers the places found:
    // the .env file by its variable, the YAML file as a checklist item.
    app.click(By::xpath(&format!(
        "{yaml_hit}//button[normalize-space()='Rotate now']"
    )))
    .await;
    app.click(By::button("Add the places found in files")).await;
    assert_eq!(
        app.property(By::labelled_input(".env file path"), "value")
            .await,
        json!(env_file.display().to_string())
    );
    assert_eq!(
        app.property(By::labelled_input("Variable"), "value").await,
        json!("DEMO_API_KEY")
    );
    let item = app
        .property(
            By::xpath("//dialog//label[contains(., 'Where to paste it')]//input"),
            "value",
        )
        .await;
    assert_eq!(
        item,
        json!(format!(
            "Replace the key in {} (line 2)",
            yaml_file.display()
        ))
    );
    app.click(By::xpath("//dialog//button[normalize-space()='Cancel']"))
        .await;

    // The key's details list both places, the tracked one as leaked.
    app.click(By::xpath(&format!(
        "{row}//button[@aria-label='Details of e2e deploy key']"
    )))
    .await;
    let found = app
        .try_text(
            By::xpath("//ul[@aria-label='Found in files']"),
            Duration::from_secs(10),
        )
        .await
        .expect("the places found");
    assert!(
        found.contains(&format!("{}:2", env_file.display()))
            && found.contains(&format!("{}:2", yaml_file.display())),
        "{found}"
    );
    assert_eq!(
        found.matches("Leaked: git tracks this file").count(),
        1,
        "{found}"
    );
    app.click(By::xpath("//dialog//button[normalize-space()='Close']"))
        .await;

    // Revoke, confirm, and see the row turn revoked.
    app.click(By::xpath(&format!(
        "{row}//button[normalize-space()='Revoke']"
    )))
    .await;
    let confirm = app.text(By::xpath("//dialog")).await;
    assert!(confirm.contains("e2e deploy key"), "{confirm}");
    app.click(By::button("Revoke key")).await;
    app.wait_for(
        By::xpath(&format!("{row}[@data-status='revoked']")),
        Duration::from_secs(20),
    )
    .await;

    app.click(By::button("Refresh")).await;
    app.wait_for(
        By::xpath(&format!("{row}[@data-status='revoked']")),
        Duration::from_secs(20),
    )
    .await;

    // Activity names the key and the service (the log keeps ids), filters
    // by action, and exports the whole log from Rust (no key inside).
    app.click(By::button("Activity")).await;
    let created_row = "//table[@aria-label='Audit log']//tr[td[normalize-space()='e2e deploy key'] and td[normalize-space()='Demo']]";
    app.wait_for(By::xpath(created_row), Duration::from_secs(10))
        .await;
    let all_rows = "//table[@aria-label='Audit log']/tbody/tr";
    let before = app
        .execute(&format!(
            "return document.evaluate(\"count({all_rows})\", document, null, XPathResult.NUMBER_TYPE, null).numberValue"
        ))
        .await;
    let action = app
        .text(By::xpath(&format!("({created_row})[last()]/td[3]")))
        .await;
    app.execute(&format!(
        "const s = document.querySelector('select[aria-label=\"Filter by action\"]'); s.value = {action:?}; s.dispatchEvent(new Event('change'));"
    ))
    .await;
    let after = app
        .execute(&format!(
            "return document.evaluate(\"count({all_rows}[td[3][normalize-space()!='{action}']])\", document, null, XPathResult.NUMBER_TYPE, null).numberValue"
        ))
        .await;
    assert_eq!(
        after,
        json!(0),
        "the filter left other actions ({before} rows before)"
    );
    app.click(By::button("Export CSV")).await;
    let saved = app
        .try_text(
            By::xpath("//*[@data-testid='export-path']"),
            Duration::from_secs(10),
        )
        .await
        .expect("the export names its file");
    let path = saved
        .split_once(" to ")
        .map(|(_, p)| p.trim().to_owned())
        .expect("the export names its file");
    let csv = std::fs::read_to_string(&path).expect("the export file");
    assert!(csv.starts_with("seq,at,actor,action,key,service,"), "{csv}");
    assert!(csv.contains("\"e2e deploy key\",\"Demo\""), "{csv}");
    assert!(!csv.contains(&canary) && !csv.contains(&canary[12..]));
    std::fs::remove_file(&path).ok();
    app.click(By::button("Keys")).await;

    // Add service: the catalogue, searchable; OpenAI added as a manual
    // connection (at a closed local port: no network needed).
    app.click(By::button("Providers")).await;
    app.type_into(
        By::xpath("//input[@aria-label='Search services']"),
        "openai",
    )
    .await;
    let row = "//ul[@aria-label='Services']/li[@data-service='openai']";
    app.wait_for(By::xpath(row), Duration::from_secs(10)).await;
    assert!(
        !app.shown_now(By::xpath(
            "//ul[@aria-label='Services']/li[@data-service='github']"
        ))
        .await,
        "the search left other services"
    );
    app.click(By::xpath(&format!(
        "{row}//button[normalize-space()='Add']"
    )))
    .await;
    app.replace_text(
        By::xpath("//form[@aria-label='Add OpenAI']//label[contains(., 'Name')]//input"),
        "OpenAI test",
    )
    .await;
    app.type_into(
        By::xpath("//form[@aria-label='Add OpenAI']//label[contains(., 'Address')]//input"),
        "http://127.0.0.1:9",
    )
    .await;
    app.click(By::button("Save OpenAI")).await;
    app.wait_for(
        By::xpath("//li[.//strong[normalize-space()='OpenAI test'] and .//span[normalize-space()='Manual']]"),
        Duration::from_secs(10),
    )
    .await;
    // A pasted key is recognised by its format: service and env var proposed.
    app.click(By::button("Keys")).await;
    app.open_key_dialog("Add existing key").await;
    let pasted = format!("sk-proj-{}T3BlbkFJ{}", "a".repeat(58), "b".repeat(58));
    app.type_into(By::labelled_input("Key"), &format!("{pasted}\u{E004}"))
        .await;
    let said = app
        .try_text(
            By::xpath("//*[@data-testid='recognised']"),
            Duration::from_secs(10),
        )
        .await
        .expect("recognised");
    assert_eq!(said, "Recognised: OpenAI key.");
    assert_eq!(
        app.property(By::labelled_input("Env var name"), "value")
            .await,
        json!("OPENAI_API_KEY")
    );
    app.click(By::xpath("//dialog//button[normalize-space()='Cancel']"))
        .await;

    // Canary scan: IPC answers (only the reveal), logs, SQLite files.
    let answers = app.captured_ipc().await;
    let carrying: Vec<&Value> = answers
        .iter()
        .filter(|a| a["response"].to_string().contains(&canary))
        .collect();
    assert_eq!(
        carrying.len(),
        1,
        "IPC answers carrying the key: {carrying:?}"
    );
    assert_eq!(carrying[0]["cmd"], json!("reveal_key"));
    assert!(
        answers.len() >= 6,
        "IPC capture saw too little: {}",
        answers.len()
    );
    let log = app.close().await;
    assert!(!log.contains(&canary), "the key appears in the app's log");
    assert!(
        !log.contains(&canary[12..]),
        "the key's secret part appears in the app's log"
    );
    assert_eq!(files_containing(data.path(), &canary), Vec::<String>::new());
    assert_eq!(
        files_containing(data.path(), &canary[12..]),
        Vec::<String>::new()
    );
}
