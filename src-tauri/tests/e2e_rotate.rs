//! End-to-end: the rotation wizard in the real app (tauri-driver +
//! WebKitWebDriver under Xvfb, real keychain, in-process Demo service).
//!
//! Story: a person rotates a key into a `.env` file plus a checklist item,
//! quits while the wizard waits for the checklist, reopens Latchkey, sees
//! the unfinished-rotation banner and rolls back (the file is byte-identical
//! again); then rotates for real and sees the old key revoked.

use std::time::Duration;

use latchkey_core::store::{key_account, KeychainStore, SecretStore};

mod webdriver;
use webdriver::{answer_file_chooser, key_row, App, By, DOTENV_TEMPLATE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotates_a_key_resumes_after_a_restart_and_rolls_back() {
    let data = tempfile::tempdir().expect("data dir");
    let project = tempfile::tempdir().expect("project dir");
    let env_path = project.path().join(".env");
    let bin = env!("CARGO_BIN_EXE_latchkey-desktop");
    let app = App::launch(bin, data.path(), &[]).await;

    let old_id = app.create_key("rotate me", "DEMO_API_KEY").await;
    let store = KeychainStore::open().expect("keychain");
    let old = store
        .get(&key_account(&old_id))
        .expect("read")
        .expect("old key in the keychain");
    let before = DOTENV_TEMPLATE.replace("{KEY}", old.expose_secret());
    std::fs::write(&env_path, &before).expect("write .env");

    // Start a rotation with a .env file and a checklist item.
    app.click(By::xpath(&format!(
        "{}//button[normalize-space()='Rotate']",
        key_row("rotate me")
    )))
    .await;
    app.type_into(
        By::labelled_input(".env file path"),
        &env_path.display().to_string(),
    )
    .await;
    app.click(By::button("Add checklist item")).await;
    app.type_into(
        By::labelled_input("Where to paste it"),
        "CI secret DEMO_API_KEY",
    )
    .await;
    app.click(By::button("Start rotation")).await;
    app.wait_for(By::button("Copy new key"), Duration::from_secs(30))
        .await;
    let stepper = app
        .text(By::xpath("//ol[@aria-label='Rotation steps']"))
        .await;
    assert!(stepper.contains("Deploy"), "{stepper}");
    let deployed = std::fs::read_to_string(&env_path).expect("read");
    assert_ne!(
        deployed, before,
        "the .env file holds the new key while the checklist waits"
    );
    app.close().await;

    // Reopen: the banner offers Resume and Roll back.
    let app = App::launch(bin, data.path(), &[]).await;
    let banner =
        "//div[@role='alert' and contains(@aria-label, 'Unfinished rotation of rotate me')]";
    app.wait_for(By::xpath(banner), Duration::from_secs(20))
        .await;
    app.click(By::xpath(&format!(
        "{banner}//button[normalize-space()='Roll back']"
    )))
    .await;
    app.wait_for(
        By::xpath("//p[@data-state='rolled_back']"),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        std::fs::read_to_string(&env_path).expect("read"),
        before,
        "rolled back byte for byte"
    );
    app.click(By::button("Done")).await;
    assert!(app
        .try_text(By::xpath(banner), Duration::from_secs(2))
        .await
        .is_none());

    // Rotate for real: the .env file only, chosen in the system's file
    // picker ("Choose…"; a .env file is a hidden file there).
    app.click(By::xpath(&format!(
        "{}//button[normalize-space()='Rotate']",
        key_row("rotate me")
    )))
    .await;
    app.click(By::xpath(
        "//dialog//button[@aria-label='Choose the .env file of target 1']",
    ))
    .await;
    answer_file_chooser(
        "Choose the file for the new key",
        Some(&env_path.display().to_string()),
    )
    .await;
    app.wait_for_property(
        By::labelled_input(".env file path"),
        "value",
        &serde_json::json!(env_path.display().to_string()),
    )
    .await;
    app.click(By::button("Start rotation")).await;
    app.wait_for(
        By::xpath("//p[@data-state='done']"),
        Duration::from_secs(30),
    )
    .await;
    app.click(By::button("Done")).await;
    // The key keeps its name: one active row; the old generation is folded
    // away until "Show revoked".
    app.wait_for(
        By::xpath(&format!("{}[@data-status='active']", key_row("rotate me"))),
        Duration::from_secs(20),
    )
    .await;
    assert!(
        !app.shown_now(By::xpath(&format!(
            "{}[@data-status='revoked']",
            key_row("rotate me")
        )))
        .await,
        "the old generation is listed without Show revoked"
    );
    app.click(By::xpath("//label[contains(., 'Show revoked')]/input"))
        .await;
    app.wait_for(
        By::xpath(&format!("{}[@data-status='revoked']", key_row("rotate me"))),
        Duration::from_secs(20),
    )
    .await;
    // Its details: where the rotation deployed it, the rotation, the
    // older generation, and the timeline.
    app.click(By::xpath(&format!(
        "{}[@data-status='active']//button[@aria-label='Details of rotate me']",
        key_row("rotate me")
    )))
    .await;
    let details = app
        .try_text(
            By::xpath(
                "//section[@aria-label='Key details' and .//ul[@aria-label='Older generations']]",
            ),
            Duration::from_secs(10),
        )
        .await
        .expect("the key's details");
    assert!(
        details.contains(&format!("DEMO_API_KEY in {}", env_path.display())),
        "{details}"
    );
    assert!(details.contains(": done (overlap, 1 target)"), "{details}");
    assert!(details.contains("Revoked"), "{details}");
    // Its activity reads without the rotation's id or working name.
    assert!(
        details.contains("verified the new key of the rotation"),
        "{details}"
    );
    assert!(!details.contains("(rotation "), "{details}");
    assert_eq!(uuids(&details), 0, "{details}");
    assert!(
        app.shown_now(By::xpath("//*[@aria-label=\"Timeline of the key's life\"]"))
            .await
    );
    // Created, rotated and today fall on one spot: their labels are one
    // group, and no label overlaps another or leaves the picture.
    let collisions = app
        .execute(
            "const svg = document.querySelector(\"[aria-label=\\\"Timeline of the key's life\\\"]\");
             const w = svg.viewBox.baseVal.width;
             const boxes = [...svg.querySelectorAll('text')].map((t) => {
               const b = t.getBBox(); return { t: t.textContent, x: b.x, r: b.x + b.width, y: b.y };
             });
             const out = boxes.filter((b) => b.x < 0 || b.r > w).map((b) => 'outside: ' + b.t);
             boxes.forEach((a, i) => boxes.slice(i + 1).forEach((c) => {
               if (a.y === c.y && a.x < c.r && c.x < a.r) out.push('overlap: ' + a.t + ' / ' + c.t);
             }));
             return [out, boxes.map((b) => b.t)];",
        )
        .await;
    assert_eq!(collisions[0], serde_json::json!([]), "{collisions}");
    assert!(
        collisions[1].as_array().is_some_and(|l| l.iter().any(|t| t
            .as_str()
            .is_some_and(|t| t.contains("created") && t.contains("today")))),
        "{collisions}"
    );
    app.click(By::xpath("//dialog//button[normalize-space()='Close']"))
        .await;
    // The next rotation offers the same place again.
    app.click(By::xpath(&format!(
        "{}[@data-status='active']//button[normalize-space()='Rotate']",
        key_row("rotate me")
    )))
    .await;
    app.click(By::button("Deploy to the same place")).await;
    assert_eq!(
        app.property(By::labelled_input(".env file path"), "value")
            .await,
        serde_json::Value::String(env_path.display().to_string())
    );
    app.click(By::xpath("//dialog//button[normalize-space()='Cancel']"))
        .await;
    // Activity too names the rotation's steps without ids.
    app.click(By::button("Activity")).await;
    let log = app
        .try_text(
            By::xpath("//table[@aria-label='Audit log' and .//td[contains(., 'old key revoked')]]"),
            Duration::from_secs(10),
        )
        .await
        .expect("the audit log");
    assert!(log.contains("rotation done; old key revoked"), "{log}");
    assert_eq!(uuids(&log), 0, "{log}");
    assert!(!log.contains("(rotation "), "{log}");
    let after = std::fs::read_to_string(&env_path).expect("read");
    assert!(!after.contains(old.expose_secret()));
    assert!(
        after.starts_with("# local settings\nexport DEMO_API_KEY=\"lk_")
            && after.ends_with("\"\nPORT=3000\n")
    );
    app.close().await;
}

/// How many UUIDs (8-4-4-4-12 hex digits) `text` holds.
fn uuids(text: &str) -> usize {
    let groups = [8, 4, 4, 4, 12];
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .filter(|word| {
            let parts: Vec<&str> = word.split('-').collect();
            parts.len() == 5 && parts.iter().zip(groups).all(|(p, n)| p.len() == n)
        })
        .count()
}
