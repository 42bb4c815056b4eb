//! End-to-end: an unfinished rotation that another Latchkey (a terminal, a
//! second window) is running right now is shown as such, without "Resume"
//! or "Roll back", until that process lets go. The other process is played
//! by this test holding the rotation's lock file in the shared data
//! directory, exactly as a running `latchkey rotate` holds it.

use std::time::Duration;

use latchkey_core::store::{key_account, KeychainStore, SecretStore};

mod webdriver;
use webdriver::{key_row, App, By, DOTENV_TEMPLATE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_running_elsewhere_cannot_be_resumed_or_rolled_back_here() {
    let data = tempfile::tempdir().expect("data dir");
    let project = tempfile::tempdir().expect("project dir");
    let env_path = project.path().join(".env");
    let app = App::launch(env!("CARGO_BIN_EXE_latchkey-desktop"), data.path(), &[]).await;
    let id = app.create_key("held key", "DEMO_API_KEY").await;
    let old = KeychainStore::open()
        .expect("keychain")
        .get(&key_account(&id))
        .expect("read")
        .expect("held");
    std::fs::write(
        &env_path,
        DOTENV_TEMPLATE.replace("{KEY}", old.expose_secret()),
    )
    .expect("write .env");

    // A rotation that waits for its checklist.
    app.click(By::xpath(&format!(
        "{}//button[normalize-space()='Rotate']",
        key_row("held key")
    )))
    .await;
    app.type_into(
        By::labelled_input(".env file path"),
        &env_path.display().to_string(),
    )
    .await;
    app.click(By::button("Add checklist item")).await;
    app.type_into(By::labelled_input("Where to paste it"), "CI secret")
        .await;
    app.click(By::button("Start rotation")).await;
    app.wait_for(By::button("Copy new key"), Duration::from_secs(30))
        .await;
    // Leave the wizard as Escape does; the rotation stays unfinished.
    app.execute("document.querySelector('dialog')?.close()")
        .await;
    let banner =
        "//div[@role='alert' and contains(@aria-label, 'Unfinished rotation of held key')]";
    app.wait_for(
        By::xpath(&format!("{banner}//button[normalize-space()='Roll back']")),
        Duration::from_secs(20),
    )
    .await;

    // Another process takes the rotation's lock (`locks/` also holds the
    // folder's keychain lock, which is not a rotation's).
    let locks = data.path().join("locks");
    let lock_path = std::fs::read_dir(&locks)
        .expect("the rotation's lock file")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("rotation-"))
                && p.extension().is_some_and(|x| x == "lock")
        })
        .expect("a rotation's lock file");
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&lock_path)
        .expect("open lock");
    lock.try_lock().expect("free while nobody runs it");
    app.wait_for(
        By::xpath(&format!(
            "{banner}[contains(., 'Running in another Latchkey window or terminal')]"
        )),
        Duration::from_secs(10),
    )
    .await;
    assert!(
        app.try_text(
            By::xpath(&format!(
                "{banner}//button[normalize-space()='Roll back' or normalize-space()='Resume']"
            )),
            Duration::from_millis(500)
        )
        .await
        .is_none(),
        "Roll back / Resume offered for a rotation another process runs"
    );

    // It lets go: the banner offers Resume and Roll back again.
    drop(lock);
    app.wait_for(
        By::xpath(&format!("{banner}//button[normalize-space()='Roll back']")),
        Duration::from_secs(10),
    )
    .await;
    app.close().await;
}
