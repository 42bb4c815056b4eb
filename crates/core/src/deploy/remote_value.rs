//! One write / check / put-back path for remote variables whose value can
//! be read back (GitLab CI/CD variables, Vercel and Netlify environment
//! variables): a [`VariableStore`] says how to read, put and delete the
//! one variable; [`VariableTarget`] does the rest the same way for all of
//! them. A write keeps what the variable held in the rotation's private
//! backup folder (0600; `absent` when there was nothing) before putting
//! the key; `holds` reads the value back and compares fingerprints;
//! `restore` puts the backup back, or deletes what the deploy created,
//! only while the variable still holds the deployed key.
//!
//! A value the service will not show (GitLab's hidden variables, Netlify's
//! secret values, Vercel's sensitive ones) can be neither checked nor put
//! back, so such a variable is refused before anything is written, and
//! `holds` answers an error rather than a guess. Nothing here logs or
//! returns a value.

use std::path::PathBuf;

use async_trait::async_trait;
use zeroize::Zeroize;

use super::file::write_private;
use super::{Backup, DeployTarget, Written};
use crate::catalog::{TargetSpec, TargetState, TargetStatus};
use crate::error::{Error, Result};
use crate::http::Answer;
use crate::secret::{Fingerprint, Secret};

/// What the variable holds now.
pub enum Held {
    /// No such variable.
    Absent,
    /// Its value, as the service gave it back.
    Value(Secret),
    /// It exists, but its value cannot be read back; the text says why in
    /// plain words ("GitLab hides its value").
    Unreadable(String),
}

/// A remote target's non-success answer as the error it means: 404 the
/// thing named by `missing` (or the token cannot see it), 400 and 422 the
/// service refused the request (`refused`, in plain words; the service's
/// own text is never shown: it could echo the value), and the rest as the
/// HTTP engine maps them (401/403/409/429/5xx, an HTML page).
pub(crate) fn remote_failure(answer: Answer, missing: &str, refused: &str) -> Error {
    match answer.status.as_u16() {
        404 => Error::NotFound(format!("{missing} (or the token cannot see it)")),
        400 | 422 => Error::invalid("target", refused.to_owned()),
        _ => answer.into_error(),
    }
}

/// One remote variable: how to reach it. Implementations hold the
/// connection and never log a value.
#[async_trait]
pub trait VariableStore: Send + Sync {
    /// Plain words for the variable: `GitLab variable API_KEY in project 42`.
    fn describe(&self) -> String;
    /// The journal's spec of this target.
    fn spec(&self) -> TargetSpec;
    /// The backup file's tag (`gitlab`, `vercel`, `netlify`).
    fn tag(&self) -> &'static str;
    /// Checks names and limits that need no call (and the value, when given).
    fn check(&self, value: Option<&Secret>) -> Result<()>;
    async fn read(&self) -> Result<Held>;
    /// Puts `value` there, creating the variable when `exists` is false.
    /// Returns a remark for the person, if any (why a value is not masked).
    async fn put(&self, value: &Secret, exists: bool) -> Result<Option<String>>;
    async fn delete(&self) -> Result<()>;
    /// Said after a successful write, beside "now holds the new key"
    /// (Vercel: the change takes effect on the next deployment).
    fn after_write(&self) -> Option<String> {
        None
    }
    /// Said when the deploy is planned (GitLab: when the key is masked).
    fn plan_note(&self) -> Option<String> {
        self.after_write()
    }
}

/// A [`VariableStore`] as a deploy target.
pub struct VariableTarget<S> {
    store: S,
}

impl<S: VariableStore> VariableTarget<S> {
    pub fn new(store: S) -> Self {
        Self { store }
    }

    fn backup_path(&self, backup: &Backup<'_>) -> PathBuf {
        backup
            .dir
            .join(format!("{}-{}.backup", backup.index, self.store.tag()))
    }

    fn unreadable(&self, why: &str) -> Error {
        Error::invalid(
            "target",
            format!(
                "{}: {why}, so Latchkey could neither check a deploy nor put the old value back. \
                 Make the value readable, or deploy to another variable",
                self.store.describe()
            ),
        )
    }
}

/// The backup file: `absent`, or `value:` and what the variable held.
const ABSENT: &[u8] = b"absent";
const VALUE: &[u8] = b"value:";

#[async_trait]
impl<S: VariableStore> DeployTarget for VariableTarget<S> {
    fn describe(&self) -> String {
        self.store.describe()
    }

    /// Checks the names and the connection, and that the variable's value
    /// can be read back (a missing variable is fine: the deploy makes it).
    async fn prepare(&self) -> Result<TargetState> {
        self.store.check(None)?;
        if let Held::Unreadable(why) = self.store.read().await? {
            return Err(self.unreadable(&why));
        }
        Ok(TargetState {
            spec: self.store.spec(),
            status: TargetStatus::Pending,
            digest: None,
            confirmed: vec![],
            message: self.store.plan_note(),
            gitignore_warning: None,
            deployed_digest: None,
        })
    }

    async fn write(
        &self,
        secret: &Secret,
        backup: &Backup<'_>,
        _: Option<&str>,
    ) -> Result<Written> {
        self.store.check(Some(secret))?;
        let held = self.store.read().await?;
        let path = self.backup_path(backup);
        let mut remark = None;
        let already = matches!(&held, Held::Value(v) if v.fingerprint() == secret.fingerprint());
        if !already {
            let exists = match &held {
                Held::Absent => false,
                Held::Value(_) => true,
                Held::Unreadable(why) => return Err(self.unreadable(why)),
            };
            // What it held goes to the private backup first; a resume
            // keeps the first backup (the one from before this rotation).
            if !path.exists() {
                let mut bytes = match &held {
                    Held::Value(old) => [VALUE, old.expose_secret().as_bytes()].concat(),
                    _ => ABSENT.to_vec(),
                };
                let kept = write_private(&path, &bytes);
                bytes.zeroize();
                kept?;
            }
            remark = self.store.put(secret, exists).await?;
        }
        let mut message = format!("{} now holds the new key", self.describe());
        for extra in [remark, self.store.after_write()].into_iter().flatten() {
            message.push_str("; ");
            message.push_str(&extra);
        }
        Ok(Written::Done {
            digest: None,
            message,
        })
    }

    /// Reads the value back and compares fingerprints. A value the service
    /// will not show is an error, never a guess.
    async fn holds(&self, fingerprint: &Fingerprint) -> Result<bool> {
        match self.store.read().await? {
            Held::Absent => Ok(false),
            Held::Value(v) => Ok(&v.fingerprint() == fingerprint),
            Held::Unreadable(why) => Err(self.unreadable(&why)),
        }
    }

    async fn restore(
        &self,
        backup: &Backup<'_>,
        _deployed_digest: Option<&str>,
        new: Option<&Secret>,
        old_key: &(dyn Fn() -> Result<Secret> + Sync),
    ) -> Result<String> {
        let exists = match self.store.read().await? {
            Held::Absent => false,
            Held::Value(held) => {
                if new.is_some_and(|n| n.fingerprint() != held.fingerprint()) {
                    return Err(Error::RollbackFailed(format!(
                        "{} was changed by someone else since the deploy; it was left as it is",
                        self.describe()
                    )));
                }
                true
            }
            Held::Unreadable(why) => {
                return Err(Error::RollbackFailed(format!(
                    "{}: {why}; it was left as it is",
                    self.describe()
                )))
            }
        };
        let path = self.backup_path(backup);
        let saved = std::fs::read(&path).ok();
        let result = match saved.as_deref() {
            Some(ABSENT) => self
                .store
                .delete()
                .await
                .map(|()| "is deleted again (it did not exist before)".to_owned()),
            Some(bytes) if bytes.starts_with(VALUE) => {
                let old = Secret::new(String::from_utf8_lossy(&bytes[VALUE.len()..]).into_owned());
                self.store
                    .put(&old, exists)
                    .await
                    .map(|_| "holds the old key again".to_owned())
            }
            _ => {
                let old = old_key()?;
                self.store
                    .put(&old, exists)
                    .await
                    .map(|_| "holds the old key again".to_owned())
            }
        };
        if let Some(mut bytes) = saved {
            bytes.zeroize();
        }
        Ok(format!("{} {}", self.describe(), result?))
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`, at most `max` bytes: a variable name the
/// three services all take.
pub(crate) fn check_variable(service: &str, name: &str, max: usize) -> Result<()> {
    let mut bytes = name.bytes();
    let ok = name.len() <= max
        && matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "target",
            format!(
                "'{}' is not a {service} variable name: letters, digits and _ only, not starting with a digit",
                crate::untrusted::clean(name, 64, &[])
            ),
        ))
    }
}

/// A path segment (a project or site id or name) made safe for a URL.
pub(crate) fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// An id the spec carries (a project, account or site): not empty, no
/// control characters, at most 255 bytes.
pub(crate) fn check_id(what: &str, id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 255 || id.chars().any(char::is_control) {
        return Err(Error::invalid("target", format!("Name the {what}")));
    }
    Ok(())
}
