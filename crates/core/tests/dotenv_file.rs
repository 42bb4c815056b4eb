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

#[test]
fn replaces_one_value_keeps_everything_else_and_can_roll_back() {
    let (dir, path) = setup();
    let target = DotenvFile::open(&path, false).expect("open");
    let snapshot = target.read().expect("read");
    let key = Secret::new("lk_newnewne_bbbbbbbbbbbbbbbbbbbbbbbb");
    target.set(&snapshot, "API_KEY", &key).expect("set");
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
    let backup = dir.path().join(".env.latchkey-backup");
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
        names(dir.path()),
        [".env", ".env.latchkey-backup"],
        "no temp files left"
    );

    target.restore().expect("rollback");
    assert_eq!(std::fs::read(&path).expect("read"), ORIGINAL);
}

#[test]
fn a_file_changed_behind_our_back_is_not_written() {
    let (_dir, path) = setup();
    let target = DotenvFile::open(&path, false).expect("open");
    let snapshot = target.read().expect("read");
    std::fs::write(&path, b"API_KEY=someone-else\n").expect("edit behind our back");
    let err = target
        .set(&snapshot, "API_KEY", &Secret::new("new"))
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
    target
        .set(&snapshot, "DB_URL", &Secret::new("postgres://y"))
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
    assert_eq!(
        target
            .set(&snapshot, "1BAD", &Secret::new("v"))
            .expect_err("bad")
            .code(),
        "invalid_input"
    );
    assert_eq!(std::fs::read(&path).expect("read"), ORIGINAL);
}
