//! `latchkey audit [list|verify]`.

use latchkey_core::catalog::AuditCheck;
use latchkey_core::{Result, Vault};

use crate::args::AuditCommand;
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
        Some(AuditCommand::List { limit }) => limit,
        None => limit,
    };
    let entries = vault.audit_log(limit)?;
    if json {
        output::json(&entries);
    } else {
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|e| {
                vec![
                    e.seq.to_string(),
                    e.at.clone(),
                    if e.actor.is_empty() {
                        "—".into()
                    } else {
                        e.actor.clone()
                    },
                    e.action.clone(),
                    e.detail.clone(),
                ]
            })
            .collect();
        output::table(&["SEQ", "AT", "BY", "ACTION", "WHAT"], &rows);
    }
    Ok(EXIT_OK)
}
