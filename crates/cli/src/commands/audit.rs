//! `latchkey audit [list|verify]`.

use latchkey_core::catalog::AuditCheck;
use latchkey_core::{Result, Vault};

use latchkey_core::vault::activity_csv;

use crate::args::{AuditCommand, AuditFormat};
use crate::output::{self, EXIT_OK};

pub fn audit(vault: &Vault, command: Option<AuditCommand>, limit: usize, json: bool) -> Result<u8> {
    let limit = match command {
        Some(AuditCommand::Verify) => {
            let check = AuditCheck::from(vault.verify_audit()?);
            if json {
                output::json(&check);
            } else if check.verified {
                println!("{}", check.message);
            } else {
                eprintln!("latchkey: {}", check.message);
            }
            return Ok(if check.verified {
                EXIT_OK
            } else {
                output::EXIT_AUDIT_BROKEN
            });
        }
        Some(AuditCommand::Export { format }) => {
            let rows = vault.activity(usize::MAX)?;
            match format {
                AuditFormat::Csv => print!("{}", activity_csv(&rows)),
                AuditFormat::Json => output::json(&rows),
            }
            return Ok(EXIT_OK);
        }
        Some(AuditCommand::List { limit }) => limit,
        None => limit,
    };
    let entries = vault.activity(limit)?;
    if json {
        output::json(&entries);
    } else {
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|row| {
                let e = &row.entry;
                vec![
                    e.seq.to_string(),
                    e.at.clone(),
                    if e.actor.is_empty() {
                        "—".into()
                    } else {
                        e.actor.clone()
                    },
                    e.action.clone(),
                    dash(&row.key_name),
                    dash(&row.service_name),
                    e.detail.clone(),
                ]
            })
            .collect();
        output::table(
            &["SEQ", "AT", "BY", "ACTION", "KEY", "SERVICE", "WHAT"],
            &rows,
        );
    }
    Ok(EXIT_OK)
}

fn dash(s: &str) -> String {
    if s.is_empty() {
        "—".into()
    } else {
        s.to_owned()
    }
}
