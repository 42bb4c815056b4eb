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
        &crate::store::MakeOnceLock::take(dir.path()).expect("lock"),
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
        &crate::store::MakeOnceLock::take(dir.path()).expect("lock"),
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

#[test]
fn last_usage_is_the_newest_count_of_each_key_of_that_provider_only() {
    let (_dir, c) = open();
    c.conn
        .execute_batch(
            "INSERT INTO providers (id, kind, name, base_url, project, created_at)
               VALUES ('p1', 'keyservice', 'one', '', '', ''), ('p2', 'keyservice', 'two', '', '', '');
             INSERT INTO keys (id, provider_id, name, preview)
               VALUES ('a', 'p1', 'a', ''), ('b', 'p1', 'b', ''), ('c', 'p2', 'c', '');",
        )
        .expect("seed");
    let at = "2026-01-01T00:00:00Z";
    c.record_usage("a", Some(1), None, at).expect("a 1");
    c.record_usage("b", Some(7), None, at).expect("b 7");
    c.record_usage("a", Some(4), Some(1), at).expect("a 4");
    c.record_usage("c", Some(9), None, at).expect("c 9");
    // The same count as the last one, or no count, adds no sample.
    c.record_usage("b", Some(7), Some(7), at).expect("b again");
    c.record_usage("b", None, Some(7), at).expect("b none");
    let last = c.last_usage_of("p1").expect("last");
    assert_eq!(last.len(), 2, "{last:?}");
    assert_eq!(last["a"], 4);
    assert_eq!(last["b"], 7);
    assert_eq!(c.usage("b").expect("b").len(), 1);
    assert_eq!(c.last_usage_of("p2").expect("p2")["c"], 9);
}
