//! The service's state and every rule that applies to it: authentication,
//! the active-key limit, idempotent creates, rate limits, usage counters.
//!
//! Everything here runs under one lock, so a check and the change it guards
//! (e.g. "fewer than 10 active keys" and the insert) are atomic. Nothing here
//! does I/O; persistence snapshots this state (see `persist`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::error::ApiError;
use crate::model::{
    hashes_equal, key_prefix_of, random_hex, sha256, FullKey, Permission, StoredKey,
};

/// Active (not revoked, not expired) keys allowed per project.
pub const ACTIVE_KEY_LIMIT: usize = 10;
/// How long an `Idempotency-Key` replays its first answer.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::hours(24);

/// Token-bucket settings for each API key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 20.0,
            burst: 40.0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: OffsetDateTime,
}

/// Who a request is authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Admin,
    Key { id: String },
}

/// A validated create request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreateRequest {
    pub name: String,
    pub permissions: Vec<Permission>,
    pub expires_in_days: Option<u32>,
}

impl CreateRequest {
    fn fingerprint(&self) -> [u8; 32] {
        let perms: Vec<&str> = self.permissions.iter().map(|p| p.as_str()).collect();
        sha256(&serde_json::json!([self.name, perms, self.expires_in_days]).to_string())
    }
}

/// What a create answers.
#[derive(Debug, Clone)]
pub struct Created {
    pub key: StoredKey,
    pub full: FullKey,
    /// True when this is the replay of an earlier request with the same
    /// `Idempotency-Key`: nothing was created.
    pub replayed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdempotencyRecord {
    project: String,
    idempotency_key: String,
    key_id: String,
    #[serde(with = "hex_array")]
    request: [u8; 32],
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    /// The first answer's full key, held in memory only for the replay.
    #[serde(skip)]
    full: Option<FullKey>,
}

mod hex_array {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let bytes = hex::decode(String::deserialize(d)?).map_err(D::Error::custom)?;
        bytes
            .try_into()
            .map_err(|_| D::Error::custom("expected 32 bytes"))
    }
}

/// What is written to the data file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    version: u32,
    seq: u64,
    keys: Vec<StoredKey>,
    idempotency: Vec<IdempotencyRecord>,
}

/// The whole state of one service.
#[derive(Debug)]
pub struct State {
    admin_hash: [u8; 32],
    rate: RateLimit,
    keys: HashMap<String, StoredKey>,
    by_prefix: HashMap<String, String>,
    idempotency: HashMap<(String, String), IdempotencyRecord>,
    buckets: HashMap<String, Bucket>,
    seq: u64,
    /// How long a create's full key stays in memory for an idempotent
    /// replay (see [`State::forget_replay_keys`]).
    replay_key_ttl: Duration,
    /// Changed since the last snapshot was taken.
    pub dirty: bool,
}

impl State {
    pub fn new(admin_token: &str, rate: RateLimit) -> Self {
        Self {
            admin_hash: sha256(admin_token),
            rate,
            keys: HashMap::new(),
            by_prefix: HashMap::new(),
            idempotency: HashMap::new(),
            buckets: HashMap::new(),
            seq: 0,
            replay_key_ttl: IDEMPOTENCY_WINDOW,
            dirty: false,
        }
    }

    /// Keeps a create's full key for replays only this long (at most the
    /// idempotency window); later replays answer 409
    /// `IDEMPOTENCY_REPLAY_UNAVAILABLE`, as after a restart.
    pub fn set_replay_key_ttl(&mut self, ttl: Duration) {
        self.replay_key_ttl = ttl.min(IDEMPOTENCY_WINDOW);
    }

    /// Drops (and so zeroizes) every full key held for a replay longer than
    /// the replay TTL. The record itself stays for the idempotency window,
    /// so a late retry is still recognised and never creates a second key.
    pub fn forget_replay_keys(&mut self, now: OffsetDateTime) {
        let ttl = self.replay_key_ttl;
        for rec in self.idempotency.values_mut() {
            if now - rec.at >= ttl {
                rec.full = None;
            }
        }
    }

    /// Rebuilds state from a data file's snapshot.
    pub fn restore(admin_token: &str, rate: RateLimit, snapshot: Snapshot) -> Result<Self, String> {
        if snapshot.version != 1 {
            return Err(format!(
                "unsupported data file version {}",
                snapshot.version
            ));
        }
        let mut state = Self::new(admin_token, rate);
        state.seq = snapshot.seq;
        for key in snapshot.keys {
            if key_prefix_of(&format!("{}_{}", key.key_prefix, "a".repeat(24))).is_none() {
                return Err(format!("key {} has a malformed prefix", key.id));
            }
            if state
                .by_prefix
                .insert(key.key_prefix.clone(), key.id.clone())
                .is_some()
            {
                return Err(format!("prefix {} appears twice", key.key_prefix));
            }
            state.seq = state.seq.max(key.seq);
            state.keys.insert(key.id.clone(), key);
        }
        for rec in snapshot.idempotency {
            state
                .idempotency
                .insert((rec.project.clone(), rec.idempotency_key.clone()), rec);
        }
        Ok(state)
    }

    /// A copy of everything that must survive a restart; clears `dirty`.
    pub fn snapshot(&mut self) -> Snapshot {
        self.dirty = false;
        let mut keys: Vec<StoredKey> = self.keys.values().cloned().collect();
        keys.sort_by_key(|k| k.seq);
        let mut idempotency: Vec<IdempotencyRecord> = self.idempotency.values().cloned().collect();
        idempotency.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then_with(|| a.idempotency_key.cmp(&b.idempotency_key))
        });
        Snapshot {
            version: 1,
            seq: self.seq,
            keys,
            idempotency,
        }
    }

    /// Authenticates a bearer token (already hashed) and charges its rate
    /// limit. `None` is a missing header. Updates usage counters of keys.
    pub fn authenticate(
        &mut self,
        token: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Principal, ApiError> {
        let token = match token {
            None => return Err(ApiError::missing_api_key()),
            Some(t) => t,
        };
        let presented = sha256(token);
        if hashes_equal(&presented, &self.admin_hash) {
            return Ok(Principal::Admin);
        }
        let id = key_prefix_of(token)
            .and_then(|prefix| self.by_prefix.get(prefix))
            .cloned()
            .ok_or_else(|| ApiError::invalid_api_key(None))?;
        let key = self
            .keys
            .get(&id)
            .ok_or_else(|| ApiError::invalid_api_key(None))?;
        if !hashes_equal(&presented, &key.sha256) {
            return Err(ApiError::invalid_api_key(None));
        }
        if key.revoked_at.is_some() {
            return Err(ApiError::invalid_api_key(Some(&id)));
        }
        if let Some(at) = key.expires_at.filter(|&at| at <= now) {
            return Err(ApiError::expired_api_key(&id, at));
        }
        self.take_token(&id, now)?;
        if let Some(key) = self.keys.get_mut(&id) {
            key.last_used_at = Some(now);
            key.request_count += 1;
            self.dirty = true;
        }
        Ok(Principal::Key { id })
    }

    fn take_token(&mut self, id: &str, now: OffsetDateTime) -> Result<(), ApiError> {
        let rate = self.rate;
        let bucket = self.buckets.entry(id.to_owned()).or_insert(Bucket {
            tokens: rate.burst,
            at: now,
        });
        let elapsed = (now - bucket.at).as_seconds_f64().max(0.0);
        bucket.tokens = (bucket.tokens + elapsed * rate.per_second).min(rate.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - bucket.tokens) / rate.per_second).ceil().max(1.0);
            Err(ApiError::rate_limited(wait.min(86_400.0) as u64))
        }
    }

    /// Checks that `principal` may use `permission` in `project`.
    pub fn authorize(
        &self,
        principal: &Principal,
        permission: Permission,
        project: Option<&str>,
    ) -> Result<(), ApiError> {
        let id = match principal {
            Principal::Admin => return Ok(()),
            Principal::Key { id } => id,
        };
        let key = self
            .keys
            .get(id)
            .ok_or_else(|| ApiError::invalid_api_key(None))?;
        if let Some(project) = project {
            if key.project != project {
                return Err(ApiError::wrong_project(project));
            }
        }
        if key.has(permission) {
            Ok(())
        } else {
            Err(ApiError::insufficient_permissions(permission.as_str()))
        }
    }

    pub fn key(&self, id: &str) -> Option<&StoredKey> {
        self.keys.get(id)
    }

    /// Creates a key in `project`, or replays the answer of an earlier
    /// request with the same idempotency key.
    pub fn create(
        &mut self,
        project: &str,
        request: &CreateRequest,
        idempotency_key: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Created, ApiError> {
        self.idempotency
            .retain(|_, rec| now - rec.at < IDEMPOTENCY_WINDOW);
        self.forget_replay_keys(now);
        let fingerprint = request.fingerprint();
        if let Some(idem) = idempotency_key {
            if let Some(rec) = self.idempotency.get(&(project.to_owned(), idem.to_owned())) {
                if rec.request != fingerprint {
                    return Err(ApiError::validation(
                        "Idempotency-Key",
                        "This Idempotency-Key was already used with a different request body",
                    ));
                }
                let key = self.keys.get(&rec.key_id).cloned();
                return match (key, rec.full.clone()) {
                    (Some(key), Some(full)) => Ok(Created {
                        key,
                        full,
                        replayed: true,
                    }),
                    _ => Err(ApiError::idempotent_replay_unavailable(&rec.key_id)),
                };
            }
        }
        let active = self
            .keys
            .values()
            .filter(|k| k.project == project && k.is_active(now))
            .count();
        if active >= ACTIVE_KEY_LIMIT {
            return Err(ApiError::key_limit_reached(ACTIVE_KEY_LIMIT));
        }
        let full = loop {
            let candidate = FullKey::generate();
            if !self.by_prefix.contains_key(candidate.prefix()) {
                break candidate;
            }
        };
        let id = loop {
            let candidate = format!("key_{}", random_hex(8));
            if !self.keys.contains_key(&candidate) {
                break candidate;
            }
        };
        self.seq += 1;
        let created_at = now.replace_nanosecond(0).unwrap_or(now);
        let key = StoredKey {
            id: id.clone(),
            project: project.to_owned(),
            name: request.name.clone(),
            key_prefix: full.prefix().to_owned(),
            key_preview: full.preview(),
            sha256: sha256(full.as_str()),
            permissions: request.permissions.clone(),
            created_at,
            expires_at: request
                .expires_in_days
                .map(|d| created_at + Duration::days(i64::from(d))),
            last_used_at: None,
            revoked_at: None,
            request_count: 0,
            seq: self.seq,
        };
        self.by_prefix.insert(key.key_prefix.clone(), id.clone());
        self.keys.insert(id.clone(), key.clone());
        if let Some(idem) = idempotency_key {
            self.idempotency.insert(
                (project.to_owned(), idem.to_owned()),
                IdempotencyRecord {
                    project: project.to_owned(),
                    idempotency_key: idem.to_owned(),
                    key_id: id,
                    request: fingerprint,
                    at: now,
                    full: Some(full.clone()),
                },
            );
        }
        self.dirty = true;
        Ok(Created {
            key,
            full,
            replayed: false,
        })
    }

    /// Undoes a create whose persistence failed.
    pub fn forget(&mut self, id: &str) {
        if let Some(key) = self.keys.remove(id) {
            self.by_prefix.remove(&key.key_prefix);
            self.buckets.remove(id);
        }
        self.idempotency.retain(|_, rec| rec.key_id != id);
        self.dirty = true;
    }

    /// Keys of a project, newest first, revoked ones included.
    pub fn list(&self, project: &str) -> Vec<&StoredKey> {
        let mut keys: Vec<&StoredKey> = self
            .keys
            .values()
            .filter(|k| k.project == project)
            .collect();
        keys.sort_by_key(|k| std::cmp::Reverse(k.seq));
        keys
    }

    /// A key of a project.
    pub fn get(&self, project: &str, id: &str) -> Result<&StoredKey, ApiError> {
        self.keys
            .get(id)
            .filter(|k| k.project == project)
            .ok_or_else(|| ApiError::not_found("API key"))
    }

    /// Revokes a key; `Ok(true)` when this call changed it.
    pub fn revoke(
        &mut self,
        project: &str,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, ApiError> {
        let key = self
            .keys
            .get_mut(id)
            .filter(|k| k.project == project)
            .ok_or_else(|| ApiError::not_found("API key"))?;
        if key.revoked_at.is_some() {
            return Ok(false);
        }
        key.revoked_at = Some(now.replace_nanosecond(0).unwrap_or(now));
        self.dirty = true;
        Ok(true)
    }

    /// Undoes a revoke whose persistence failed.
    pub fn unrevoke(&mut self, id: &str) {
        if let Some(key) = self.keys.get_mut(id) {
            key.revoked_at = None;
            self.dirty = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(name: &str) -> CreateRequest {
        CreateRequest {
            name: name.into(),
            permissions: vec![Permission::Read],
            expires_in_days: None,
        }
    }

    fn t0() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid time")
    }

    #[test]
    fn held_replay_keys_go_at_the_ttl_without_a_request() {
        let mut s = State::new("admin", RateLimit::default());
        s.set_replay_key_ttl(Duration::seconds(10));
        s.create("p", &request("k"), Some("idem"), t0())
            .expect("created");
        let held = |s: &State| s.idempotency.values().filter(|r| r.full.is_some()).count();
        s.forget_replay_keys(t0() + Duration::seconds(9));
        assert_eq!(held(&s), 1, "dropped before the TTL");
        s.forget_replay_keys(t0() + Duration::seconds(10));
        assert_eq!(held(&s), 0, "still held at the TTL");
        assert_eq!(s.idempotency.len(), 1, "the record itself stays");
    }

    #[test]
    fn bucket_allows_burst_then_asks_to_wait() {
        let mut s = State::new(
            "admin",
            RateLimit {
                per_second: 2.0,
                burst: 3.0,
            },
        );
        let created = s.create("p", &request("k"), None, t0()).expect("created");
        let token = created.full.as_str().to_owned();
        for _ in 0..3 {
            s.authenticate(Some(&token), t0()).expect("within burst");
        }
        let err = s
            .authenticate(Some(&token), t0())
            .expect_err("over the burst");
        assert_eq!(err.code, "RATE_LIMITED");
        assert_eq!(err.retry_after, Some(1));
        s.authenticate(Some(&token), t0() + Duration::milliseconds(600))
            .expect("refilled");
        assert_eq!(s.key(&created.key.id).map(|k| k.request_count), Some(4));
    }

    #[test]
    fn snapshot_round_trips_without_full_keys() {
        let mut s = State::new("admin", RateLimit::default());
        let created = s
            .create("p", &request("k"), Some("idem-1"), t0())
            .expect("created");
        let text = serde_json::to_string(&s.snapshot()).expect("serializes");
        assert!(!text.contains(created.full.as_str()));
        let snap: Snapshot = serde_json::from_str(&text).expect("parses");
        let mut restored = State::restore("admin", RateLimit::default(), snap).expect("restores");
        let err = restored
            .create("p", &request("k"), Some("idem-1"), t0())
            .expect_err("no replay");
        assert_eq!(err.code, "IDEMPOTENCY_REPLAY_UNAVAILABLE");
        assert!(restored
            .authenticate(Some(created.full.as_str()), t0())
            .is_ok());
    }
}
