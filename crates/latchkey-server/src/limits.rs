//! Rate limits of the OAuth2 endpoints that authenticate clients (token, introspection,
//! revocation), and the gate that bounds the CPU spent on argon2id.
//!
//! Budgets are token buckets per realm and subject, refilled at the realm's per-minute limit
//! and holding at most one minute's worth. They live in memory, per process: each replica
//! enforces its own share. A failed client authentication spends from the failure budgets of
//! the client id and of the source address; once either is empty, attempts are refused before
//! any hashing, so a brute force costs the server almost nothing.

use latchkey_realms::RealmId;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// What a budget counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    /// Requests of an authenticated client.
    Client,
    /// Requests from a source address.
    Address,
    /// Failed authentications of a client id.
    FailedClient,
    /// Failed authentications from a source address.
    FailedAddress,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subject {
    Client(Box<str>),
    Address(IpAddr),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    realm: RealmId,
    budget: Budget,
    subject: Subject,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    /// Refills at `per_minute` and returns the tokens now held (at most `per_minute`).
    fn refill(&mut self, per_minute: u32, now: Instant) -> f64 {
        let rate = f64::from(per_minute) / 60.0;
        self.tokens = (self.tokens + now.duration_since(self.updated).as_secs_f64() * rate).min(f64::from(per_minute));
        self.updated = now;
        self.tokens
    }

    /// How long until one token is back.
    fn wait(&self, per_minute: u32) -> Duration {
        Duration::from_secs_f64((1.0 - self.tokens).max(0.0) * 60.0 / f64::from(per_minute))
    }
}

/// Refused: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, at least 1, for the `Retry-After` header.
    pub fn seconds(self) -> u64 {
        self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0 || self.0.is_zero())
    }
}

const SHARDS: usize = 16;
/// A shard holding more buckets than this drops the ones that are full again (idle a minute).
const PRUNE_ABOVE: usize = 4096;

/// Every budget of every realm, sharded to keep lock contention low.
#[derive(Debug)]
pub struct RateLimiter {
    shards: [Mutex<HashMap<Key, Bucket>>; SHARDS],
    hasher: std::hash::RandomState,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter { shards: std::array::from_fn(|_| Mutex::default()), hasher: std::hash::RandomState::new() }
    }
}

impl RateLimiter {
    fn with_bucket<T>(&self, key: Key, per_minute: u32, f: impl FnOnce(&mut Bucket) -> T) -> T {
        let shard = &self.shards[(self.hasher.hash_one(&key) as usize) % SHARDS];
        let mut map = shard.lock().expect("rate limiter poisoned");
        let now = Instant::now();
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, b| now.duration_since(b.updated) < Duration::from_secs(60));
        }
        let bucket = map.entry(key).or_insert(Bucket { tokens: f64::from(per_minute), updated: now });
        bucket.refill(per_minute, now);
        f(bucket)
    }

    /// Spends one request from a budget of `per_minute` (0: unlimited).
    pub fn take(&self, realm: RealmId, budget: Budget, subject: Who<'_>, per_minute: u32) -> Result<(), RetryAfter> {
        let Some(key) = subject.key(realm, budget).filter(|_| per_minute > 0) else {
            return Ok(());
        };
        self.with_bucket(key, per_minute, |b| {
            if b.tokens >= 1.0 {
                b.tokens -= 1.0;
                Ok(())
            } else {
                Err(RetryAfter(b.wait(per_minute)))
            }
        })
    }

    /// Whether a budget still has a token, without spending it.
    pub fn check(&self, realm: RealmId, budget: Budget, subject: Who<'_>, per_minute: u32) -> Result<(), RetryAfter> {
        let Some(key) = subject.key(realm, budget).filter(|_| per_minute > 0) else {
            return Ok(());
        };
        self.with_bucket(
            key,
            per_minute,
            |b| if b.tokens >= 1.0 { Ok(()) } else { Err(RetryAfter(b.wait(per_minute))) },
        )
    }
}

/// Whose budget: a client id or a source address.
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    Client(&'a str),
    Address(Option<IpAddr>),
}

impl Who<'_> {
    /// The bucket's key; none for an unknown address (nothing to count it by).
    fn key(self, realm: RealmId, budget: Budget) -> Option<Key> {
        let subject = match self {
            Who::Client(c) => Subject::Client(c.into()),
            Who::Address(a) => Subject::Address(a?),
        };
        Some(Key { realm, budget, subject })
    }
}

/// Bounds the argon2id work in flight to the machine's cores, with a bounded queue: beyond it,
/// a verification is refused at once instead of piling up memory (19 MiB each) and latency.
#[derive(Debug)]
pub struct HashGate {
    permits: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// The gate is full: answer 503 and let the client retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl HashGate {
    pub fn new(concurrency: usize, max_waiting: usize) -> Self {
        HashGate { permits: Semaphore::new(concurrency.max(1)), waiting: AtomicUsize::new(0), max_waiting }
    }

    /// One permit per core, and a queue of 32 per core.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self::new(cores, 32 * cores)
    }

    /// Runs `work` (blocking, CPU-bound) off the executor once a permit is free.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Busy);
        }
        let permit = self.permits.acquire().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let _permit = permit.map_err(|_| Busy)?;
        actix_web::web::block(work).await.map_err(|_| Busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REALM: RealmId = RealmId(1);

    #[test]
    fn a_budget_allows_its_limit_then_refuses() {
        let l = RateLimiter::default();
        for _ in 0..3 {
            assert!(l.take(REALM, Budget::Client, Who::Client("a"), 3).is_ok());
        }
        let retry = l.take(REALM, Budget::Client, Who::Client("a"), 3).unwrap_err();
        assert!(retry.0 > Duration::from_secs(19) && retry.0 <= Duration::from_secs(20), "{retry:?}");
        assert_eq!(retry.seconds(), 20);
        // Other subjects, budgets and realms have their own.
        assert!(l.take(REALM, Budget::Client, Who::Client("b"), 3).is_ok());
        assert!(l.take(REALM, Budget::FailedClient, Who::Client("a"), 3).is_ok());
        assert!(l.take(RealmId(2), Budget::Client, Who::Client("a"), 3).is_ok());
    }

    #[test]
    fn zero_is_unlimited_and_check_does_not_spend() {
        let l = RateLimiter::default();
        for _ in 0..100 {
            assert!(l.take(REALM, Budget::Address, Who::Address(Some([127, 0, 0, 1].into())), 0).is_ok());
            assert!(l.check(REALM, Budget::FailedClient, Who::Client("a"), 1).is_ok());
        }
        assert!(l.take(REALM, Budget::FailedClient, Who::Client("a"), 1).is_ok());
        assert!(l.check(REALM, Budget::FailedClient, Who::Client("a"), 1).is_err());
    }

    #[test]
    fn buckets_refill_at_the_rate() {
        let mut b = Bucket { tokens: 0.0, updated: Instant::now() - Duration::from_secs(30) };
        assert!((b.refill(60, Instant::now()) - 30.0).abs() < 0.1);
        let mut b = Bucket { tokens: 0.0, updated: Instant::now() - Duration::from_secs(3600) };
        assert_eq!(b.refill(60, Instant::now()), 60.0, "at most one minute's worth");
    }

    #[tokio::test]
    async fn the_gate_refuses_beyond_its_queue() {
        let gate = std::sync::Arc::new(HashGate::new(1, 0));
        assert_eq!(gate.run(|| 1).await, Err(Busy), "no queue at all: refused");
        let gate = std::sync::Arc::new(HashGate::new(1, 1));
        assert_eq!(gate.run(|| 2).await, Ok(2));
    }
}
