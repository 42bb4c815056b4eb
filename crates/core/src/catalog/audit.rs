//! The audit log you can trust: an append-only SQLite table whose rows are
//! chained with HMAC-SHA-256 under a per-vault key kept in the OS keychain
//! (account `vault:audit-key:<vault id>`), plus the chain's head (last seq,
//! its MAC, where keying began) in a small file beside the catalog
//! (`audit-head.json`, mode 0600, replaced atomically after each commit and
//! itself MACed). Whoever can write the SQLite file but not read the keychain
//! cannot rewrite the chain, delete a row, or cut the log short without
//! [`Catalog::verify_audit`] saying so.
//!
//! Catalogs from before keying keep their SHA-256 rows: the old chain is
//! checked once, then continued keyed from an `audit_keyed` marker row.
//! If the key is ever missing from the keychain, a new one continues the
//! chain after an `audit_rekeyed` marker and verification reports it.
//!
//! It must never hold or log a secret: rows carry ids, names and actions;
//! the key stays in this process's memory and the keychain, and its `Debug`
//! is redacted.

use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub use super::audit_report::{Actor, AuditCheck, AuditVerification};
use super::{AuditEntry, Catalog};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::store::SecretStore;

/// The head file's name, in the data directory beside `catalog.db`.
pub const AUDIT_HEAD_FILE: &str = "audit-head.json";

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The keychain account of a vault's audit key.
pub fn audit_key_account(vault_id: &str) -> String {
    format!("vault:audit-key:{vault_id}")
}

/// A vault's 32-byte audit key. Zeroized on drop; never printed.
#[derive(Clone)]
struct AuditKey(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey([redacted])")
    }
}

impl AuditKey {
    fn generate() -> Self {
        let mut bytes = Zeroizing::new(vec![0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    fn from_secret(s: &Secret) -> Result<Self> {
        let bytes = hex::decode(s.expose_secret())
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| Error::Database("the audit key in the keychain is malformed".into()))?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    fn to_secret(&self) -> Secret {
        Secret::new(hex::encode(&*self.0))
    }

    fn mac(&self, parts: &[&str]) -> String {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key");
        for part in parts {
            m.update(&(part.len() as u64).to_le_bytes());
            m.update(part.as_bytes());
        }
        hex::encode(m.finalize().into_bytes())
    }

    /// Constant-time check of a hex MAC.
    fn verify(&self, parts: &[&str], mac_hex: &str) -> bool {
        let Ok(tag) = hex::decode(mac_hex) else {
            return false;
        };
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key");
        for part in parts {
            m.update(&(part.len() as u64).to_le_bytes());
            m.update(part.as_bytes());
        }
        m.verify_slice(&tag).is_ok()
    }
}

/// The keyed chain as this process holds it.
#[derive(Debug)]
pub(super) struct AuditChain {
    key: AuditKey,
    head_path: PathBuf,
    actor: Actor,
    keyed_from: i64,
    rekeyed_at: Option<i64>,
    /// The head of a row appended inside an open batch: written to the
    /// head file only once the batch commits.
    pending: Option<Head>,
}

/// The head file: the last appended row and where keying began, MACed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Head {
    seq: i64,
    mac: String,
    keyed_from: i64,
    rekeyed_at: Option<i64>,
    tag: String,
}

impl Head {
    fn parts(seq: i64, mac: &str, keyed_from: i64, rekeyed_at: Option<i64>) -> [String; 5] {
        [
            "latchkey-audit-head-v1".into(),
            seq.to_string(),
            mac.to_owned(),
            keyed_from.to_string(),
            rekeyed_at.map(|r| r.to_string()).unwrap_or_default(),
        ]
    }

    fn new(key: &AuditKey, seq: i64, mac: &str, keyed_from: i64, rekeyed_at: Option<i64>) -> Self {
        let parts = Self::parts(seq, mac, keyed_from, rekeyed_at);
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        Self {
            seq,
            mac: mac.to_owned(),
            keyed_from,
            rekeyed_at,
            tag: key.mac(&refs),
        }
    }

    fn is_genuine(&self, key: &AuditKey) -> bool {
        let parts = Self::parts(self.seq, &self.mac, self.keyed_from, self.rekeyed_at);
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        key.verify(&refs, &self.tag)
    }

    fn read(path: &Path) -> Result<Option<Self>> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok().or(Some(Self {
                seq: -1,
                mac: String::new(),
                keyed_from: -1,
                rekeyed_at: None,
                tag: String::new(),
            }))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::Database(format!(
                "cannot read {}: {}",
                path.display(),
                e.kind()
            ))),
        }
    }

    /// Replaces the head file atomically (temp file, fsync, rename), 0600.
    /// A genuine head already further on (another process) is kept.
    fn write(&self, path: &Path, key: &AuditKey) -> Result<()> {
        if let Ok(Some(current)) = Self::read(path) {
            if current.seq > self.seq && current.is_genuine(key) {
                return Ok(());
            }
        }
        let fail = |e: std::io::Error| {
            Error::Database(format!("cannot write {}: {}", path.display(), e.kind()))
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(
            ".{AUDIT_HEAD_FILE}.{}.tmp",
            uuid::Uuid::new_v4().simple()
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let body = serde_json::to_vec(self).map_err(|e| Error::Database(e.to_string()))?;
        let written = options.open(&tmp).and_then(|mut f| {
            f.write_all(&body)?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(fail(e));
        }
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// The parts a keyed row's MAC covers.
fn row_parts<'a>(seq: &'a str, prev: &'a str, row: &'a RowFields) -> [&'a str; 9] {
    [
        "latchkey-audit-v1",
        seq,
        prev,
        &row.at,
        &row.action,
        row.key_id.as_deref().unwrap_or(""),
        row.provider_id.as_deref().unwrap_or(""),
        &row.detail,
        &row.actor,
    ]
}

struct RowFields {
    at: String,
    action: String,
    key_id: Option<String>,
    provider_id: Option<String>,
    detail: String,
    actor: String,
}

/// The pre-keying chain: plain SHA-256 (it protects against accidents only).
fn sha_chain_hash(prev: &str, row: &RowFields) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &row.at,
        &row.action,
        row.key_id.as_deref().unwrap_or(""),
        row.provider_id.as_deref().unwrap_or(""),
        &row.detail,
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The vault id and where keying began, from `vault_meta`.
impl Catalog {
    /// This vault's id, made with the catalog (names its keychain entries).
    pub fn vault_id(&self) -> Result<String> {
        Ok(meta(&self.conn)?.0)
    }
}

fn meta(conn: &Connection) -> Result<(String, Option<i64>, Option<i64>)> {
    Ok(conn.query_row(
        "SELECT id, audit_keyed_from, audit_rekeyed_at FROM vault_meta",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}

/// The last row's seq and hash, and the next seq (never reused, even after
/// a deletion at the end).
fn tail(conn: &Connection) -> Result<(i64, String, i64)> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let used: i64 = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'audit'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let (last_seq, prev) = last.unwrap_or((0, GENESIS.to_owned()));
    Ok((last_seq, prev, used.max(last_seq) + 1))
}

/// Inserts one keyed row; returns its seq and MAC.
#[allow(clippy::too_many_arguments)]
fn insert_keyed(
    conn: &Connection,
    key: &AuditKey,
    actor: Actor,
    at: &str,
    action: &str,
    key_id: Option<&str>,
    provider_id: Option<&str>,
    detail: &str,
) -> Result<(i64, String)> {
    let (_, prev, seq) = tail(conn)?;
    let fields = RowFields {
        at: at.to_owned(),
        action: action.to_owned(),
        key_id: key_id.map(str::to_owned),
        provider_id: provider_id.map(str::to_owned),
        detail: detail.to_owned(),
        actor: actor.as_str().to_owned(),
    };
    let seq_text = seq.to_string();
    let mac = key.mac(&row_parts(&seq_text, &prev, &fields));
    conn.execute(
        "INSERT INTO audit (seq, at, action, key_id, provider_id, detail, prev_hash, hash, actor)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            seq,
            at,
            action,
            key_id,
            provider_id,
            detail,
            prev,
            mac,
            actor.as_str()
        ],
    )?;
    Ok((seq, mac))
}

impl Catalog {
    /// Loads (or on first open creates) this vault's audit key from `store`
    /// and brings the chain under it: a new catalog is keyed from its first
    /// row, an older one after a marker row once its SHA-256 chain is
    /// checked. Must run before any audit row is appended.
    /// `now` dates a marker row, should one be needed.
    pub fn open_audit(
        &mut self,
        store: &dyn SecretStore,
        _held: &crate::store::MakeOnceLock,
        head_path: &Path,
        now: &str,
    ) -> Result<()> {
        let (vault_id, _, _) = meta(&self.conn)?;
        let account = audit_key_account(&vault_id);
        let stored = store.get(&account)?;
        let (key, created) = match stored {
            Some(s) => (AuditKey::from_secret(&s)?, false),
            None => {
                // Into the keychain before any row depends on it.
                let key = AuditKey::generate();
                store.put(&account, &key.to_secret())?;
                (key, true)
            }
        };
        let (keyed_from, rekeyed_at, head) = self.write(|tx| {
            let (_, keyed_from, rekeyed_at) = meta(tx)?;
            match keyed_from {
                None => {
                    // Never keyed: a new catalog, or one from before keying.
                    let (last_seq, _, next) = tail(tx)?;
                    if last_seq == 0 {
                        tx.execute("UPDATE vault_meta SET audit_keyed_from = ?1", [next])?;
                        return Ok((next, None, Some((next - 1, GENESIS.to_owned()))));
                    }
                    let old = verify_rows(tx, None, i64::MAX, None)?;
                    let detail = match old {
                        AuditVerification::Verified { count } => format!(
                            "audit log keyed (HMAC-SHA-256); the {count} earlier entries were chained with SHA-256 and checked intact"
                        ),
                        other => format!(
                            "audit log keyed (HMAC-SHA-256); the earlier SHA-256 chain did not check out: {}",
                            other.message()
                        ),
                    };
                    let (seq, mac) = insert_keyed(
                        tx,
                        &key,
                        Actor::Other,
                        now,
                        "audit_keyed",
                        None,
                        None,
                        &detail,
                    )?;
                    tx.execute("UPDATE vault_meta SET audit_keyed_from = ?1", [seq])?;
                    Ok((seq, None, Some((seq, mac))))
                }
                Some(from) if created => {
                    // The key was lost: continue under the new one, said so.
                    let (seq, mac) = insert_keyed(
                        tx,
                        &key,
                        Actor::Other,
                        now,
                        "audit_rekeyed",
                        None,
                        None,
                        "the audit key was missing from the keychain; the log continues under a new key",
                    )?;
                    tx.execute("UPDATE vault_meta SET audit_rekeyed_at = ?1", [seq])?;
                    Ok((from, Some(seq), Some((seq, mac))))
                }
                Some(from) => Ok((from, rekeyed_at, None)),
            }
        })?;
        if let Some((seq, mac)) = head {
            Head::new(&key, seq, &mac, keyed_from, rekeyed_at).write(head_path, &key)?;
        }
        self.audit_chain = Some(AuditChain {
            key,
            head_path: head_path.to_owned(),
            actor: Actor::Other,
            keyed_from,
            rekeyed_at,
            pending: None,
        });
        Ok(())
    }

    /// Who this process's audit rows name as their actor.
    pub fn set_audit_actor(&mut self, actor: Actor) {
        if let Some(chain) = &mut self.audit_chain {
            chain.actor = actor;
        }
    }

    /// Appends one keyed audit row. `detail` must never hold a secret.
    /// Inside a batch the head file follows when the batch commits.
    pub fn append_audit(
        &mut self,
        at: &str,
        action: &str,
        key_id: Option<&str>,
        provider_id: Option<&str>,
        detail: &str,
    ) -> Result<()> {
        let chain = self.audit_chain.as_ref().ok_or_else(|| {
            Error::Database("the audit log is not open (its key is not loaded)".into())
        })?;
        let (key, actor) = (chain.key.clone(), chain.actor);
        let (seq, mac) = self
            .write(|tx| insert_keyed(tx, &key, actor, at, action, key_id, provider_id, detail))?;
        if let Some(chain) = &mut self.audit_chain {
            chain.pending = Some(Head::new(
                &key,
                seq,
                &mac,
                chain.keyed_from,
                chain.rekeyed_at,
            ));
        }
        if self.conn.is_autocommit() {
            self.flush_audit_head();
        }
        Ok(())
    }

    /// Writes the head of the last committed append. Best effort: the row
    /// is already durable, and a head one row behind only narrows what a
    /// cut at the end can hide (rows past the head still need the key).
    pub(super) fn flush_audit_head(&mut self) {
        if let Some(chain) = &mut self.audit_chain {
            if let Some(head) = chain.pending.take() {
                let _ = head.write(&chain.head_path, &chain.key);
            }
        }
    }

    /// Forgets the head of appends a rolled-back batch undid.
    pub(super) fn discard_audit_head(&mut self) {
        if let Some(chain) = &mut self.audit_chain {
            chain.pending = None;
        }
    }

    /// The audit log, newest first.
    pub fn audit(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, action, key_id, provider_id, detail, hash, actor FROM audit ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(AuditEntry {
                seq: r.get(0)?,
                at: r.get(1)?,
                action: r.get(2)?,
                key_id: r.get(3)?,
                provider_id: r.get(4)?,
                detail: r.get(5)?,
                hash: r.get(6)?,
                actor: r.get(7)?,
            })
        })?;
        rows.collect::<Result<Vec<_>, _>>().map_err(Error::from)
    }

    /// Checks every row (SHA-256 before keying, HMAC after), that no row is
    /// missing, and the log against the head file.
    pub fn verify_audit(&self) -> Result<AuditVerification> {
        let chain = self.audit_chain.as_ref().ok_or_else(|| {
            Error::Database("the audit log is not open (its key is not loaded)".into())
        })?;
        let (_, keyed_from, rekeyed_at) = meta(&self.conn)?;
        let keyed_from = keyed_from.unwrap_or(i64::MAX);
        let walked = verify_rows(&self.conn, Some(&chain.key), keyed_from, rekeyed_at)?;
        let AuditVerification::Verified { count } = walked else {
            return Ok(walked);
        };
        let Some(head) = Head::read(&chain.head_path)? else {
            return Ok(AuditVerification::HeadMissing);
        };
        if !head.is_genuine(&chain.key)
            || head.keyed_from != keyed_from
            || head.rekeyed_at != rekeyed_at
        {
            return Ok(AuditVerification::HeadInvalid);
        }
        let (last_seq, _, _) = tail(&self.conn)?;
        if last_seq < head.seq {
            return Ok(AuditVerification::Truncated {
                head_seq: head.seq,
                last_seq,
            });
        }
        if head.seq > 0 {
            let at_head: Option<String> = self
                .conn
                .query_row("SELECT hash FROM audit WHERE seq = ?1", [head.seq], |r| {
                    r.get(0)
                })
                .optional()?;
            if at_head.as_deref() != Some(head.mac.as_str()) {
                return Ok(AuditVerification::Altered { seq: head.seq });
            }
        }
        if let Some(seq) = rekeyed_at {
            return Ok(AuditVerification::KeyMissing { seq });
        }
        Ok(AuditVerification::Verified { count })
    }

    /// Whether [`verify_audit`](Self::verify_audit) finds the log intact.
    pub fn audit_chain_intact(&self) -> Result<bool> {
        Ok(self.verify_audit()?.is_verified())
    }
}

/// Walks the rows in order. Rows before `keyed_from` use the SHA-256 chain;
/// keyed rows need `key` (without it, or before a rekey, only the links are
/// checked).
fn verify_rows(
    conn: &Connection,
    key: Option<&AuditKey>,
    keyed_from: i64,
    rekeyed_at: Option<i64>,
) -> Result<AuditVerification> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, action, key_id, provider_id, detail, prev_hash, hash, actor FROM audit ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let (mut last, mut prev, mut count) = (0i64, GENESIS.to_owned(), 0u64);
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let fields = RowFields {
            at: r.get(1)?,
            action: r.get(2)?,
            key_id: r.get(3)?,
            provider_id: r.get(4)?,
            detail: r.get(5)?,
            actor: r.get(8)?,
        };
        let (prev_hash, hash): (String, String) = (r.get(6)?, r.get(7)?);
        if seq != last + 1 {
            return Ok(AuditVerification::RowMissing { seq: last + 1 });
        }
        let genuine = if seq < keyed_from {
            hash == sha_chain_hash(&prev, &fields)
        } else if rekeyed_at.is_some_and(|r| seq < r) {
            true
        } else {
            match key {
                Some(key) => key.verify(&row_parts(&seq.to_string(), &prev, &fields), &hash),
                None => true,
            }
        };
        if prev_hash != prev || !genuine {
            return Ok(AuditVerification::Altered { seq });
        }
        prev = hash;
        last = seq;
        count += 1;
    }
    Ok(AuditVerification::Verified { count })
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
