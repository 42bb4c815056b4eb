//! The keyed audit log against tampering, with the real keychain
//! (scripts/with-keyring.sh) and a real SQLite file: a cut at the end, a
//! chain rewritten without the key, a row deleted from the middle and a
//! deleted head are each reported; the actor is recorded; a copy is audited
//! before the clipboard is set.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::*;
use latchkey_core::catalog::{Actor, AuditVerification, AUDIT_HEAD_FILE};
use latchkey_core::clipboard::{Clipboard, MemoryClipboard};
use latchkey_core::vault::NewManualProvider;
use latchkey_core::{Error, Result, Secret, Vault};
use sha2::{Digest, Sha256};

/// A vault with `n` audit rows (manual providers: no network).
fn vault_with_rows(dir: &Path, n: usize) -> Vault {
    let vault = open_vault(dir, Arc::new(MemoryClipboard::default()));
    for i in 1..=n {
        vault
            .add_manual_provider(NewManualProvider {
                name: format!("Service {i}"),
                dashboard_url: "https://dashboard.example.com/".into(),
                verify_url: "https://api.example.com/verify".into(),
            })
            .expect("provider");
    }
    assert_eq!(
        vault.verify_audit().expect("verify"),
        AuditVerification::Verified { count: n as u64 }
    );
    vault
}

/// Opens the catalog as an attacker with file access would: no triggers.
fn tamper(dir: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(dir.join("catalog.db")).expect("sqlite");
    conn.execute_batch(&format!(
        "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete; {sql}"
    ))
    .expect("tamper");
}

fn reopened(dir: &Path) -> AuditVerification {
    open_vault(dir, Arc::new(MemoryClipboard::default()))
        .verify_audit()
        .expect("verify")
}

#[test]
fn a_log_cut_short_at_the_end_is_reported() {
    let dir = tempfile::tempdir().expect("dir");
    drop(vault_with_rows(dir.path(), 4));
    tamper(dir.path(), "DELETE FROM audit WHERE seq > 2;");
    assert_eq!(
        reopened(dir.path()),
        AuditVerification::Truncated {
            head_seq: 4,
            last_seq: 2
        }
    );
}

#[test]
fn a_log_cut_short_and_its_sequence_reset_is_reported() {
    let dir = tempfile::tempdir().expect("dir");
    drop(vault_with_rows(dir.path(), 4));
    tamper(
        dir.path(),
        "DELETE FROM audit WHERE seq > 2; UPDATE sqlite_sequence SET seq = 2 WHERE name = 'audit';",
    );
    assert!(!reopened(dir.path()).is_verified());
}

/// The pre-keying formula: what someone without the key can compute.
fn sha_chain(prev: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in std::iter::once(&prev).chain(parts) {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

#[test]
fn a_chain_rewritten_without_the_key_is_reported() {
    let dir = tempfile::tempdir().expect("dir");
    drop(vault_with_rows(dir.path(), 4));
    // Change row 2 and re-chain it and every later row, as SHA-256 would.
    let conn = rusqlite::Connection::open(dir.path().join("catalog.db")).expect("sqlite");
    conn.execute_batch("DROP TRIGGER audit_no_update;")
        .expect("drop");
    let mut prev: String = conn
        .query_row("SELECT hash FROM audit WHERE seq = 1", [], |r| r.get(0))
        .expect("row 1");
    for seq in 2..=4i64 {
        let (at, action, provider_id, detail): (String, String, String, String) = conn
            .query_row(
                "SELECT at, action, provider_id, detail FROM audit WHERE seq = ?1",
                [seq],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .expect("row");
        let detail = if seq == 2 {
            "nothing happened here".to_owned()
        } else {
            detail
        };
        let hash = sha_chain(&prev, &[&at, &action, "", &provider_id, &detail]);
        conn.execute(
            "UPDATE audit SET detail = ?2, prev_hash = ?3, hash = ?4 WHERE seq = ?1",
            rusqlite::params![seq, detail, prev, hash],
        )
        .expect("rewrite");
        prev = hash;
    }
    drop(conn);
    assert_eq!(reopened(dir.path()), AuditVerification::Altered { seq: 2 });
}

#[test]
fn a_row_deleted_from_the_middle_is_reported() {
    let dir = tempfile::tempdir().expect("dir");
    drop(vault_with_rows(dir.path(), 4));
    tamper(dir.path(), "DELETE FROM audit WHERE seq = 2;");
    assert_eq!(
        reopened(dir.path()),
        AuditVerification::RowMissing { seq: 2 }
    );
}

#[test]
fn a_deleted_or_forged_head_is_reported() {
    let dir = tempfile::tempdir().expect("dir");
    drop(vault_with_rows(dir.path(), 3));
    let head = dir.path().join(AUDIT_HEAD_FILE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&head).expect("head").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "head file mode {mode:o}");
    }
    let genuine = std::fs::read(&head).expect("head");
    std::fs::remove_file(&head).expect("rm");
    assert_eq!(reopened(dir.path()), AuditVerification::HeadMissing);

    // A head that claims less (to hide a cut) does not carry the MAC.
    let mut forged: serde_json::Value = serde_json::from_slice(&genuine).expect("json");
    forged["seq"] = 1.into();
    std::fs::write(&head, forged.to_string()).expect("write");
    assert_eq!(reopened(dir.path()), AuditVerification::HeadInvalid);

    std::fs::write(&head, &genuine).expect("restore");
    assert_eq!(
        reopened(dir.path()),
        AuditVerification::Verified { count: 3 }
    );
}

#[test]
fn each_row_names_its_actor() {
    let dir = tempfile::tempdir().expect("dir");
    let mut vault = open_vault(dir.path(), Arc::new(MemoryClipboard::default()));
    vault.set_actor(Actor::Cli);
    vault
        .add_manual_provider(NewManualProvider {
            name: "By the CLI".into(),
            dashboard_url: "https://dashboard.example.com/".into(),
            verify_url: "https://api.example.com/verify".into(),
        })
        .expect("provider");
    let rows = vault.audit_log(10).expect("log");
    assert_eq!(rows[0].actor, "cli");
    assert!(vault.verify_audit().expect("verify").is_verified());
}

/// A clipboard that refuses every copy.
struct BrokenClipboard;

impl Clipboard for BrokenClipboard {
    fn set_secret(&self, _: &Secret) -> Result<()> {
        Err(Error::Clipboard("no display".into()))
    }
    fn current(&self) -> Result<Option<Secret>> {
        Ok(None)
    }
    fn clear(&self) -> Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_copy_is_audited_before_the_clipboard_is_set() {
    let service = key_service(false).await;
    let dir = tempfile::tempdir().expect("dir");
    let store = Arc::new(
        latchkey_core::store::KeychainStore::open_service("latchkey-test").expect("keychain"),
    );
    let vault = Vault::open(
        dir.path(),
        store,
        Arc::new(BrokenClipboard),
        Arc::new(latchkey_core::clock::SystemClock),
    )
    .expect("vault");
    let provider = add_provider(&vault, &service);
    let key = vault
        .create_key(new_key(&provider, "copied"))
        .await
        .expect("key");
    let err = vault.copy_key(&key.id).expect_err("clipboard refuses");
    assert_eq!(err.code(), "clipboard_unavailable");
    let actions: Vec<String> = vault
        .audit_log(3)
        .expect("log")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["copy_failed", "copy", "create"]);
    assert!(vault.verify_audit().expect("verify").is_verified());
}
