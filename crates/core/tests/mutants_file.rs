//! Edges of the file target every file kind shares (`deploy/file/`) that
//! `cargo mutants` showed no other test would notice
//! (`scripts/mutants.sh dotenv-file`): each test names the change it fails
//! on. Real files in temporary folders; no keychain, no service.

use std::path::Path;

use latchkey_core::catalog::TargetSpec;
use latchkey_core::deploy::dotenv_file::{sweep_temp_files, DotenvFile};
use latchkey_core::deploy::{
    Backup, DeployTarget, DotenvEditor, EditError, EditableFile, Editor, FileTarget, Written,
    YamlEditor,
};
use latchkey_core::Secret;

fn backup(dir: &Path) -> Backup<'_> {
    Backup { dir, index: 0 }
}

/// A missing `.env` is refused at plan time and never made by a write: only
/// an editor that says how ([`Editor::new_file`], Open Animate's YAML file)
/// may make a file (the trait's default `None` as `Some(vec![])`).
#[tokio::test]
async fn a_missing_env_file_is_refused_and_never_made() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(".env");
    let t = FileTarget::<DotenvEditor>::new(&path.display().to_string(), "API_KEY", false);
    let e = t.prepare().await.expect_err("missing");
    assert_eq!(e.code().as_str(), "deploy_failed");
    let e = t
        .write(&Secret::new("new"), &backup(data.path()), Some("absent"))
        .await
        .expect_err("missing");
    assert_eq!(e.code().as_str(), "deploy_failed");
    assert!(!path.exists(), "no file was made");
    assert!(!t
        .holds(&Secret::new("new").fingerprint())
        .await
        .is_ok_and(|h| h));
}

/// A snapshot's Debug names its size, never its bytes (the `Debug` as an
/// empty write).
#[test]
fn a_snapshots_debug_is_its_size_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(".env");
    std::fs::write(&path, "API_KEY=sk-secret\n").expect("write");
    let snapshot = DotenvFile::open(&path, false)
        .expect("open")
        .read()
        .expect("read");
    assert_eq!(format!("{snapshot:?}"), "Snapshot(18 bytes)");
}

/// A `.env` editor whose reader never finds the key, and whose new file
/// is a comment: what a broken editor would do.
struct Forgetful;

impl Editor for Forgetful {
    const KEY_FIELD: &'static str = DotenvEditor::KEY_FIELD;
    fn read_value(_: &[u8], _: &str) -> Option<Secret> {
        None
    }
    fn set_value(bytes: &[u8], key: &str, value: &str) -> Result<Vec<u8>, EditError> {
        DotenvEditor::set_value(bytes, key, value)
    }
    fn remove_value(bytes: &[u8], key: &str) -> Result<Vec<u8>, EditError> {
        DotenvEditor::remove_value(bytes, key)
    }
    fn check_edit(before: &[u8], after: &[u8], key: &str, value: Option<&str>) -> bool {
        DotenvEditor::check_edit(before, after, key, value)
    }
    fn check_key(key: &str) -> latchkey_core::Result<String> {
        DotenvEditor::check_key(key)
    }
    fn spec(path: String, key: String, follow_symlink: bool) -> TargetSpec {
        DotenvEditor::spec(path, key, follow_symlink)
    }
    fn new_file(_: &Path, _: &str, _: &str) -> Option<Vec<u8>> {
        Some(b"# nothing here\n".to_vec())
    }
}

/// A new file that does not read back as holding the key is refused even
/// though its bytes are the ones written (`create`'s check: `||` as `&&`).
#[test]
fn a_new_file_that_does_not_hold_the_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("made.env");
    let e = EditableFile::<Forgetful>::create(
        &path,
        "API_KEY",
        &Secret::new("new"),
        &data.path().join("made.env.created"),
    )
    .expect_err("does not hold the key");
    assert_eq!(e.code().as_str(), "deploy_failed");
}

/// Open Animate's credentials file, missing: a YAML target that makes it.
fn made_file(home: &Path) -> (std::path::PathBuf, FileTarget<YamlEditor>) {
    let path = home.join(".oanim").join("credentials.yaml");
    let t = FileTarget::<YamlEditor>::new(&path.display().to_string(), "api_key", false);
    (path, t)
}

fn no_old() -> latchkey_core::Result<Secret> {
    panic!("a made file has no old key")
}

async fn make(t: &FileTarget<YamlEditor>, data: &Path, new: &Secret) -> String {
    let planned = t.prepare().await.expect("prepare");
    assert_eq!(planned.digest.as_deref(), Some("absent"));
    match t
        .write(new, &backup(data), planned.digest.as_deref())
        .await
        .expect("write")
    {
        Written::Done { digest, .. } => digest.expect("digest"),
        Written::AwaitingConfirmation { .. } => panic!("not by hand"),
    }
}

/// Killed after making the file, before its digest was journaled: the
/// rollback works out the digest from the new key and deletes the file
/// (`digest_of_new` as `None`, `""` or `"xyzzy"`).
#[tokio::test]
async fn a_made_file_is_deleted_after_a_crash_before_its_digest_was_kept() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    let (path, t) = made_file(home.path());
    let new = Secret::new("oa_live_NEW");
    make(&t, data.path(), &new).await;
    assert!(path.exists());
    let said = t
        .restore(&backup(data.path()), None, Some(&new), &no_old)
        .await
        .expect("restore");
    assert!(said.contains("gone"), "{said}");
    assert!(!path.exists());
}

/// A made file the person changed since is theirs: the rollback refuses
/// and leaves it (`remove_created`: `||` as `&&`, which deleted it).
#[tokio::test]
async fn a_made_file_changed_since_is_not_deleted() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    let (path, t) = made_file(home.path());
    let new = Secret::new("oa_live_NEW");
    let deployed = make(&t, data.path(), &new).await;
    std::fs::write(&path, "api_key: oa_live_NEW\nmine: 1\n").expect("edit");
    let e = t
        .restore(&backup(data.path()), Some(&deployed), Some(&new), &no_old)
        .await
        .expect_err("changed since");
    assert_eq!(e.code().as_str(), "dotenv_changed_on_disk");
    assert_eq!(
        std::fs::read_to_string(&path).expect("kept"),
        "api_key: oa_live_NEW\nmine: 1\n"
    );
}

/// A made file the person already deleted: the rollback has nothing to do
/// (`remove_created`'s NotFound guard as `false`, or `==` as `!=`).
#[tokio::test]
async fn a_made_file_already_deleted_rolls_back_as_done() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    let (path, t) = made_file(home.path());
    let new = Secret::new("oa_live_NEW");
    let deployed = make(&t, data.path(), &new).await;
    std::fs::remove_file(&path).expect("deleted by the person");
    t.restore(&backup(data.path()), Some(&deployed), Some(&new), &no_old)
        .await
        .expect("nothing to delete");
    assert!(!path.exists());
}

/// Only a file known to be gone counts as deleted: a folder that cannot be
/// looked into (a link loop) is an error (the NotFound guard as `true`).
#[test]
fn a_made_file_behind_a_link_loop_is_not_taken_as_gone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hole = dir.path().join("loop");
    std::os::unix::fs::symlink(&hole, &hole).expect("symlink");
    let e = EditableFile::<YamlEditor>::remove_created(&hole.join("credentials.yaml"), "d")
        .expect_err("cannot be looked at");
    assert_eq!(e.code().as_str(), "deploy_failed");
}

/// A temp file whose writer cannot be told (no pid in its name) is swept
/// once it is more than ten minutes old, and kept before (`age > 600` as
/// `==` or `<`; `>=` differs only in the second at ten minutes).
#[test]
fn a_temp_file_of_an_unknown_writer_is_swept_after_ten_minutes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = dir.path().join(".env.writer-0abc.latchkey-tmp");
    let fresh = dir.path().join(".env.other-0abc.latchkey-tmp");
    for f in [&old, &fresh] {
        std::fs::write(f, "x").expect("temp file");
    }
    let eleven_minutes_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(660);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .expect("open")
        .set_modified(eleven_minutes_ago)
        .expect("age it");
    sweep_temp_files(dir.path());
    assert!(
        !old.exists(),
        "an old temp file of an unknown writer is swept"
    );
    assert!(fresh.exists(), "a fresh one may be a write in flight");
}

/// A folder on another filesystem than the working folder, if there is
/// one (`/dev/shm` is a tmpfs on Linux).
fn elsewhere() -> Option<tempfile::TempDir> {
    use std::os::unix::fs::MetadataExt;
    let here = std::fs::metadata(".").ok()?.dev();
    let dir = tempfile::tempdir_in("/dev/shm").ok()?;
    (std::fs::metadata(dir.path()).ok()?.dev() != here).then_some(dir)
}

/// The temp file is made beside the target, not in the working folder:
/// from there the rename (or, for a new file, the hard link) would cross
/// filesystems and fail (`write_atomic` and `create_new`: the folder's
/// `!…is_empty()` filter as `…is_empty()`).
#[tokio::test]
async fn temp_files_are_made_beside_the_target() {
    let Some(dir) = elsewhere() else {
        eprintln!("skipped: no folder on another filesystem than the working folder");
        return;
    };
    let path = dir.path().join(".env");
    std::fs::write(&path, "API_KEY=old\n").expect("write");
    let file = DotenvFile::open(&path, false).expect("open");
    let snapshot = file.read().expect("read");
    file.set(
        &snapshot,
        "API_KEY",
        &Secret::new("new"),
        &dir.path().join("backups").join("0-.env.backup"),
    )
    .expect("written");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "API_KEY=new\n"
    );

    let data = dir.path().join("data");
    let (made, t) = made_file(dir.path());
    make(&t, &data, &Secret::new("oa_live_NEW")).await;
    assert_eq!(
        std::fs::read_to_string(&made).expect("made"),
        "api_key: oa_live_NEW\n"
    );
}

/// A `.env` target in a fresh folder, holding `text`.
fn env_target(
    text: &str,
) -> (
    tempfile::TempDir,
    std::path::PathBuf,
    FileTarget<DotenvEditor>,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(".env");
    std::fs::write(&path, text).expect("write");
    let t = FileTarget::<DotenvEditor>::new(&path.display().to_string(), "API_KEY", false);
    (dir, path, t)
}

async fn write(t: &FileTarget<DotenvEditor>, data: &Path, new: &Secret) -> String {
    let planned = t.prepare().await.expect("prepare");
    match t
        .write(new, &backup(data), planned.digest.as_deref())
        .await
        .expect("write")
    {
        Written::Done { digest, .. } => digest.expect("digest"),
        Written::AwaitingConfirmation { .. } => panic!("not by hand"),
    }
}

/// A file that held the new key before the deploy was left as it was, so
/// its rollback leaves it too: the old key is not asked for, nothing is
/// written (`restore`: the `!` before the backup's existence deleted).
#[tokio::test]
async fn a_file_that_held_the_key_before_is_left_by_the_rollback() {
    let (_dir, path, t) = env_target("API_KEY=new\nA=1\n");
    let data = tempfile::tempdir().expect("tempdir");
    let new = Secret::new("new");
    let deployed = write(&t, data.path(), &new).await;
    let old = || -> latchkey_core::Result<Secret> { Ok(Secret::new("old")) };
    let said = t
        .restore(&backup(data.path()), Some(&deployed), Some(&new), &old)
        .await
        .expect("restore");
    assert!(said.contains("left as it is"), "{said}");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "API_KEY=new\nA=1\n"
    );
}

/// A deploy whose backup is gone (the data folder's `backups/` cleared) is
/// still rolled back, from the old key (`restore`: `&&` as `||`, which took
/// a missing backup for "held the key before" and left the new key).
#[tokio::test]
async fn a_deploy_whose_backup_is_gone_is_rolled_back_from_the_old_key() {
    let (_dir, path, t) = env_target("API_KEY=old\nA=1\n");
    let data = tempfile::tempdir().expect("tempdir");
    let new = Secret::new("new");
    let deployed = write(&t, data.path(), &new).await;
    std::fs::remove_dir_all(data.path()).expect("backups gone");
    let old = || -> latchkey_core::Result<Secret> { Ok(Secret::new("old")) };
    let said = t
        .restore(&backup(data.path()), Some(&deployed), Some(&new), &old)
        .await
        .expect("restore");
    assert!(said.contains("old key again"), "{said}");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "API_KEY=old\nA=1\n"
    );
}

/// A target sweeps its folder's temp files of a killed writer (the
/// target's `sweep` as a no-op).
#[test]
fn a_target_sweeps_its_folders_dead_temp_files() {
    let (dir, _path, t) = env_target("API_KEY=old\n");
    let dead = dir.path().join(".env.4194999-0abc.latchkey-tmp");
    std::fs::write(&dead, "x").expect("dead");
    t.sweep();
    assert!(!dead.exists());
}
