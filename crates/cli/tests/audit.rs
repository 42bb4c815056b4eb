//! `latchkey audit verify` and `latchkey audit`: the real binary, the real
//! keychain (scripts/with-keyring.sh), a real catalog file tampered with as
//! someone with file access but no keychain would.

mod common;

use common::*;

/// A data directory with three audited settings changes.
fn cli_with_entries(root: &std::path::Path) -> Cli {
    let cli = Cli::new(root);
    cli.run(&["settings", "--clipboard-clear-secs", "20"]).ok();
    cli.run(&["settings", "--rotation-policy-days", "60"]).ok();
    cli.run(&["settings", "--reminders", "off"]).ok();
    let verified = cli.run(&["audit", "verify"]);
    verified.ok();
    assert!(
        verified.stdout.contains("Audit log verified (3 entries)"),
        "{verified:#?}"
    );
    cli
}

fn tamper(cli: &Cli, sql: &str) {
    let conn = rusqlite::Connection::open(cli.data.join("catalog.db")).expect("sqlite");
    conn.execute_batch(&format!(
        "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete; {sql}"
    ))
    .expect("tamper");
}

#[test]
fn audit_lists_entries_with_their_actor() {
    let root = tempfile::tempdir().expect("dir");
    let cli = cli_with_entries(root.path());
    let listed = cli.run(&["audit", "--json"]);
    listed.ok();
    let entries = listed.json();
    let entries = entries.as_array().expect("array");
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|e| e["actor"] == "cli"), "{entries:?}");
    assert_eq!(entries[0]["action"], "settings");
    let table = cli.run(&["audit", "list", "--limit", "1"]);
    table.ok();
    assert_eq!(table.stdout.lines().count(), 2, "{table:#?}");
}

#[test]
fn audit_verify_reports_a_cut_at_the_end() {
    let root = tempfile::tempdir().expect("dir");
    let cli = cli_with_entries(root.path());
    tamper(&cli, "DELETE FROM audit WHERE seq = 3;");
    let run = cli.run(&["audit", "verify"]);
    assert_eq!(run.code, Some(7), "{run:#?}");
    assert!(run.stderr.contains("cut short"), "{run:#?}");
    let json = cli.run(&["audit", "verify", "--json"]);
    assert_eq!(json.code, Some(7), "{json:#?}");
    let check = json.json();
    assert_eq!(check["verified"], false);
    assert_eq!(check["result"]["status"], "truncated");
    assert_eq!(check["result"]["head_seq"], 3);
}

/// Re-chains every row from `from` with plain SHA-256, the most a person
/// without the keychain's audit key can compute, after changing row `from`.
fn rewrite_chain(cli: &Cli, from: i64) {
    use sha2::{Digest, Sha256};
    let conn = rusqlite::Connection::open(cli.data.join("catalog.db")).expect("sqlite");
    conn.execute_batch("DROP TRIGGER audit_no_update;")
        .expect("drop");
    let mut prev: String = conn
        .query_row("SELECT hash FROM audit WHERE seq = ?1", [from - 1], |r| {
            r.get(0)
        })
        .expect("row before");
    let rows: Vec<(i64, String, String, String)> = {
        let mut stmt = conn
            .prepare("SELECT seq, at, action, detail FROM audit WHERE seq >= ?1 ORDER BY seq")
            .expect("select");
        let mapped = stmt
            .query_map([from], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("rows");
        mapped.map(|r| r.expect("row")).collect()
    };
    for (seq, at, action, detail) in rows {
        let detail = if seq == from {
            "settings: nothing changed".to_owned()
        } else {
            detail
        };
        let mut h = Sha256::new();
        for part in [prev.as_str(), &at, &action, "", "", &detail] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        let hash = hex::encode(h.finalize());
        conn.execute(
            "UPDATE audit SET detail = ?2, prev_hash = ?3, hash = ?4 WHERE seq = ?1",
            rusqlite::params![seq, detail, prev, hash],
        )
        .expect("rewrite");
        prev = hash;
    }
}

#[test]
fn audit_verify_reports_a_rewritten_chain() {
    let root = tempfile::tempdir().expect("dir");
    let cli = cli_with_entries(root.path());
    rewrite_chain(&cli, 2);
    let run = cli.run(&["audit", "verify", "--json"]);
    assert_eq!(run.code, Some(7), "{run:#?}");
    assert_eq!(
        run.json()["result"],
        serde_json::json!({"status": "altered", "seq": 2})
    );
}

#[test]
fn audit_verify_reports_a_deleted_middle_row() {
    let root = tempfile::tempdir().expect("dir");
    let cli = cli_with_entries(root.path());
    tamper(&cli, "DELETE FROM audit WHERE seq = 2;");
    let run = cli.run(&["audit", "verify"]);
    assert_eq!(run.code, Some(7), "{run:#?}");
    assert!(run.stderr.contains("Entry 2 was deleted"), "{run:#?}");
}
