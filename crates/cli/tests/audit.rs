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

/// `audit` names keys and services (the log keeps ids), and `audit export`
/// writes the whole log as CSV or JSON without the key's value.
#[tokio::test(flavor = "multi_thread")]
async fn audit_names_keys_and_services_and_exports_them() {
    let service = key_service(false).await;
    let root = tempfile::tempdir().expect("dir");
    let cli = Cli::new(root.path());
    cli.add_provider(&service, "acme", "shop");
    let secret = cli.create("acme", "billing worker", "ACME_KEY");
    assert!(!secret.is_empty());

    let listed = cli.run(&["audit", "--json"]);
    listed.ok();
    let rows = listed.json();
    let create = rows
        .as_array()
        .expect("array")
        .iter()
        .find(|r| r["key_name"] == "billing worker")
        .unwrap_or_else(|| panic!("no row names the key: {rows:#}"));
    assert_eq!(create["service_name"], "acme", "{create:#}");
    assert!(create["key_id"].is_string(), "the id stays too: {create:#}");
    let table = cli.run(&["audit"]);
    table.ok();
    assert!(table.stdout.contains("billing worker"), "{table:#?}");

    let csv = cli.run(&["audit", "export", "--format", "csv"]);
    csv.ok();
    let mut lines = csv.stdout.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("seq,at,actor,action,key,service,detail,key_id,service_id,hash")
    );
    let body: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    assert_eq!(body.len(), rows.as_array().unwrap().len(), "{csv:#?}");
    assert!(
        body.iter()
            .any(|l| l.contains("\"billing worker\",\"acme\"")),
        "{csv:#?}"
    );
    let json = cli.run(&["audit", "export", "--format", "json"]);
    json.ok();
    assert_eq!(json.json(), rows, "the export is the whole log, named");
    for out in [&listed, &table, &csv, &json] {
        assert!(!out.stdout.contains(&secret) && !out.stderr.contains(&secret));
    }
}
