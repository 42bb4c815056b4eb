//! The `.env` file target on a real filesystem.

use std::os::unix::fs::PermissionsExt;

use latchkey_core::deploy::dotenv_file::DotenvFile;
use latchkey_core::{Fingerprint, Secret};

const ORIGINAL: &[u8] = b"\xef\xbb\xbf# app settings\r\nexport API_KEY=\"lk_oldoldol_aaaaaaaaaaaaaaaaaaaaaaaa\" # prod\r\n\r\nDB_URL=postgres://x\r\nOTHER='keep me'";

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(".env");
    std::fs::write(&path, ORIGINAL).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    (dir, path)
}

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A private folder standing in for the data directory's `backups/`.
fn backups() -> (tempfile::TempDir, std::path::PathBuf) {
    let data = tempfile::tempdir().expect("data dir");
    let backup = data
        .path()
        .join("backups")
        .join("r-1")
        .join("0-.env.backup");
    (data, backup)
}

#[test]
fn replaces_one_value_keeps_everything_else_and_can_roll_back() {
    let (dir, path) = setup();
    let (_data, backup) = backups();
    let target = DotenvFile::open(&path, false).expect("open");
    let snapshot = target.read().expect("read");
    let key = Secret::new("lk_newnewne_bbbbbbbbbbbbbbbbbbbbbbbb");
    let deployed = target
        .set(&snapshot, "API_KEY", &key, &backup)
        .expect("set");
    let after = std::fs::read(&path).expect("read");
    assert_eq!(
        after,
        b"\xef\xbb\xbf# app settings\r\nexport API_KEY=\"lk_newnewne_bbbbbbbbbbbbbbbbbbbbbbbb\" # prod\r\n\r\nDB_URL=postgres://x\r\nOTHER='keep me'"
    );
    assert_eq!(
        std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(
        target.fingerprint_of("API_KEY").expect("fp"),
        Some(Fingerprint::of(key.expose_secret()))
    );
    assert_eq!(std::fs::read(&backup).expect("backup"), ORIGINAL);
    assert_eq!(
        std::fs::metadata(&backup)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(backup.parent().expect("folder"))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    assert_eq!(
        names(dir.path()),
        [".env"],
        "no backup and no temp file beside the .env"
    );

    let old = DotenvFile::value_in_backup(&backup, "API_KEY").expect("backup read");
    target
        .rollback_var(
            &deployed,
            "API_KEY",
            old.as_ref().map(Secret::expose_secret),
        )
        .expect("rollback");
    assert_eq!(std::fs::read(&path).expect("read"), ORIGINAL);
    assert_eq!(names(dir.path()), [".env"]);
}

#[test]
fn rollback_edits_one_variable_and_refuses_a_file_changed_since_the_deploy() {
    let (dir, path) = setup();
    let (_data, backup) = backups();
    let target = DotenvFile::open(&path, false).expect("open");
    let snapshot = target.read().expect("read");
    let deployed = target
        .set(
            &snapshot,
            "API_KEY",
            &Secret::new("lk_newnewne_bbbbbbbbbbbbbbbbbbbbbbbb"),
            &backup,
        )
        .expect("set");
    // The person edits another line after the deploy.
    let edited = String::from_utf8(std::fs::read(&path).expect("read"))
        .expect("utf-8")
        .replace("postgres://x", "postgres://edited");
    std::fs::write(&path, &edited).expect("edit");
    let err = target
        .rollback_var(
            &deployed,
            "API_KEY",
            Some("lk_oldoldol_aaaaaaaaaaaaaaaaaaaaaaaa"),
        )
        .expect_err("refused");
    assert_eq!(err.code(), "dotenv_changed_on_disk");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        edited,
        "nothing written"
    );
    // A variable that was not set before is removed again, byte for byte.
    std::fs::write(&path, "A=1\n").expect("reset");
    let snapshot = target.read().expect("read");
    let deployed = target
        .set(&snapshot, "NEW_VAR", &Secret::new("v1"), &backup)
        .expect("append");
    let old = DotenvFile::value_in_backup(&backup, "NEW_VAR").expect("backup read");
    assert!(old.is_none());
    target
        .rollback_var(&deployed, "NEW_VAR", None)
        .expect("removed");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "A=1\n");
    assert_eq!(names(dir.path()), [".env"]);
}

#[test]
fn temp_files_of_a_killed_writer_are_swept_and_others_kept() {
    let (dir, _path) = setup();
    // A pid that cannot be alive, and this process's own (a write in flight).
    let dead = dir.path().join(".env.4194999-0abc.latchkey-tmp");
    let mine = dir
        .path()
        .join(format!(".env.{}-0abc.latchkey-tmp", std::process::id()));
    std::fs::write(&dead, "x").expect("dead");
    std::fs::write(&mine, "x").expect("mine");
    latchkey_core::deploy::dotenv_file::sweep_temp_files(dir.path());
    assert!(!dead.exists(), "a dead writer's temp file is swept");
    assert!(mine.exists(), "a live writer's temp file is kept");
}

#[test]
fn a_file_changed_behind_our_back_is_not_written() {
    let (_dir, path) = setup();
    let (_data, backup) = backups();
    let target = DotenvFile::open(&path, false).expect("open");
    let snapshot = target.read().expect("read");
    std::fs::write(&path, b"API_KEY=someone-else\n").expect("edit behind our back");
    let err = target
        .set(&snapshot, "API_KEY", &Secret::new("new"), &backup)
        .expect_err("refused");
    assert_eq!(err.code(), "dotenv_changed_on_disk");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        b"API_KEY=someone-else\n"
    );
}

#[test]
fn symlinks_need_confirmation() {
    let (dir, path) = setup();
    let link = dir.path().join("link.env");
    std::os::unix::fs::symlink(&path, &link).expect("symlink");
    assert_eq!(
        DotenvFile::open(&link, false).expect_err("refused").code(),
        "dotenv_symlink"
    );
    let target = DotenvFile::open(&link, true).expect("confirmed");
    let snapshot = target.read().expect("read");
    let (_data, backup) = backups();
    target
        .set(&snapshot, "DB_URL", &Secret::new("postgres://y"), &backup)
        .expect("set through the link");
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("meta")
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    assert!(
        String::from_utf8_lossy(&std::fs::read(&path).expect("read"))
            .contains("DB_URL=postgres://y")
    );
}

#[test]
fn missing_files_and_bad_names_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        DotenvFile::open(&dir.path().join("nope.env"), false)
            .expect_err("missing")
            .code(),
        "deploy_failed"
    );
    let (_dir, path) = setup();
    let target = DotenvFile::open(&path, false).expect("open");
    let snapshot = target.read().expect("read");
    let (_data, backup) = backups();
    assert_eq!(
        target
            .set(&snapshot, "1BAD", &Secret::new("v"), &backup)
            .expect_err("bad")
            .code(),
        "invalid_input"
    );
    assert_eq!(std::fs::read(&path).expect("read"), ORIGINAL);
}

#[test]
fn a_variable_other_lines_refer_to_is_still_set_and_read_back_raw() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(".env");
    let original = "API_KEY=old-value\nURL=\"https://x.test/?k=${API_KEY}\"\nPLAIN=$API_KEY\n";
    std::fs::write(&path, original).expect("write");
    let (_data, backup) = backups();
    let target = DotenvFile::open(&path, false).expect("open");
    let snapshot = target.read().expect("read");
    target
        .set(&snapshot, "API_KEY", &Secret::new("new-value"), &backup)
        .expect("the references are left as written, not counted as changes");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        original.replace("API_KEY=old-value", "API_KEY=new-value")
    );
}
