//! Throttling of failed authentications: every 401 a client address gets
//! takes one token from that address's bucket; while the bucket is empty,
//! every call from that address is answered 429 `RATE_LIMITED` with a
//! `Retry-After`, before its credentials are even looked at.
//!
//! Defaults ([`AuthFailureLimit::default`]): a burst of 20 failures, refilled
//! at 5 per second, per client IP address. Every loopback client shares
//! 127.0.0.1 (or ::1), so on loopback the limit is in effect global.
//!
//! Only failures are charged: a client that presents a correct token (the
//! admin token or an active key) never drains its bucket, however many calls
//! it makes, so correct credentials never lock themselves out. While an
//! address *is* locked out (by failures), its correct credentials are refused
//! too: answering them would turn the lockout into a guessing oracle
//! (429 for a wrong guess, 200 for the right one). This module never sees,
//! stores or logs a token — only addresses and counts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use time::OffsetDateTime;

/// Failed-authentication budget of one client address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AuthFailureLimit {
    /// Failures an address may have in a row before it is locked out.
    pub burst: f64,
    /// Failures forgiven per second.
    pub per_second: f64,
}

impl Default for AuthFailureLimit {
    fn default() -> Self {
        Self {
            burst: 20.0,
            per_second: 5.0,
        }
    }
}

/// Past this many tracked addresses, addresses whose bucket is full again
/// are forgotten.
const PRUNE_ABOVE: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: OffsetDateTime,
}

#[derive(Debug)]
pub(crate) struct AuthFailures {
    limit: AuthFailureLimit,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl AuthFailures {
    pub(crate) fn new(limit: AuthFailureLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn refilled(&self, bucket: &mut Bucket, now: OffsetDateTime) {
        let elapsed = (now - bucket.at).as_seconds_f64().max(0.0);
        bucket.tokens = (bucket.tokens + elapsed * self.limit.per_second).min(self.limit.burst);
        bucket.at = now;
    }

    /// `Ok` when `ip` may make a call; `Err(seconds)` to wait while it is
    /// locked out.
    pub(crate) fn check(&self, ip: IpAddr, now: OffsetDateTime) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let Some(bucket) = buckets.get_mut(&ip) else {
            return Ok(());
        };
        self.refilled(bucket, now);
        if bucket.tokens >= 1.0 {
            return Ok(());
        }
        let wait = ((1.0 - bucket.tokens) / self.limit.per_second)
            .ceil()
            .clamp(1.0, 86_400.0);
        Err(wait as u64)
    }

    /// Charges one failed authentication to `ip`.
    pub(crate) fn charge(&self, ip: IpAddr, now: OffsetDateTime) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            let limit = self.limit;
            buckets.retain(|_, b| {
                let elapsed = (now - b.at).as_seconds_f64().max(0.0);
                b.tokens + elapsed * limit.per_second < limit.burst
            });
        }
        let burst = self.limit.burst;
        let bucket = buckets.entry(ip).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        self.refilled(bucket, now);
        bucket.tokens = (bucket.tokens - 1.0).max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid time")
    }

    #[test]
    fn a_burst_of_failures_locks_out_then_refills() {
        let limits = AuthFailures::new(AuthFailureLimit {
            burst: 3.0,
            per_second: 0.5,
        });
        let ip: IpAddr = [127, 0, 0, 1].into();
        let other: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..3 {
            assert_eq!(limits.check(ip, t0()), Ok(()));
            limits.charge(ip, t0());
        }
        assert_eq!(
            limits.check(ip, t0()),
            Err(2),
            "one failure at 0.5/s is 2 s"
        );
        assert_eq!(limits.check(other, t0()), Ok(()), "per address");
        let later = t0() + time::Duration::seconds(2);
        assert_eq!(limits.check(ip, later), Ok(()));
        limits.charge(ip, later);
        assert!(limits.check(ip, later).is_err());
    }
}
