//! End-to-end: the rotation wizard's strategies (issue 13) in the real app,
//! on AWS IAM emulated by `moto_server` with credential checks on.
//!
//! Story: a person rotates an AWS access key into a `.env` file. The wizard
//! shows "How the keys are swapped", deactivate first chosen; the rotation
//! stops at "Old key deactivated" (the old key is switched off on IAM, not
//! deleted), "Delete it" finishes it (gone from IAM). Rotated again and
//! "Reactivate": the old key is on again, the new one deleted, the `.env`
//! byte-exact as before. Then overlap, picked in the wizard: something
//! still signs in with the old key after the deploy, so the revoke is held
//! with "Something still uses the old key (last used …)" until "Revoke
//! anyway".

use std::path::Path;
use std::time::Duration;

mod webdriver;
use webdriver::{App, By};
#[path = "webdriver/aws.rs"]
mod aws;
use aws::{cli, id_of, Iam};

/// One app at a time (it is single-instance).
static ONE_APP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const STRATEGIES: &str = "//dialog//fieldset[@aria-label='How the keys are swapped']";
const DIALOG_STATE: &str = "//dialog//p[@role='status' and @data-state]";
const KEY: &str = "deploy bot";

fn state_is(state: &str) -> By {
    By::xpath(&format!(
        "//dialog//p[@role='status' and @data-state='{state}']"
    ))
}

fn radio(strategy: &str) -> By {
    By::xpath(&format!(
        "{STRATEGIES}//input[@type='radio' and @value='{strategy}']"
    ))
}

fn in_group(group: &str, button: &str) -> By {
    By::xpath(&format!(
        "//dialog//div[@role='group' and @aria-label='{group}']//button[normalize-space()='{button}']"
    ))
}

/// The pair the `.env` file holds in `AWS_PAIR`, its other lines kept.
fn pair_in(env_path: &Path) -> String {
    let text = std::fs::read_to_string(env_path).expect("read .env");
    assert!(
        text.starts_with("# bot\nAWS_PAIR=") && text.ends_with("\nPORT=3000\n"),
        "the .env file's other lines changed"
    );
    text.lines()
        .find_map(|l| l.strip_prefix("AWS_PAIR="))
        .expect("AWS_PAIR")
        .to_owned()
}

/// The keys list's row of the AWS access key `id` (its preview, the Key
/// cell's title). Not by name: rotations here make several generations of
/// one named key, and the access key id tells them apart. (IAM keys have no
/// names of their own; a listing keeps the one Latchkey gave, a77cb83.)
fn row_of(id: &str) -> String {
    format!("//div[@role='row' and .//span[@role='cell' and @title='{id}']]")
}

/// Opens the wizard of the active AWS key `id`, waits for its strategies.
async fn open_wizard(app: &App, id: &str) {
    app.click(By::xpath(&format!(
        "{}[@data-status='active']//button[normalize-space()='Rotate']",
        row_of(id)
    )))
    .await;
    app.wait_for(By::xpath(STRATEGIES), webdriver::WAIT).await;
}

/// The strategies the wizard offers, in order, and the one checked.
async fn offered(app: &App) -> (Vec<String>, Vec<bool>) {
    let labels = app
        .execute(
            "return Array.from(document.querySelectorAll(\"dialog fieldset[aria-label='How the keys are swapped'] label\")).map(l => l.textContent.trim());",
        )
        .await;
    let checked = app
        .execute(
            "return Array.from(document.querySelectorAll(\"dialog fieldset[aria-label='How the keys are swapped'] input[type=radio]\")).map(i => i.checked);",
        )
        .await;
    (
        serde_json::from_value(labels).expect("labels"),
        serde_json::from_value(checked).expect("checked"),
    )
}

async fn start(app: &App, env_path: &Path, checklist: Option<&str>) {
    app.type_into(
        By::labelled_input(".env file path"),
        &env_path.display().to_string(),
    )
    .await;
    if let Some(item) = checklist {
        app.click(By::button("Add checklist item")).await;
        app.type_into(By::labelled_input("Where to paste it"), item)
            .await;
    }
    app.click(By::button("Start rotation")).await;
}

fn active(id: &str) -> (String, String) {
    (id.to_owned(), "Active".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivate_first_stops_at_old_key_deactivated_then_deletes_or_reactivates() {
    let _one = ONE_APP.lock().await;
    let iam = Iam::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let project = tempfile::tempdir().expect("project dir");
    let env_path = project.path().join(".env");
    let old = iam.add_key(data.path(), "prod", KEY, "AWS_PAIR");
    let old_id = id_of(&old).to_owned();
    std::fs::write(&env_path, format!("# bot\nAWS_PAIR={old}\nPORT=3000\n")).expect("write");
    assert_eq!(iam.keys().await, [active(&old_id)]);
    let app = App::launch(env!("CARGO_BIN_EXE_latchkey-desktop"), data.path(), &[]).await;

    // Shown before it starts: what AWS can do, deactivate first chosen.
    open_wizard(&app, &old_id).await;
    let (labels, checked) = offered(&app).await;
    assert_eq!(labels, ["Deactivate first", "Overlap"]);
    assert_eq!(checked, [true, false]);
    let said = app
        .text(By::xpath(&format!(
            "{STRATEGIES}//p[@data-strategy='deactivate_first']"
        )))
        .await;
    assert!(said.contains("switched off, not deleted"), "{said}");
    start(&app, &env_path, None).await;

    // It stops with the old key switched off on IAM, not deleted.
    app.wait_for(
        in_group("Old key deactivated", "Delete it"),
        Duration::from_secs(60),
    )
    .await;
    assert!(
        app.shown_now(in_group("Old key deactivated", "Reactivate"))
            .await
    );
    assert!(app.shown_now(state_is("old_deactivated")).await);
    let new = pair_in(&env_path);
    let new_id = id_of(&new).to_owned();
    assert_ne!(new_id, old_id, "the .env file holds the new key");
    let mut expected = vec![(old_id.clone(), "Inactive".to_owned()), active(&new_id)];
    expected.sort();
    assert_eq!(iam.keys().await, expected);
    assert!(iam.call_with(&new).await, "the new key works");

    // "Delete it": done, the old key gone from IAM.
    app.click(in_group("Old key deactivated", "Delete it"))
        .await;
    app.wait_for(state_is("done"), Duration::from_secs(60))
        .await;
    assert_eq!(iam.keys().await, [active(&new_id)]);
    assert!(!iam.call_with(&old).await, "the old key still signs in");
    assert_eq!(pair_in(&env_path), new);
    app.click(By::button("Done")).await;

    // Rotated again, then "Reactivate": rolled back.
    let before = std::fs::read(&env_path).expect("read");
    open_wizard(&app, &new_id).await;
    assert_eq!(offered(&app).await.1, [true, false]);
    start(&app, &env_path, None).await;
    app.wait_for(
        in_group("Old key deactivated", "Reactivate"),
        Duration::from_secs(60),
    )
    .await;
    let newer = pair_in(&env_path);
    let newer_id = id_of(&newer).to_owned();
    assert_ne!(newer_id, new_id);
    let mut expected = vec![(new_id.clone(), "Inactive".to_owned()), active(&newer_id)];
    expected.sort();
    assert_eq!(iam.keys().await, expected);
    app.click(in_group("Old key deactivated", "Reactivate"))
        .await;
    app.wait_for(state_is("rolled_back"), Duration::from_secs(60))
        .await;
    assert_eq!(
        iam.keys().await,
        [active(&new_id)],
        "the old key is on again and the newer one deleted"
    );
    assert!(
        std::fs::read(&env_path).expect("read") == before,
        "the .env file is not byte-exact as before"
    );
    assert!(iam.call_with(&new).await);
    assert!(
        !iam.call_with(&newer).await,
        "the undone key still signs in"
    );
    app.click(By::button("Done")).await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlap_chosen_in_the_wizard_holds_the_revoke_while_the_old_key_is_used() {
    let _one = ONE_APP.lock().await;
    let iam = Iam::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let project = tempfile::tempdir().expect("project dir");
    let env_path = project.path().join(".env");
    let old = iam.add_key(data.path(), "prod", KEY, "AWS_PAIR");
    let old_id = id_of(&old).to_owned();
    std::fs::write(&env_path, format!("# bot\nAWS_PAIR={old}\nPORT=3000\n")).expect("write");
    let bin = env!("CARGO_BIN_EXE_latchkey-desktop");
    let app = App::launch(bin, data.path(), &[]).await;

    // Overlap, picked in the wizard, with a checklist item: the run waits
    // for the person after writing the .env file.
    open_wizard(&app, &old_id).await;
    app.click(radio("overlap")).await;
    assert_eq!(offered(&app).await.1, [false, true]);
    let said = app
        .text(By::xpath(&format!(
            "{STRATEGIES}//p[@data-strategy='overlap']"
        )))
        .await;
    assert!(said.contains("revoked only once"), "{said}");
    start(&app, &env_path, Some("CI secret AWS_PAIR")).await;
    app.wait_for(By::button("Copy new key"), Duration::from_secs(60))
        .await;
    let listed = cli(data.path(), &["rotations", "--json"], None, &[]);
    assert!(listed.status.success());
    let rotation: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(rotation[0]["strategy"], "overlap", "{rotation:#}");
    let id = rotation[0]["id"].as_str().expect("id").to_owned();
    app.click(By::xpath(
        "//dialog//label[contains(normalize-space(), 'Pasted in CI secret AWS_PAIR')]//input[@type='checkbox']",
    ))
    .await;
    app.wait_for(
        By::xpath("//dialog//label[contains(normalize-space(), 'Pasted in CI secret AWS_PAIR')]//input[@disabled]"),
        Duration::from_secs(10),
    )
    .await;
    app.close().await;

    // The CLI goes on from the checklist and is killed right before the
    // revoke: deployed and verified, both keys live.
    let killed = cli(
        data.path(),
        &["rotate", "--resume", &id],
        None,
        &[("FAILPOINTS", "rotation::revoke_old::before=return")],
    );
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        killed.status.signal(),
        Some(9),
        "the CLI was not killed at the failpoint (built without failpoints?): {}",
        String::from_utf8_lossy(&killed.stderr)
    );
    let new = pair_in(&env_path);
    let new_id = id_of(&new).to_owned();
    assert_ne!(new_id, old_id);
    let mut both = vec![active(&old_id), active(&new_id)];
    both.sort();
    assert_eq!(iam.keys().await, both);
    // Something still signs in with the old key, a second after the deploy.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(iam.call_with(&old).await);
    let last_used = iam.last_used(&old_id).await.expect("IAM noted the use");

    // The app again: the banner's Resume, held by the last-used guard.
    let app = App::launch(bin, data.path(), &[]).await;
    let banner = "//div[@role='alert' and contains(@aria-label, 'Unfinished rotation of')]";
    app.click(By::xpath(&format!(
        "{banner}//button[normalize-space()='Resume']"
    )))
    .await;
    let held = in_group("Old key still in use", "Revoke anyway");
    app.wait_for(held, Duration::from_secs(60)).await;
    let message = app
        .text(By::xpath(
            "//dialog//div[@role='group' and @aria-label='Old key still in use']/p",
        ))
        .await;
    assert!(
        message.starts_with("Something still uses the old key (last used "),
        "{message}"
    );
    assert!(
        message.contains(&last_used[..19]),
        "{message} does not say when ({last_used})"
    );
    assert!(app.shown_now(state_is("verified")).await);
    assert_eq!(iam.keys().await, both, "the old key is kept while held");

    // "Revoke anyway": done, the old key deleted on IAM.
    app.click(in_group("Old key still in use", "Revoke anyway"))
        .await;
    app.wait_for(state_is("done"), Duration::from_secs(60))
        .await;
    assert_eq!(iam.keys().await, [active(&new_id)]);
    assert!(!iam.call_with(&old).await, "the old key still signs in");
    assert_eq!(pair_in(&env_path), new);
    let state = app.attribute(By::xpath(DIALOG_STATE), "data-state").await;
    assert_eq!(state, "done");
    app.click(By::button("Done")).await;
    app.close().await;
}

/// AWS allows two keys per IAM user. With both taken, the wizard names the
/// other key (its vault name, when it was last used) and deletes it only
/// when the person clicks "Delete this key" on it; then the rotation has
/// room and runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_iam_user_names_the_other_key_and_deletes_it_only_when_chosen() {
    let _one = ONE_APP.lock().await;
    let iam = Iam::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let project = tempfile::tempdir().expect("project dir");
    let env_path = project.path().join(".env");
    let old = iam.add_key(data.path(), "prod", KEY, "AWS_PAIR");
    let old_id = id_of(&old).to_owned();
    let spare = cli(
        data.path(),
        &[
            "create",
            "--provider",
            "prod",
            "--name",
            "spare",
            "--env-var",
            "SPARE",
        ],
        None,
        &[],
    );
    assert!(spare.status.success(), "create spare");
    let spare_id = String::from_utf8_lossy(&spare.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("AWS_ACCESS_KEY_ID="))
        .expect("spare id")
        .to_owned();
    std::fs::write(&env_path, format!("# bot\nAWS_PAIR={old}\nPORT=3000\n")).expect("write");
    let mut both = vec![active(&old_id), active(&spare_id)];
    both.sort();
    assert_eq!(iam.keys().await, both);
    let app = App::launch(env!("CARGO_BIN_EXE_latchkey-desktop"), data.path(), &[]).await;

    open_wizard(&app, &old_id).await;
    let full = "//dialog//div[@role='group' and @aria-label='No room for the new key']";
    app.wait_for(By::xpath(full), Duration::from_secs(30)).await;
    let said = app.text(By::xpath(full)).await;
    assert!(said.contains(&spare_id), "{said}");
    assert!(said.contains("“spare”"), "the vault's name for it: {said}");
    assert!(said.contains("never used"), "{said}");
    assert!(
        !said.contains(&old_id),
        "the key being rotated is not offered: {said}"
    );
    // Nothing is deleted until the person picks the key.
    assert_eq!(iam.keys().await, both);
    app.click(By::xpath(&format!(
        "{full}//button[@aria-label='Delete this key: {spare_id}']"
    )))
    .await;
    app.wait_for(
        By::xpath("//dialog//*[contains(., 'there is room for the new key now')]"),
        Duration::from_secs(30),
    )
    .await;
    assert!(!app.shown_now(By::xpath(full)).await);
    assert_eq!(iam.keys().await, [active(&old_id)]);

    // Room now: the rotation runs (deactivate first stops with both keys).
    start(&app, &env_path, None).await;
    app.wait_for(
        in_group("Old key deactivated", "Delete it"),
        Duration::from_secs(60),
    )
    .await;
    let new_id = id_of(&pair_in(&env_path)).to_owned();
    let mut expected = vec![(old_id.clone(), "Inactive".to_owned()), active(&new_id)];
    expected.sort();
    assert_eq!(iam.keys().await, expected);
    app.close().await;
}
