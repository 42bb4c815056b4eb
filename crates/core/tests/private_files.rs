//! The catalog is private on disk: its directory 0700, the database and
//! SQLite's `-wal`/`-shm` 0600 from the first byte whatever the umask, and
//! files left too open are tightened on the next open (refused when they
//! belong to another user). Real files, real SQLite.
#![cfg(unix)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use latchkey_core::catalog::Catalog;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", db.display()))
}

/// A write, so the WAL and its index exist while the catalog is open.
fn write_something(catalog: &mut Catalog) {
    catalog
        .set_setting("private-files-test", "written")
        .expect("write");
}

#[test]
fn the_catalog_is_private_from_the_first_byte_and_stays_private() {
    let root = tempfile::tempdir().expect("tempdir");
    // A permissive umask: what we create must not depend on it.
    let old_umask = rustix::process::umask(rustix::fs::Mode::empty());
    let data = root.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    chmod(&data, 0o755);
    let db = data.join("catalog.db");
    {
        let mut catalog = Catalog::open(&db).expect("open");
        write_something(&mut catalog);
        assert_eq!(mode(&data), 0o700, "data directory");
        for path in [db.clone(), sidecar(&db, "-wal"), sidecar(&db, "-shm")] {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    rustix::process::umask(old_umask);

    // Someone (an old version, a restore from backup) loosened everything.
    {
        let mut catalog = Catalog::open(&db).expect("open");
        write_something(&mut catalog);
        chmod(&data, 0o775);
        for path in [db.clone(), sidecar(&db, "-wal"), sidecar(&db, "-shm")] {
            chmod(&path, 0o666);
        }
        let _second = Catalog::open(&db).expect("reopen tightens");
        assert_eq!(mode(&data), 0o700, "data directory");
        for path in [db.clone(), sidecar(&db, "-wal"), sidecar(&db, "-shm")] {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
}

#[test]
fn an_open_catalog_of_another_user_is_refused() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root to give a file to another user");
        return;
    }
    let root = tempfile::tempdir().expect("tempdir");
    let db = root.path().join("catalog.db");
    drop(Catalog::open(&db).expect("open"));
    std::os::unix::fs::chown(&db, Some(65534), Some(65534)).expect("chown");
    chmod(&db, 0o644);
    let err = Catalog::open(&db).expect_err("another user's open catalog");
    assert_eq!(err.code(), "database");
    assert!(err.to_string().contains("another user"), "{err}");
    assert_eq!(std::fs::metadata(&db).expect("meta").uid(), 65534);
    assert_eq!(mode(&db), 0o644, "left as it was");
}
