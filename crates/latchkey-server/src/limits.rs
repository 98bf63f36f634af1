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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Subject {
    /// A client id by its hash under the limiter's random key: no allocation per request, and
    /// two ids sharing a budget would need a collision no caller can aim for (it touches only
    /// rate limits, never authentication).
    Client(u64),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// One shard's buckets, and the size at which it next drops idle ones.
#[derive(Debug)]
struct Shard {
    buckets: HashMap<Key, Bucket>,
    /// [`PRUNE_ABOVE`], or twice the buckets left by the last prune if more: a shard whose
    /// buckets are all in use is not walked again on every request (with 100,000 active clients
    /// that walk was about 7,000 buckets per request), and the walks stay amortised O(1).
    prune_at: usize,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { buckets: HashMap::new(), prune_at: PRUNE_ABOVE }
    }
}

impl Shard {
    fn prune(&mut self, now: Instant) {
        if self.buckets.len() > self.prune_at {
            self.buckets.retain(|_, b| now.duration_since(b.updated) < Duration::from_secs(60));
            self.prune_at = (2 * self.buckets.len()).max(PRUNE_ABOVE);
        }
    }
}

/// Every budget of every realm, sharded to keep lock contention low.
#[derive(Debug)]
pub struct RateLimiter {
    shards: [Mutex<Shard>; SHARDS],
    hasher: std::hash::RandomState,
    /// Keyed apart from `hasher`, which picks the shard.
    client_ids: std::hash::RandomState,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter {
            shards: std::array::from_fn(|_| Mutex::default()),
            hasher: std::hash::RandomState::new(),
            client_ids: std::hash::RandomState::new(),
        }
    }
}

impl RateLimiter {
    /// The bucket's key; none for an unknown address (nothing to count it by).
    fn key(&self, realm: RealmId, budget: Budget, who: Who<'_>) -> Option<Key> {
        let subject = match who {
            Who::Client(c) => Subject::Client(self.client_ids.hash_one(c)),
            Who::Address(a) => Subject::Address(a?),
        };
        Some(Key { realm, budget, subject })
    }

    fn shard(&self, key: Key) -> std::sync::MutexGuard<'_, Shard> {
        self.shards[(self.hasher.hash_one(key) as usize) % SHARDS].lock().expect("rate limiter poisoned")
    }

    /// Spends one request from a budget of `per_minute` (0: unlimited).
    pub fn take(&self, realm: RealmId, budget: Budget, subject: Who<'_>, per_minute: u32) -> Result<(), RetryAfter> {
        let Some(key) = self.key(realm, budget, subject).filter(|_| per_minute > 0) else {
            return Ok(());
        };
        let mut shard = self.shard(key);
        let now = Instant::now();
        shard.prune(now);
        let bucket = shard.buckets.entry(key).or_insert(Bucket { tokens: f64::from(per_minute), updated: now });
        if bucket.refill(per_minute, now) >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(RetryAfter(bucket.wait(per_minute)))
        }
    }

    /// Whether a budget still has a token, without spending it. A budget never spent has no
    /// bucket and gets none: it is full.
    pub fn check(&self, realm: RealmId, budget: Budget, subject: Who<'_>, per_minute: u32) -> Result<(), RetryAfter> {
        let Some(key) = self.key(realm, budget, subject).filter(|_| per_minute > 0) else {
            return Ok(());
        };
        let mut shard = self.shard(key);
        let Some(bucket) = shard.buckets.get_mut(&key) else {
            return Ok(());
        };
        match bucket.refill(per_minute, Instant::now()) >= 1.0 {
            true => Ok(()),
            false => Err(RetryAfter(bucket.wait(per_minute))),
        }
    }

    /// Buckets held, over all shards.
    #[cfg(test)]
    fn buckets(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap().buckets.len()).sum()
    }
}

/// Whose budget: a client id or a source address.
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    Client(&'a str),
    Address(Option<IpAddr>),
}

/// Runs argon2id work on a few threads of its own, one per core, with a bounded queue: beyond
/// it a verification is refused at once instead of piling up memory and latency.
///
/// Why its own threads: each hash takes 19 MiB, and the allocator keeps a freed block of that
/// size in the arena of the thread that used it. On the executor's blocking pool, which grows a
/// thread per concurrent call, a burst of cold clients would leave every one of those threads
/// holding 19 MiB for good; here the retained memory is bounded by the pool's size.
pub struct HashGate {
    jobs: Mutex<std::sync::mpsc::Sender<Job>>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
}

type Job = Box<dyn FnOnce() + Send>;

impl std::fmt::Debug for HashGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashGate").field("waiting", &self.waiting.load(Ordering::Relaxed)).finish_non_exhaustive()
    }
}

/// The gate is full: answer 503 and let the client retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the hashing threads are busy")]
pub struct Busy;

impl HashGate {
    /// `threads` hashing threads (at least one), and at most `max_waiting` jobs queued or running
    /// through [`HashGate::run`]. The threads end when the gate is dropped.
    pub fn new(threads: usize, max_waiting: usize) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("latchkey-hash-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held while waiting, not while working.
                        let job = rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .expect("starting a hashing thread");
        }
        HashGate { jobs: Mutex::new(tx), waiting: Arc::default(), max_waiting }
    }

    /// One thread per core, and a queue of 32 per core.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self::new(cores, 32 * cores)
    }

    /// Runs `work` (blocking, CPU-bound) on a hashing thread, or refuses it when `max_waiting`
    /// jobs are already in: the path for requests anyone can send.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Busy);
        }
        // Counted out when the job has run, or is dropped unrun.
        let slot = Slot(self.waiting.clone());
        self.queue(move || {
            let _slot = slot;
            work()
        })
        .await
    }

    /// Runs `work` on a hashing thread, queued however long the queue is: for callers already
    /// authenticated and bounded elsewhere (admin writes, bootstrap).
    pub async fn run_queued<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        self.queue(work).await
    }

    async fn queue<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(work());
        });
        self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).send(job).map_err(|_| Busy)?;
        rx.await.map_err(|_| Busy)
    }
}

/// One place in the gate's queue, given back on drop.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
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
    fn checking_a_budget_never_spent_holds_no_bucket() {
        let l = RateLimiter::default();
        for i in 0..1000 {
            assert!(l.check(REALM, Budget::FailedClient, Who::Client(&format!("c{i}")), 10).is_ok());
            assert!(l.check(REALM, Budget::FailedAddress, Who::Address(Some([10, 0, 0, 1].into())), 10).is_ok());
        }
        assert_eq!(l.buckets(), 0, "a check of an unspent budget must not create its bucket");
        let _ = l.take(REALM, Budget::FailedClient, Who::Client("c1"), 1);
        assert_eq!(l.buckets(), 1);
        assert!(l.check(REALM, Budget::FailedClient, Who::Client("c1"), 1).is_err(), "a spent budget is still seen");
    }

    #[test]
    fn a_shard_of_live_buckets_is_not_walked_on_every_request() {
        let mut shard = Shard::default();
        let now = Instant::now();
        let live = Bucket { tokens: 1.0, updated: now };
        for i in 0..=PRUNE_ABOVE as u64 {
            let key = Key { realm: REALM, budget: Budget::Client, subject: Subject::Client(i) };
            shard.buckets.insert(key, live);
        }
        shard.prune(now);
        assert_eq!(shard.buckets.len(), PRUNE_ABOVE + 1, "live buckets are kept");
        assert_eq!(shard.prune_at, 2 * (PRUNE_ABOVE + 1), "the next walk waits until the shard doubles");
        // Idle buckets go at that next walk, and the threshold comes back down.
        let idle = Bucket { tokens: 1.0, updated: now - Duration::from_secs(61) };
        shard.buckets.values_mut().for_each(|b| *b = idle);
        shard.prune(now);
        assert_eq!(shard.buckets.len(), PRUNE_ABOVE + 1, "not walked before it doubles");
        for i in 0..=PRUNE_ABOVE as u64 + 1 {
            let key = Key { realm: REALM, budget: Budget::Address, subject: Subject::Client(i) };
            shard.buckets.insert(key, idle);
        }
        shard.prune(now);
        assert!(shard.buckets.is_empty(), "idle buckets are dropped once the shard has doubled");
        assert_eq!(shard.prune_at, PRUNE_ABOVE);
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
