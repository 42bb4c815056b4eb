//! End-to-end: rotating into a `.env` file that is a symbolic link, in the
//! real app. The wizard refuses the link until the person agrees to write
//! through it; then the file it points to is updated and the link stays a
//! link. (Its own file: the app is single-instance, and tests in one file
//! run at the same time.)

use std::time::Duration;

use latchkey_core::store::{key_account, KeychainStore, SecretStore};

mod webdriver;
use webdriver::{key_row, App, By, DOTENV_TEMPLATE};

/// A `.env` that is a symbolic link: the wizard refuses it until the person
/// ticks "Write through the symbolic link…", then writes the file it points
/// to and leaves the link a link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlinked_env_file_is_written_only_after_the_person_agrees() {
    let data = tempfile::tempdir().expect("data dir");
    let project = tempfile::tempdir().expect("project dir");
    let real = project.path().join("shared.env");
    let link = project.path().join(".env");
    let bin = env!("CARGO_BIN_EXE_latchkey-desktop");
    let app = App::launch(bin, data.path(), &[]).await;

    let old_id = app.create_key("linked key", "DEMO_API_KEY").await;
    let old = KeychainStore::open()
        .expect("keychain")
        .get(&key_account(&old_id))
        .expect("read")
        .expect("old key in the keychain");
    std::fs::write(&real, DOTENV_TEMPLATE.replace("{KEY}", old.expose_secret())).expect("write");
    std::os::unix::fs::symlink("shared.env", &link).expect("symlink");

    app.click(By::xpath(&format!(
        "{}//button[normalize-space()='Rotate']",
        key_row("linked key")
    )))
    .await;
    app.type_into(
        By::labelled_input(".env file path"),
        &link.display().to_string(),
    )
    .await;
    app.click(By::button("Start rotation")).await;
    let alert = app.text(By::xpath("//dialog//*[@role='alert']")).await;
    assert!(alert.contains("symbolic link"), "{alert}");
    let untouched = std::fs::read_to_string(&real).expect("read");
    assert!(
        untouched.contains(old.expose_secret()),
        "nothing written yet"
    );

    app.click(By::xpath(
        "//label[contains(., 'Write through the symbolic link')]//input[@type='checkbox']",
    ))
    .await;
    app.click(By::button("Start rotation")).await;
    app.wait_for(
        By::xpath("//p[@data-state='done']"),
        Duration::from_secs(30),
    )
    .await;
    app.click(By::button("Done")).await;
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink(),
        "the link is still a link"
    );
    let written = std::fs::read_to_string(&real).expect("read");
    assert!(!written.contains(old.expose_secret()), "{written}");
    assert!(written.contains("export DEMO_API_KEY=\"lk_") && written.contains("PORT=3000"));
    app.close().await;
}
