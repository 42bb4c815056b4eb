//! End-to-end: the Keys screen and its dialogs by keyboard alone, in the
//! real app under tauri-driver + WebKitWebDriver (Xvfb, the real keychain).
//!
//! `/` goes to the search box; arrows move through the rows; Enter opens the
//! selected key's details; Esc closes them and gives focus back to the row;
//! `c` copies the selected key through the same Rust copy as the Copy button
//! (another process pastes it); a dialog keeps Tab and Shift+Tab inside.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod webdriver;
use webdriver::{clipboard_text, keychain_secret, keys, App, By, WAIT};

const NAMES: [&str; 3] = ["kb alpha", "kb bravo", "kb charlie"];

/// What has focus: its tag, role, aria-label, row index and whether it is
/// inside an open dialog.
async fn focused(app: &App) -> Value {
    app.execute(
        "const a = document.activeElement;
         return { tag: a.tagName.toLowerCase(), role: a.getAttribute('role'),
                  label: a.getAttribute('aria-label') || a.textContent.trim().slice(0, 40),
                  row: a.getAttribute('aria-rowindex'), key: a.getAttribute('data-key-id'),
                  selected: a.getAttribute('aria-selected'), value: a.value ?? null,
                  in_dialog: !!a.closest('dialog[open]') };",
    )
    .await
}

/// Waits until `check` holds for what has focus.
async fn focus_becomes(app: &App, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = focused(app).await;
        if check(&now) {
            return now;
        }
        assert!(Instant::now() < deadline, "focus is not {what}: {now}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn dialog_gone(app: &App, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.shown_now(By::xpath("//dialog")).await {
        assert!(Instant::now() < deadline, "Esc did not close {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_screen_and_dialogs_by_keyboard() {
    let data = tempfile::tempdir().expect("data dir");
    let app = App::launch(
        env!("CARGO_BIN_EXE_latchkey-desktop"),
        data.path(),
        &[("LATCHKEY_CLIPBOARD_CLEAR_SECS", "30")],
    )
    .await;
    for name in NAMES {
        app.create_key(name, "").await;
    }
    // The rows in the order shown: (key id, name).
    let rows: Vec<(String, String)> = serde_json::from_value(
        app.execute(
            "return Array.from(document.querySelectorAll('.viewport [role=row]'))
               .sort((a, b) => a.getAttribute('aria-rowindex') - b.getAttribute('aria-rowindex'))
               .map((r) => [r.dataset.keyId, r.querySelector('.link-name').textContent.trim()]);",
        )
        .await,
    )
    .expect("rows");
    assert_eq!(rows.len(), 3, "{rows:?}");

    // `/` from outside any field focuses the search box, and is not typed.
    app.execute("document.activeElement.blur();").await;
    app.press("/").await;
    let now = focus_becomes(&app, "the search box", |f| f["label"] == "Search keys").await;
    assert_eq!(now["value"], json!(""), "the slash was typed: {now}");

    // A click on a row's cell puts it in focus; arrows move the selection.
    app.click(By::xpath("//div[@role='row' and @aria-rowindex='1']"))
        .await;
    focus_becomes(&app, "row 1", |f| f["row"] == "1").await;
    app.press(&format!(
        "{}{}{}",
        keys::ARROW_DOWN,
        keys::ARROW_DOWN,
        keys::ARROW_UP
    ))
    .await;
    let (id, name) = &rows[1];
    let now = focus_becomes(&app, "row 2", |f| f["row"] == "2").await;
    assert_eq!(now["key"], json!(id), "{now}");
    assert_eq!(now["selected"], json!("true"), "{now}");
    let selected = app
        .execute(
            "return document.querySelectorAll('.viewport [role=row][aria-selected=true]').length;",
        )
        .await;
    assert_eq!(selected, json!(1), "one row is selected");

    // Enter opens that key's details; Esc closes them, focus back on the row.
    app.press(keys::ENTER).await;
    app.wait_for(
        By::xpath(&format!(
            "//dialog[@aria-label='{name}']//section[@aria-label='Key details' and @data-key-id='{id}']"
        )),
        WAIT,
    )
    .await;
    app.press(keys::ESCAPE).await;
    dialog_gone(&app, "key details").await;
    focus_becomes(&app, "row 2 again", |f| f["key"] == json!(id)).await;

    // `c` copies the selected key: another process pastes it.
    let secret = keychain_secret(id);
    app.press("c").await;
    app.wait_for(
        By::xpath(&format!(
            "//*[@role='status' and contains(., 'Copied \"{name}\"')]"
        )),
        WAIT,
    )
    .await;
    assert_eq!(clipboard_text(), secret, "`c` did not copy {name}");

    // A dialog keeps Tab inside: round and round, never out to the page.
    app.open_key_dialog("New key").await;
    let first = focus_becomes(&app, "inside New key", |f| f["in_dialog"] == json!(true)).await;
    let mut seen = vec![first.clone()];
    for _ in 0..20 {
        app.press(keys::TAB).await;
        let now = focused(&app).await;
        assert_eq!(now["in_dialog"], json!(true), "Tab left the dialog: {now}");
        seen.push(now);
    }
    let laps = seen.iter().filter(|f| **f == first).count();
    assert!(laps >= 2, "Tab never came back round to {first}: {seen:?}");
    // Shift+Tab from the first control goes to the last one.
    while focused(&app).await != first {
        app.press(keys::TAB).await;
    }
    app.press_with(keys::SHIFT, keys::TAB).await;
    let last = focused(&app).await;
    assert_eq!(
        last["in_dialog"],
        json!(true),
        "Shift+Tab left the dialog: {last}"
    );
    assert_ne!(last, first);
    app.press(keys::TAB).await;
    assert_eq!(focused(&app).await, first, "Tab from the last control");
    app.press(keys::ESCAPE).await;
    dialog_gone(&app, "New key").await;
    let opener = focus_becomes(&app, "New key again", |f| f["label"] == "New key").await;

    // Quick copy (Ctrl+K) too: Tab stays in it, Esc closes it.
    app.press_with(keys::CONTROL, "k").await;
    app.wait_for(
        By::xpath("//dialog[@aria-label='Quick copy']//li[@role='option']"),
        WAIT,
    )
    .await;
    focus_becomes(&app, "the quick copy search", |f| {
        f["label"] == "Quick copy search"
    })
    .await;
    for _ in 0..4 {
        app.press(keys::TAB).await;
        let now = focused(&app).await;
        assert_eq!(now["in_dialog"], json!(true), "Tab left quick copy: {now}");
    }
    app.press(keys::ESCAPE).await;
    dialog_gone(&app, "Quick copy").await;
    focus_becomes(&app, "New key again", |f| *f == opener).await;

    app.close().await;
}
