//! The catalog's own tests (kept apart to keep catalog.rs short).

use super::*;

fn open() -> (tempfile::TempDir, Catalog) {
    let dir = tempfile::tempdir().expect("tempdir");
    let catalog = Catalog::open(&dir.path().join("catalog.db")).expect("open");
    (dir, catalog)
}

#[test]
fn migrations_apply_once_and_reopen_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.db");
    assert_eq!(
        Catalog::open(&path)
            .expect("first")
            .schema_version()
            .expect("v"),
        MIGRATIONS.len()
    );
    assert_eq!(
        Catalog::open(&path)
            .expect("again")
            .schema_version()
            .expect("v"),
        MIGRATIONS.len()
    );
}

#[test]
fn audit_log_is_append_only_and_chained() {
    let (dir, mut c) = open();
    let store = crate::store::MemoryStore::default();
    c.open_audit(
        &store,
        &dir.path().join(AUDIT_HEAD_FILE),
        "2026-01-01T00:00:00Z",
    )
    .expect("audit key");
    c.append_audit(
        "2026-01-01T00:00:00Z",
        "create",
        Some("k1"),
        None,
        "created \"a\"",
    )
    .expect("append");
    c.append_audit("2026-01-01T00:00:01Z", "copy", Some("k1"), None, "copied")
        .expect("append");
    assert!(c.audit_chain_intact().expect("walk"));
    assert!(c.conn.execute("UPDATE audit SET detail = 'x'", []).is_err());
    assert!(c.conn.execute("DELETE FROM audit", []).is_err());
    let rows = c.audit(10).expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].action, "copy");
    // Tampering that bypasses the triggers breaks the chain.
    c.conn
        .execute_batch(
            "DROP TRIGGER audit_no_update; UPDATE audit SET detail = 'forged' WHERE seq = 1;",
        )
        .expect("tamper");
    assert!(!c.audit_chain_intact().expect("walk"));
    assert_eq!(
        c.verify_audit().expect("verify"),
        AuditVerification::Altered { seq: 1 }
    );
}

#[test]
fn a_rolled_back_batch_leaves_the_head_where_it_was() {
    let (dir, mut c) = open();
    let store = crate::store::MemoryStore::default();
    c.open_audit(
        &store,
        &dir.path().join(AUDIT_HEAD_FILE),
        "2026-01-01T00:00:00Z",
    )
    .expect("audit key");
    c.append_audit("2026-01-01T00:00:00Z", "a", None, None, "kept")
        .expect("append");
    let undone: Result<()> = c.batch(|c| {
        c.append_audit("2026-01-01T00:00:01Z", "b", None, None, "undone")?;
        Err(Error::invalid("x", "roll back"))
    });
    assert!(undone.is_err());
    assert_eq!(
        c.verify_audit().expect("verify"),
        AuditVerification::Verified { count: 1 }
    );
    c.batch(|c| c.append_audit("2026-01-01T00:00:02Z", "c", None, None, "committed"))
        .expect("batch");
    assert_eq!(
        c.verify_audit().expect("verify"),
        AuditVerification::Verified { count: 2 }
    );
}
