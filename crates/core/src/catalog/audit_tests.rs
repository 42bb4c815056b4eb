//! The audit chain's own tests (kept apart to keep audit.rs short).

use super::*;
use crate::store::MemoryStore;

/// A catalog as Latchkey made it before keying (schema 3), with `rows`
/// SHA-256-chained audit rows.
fn old_catalog(path: &Path, rows: usize) {
    let conn = Connection::open(path).expect("sqlite");
    for sql in &super::super::MIGRATIONS[..3] {
        conn.execute_batch(sql).expect("old schema");
    }
    conn.pragma_update(None, "user_version", 3)
        .expect("version");
    let mut prev = GENESIS.to_owned();
    for i in 1..=rows {
        let fields = RowFields {
            at: format!("2025-01-0{i}T00:00:00Z"),
            action: "create".into(),
            key_id: Some(format!("k{i}")),
            provider_id: None,
            detail: format!("created \"key {i}\""),
            actor: String::new(),
        };
        let hash = sha_chain_hash(&prev, &fields);
        conn.execute(
            "INSERT INTO audit (at, action, key_id, provider_id, detail, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                fields.at,
                fields.action,
                fields.key_id,
                fields.provider_id,
                fields.detail,
                prev,
                hash
            ],
        )
        .expect("old row");
        prev = hash;
    }
}

fn open_keyed(dir: &Path, store: &MemoryStore) -> Catalog {
    let mut c = Catalog::open(&dir.join("catalog.db")).expect("open");
    let held = crate::store::MakeOnceLock::take(dir).expect("lock");
    c.open_audit(
        store,
        &held,
        &dir.join(AUDIT_HEAD_FILE),
        "2026-02-01T00:00:00Z",
    )
    .expect("audit");
    c
}

#[test]
fn an_unkeyed_log_is_checked_then_continued_keyed_after_a_marker() {
    let dir = tempfile::tempdir().expect("dir");
    old_catalog(&dir.path().join("catalog.db"), 3);
    let store = MemoryStore::default();
    let mut c = open_keyed(dir.path(), &store);
    let rows = c.audit(10).expect("rows");
    assert_eq!(rows.len(), 4, "old rows kept, one marker added");
    assert_eq!(rows[0].action, "audit_keyed");
    assert!(
        rows[0].detail.contains("3 earlier entries"),
        "{}",
        rows[0].detail
    );
    c.append_audit("2026-02-01T00:00:01Z", "copy", Some("k1"), None, "copied")
        .expect("append");
    assert_eq!(
        c.verify_audit().expect("verify"),
        AuditVerification::Verified { count: 5 }
    );
    // Reopening does not migrate again.
    drop(c);
    let c = open_keyed(dir.path(), &store);
    assert_eq!(c.audit(10).expect("rows").len(), 5);
    // An old row changed after the migration is still caught.
    c.conn
        .execute_batch("DROP TRIGGER audit_no_update; UPDATE audit SET detail = 'x' WHERE seq = 2;")
        .expect("tamper");
    assert_eq!(
        c.verify_audit().expect("verify"),
        AuditVerification::Altered { seq: 2 }
    );
}

#[test]
fn an_unkeyed_log_already_broken_says_so_in_its_marker() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("catalog.db");
    old_catalog(&path, 3);
    Connection::open(&path)
        .expect("sqlite")
        .execute_batch("DROP TRIGGER audit_no_update; UPDATE audit SET detail = 'x' WHERE seq = 2;")
        .expect("tamper");
    let c = open_keyed(dir.path(), &MemoryStore::default());
    let marker = &c.audit(1).expect("rows")[0];
    assert!(
        marker.detail.contains("did not check out"),
        "{}",
        marker.detail
    );
    assert_eq!(
        c.verify_audit().expect("verify"),
        AuditVerification::Altered { seq: 2 }
    );
}

#[test]
fn a_lost_key_continues_under_a_new_one_and_says_so() {
    let dir = tempfile::tempdir().expect("dir");
    let store = MemoryStore::default();
    let mut c = open_keyed(dir.path(), &store);
    c.append_audit("2026-02-01T00:00:01Z", "a", None, None, "one")
        .expect("append");
    drop(c);
    let other = MemoryStore::default();
    let mut c = open_keyed(dir.path(), &other);
    c.append_audit("2026-02-01T00:00:02Z", "b", None, None, "two")
        .expect("append");
    assert_eq!(
        c.verify_audit().expect("verify"),
        AuditVerification::KeyMissing { seq: 2 }
    );
    assert_eq!(c.audit(10).expect("rows")[1].action, "audit_rekeyed");
}

#[test]
fn the_key_debug_is_redacted() {
    let key = AuditKey::generate();
    assert_eq!(format!("{key:?}"), "AuditKey([redacted])");
}
