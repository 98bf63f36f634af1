//! The token path's in-memory cache, kept true across replicas by the change log.
//!
//! In steady state a token, introspection or revocation request reads no row: the realm, its
//! provider settings, the client, the signing keys and the revoked token ids come from here.
//!
//! **How it stays true.** Every write that could change what the token path reads appends a
//! [`Change`] to the `change_log` table *in the same transaction*, and after its commit drops
//! the cached entries in this process at once. Every process polls the log (`Store::sync_changes`,
//! every [`POLL_INTERVAL`]) and drops or learns what other replicas changed.
//!
//! **Invariants.**
//! - *Fail closed on staleness.* The cache answers only while the last successful poll is younger
//!   than [`STALE_AFTER`]; otherwise every read goes to the database (which, if it is down, fails
//!   the request). A revocation, rotation or disable at any replica is therefore enforced
//!   everywhere within `STALE_AFTER`, or the request is not answered from memory at all. After a
//!   stale spell everything is dropped, since changes may have been pruned from the log meanwhile.
//! - *No stale fill.* A reader notes the epoch before its database read and stores what it read
//!   only if no invalidation happened since (the epoch is bumped under the map's lock).
//! - *No missed row.* Log ids can commit out of order (PostgreSQL sequences): the poller reads
//!   every id above its watermark, applies each once, and moves the watermark over a gap only
//!   once the gap has been open for [`GAP_TIMEOUT`] (a rolled-back insert leaves one forever).
//! - *Only what exists is cached*: unknown realms and clients always go to the database, so
//!   made-up names cannot grow memory.
//!
//! The admin API's lists take their totals (without a search) from here too: the number of
//! realms, and of applications per realm. So creating a realm or an application is logged as
//! well, though it leaves nothing else stale. The realm list also keeps its *marks*, every
//! [`MARK_EVERY`]-th realm name in list order, so that a deep page starts at the mark before
//! it instead of walking every row before it (`OFFSET`).

use crate::entities::{change_log, realm as realm_row, revoked_token};
use crate::{Result, Store};
use latchkey_applications::Application;
use latchkey_core::time::now;
use latchkey_oauth2::{KeyStatus, ProviderSettings, SigningKey};
use latchkey_realms::{Realm, RealmId};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// How often a server reads the change log.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// The cache answers only while the last successful poll is younger than this.
pub const STALE_AFTER: Duration = Duration::from_secs(1);
/// How long a gap in the log's ids may wait for its transaction to commit.
const GAP_TIMEOUT: Duration = Duration::from_secs(30);
/// Change log rows older than this are pruned (replicas read them within a second).
const LOG_RETENTION_SECS: i64 = 3600;
/// How often the revoked set is reloaded to forget tokens past their expiry.
const REVOKED_RELOAD: Duration = Duration::from_secs(300);
/// Rows read per poll; the rest come at the next one.
const POLL_BATCH: u64 = 10_000;
/// The realm list's marks are every this many names: a page walks fewer rows than this before
/// its first one.
pub(crate) const MARK_EVERY: u64 = 64;

/// What a committed write changed, as the caches see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change<'a> {
    /// The realm row, its deletion, or anything of it wholesale (an import).
    Realm,
    Provider,
    Application(&'a str),
    Keys,
    Revocation(&'a str),
}

impl Change<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Change::Realm => "realm",
            Change::Provider => "provider",
            Change::Application(_) => "application",
            Change::Keys => "keys",
            Change::Revocation(_) => "revocation",
        }
    }

    fn subject(&self) -> Option<&str> {
        match self {
            Change::Application(s) | Change::Revocation(s) => Some(s),
            _ => None,
        }
    }

    fn from_row(row: &change_log::Model) -> Option<Change<'_>> {
        let subject = row.subject.as_deref();
        Some(match row.kind.as_str() {
            "realm" => Change::Realm,
            "provider" => Change::Provider,
            "application" => Change::Application(subject?),
            "keys" => Change::Keys,
            "revocation" => Change::Revocation(subject?),
            _ => return None,
        })
    }
}

/// Appends `change` to the log inside the writer's transaction; pass what it returns to
/// `Store::changed` once the transaction has committed.
pub(crate) async fn log<'a>(db: &impl ConnectionTrait, realm: RealmId, change: Change<'a>) -> Result<Logged<'a>> {
    let row = change_log::Entity::insert(change_log::ActiveModel {
        realm_id: Set(realm.0),
        kind: Set(change.kind().to_owned()),
        subject: Set(change.subject().map(str::to_owned)),
        changed_at: Set(now()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(Logged { id: row.last_insert_id, realm, change })
}

/// A change written to the log by this process, not yet applied to its cache.
#[must_use = "apply it with `Store::changed` after the commit"]
pub(crate) struct Logged<'a> {
    id: i64,
    realm: RealmId,
    change: Change<'a>,
}

/// Entries keyed by realm, then by a name.
type ByRealm<V> = RwLock<ByRealmMap<V>>;

/// What an admin list's total counts, when it has no search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Counted {
    Realms,
    Applications(RealmId),
}

#[derive(Default)]
pub(crate) struct Hot {
    /// Bumped by every invalidation, under the lock of the map it touches.
    epoch: AtomicU64,
    /// Milliseconds since `started`, plus one, of the last successful poll; 0: not following.
    synced: AtomicU64,
    started: OnceInstant,
    following: AtomicBool,
    realms: RwLock<HashMap<Box<str>, Arc<Realm>>>,
    providers: RwLock<HashMap<RealmId, Arc<ProviderSettings>>>,
    applications: ByRealm<Application>,
    active_keys: RwLock<HashMap<RealmId, Arc<SigningKey>>>,
    verification_keys: ByRealm<SigningKey>,
    key_sets: RwLock<HashMap<RealmId, Arc<Vec<SigningKey>>>>,
    revoked: RwLock<HashMap<RealmId, HashSet<Box<str>>>>,
    /// List totals: one per realm at most, and only for realms that exist.
    counts: RwLock<HashMap<Counted, u64>>,
    /// The realm list's marks (see [`Store::realm_marks`]).
    realm_marks: RwLock<Option<Arc<[Box<str>]>>>,
    /// Revocations learnt one by one, ever: a whole reload that overlaps one keeps it.
    revocations_learnt: AtomicU64,
    follower: Mutex<Follower>,
    hits: AtomicU64,
    misses: AtomicU64,
    stale_spells: AtomicU64,
}

/// How the token path's lookups were answered, since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// From memory.
    pub hits: u64,
    /// From the database (a first read, a read after an invalidation, or a stale cache).
    pub misses: u64,
    /// Times the cache went stale (no poll started within `STALE_AFTER`) and was dropped.
    pub stale_spells: u64,
}

/// The poller's position in the log.
#[derive(Default)]
struct Follower {
    /// Every id up to here has been applied (or given up on).
    watermark: i64,
    /// Ids above the watermark already applied.
    applied: BTreeSet<i64>,
    /// The lowest missing id and since when it has been missing.
    gap: Option<(i64, Instant)>,
    revoked_loaded: Option<Instant>,
    pruned: Option<Instant>,
}

/// An `Instant` fixed at construction (`Default` for the struct).
struct OnceInstant(Instant);

impl Default for OnceInstant {
    fn default() -> Self {
        OnceInstant(Instant::now())
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Hot {
    /// Whether cached entries may answer: following, and synced within `STALE_AFTER`.
    fn fresh(&self) -> bool {
        let synced = self.synced.load(Ordering::Acquire);
        synced != 0 && self.now_ms().saturating_sub(synced) < STALE_AFTER.as_millis() as u64
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.0.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    /// Records a poll that started at `started` (from `now_ms`): what it read was committed by
    /// then, so freshness counts from there, not from when the poll finished.
    fn mark_synced(&self, started: u64) {
        self.synced.fetch_max(started, Ordering::AcqRel);
    }

    /// The clock `synced` counts in.
    fn now_ms(&self) -> u64 {
        self.elapsed_ms() + 1
    }

    fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a lookup that goes to the database, and returns the epoch to fill under.
    fn miss(&self) -> u64 {
        self.misses.fetch_add(1, Ordering::Relaxed);
        self.epoch()
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    fn bump(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Stores what was read under `epoch` into `slot`, unless an invalidation happened since:
    /// the one place the no-stale-fill rule is checked (under the slot's lock).
    fn fill_with<T>(&self, slot: &RwLock<T>, epoch: u64, store: impl FnOnce(&mut T)) {
        let mut m = write(slot);
        if self.epoch() == epoch && self.fresh() {
            store(&mut m);
        }
    }

    /// Stores `value` under `key` of `map` unless an invalidation happened since `epoch`.
    fn fill<K: Eq + Hash, V>(&self, map: &RwLock<HashMap<K, V>>, epoch: u64, key: K, value: V) {
        self.fill_with(map, epoch, |m| {
            m.insert(key, value);
        });
    }

    fn fill_by_realm<V>(&self, map: &ByRealm<V>, epoch: u64, realm: RealmId, name: &str, value: Arc<V>) {
        self.fill_with(map, epoch, |m| {
            m.entry(realm).or_default().insert(name.into(), value);
        });
    }

    /// Drops what `change` makes stale, or learns the revocation it is.
    pub(crate) fn apply(&self, realm: RealmId, change: Change<'_>) {
        match change {
            Change::Realm => {
                let mut m = self.lock_all();
                m.realms.retain(|_, r| r.id != realm);
                m.providers.remove(&realm);
                m.applications.remove(&realm);
                m.active_keys.remove(&realm);
                m.verification_keys.remove(&realm);
                m.key_sets.remove(&realm);
                m.counts.remove(&Counted::Realms);
                m.counts.remove(&Counted::Applications(realm));
                *m.realm_marks = None;
                self.bump();
            }
            Change::Provider => {
                let mut m = write(&self.providers);
                m.remove(&realm);
                self.bump();
            }
            Change::Application(client_id) => {
                let mut m = write(&self.applications);
                let mut counts = write(&self.counts);
                if let Some(apps) = m.get_mut(&realm) {
                    apps.remove(client_id);
                }
                counts.remove(&Counted::Applications(realm));
                self.bump();
            }
            Change::Keys => {
                let mut active = write(&self.active_keys);
                let mut verification = write(&self.verification_keys);
                let mut sets = write(&self.key_sets);
                active.remove(&realm);
                verification.remove(&realm);
                sets.remove(&realm);
                self.bump();
            }
            Change::Revocation(jti) => {
                write(&self.revoked).entry(realm).or_default().insert(jti.into());
                self.revocations_learnt.fetch_add(1, Ordering::AcqRel);
            }
        }
    }

    /// Forgets everything cached (not the revoked set, which is reloaded whole).
    fn clear(&self) {
        let mut m = self.lock_all();
        m.realms.clear();
        m.providers.clear();
        m.applications.clear();
        m.active_keys.clear();
        m.verification_keys.clear();
        m.key_sets.clear();
        m.counts.clear();
        *m.realm_marks = None;
        self.bump();
    }

    /// Every map but the revoked set, write-locked in field order (the order every taker of
    /// more than one of these locks follows). Held until the bump, a fill that read before
    /// the change either lands before the removal or sees the new epoch.
    fn lock_all(&self) -> AllMaps<'_> {
        AllMaps {
            realms: write(&self.realms),
            providers: write(&self.providers),
            applications: write(&self.applications),
            active_keys: write(&self.active_keys),
            verification_keys: write(&self.verification_keys),
            key_sets: write(&self.key_sets),
            counts: write(&self.counts),
            realm_marks: write(&self.realm_marks),
        }
    }
}

type Guard<'a, T> = std::sync::RwLockWriteGuard<'a, T>;
type ByRealmMap<V> = HashMap<RealmId, HashMap<Box<str>, Arc<V>>>;

/// What [`Hot::lock_all`] holds.
struct AllMaps<'a> {
    realms: Guard<'a, HashMap<Box<str>, Arc<Realm>>>,
    providers: Guard<'a, HashMap<RealmId, Arc<ProviderSettings>>>,
    applications: Guard<'a, ByRealmMap<Application>>,
    active_keys: Guard<'a, HashMap<RealmId, Arc<SigningKey>>>,
    verification_keys: Guard<'a, ByRealmMap<SigningKey>>,
    key_sets: Guard<'a, HashMap<RealmId, Arc<Vec<SigningKey>>>>,
    counts: Guard<'a, HashMap<Counted, u64>>,
    realm_marks: Guard<'a, Option<Arc<[Box<str>]>>>,
}

/// Whether a stored key may still verify a token at `at` (see `keys::usable_at`).
fn usable(key: &SigningKey, at: i64) -> bool {
    key.status == KeyStatus::Active || key.expires_at.is_some_and(|e| e > at)
}

impl Store {
    /// Starts following the change log from its current end and loads the revoked set, so the
    /// `cached_*` reads may answer from memory. Call `sync_changes` every [`POLL_INTERVAL`].
    pub async fn follow_changes(&self) -> Result<()> {
        let started = self.hot.now_ms();
        let last: Option<Option<i64>> = change_log::Entity::find()
            .select_only()
            .column_as(change_log::Column::Id.max(), "max")
            .into_tuple()
            .one(&self.db)
            .await?;
        {
            let mut f = self.hot.follower.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *f = Follower { watermark: last.flatten().unwrap_or(0), ..Follower::default() };
        }
        self.reload_revoked().await?;
        self.hot.clear();
        self.hot.following.store(true, Ordering::Release);
        self.hot.mark_synced(started);
        Ok(())
    }

    /// One poll of the change log: applies what other writers committed since the last one.
    /// Returns how many changes were applied. On error the cache soon stops answering.
    pub async fn sync_changes(&self) -> Result<usize> {
        if !self.hot.following.load(Ordering::Acquire) {
            return self.follow_changes().await.map(|()| 0);
        }
        let started = self.hot.now_ms();
        let was_fresh = self.hot.fresh();
        let watermark = self.follower().watermark;
        let rows = change_log::Entity::find()
            .filter(change_log::Column::Id.gt(watermark))
            .order_by_asc(change_log::Column::Id)
            .limit(POLL_BATCH)
            .all(&self.db)
            .await?;
        let (reload, prune) = {
            let mut f = self.follower();
            let before = f.applied.len();
            for row in &rows {
                if row.id > f.watermark
                    && f.applied.insert(row.id)
                    && let Some(change) = Change::from_row(row)
                {
                    self.hot.apply(RealmId(row.realm_id), change);
                }
            }
            let applied = f.applied.len() - before;
            f.advance(Instant::now());
            let reload = f.revoked_loaded.is_none_or(|t| t.elapsed() >= REVOKED_RELOAD);
            let prune = f.pruned.is_none_or(|t| t.elapsed() >= REVOKED_RELOAD);
            if prune {
                f.pruned = Some(Instant::now());
            }
            tracing::trace!(applied, "change log followed");
            (reload || !was_fresh, prune)
        };
        if !was_fresh {
            // Changes may have been pruned from the log while we could not read it.
            self.hot.stale_spells.fetch_add(1, Ordering::Relaxed);
            self.hot.clear();
        }
        if reload {
            self.reload_revoked().await?;
        }
        if prune {
            change_log::Entity::delete_many()
                .filter(change_log::Column::ChangedAt.lt(now() - LOG_RETENTION_SECS))
                .exec(&self.db)
                .await?;
        }
        self.hot.mark_synced(started);
        Ok(rows.len())
    }

    fn follower(&self) -> std::sync::MutexGuard<'_, Follower> {
        self.hot.follower.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn reload_revoked(&self) -> Result<()> {
        let learnt = self.hot.revocations_learnt.load(Ordering::Acquire);
        let rows: Vec<(i32, String)> = revoked_token::Entity::find()
            .filter(revoked_token::Column::ExpiresAt.gt(now()))
            .select_only()
            .column(revoked_token::Column::RealmId)
            .column(revoked_token::Column::Jti)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut set: HashMap<RealmId, HashSet<Box<str>>> = HashMap::new();
        for (realm, jti) in rows {
            set.entry(RealmId(realm)).or_default().insert(jti.into());
        }
        let mut revoked = write(&self.hot.revoked);
        if self.hot.revocations_learnt.load(Ordering::Acquire) != learnt {
            // One was learnt while the read ran and may have committed after it: keep them all
            // (the next reload forgets the expired ones).
            for (realm, jtis) in revoked.drain() {
                set.entry(realm).or_default().extend(jtis);
            }
        }
        *revoked = set;
        drop(revoked);
        self.follower().revoked_loaded = Some(Instant::now());
        Ok(())
    }

    /// Applies a change this process just committed, without waiting for the poll, which then
    /// skips its row (applying it again would only drop entries filled since).
    pub(crate) fn changed(&self, logged: Logged<'_>) {
        self.hot.apply(logged.realm, logged.change);
        let mut f = self.follower();
        if logged.id > f.watermark {
            f.applied.insert(logged.id);
        }
    }

    /// The realm named `name`, from memory when fresh.
    pub async fn cached_realm(&self, name: &str) -> Result<Option<Arc<Realm>>> {
        if self.hot.fresh()
            && let Some(r) = read(&self.hot.realms).get(name)
        {
            self.hot.hit();
            return Ok(Some(r.clone()));
        }
        let epoch = self.hot.miss();
        let Some(realm) = self.find_realm(name).await? else { return Ok(None) };
        let realm = Arc::new(realm);
        self.hot.fill(&self.hot.realms, epoch, name.into(), realm.clone());
        Ok(Some(realm))
    }

    /// The realm's provider settings, from memory when fresh.
    pub async fn cached_provider(&self, realm: RealmId) -> Result<Arc<ProviderSettings>> {
        if self.hot.fresh()
            && let Some(p) = read(&self.hot.providers).get(&realm)
        {
            self.hot.hit();
            return Ok(p.clone());
        }
        let epoch = self.hot.miss();
        let provider = Arc::new(self.provider(realm).await?);
        self.hot.fill(&self.hot.providers, epoch, realm, provider.clone());
        Ok(provider)
    }

    /// The application `client_id` of `realm`, from memory when fresh.
    pub async fn cached_application(&self, realm: RealmId, client_id: &str) -> Result<Option<Arc<Application>>> {
        if self.hot.fresh()
            && let Some(a) = read(&self.hot.applications).get(&realm).and_then(|apps| apps.get(client_id))
        {
            self.hot.hit();
            return Ok(Some(a.clone()));
        }
        let epoch = self.hot.miss();
        let Some(app) = self.find_application(realm, client_id).await? else { return Ok(None) };
        let app = Arc::new(app);
        self.hot.fill_by_realm(&self.hot.applications, epoch, realm, client_id, app.clone());
        Ok(Some(app))
    }

    /// The realm's active signing key, from memory when fresh.
    pub async fn cached_active_key(&self, realm: RealmId) -> Result<Arc<SigningKey>> {
        if self.hot.fresh()
            && let Some(k) = read(&self.hot.active_keys).get(&realm)
        {
            self.hot.hit();
            return Ok(k.clone());
        }
        let epoch = self.hot.miss();
        let key = Arc::new(self.active_key(realm).await?);
        self.hot.fill(&self.hot.active_keys, epoch, realm, key.clone());
        Ok(key)
    }

    /// A key of the realm that may verify a token now, by kid, from memory when fresh.
    pub async fn cached_verification_key(&self, realm: RealmId, kid: &str) -> Result<Option<Arc<SigningKey>>> {
        if self.hot.fresh()
            && let Some(k) = read(&self.hot.verification_keys).get(&realm).and_then(|keys| keys.get(kid))
        {
            self.hot.hit();
            return Ok(usable(k, now()).then(|| k.clone()));
        }
        let epoch = self.hot.miss();
        let Some(key) = self.verification_key(realm, kid).await? else { return Ok(None) };
        let key = Arc::new(key);
        self.hot.fill_by_realm(&self.hot.verification_keys, epoch, realm, kid, key.clone());
        Ok(Some(key))
    }

    /// The active key and the retired keys some unexpired token may still need, newest first,
    /// from memory when fresh.
    pub async fn cached_verification_keys(&self, realm: RealmId) -> Result<Vec<SigningKey>> {
        if self.hot.fresh()
            && let Some(keys) = read(&self.hot.key_sets).get(&realm)
        {
            self.hot.hit();
            let at = now();
            return Ok(keys.iter().filter(|k| usable(k, at)).cloned().collect());
        }
        let epoch = self.hot.miss();
        let keys = self.verification_keys(realm).await?;
        self.hot.fill(&self.hot.key_sets, epoch, realm, Arc::new(keys.clone()));
        Ok(keys)
    }

    /// How many rows `q` counts: from memory when fresh if `what` names them (a list without
    /// a search), else from the database. `q` must count exactly what `what` names, so that the
    /// changes that drop `what` are the ones that change it.
    pub(crate) async fn list_total<E, M>(&self, what: Option<Counted>, q: Select<E>) -> Result<u64>
    where
        E: EntityTrait<Model = M>,
        M: FromQueryResult + Send + Sync,
    {
        let Some(what) = what else { return Ok(q.count(&self.db).await?) };
        if self.hot.fresh()
            && let Some(&n) = read(&self.hot.counts).get(&what)
        {
            self.hot.hit();
            return Ok(n);
        }
        let epoch = self.hot.miss();
        let n = q.count(&self.db).await?;
        self.hot.fill(&self.hot.counts, epoch, what, n);
        Ok(n)
    }

    /// Every [`MARK_EVERY`]-th realm name in the realm list's order (the 1st, the 65th, …), from
    /// memory when fresh. `None` when the cache may not answer: a page then walks from the first
    /// row. Made by reading every realm's name once (an index-only scan) after each change to
    /// the set of realms; a list page then reads at most `MARK_EVERY - 1` rows before its own.
    pub(crate) async fn realm_marks(&self) -> Result<Option<Arc<[Box<str>]>>> {
        if !self.hot.fresh() {
            self.hot.miss();
            return Ok(None);
        }
        if let Some(marks) = read(&self.hot.realm_marks).clone() {
            self.hot.hit();
            return Ok(Some(marks));
        }
        let epoch = self.hot.miss();
        let names: Vec<String> = realm_row::Entity::find()
            .select_only()
            .column(realm_row::Column::Name)
            .order_by_asc(realm_row::Column::Name)
            .into_tuple()
            .all(&self.db)
            .await?;
        let marks: Arc<[Box<str>]> =
            names.into_iter().step_by(MARK_EVERY as usize).map(String::into_boxed_str).collect();
        self.hot.fill_with(&self.hot.realm_marks, epoch, |m| *m = Some(marks.clone()));
        Ok(Some(marks))
    }

    /// Whether `jti` was revoked in `realm`, from memory when fresh.
    pub async fn cached_is_token_revoked(&self, realm: RealmId, jti: &str) -> Result<bool> {
        if self.hot.fresh() {
            self.hot.hit();
            return Ok(read(&self.hot.revoked).get(&realm).is_some_and(|s| s.contains(jti)));
        }
        self.hot.miss();
        self.is_token_revoked(realm, jti).await
    }

    /// How the cache's lookups (the token path's, the admin API's realms and list totals) were
    /// answered so far.
    pub fn cache_stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hot.hits.load(Ordering::Relaxed),
            misses: self.hot.misses.load(Ordering::Relaxed),
            stale_spells: self.hot.stale_spells.load(Ordering::Relaxed),
        }
    }
}

impl Follower {
    /// Moves the watermark over applied ids, and over a gap open longer than `GAP_TIMEOUT`.
    fn advance(&mut self, now: Instant) {
        loop {
            let next = self.watermark + 1;
            if self.applied.remove(&next) {
                self.watermark = next;
                self.gap = None;
                continue;
            }
            if self.applied.is_empty() {
                self.gap = None;
                return;
            }
            match self.gap {
                Some((id, since)) if id == next && now.duration_since(since) >= GAP_TIMEOUT => {
                    tracing::debug!(id, "change log gap given up (a rolled-back write)");
                    self.watermark = next;
                    self.gap = None;
                }
                Some((id, _)) if id == next => return,
                _ => {
                    self.gap = Some((next, now));
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follower(watermark: i64, applied: &[i64]) -> Follower {
        Follower { watermark, applied: applied.iter().copied().collect(), ..Follower::default() }
    }

    #[test]
    fn the_watermark_moves_over_contiguous_ids_only() {
        let t = Instant::now();
        let mut f = follower(4, &[5, 6, 8]);
        f.advance(t);
        assert_eq!(f.watermark, 6);
        assert_eq!(f.applied, BTreeSet::from([8]));
        assert_eq!(f.gap.map(|g| g.0), Some(7), "7 may still commit");
        f.advance(t + Duration::from_secs(1));
        assert_eq!(f.watermark, 6, "a young gap holds the watermark");
    }

    #[test]
    fn a_late_commit_fills_the_gap() {
        let t = Instant::now();
        let mut f = follower(6, &[8]);
        f.advance(t);
        f.applied.insert(7);
        f.advance(t + Duration::from_secs(1));
        assert_eq!(f.watermark, 8);
        assert!(f.applied.is_empty() && f.gap.is_none());
    }

    #[test]
    fn a_gap_open_past_the_timeout_is_given_up() {
        let t = Instant::now();
        let mut f = follower(6, &[8, 9]);
        f.advance(t);
        f.advance(t + GAP_TIMEOUT);
        assert_eq!(f.watermark, 9);
        assert!(f.gap.is_none());
    }

    #[test]
    fn stale_fills_are_dropped() {
        let hot = Hot::default();
        hot.mark_synced(hot.now_ms());
        let epoch = hot.epoch();
        hot.apply(RealmId(1), Change::Provider);
        hot.fill(&hot.providers, epoch, RealmId(1), Arc::new(ProviderSettings::new_realm()));
        assert!(read(&hot.providers).is_empty(), "read before an invalidation, stored after it");
        let epoch = hot.epoch();
        hot.fill(&hot.providers, epoch, RealmId(1), Arc::new(ProviderSettings::new_realm()));
        assert_eq!(read(&hot.providers).len(), 1);
    }

    #[test]
    fn list_totals_and_marks_are_dropped_by_the_changes_that_move_them() {
        let hot = Hot::default();
        hot.mark_synced(hot.now_ms());
        let (shop, bank) = (RealmId(1), RealmId(2));
        let fill_all = || {
            for (what, n) in [(Counted::Realms, 2), (Counted::Applications(shop), 5), (Counted::Applications(bank), 7)]
            {
                hot.fill(&hot.counts, hot.epoch(), what, n);
            }
            *write(&hot.realm_marks) = Some(Arc::from([Box::from("bank")]));
        };
        let marked = || read(&hot.realm_marks).is_some();
        let cached = || {
            let mut c: Vec<_> = read(&hot.counts).keys().copied().collect();
            c.sort_by_key(|k| format!("{k:?}"));
            c
        };
        fill_all();
        hot.apply(shop, Change::Application("svc"));
        assert_eq!(cached(), [Counted::Applications(bank), Counted::Realms], "one realm's applications");
        hot.apply(shop, Change::Provider);
        hot.apply(shop, Change::Keys);
        hot.apply(shop, Change::Revocation("jti"));
        assert_eq!(cached().len(), 2, "nothing else moves a total");
        assert!(marked(), "nor the realm list's marks");
        fill_all();
        hot.apply(shop, Change::Realm);
        assert_eq!(cached(), [Counted::Applications(bank)], "the realm total and that realm's applications");
        assert!(!marked(), "a realm change moves the marks");
        fill_all();
        hot.clear();
        assert!(cached().is_empty() && !marked());
    }

    #[test]
    fn nothing_is_fresh_before_following() {
        let hot = Hot::default();
        assert!(!hot.fresh());
        hot.mark_synced(hot.now_ms());
        assert!(hot.fresh());
    }
}
