//! Room for a rotation's new key on a service with a key limit (AWS: two
//! access keys per IAM user). When the account is full, the keys in the
//! way are named with when each was last used, and one is deleted only on
//! the person's explicit choice of that key (`--delete-other KEY_ID`, the
//! wizard's "Delete this key"); nothing deletes another key on its own.

use serde::Serialize;

use super::RoomOps;
use crate::error::{Error, Result};
use crate::providers::{Connector, RemoteKey};
use crate::rotation::driver::display_name;

/// A key on the service that stands in the way of a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct KeyInTheWay {
    /// The service's id for it (an AWS access key id).
    pub remote_id: String,
    /// Its name in the vault, when the vault holds it.
    pub name: Option<String>,
    pub created_at: Option<String>,
    /// `None`: never used, or the service does not say.
    pub last_used_at: Option<String>,
}

impl RoomOps<'_> {
    /// A create the service refused as over its key limit (a conflict on a
    /// service that has one, the account full): the error names the keys
    /// holding the limit, by their vault name where the vault knows them.
    /// Any other error, or a listing that fails, is returned as it is.
    pub(crate) async fn name_the_keys_holding_the_limit(
        &self,
        connection: &dyn Connector,
        provider_id: &str,
        e: Error,
    ) -> Error {
        let Error::ProviderConflict(message) = &e else {
            return e;
        };
        let Ok(Some((limit, live))) = full_account(connection).await else {
            return e;
        };
        let mut names = Vec::new();
        for r in live {
            let held = self
                .catalog()
                .key_by_remote(provider_id, &r.remote_id)
                .ok()
                .flatten();
            names.push(match held {
                Some(k) => format!("\"{}\"", display_name(&k.name)),
                None if !r.name.is_empty() => format!("\"{}\" (not in this vault)", r.name),
                None => format!("{} (not in this vault)", r.remote_id),
            });
        }
        Error::ProviderConflict(format!(
            "{message}. The {limit} keys holding the limit: {}",
            names.join(", ")
        ))
    }

    /// The other keys on `key_id`'s account when it has no room for one
    /// more (empty when there is room or the service has no limit).
    pub async fn keys_in_the_way(&self, key_id: &str) -> Result<Vec<KeyInTheWay>> {
        let record = self.key_record(key_id)?;
        let provider = self.provider_record(&record.provider_id)?;
        let connection = self.connect(&provider)?;
        let Some((_, there)) = full_account(connection.as_ref()).await? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for k in there
            .into_iter()
            .filter(|k| Some(&k.remote_id) != record.remote_id.as_ref())
        {
            let last_used_at = if connection.capabilities().last_used {
                connection.last_used(&k.remote_id).await.ok().flatten()
            } else {
                k.last_used_at.clone()
            };
            let name = self
                .catalog()
                .key_by_remote(&provider.id, &k.remote_id)?
                .map(|r| r.name);
            out.push(KeyInTheWay {
                remote_id: k.remote_id,
                name,
                created_at: k.created_at,
                last_used_at,
            });
        }
        Ok(out)
    }

    /// Deletes `remote_id`, one of the keys in the way of rotating
    /// `key_id`, on the person's explicit choice. Refused for the key being
    /// rotated and for a key that is not in the way.
    pub async fn delete_key_in_the_way(&self, key_id: &str, remote_id: &str) -> Result<()> {
        let record = self.key_record(key_id)?;
        if record.remote_id.as_deref() == Some(remote_id) {
            return Err(Error::invalid(
                "delete_other",
                "That is the key being rotated; name the other key",
            ));
        }
        let in_the_way = self.keys_in_the_way(key_id).await?;
        if !in_the_way.iter().any(|k| k.remote_id == remote_id) {
            return Err(Error::invalid(
                "delete_other",
                if in_the_way.is_empty() {
                    "There is room for the new key; nothing needs deleting".to_owned()
                } else {
                    format!(
                        "Name one of the keys in the way: {}",
                        in_the_way
                            .iter()
                            .map(|k| k.remote_id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            ));
        }
        let provider = self.provider_record(&record.provider_id)?;
        let connection = self.connect(&provider)?;
        connection.revoke(remote_id).await?;
        let held = self.catalog().key_by_remote(&provider.id, remote_id)?;
        if let Some(other) = &held {
            self.catalog().set_revoked(&other.id, &self.now())?;
        }
        self.audit(
            "revoke",
            held.as_ref().map(|k| k.id.as_str()),
            Some(&provider.id),
            &format!(
                "deleted {remote_id} on the service to make room for rotating \"{}\"",
                record.name
            ),
        )
    }
}

/// The service's limit and the live keys holding it when the account is
/// full; `None` when there is room or the service has no limit. Keys
/// listed as revoked do not count.
async fn full_account(connection: &dyn Connector) -> Result<Option<(usize, Vec<RemoteKey>)>> {
    let Some(limit) = connection.key_limit() else {
        return Ok(None);
    };
    let live: Vec<RemoteKey> = connection
        .list()
        .await?
        .into_iter()
        .filter(|r| r.revoked_at.is_none())
        .collect();
    Ok((live.len() >= limit).then_some((limit, live)))
}

/// The keys in the way as plain words: `AKIA… (last used 2026-11-30…)`.
pub fn describe_in_the_way(keys: &[KeyInTheWay]) -> String {
    keys.iter()
        .map(|k| {
            let name = k
                .name
                .as_ref()
                .map(|n| format!(" \"{n}\""))
                .unwrap_or_default();
            let used = match &k.last_used_at {
                Some(at) => format!("last used {at}"),
                None => "never used".to_owned(),
            };
            format!("{}{name} ({used})", k.remote_id)
        })
        .collect::<Vec<_>>()
        .join(", ")
}
