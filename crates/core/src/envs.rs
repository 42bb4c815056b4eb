//! Where the vault meets a project's environment: which of the vault's
//! variables are set (and to what key, by fingerprint), the keys to inject
//! into a child process, and importing a `.env` file's keys. Values are
//! fingerprinted and dropped; nothing here prints or returns one except
//! `secrets_for_env`, whose caller hands them to a child process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::vault::{EnvOps, ExistingKey, KeyStatus, KeyView};

/// What a variable holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EnvState {
    /// Set to an active key of the vault.
    Set,
    NotSet,
    /// Set to a key the vault knows as revoked (or expired).
    Revoked,
    /// Set to something the vault does not know.
    Unknown,
}

/// One variable the vault knows, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct EnvCheck {
    pub env_var: String,
    pub state: EnvState,
    /// Where the value was found: "environment" or a file path.
    pub source: Option<String>,
    /// The vault key the value is (by fingerprint).
    pub key_name: Option<String>,
}

/// The `.env` files of a directory, as `check` reads them: `.env`, then
/// `.env.*` (not Latchkey's backups or temp files), sorted.
pub fn dotenv_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    (name == ".env" || name.starts_with(".env."))
                        && !name.ends_with(".latchkey-backup")
                        && !name.ends_with(".latchkey-tmp")
                        && p.is_file()
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn read_values(path: &Path) -> Vec<(String, String)> {
    let Ok(bytes) = std::fs::read(path) else {
        return vec![];
    };
    let body = bytes
        .strip_prefix("\u{feff}".as_bytes())
        .unwrap_or(&bytes)
        .to_vec();
    dotenvy::from_read_iter(body.as_slice())
        .filter_map(|r| r.ok())
        .collect()
}

impl EnvOps<'_> {
    /// For each variable the vault's keys are tagged with: set, not set, or
    /// set to a revoked or unknown key — from `env` first (the process
    /// environment), then the `.env` files of `dir`.
    pub fn check_env(&self, dir: &Path, env: &[(String, String)]) -> Result<Vec<EnvCheck>> {
        let keys = self.local_keys()?;
        let mut vars: BTreeMap<String, ()> = BTreeMap::new();
        for k in keys.iter().filter(|k| !k.env_var.is_empty()) {
            vars.insert(k.env_var.clone(), ());
        }
        let files: Vec<(String, Vec<(String, String)>)> = dotenv_files(dir)
            .into_iter()
            .map(|p| (p.display().to_string(), read_values(&p)))
            .collect();
        // Every catalogue variable a .env file here sets is checked too
        // (one the vault does not know shows as "set to an unknown key").
        // Not from the process environment: a shell's own GITHUB_TOKEN is
        // not this project's business.
        let known = crate::services::known_env_vars();
        for (_, values) in &files {
            for (var, _) in values {
                if known.contains_key(var.as_str()) {
                    vars.insert(var.clone(), ());
                }
            }
        }
        let mut out = Vec::new();
        for var in vars.keys() {
            let found = env
                .iter()
                .find(|(k, _)| k == var)
                .map(|(_, v)| ("environment".to_owned(), v.clone()))
                .or_else(|| {
                    files.iter().find_map(|(path, values)| {
                        values
                            .iter()
                            .rev()
                            .find(|(k, _)| k == var)
                            .map(|(_, v)| (path.clone(), v.clone()))
                    })
                });
            let check = match found {
                None => EnvCheck {
                    env_var: var.clone(),
                    state: EnvState::NotSet,
                    source: None,
                    key_name: None,
                },
                Some((source, value)) => {
                    let fp = Secret::new(value).fingerprint();
                    let record = self.catalog().key_by_fingerprint(fp.as_str())?;
                    let view = match record {
                        Some(r) => Some(self.key(&r.id)?),
                        None => None,
                    };
                    let state = match &view {
                        None => EnvState::Unknown,
                        Some(k) if matches!(k.status, KeyStatus::Revoked | KeyStatus::Expired) => {
                            EnvState::Revoked
                        }
                        Some(_) => EnvState::Set,
                    };
                    EnvCheck {
                        env_var: var.clone(),
                        state,
                        source: Some(source),
                        key_name: view.map(|k| k.name),
                    }
                }
            };
            out.push(check);
        }
        Ok(out)
    }

    /// The keys to inject into a child process: every active key with an
    /// environment variable and a local secret (the newest wins a variable).
    /// Audited.
    pub fn secrets_for_env(&self) -> Result<Vec<(String, Secret)>> {
        let mut chosen: BTreeMap<String, KeyView> = BTreeMap::new();
        for k in self.local_keys()? {
            if k.env_var.is_empty() || k.status != KeyStatus::Active || !k.has_secret {
                continue;
            }
            let newer = chosen
                .get(&k.env_var)
                .is_none_or(|c| k.created_at > c.created_at);
            if newer {
                chosen.insert(k.env_var.clone(), k);
            }
        }
        let mut out = Vec::new();
        for (var, key) in chosen {
            let secret = self.secret_of(&key.id)?;
            self.audit(
                "inject",
                Some(&key.id),
                Some(&key.provider_id),
                &format!("put \"{}\" in {var} for a child process", key.name),
            )?;
            out.push((var, secret));
        }
        Ok(out)
    }

    /// Brings a `.env` file's keys under management, each named and tagged
    /// after its variable. `vars` picks variables; empty picks those that
    /// look like keys (the name says KEY, TOKEN or SECRET, or the value is a
    /// reference service key). Duplicates (by fingerprint) are skipped.
    pub async fn import_dotenv(
        &self,
        path: &Path,
        provider_id: &str,
        vars: &[String],
        replace: bool,
    ) -> Result<Vec<ImportOutcome>> {
        if !path.is_file() {
            return Err(Error::invalid(
                "path",
                format!("{} is not a readable file", path.display()),
            ));
        }
        let mut out = Vec::new();
        for (var, value) in read_values(path) {
            let recognised = crate::services::recognise(&value);
            let service = recognised
                .first()
                .map(|r| r.service_name.clone())
                .unwrap_or_default();
            let wanted = if vars.is_empty() {
                looks_like_a_key(&var, &value) || !recognised.is_empty()
            } else {
                vars.contains(&var)
            };
            if !wanted {
                continue;
            }
            let result = self
                .add_existing_key(ExistingKey {
                    provider_id: provider_id.to_owned(),
                    name: var.clone(),
                    secret: Secret::new(value),
                    environment: String::new(),
                    env_var: var.clone(),
                    replace,
                })
                .await;
            out.push(match result {
                Ok(k) => ImportOutcome {
                    env_var: var,
                    imported: true,
                    key_name: Some(k.name),
                    message: if service.is_empty() {
                        "imported (unknown service)".into()
                    } else {
                        format!("imported ({service} key)")
                    },
                    service,
                },
                Err(Error::DuplicateKey(name)) => ImportOutcome {
                    env_var: var,
                    imported: false,
                    key_name: Some(name.clone()),
                    message: format!("already in the vault as \"{name}\""),
                    service,
                },
                Err(Error::KeyAlreadyHeld(name)) => ImportOutcome {
                    env_var: var,
                    imported: false,
                    key_name: Some(name.clone()),
                    service,
                    message: format!(
                        "not imported: the vault holds another secret for \"{name}\" (--replace puts this one in its place)"
                    ),
                },
                Err(e) => return Err(e),
            });
        }
        Ok(out)
    }
}

/// What importing one variable did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ImportOutcome {
    pub env_var: String,
    pub imported: bool,
    pub key_name: Option<String>,
    pub message: String,
    /// The catalogue service the value's format says it belongs to ("" for
    /// a key of no known format: "unknown service").
    pub service: String,
}

fn looks_like_a_key(var: &str, value: &str) -> bool {
    let upper = var.to_ascii_uppercase();
    let named = ["KEY", "TOKEN", "SECRET"].iter().any(|w| upper.contains(w));
    value.len() >= 8 && (named || value.starts_with("lk_"))
}

#[cfg(test)]
mod tests {
    use super::looks_like_a_key;

    #[test]
    fn picks_keys_not_settings() {
        assert!(looks_like_a_key("OPENAI_API_KEY", "sk-abcdefgh1234"));
        assert!(looks_like_a_key("SERVICE", "lk_abcdefgh_0123456789"));
        assert!(!looks_like_a_key("DEBUG", "true"));
        assert!(!looks_like_a_key("API_KEY", "short"));
        assert!(!looks_like_a_key("DATABASE_URL", "postgres://localhost/db"));
    }
}
