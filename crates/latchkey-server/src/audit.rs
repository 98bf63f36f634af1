//! The audit log's writer. Handlers hand events to the [`Auditor`]: they go into a bounded
//! buffer that a background task empties every `batch_every` (250 ms by default), or sooner once
//! [`WAKE_AT`] events wait, writing them in batches (one multi-row insert per [`BATCH`] events at
//! most, one insert at a time so that ids follow the order of recording, which the log's "newest
//! first" relies on). Recording wakes nobody: on the token path, a wake per event cost more than
//! the event. Recording waits only when the buffer is full, until the writer takes it: a writer
//! that falls behind slows the requests that make events rather than lose events. A writer that
//! takes nothing for [`ROOM_WAIT`] is stuck (its database unreachable): then the event is
//! dropped with an error rather than hold the request longer. Batches the database cannot be
//! reached for (down or restarting) stay with the writer, in order, and go first at the next
//! tick, up to [`CAPACITY`] of them; past that the oldest are dropped with an error. The task also
//! prunes events older than the retention. [`Auditor::flush`] waits until everything recorded
//! before it is written (the audit list calls it so reads see every earlier event; shutdown
//! calls it last).
//!
//! Issued access tokens are usage records rather than one row each: the tokens issued to one
//! client, from one address, for one scope and lifetime in one usage window (`usage_every`, 60 s
//! by default) are one `token.issue` event with their `count`, dated at the first of them and
//! written when the window closes (or at a flush: the audit list and shutdown see every token
//! issued before them). At tens of thousands of tokens a second, one row per token would cost
//! more than issuing the token and fill the log with rows that say nothing new; with many
//! clients (10,000 in the benchmark's many tenants, each asking twice a second) a window shorter
//! than the time between two tokens of one client would write a row per token all the same. At most [`USAGE_KINDS`] kinds are counted
//! in one window; a token of another kind beyond that is an event of its own, as any other.

use crate::settings::AuditSettings;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use latchkey_core::time::now;
use latchkey_realms::RealmId;
use latchkey_storage::{NewAuditEvent, Store};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, mpsc, oneshot};

/// Events written in one insert at most.
pub const BATCH: usize = 500;
/// Events waiting for the writer at most; beyond, recording waits for the writer.
pub const CAPACITY: usize = 10_000;
/// How long recording waits for room at most: a writer stuck on an unreachable database must
/// not hold requests past it. Past it the event is dropped, with a warning.
pub const ROOM_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
/// Events waiting that wake the writer before its tick.
pub const WAKE_AT: usize = 2_000;
/// Kinds of issued tokens counted in one usage window at most (each about 300 bytes).
pub const USAGE_KINDS: usize = 100_000;

/// Every action the log records, as `area.verb`.
pub const ACTIONS: &[&str] = &[
    "realm.create",
    "realm.update",
    "realm.delete",
    "provider.update",
    "key.rotate",
    "application.create",
    "application.update",
    "application.delete",
    "application.secret_rotate",
    "user.create",
    "user.update",
    "user.delete",
    "token.issue",
    "token.revoke",
    "client.authentication_failed",
];

/// Access tokens issued to one client, from one address, for one scope and lifetime: in one
/// usage window, one `token.issue` event that counts them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Issued {
    pub realm: RealmId,
    /// The client, as the actor of the event.
    pub client: Actor,
    pub grant_type: &'static str,
    pub scope: String,
    pub expires_in: i64,
}

impl Issued {
    /// What `req` was issued.
    pub fn new(
        realm: RealmId,
        client_id: &str,
        req: &HttpRequest,
        grant_type: &'static str,
        scope: &str,
        expires_in: i64,
    ) -> Self {
        Issued { realm, client: Actor::client(client_id, req), grant_type, scope: scope.to_owned(), expires_in }
    }

    /// The event for `count` such tokens.
    fn event(&self, count: u64, occurred_at: latchkey_core::time::UnixTime) -> NewAuditEvent {
        let summary = match count {
            1 => format!("access token issued for scope `{}`", self.scope),
            n => format!("{n} access tokens issued for scope `{}`", self.scope),
        };
        let after = serde_json::json!({
            "grant_type": self.grant_type,
            "scope": self.scope,
            "expires_in": self.expires_in,
            "count": count,
        });
        entry(self.realm, "token.issue", summary)
            .at(occurred_at)
            .client(&self.client.name)
            .after(&after)
            .by(&self.client)
    }
}

/// Tokens of one kind counted in the current usage window.
struct Counted {
    /// Kinds seen before it in this window: records are written in the order of their first
    /// token.
    order: usize,
    first_at: latchkey_core::time::UnixTime,
    count: u64,
}

/// What waits for the writer.
#[derive(Default)]
struct Waiting {
    events: Vec<NewAuditEvent>,
    /// The current usage window's issued tokens, by kind.
    usage: std::collections::HashMap<Issued, Counted>,
}

impl Waiting {
    /// The usage window's records, in the order of their first tokens; the window starts over.
    fn close_usage(&mut self) -> Vec<NewAuditEvent> {
        let mut kinds: Vec<(Issued, Counted)> = self.usage.drain().collect();
        kinds.sort_unstable_by_key(|(_, counted)| counted.order);
        kinds.into_iter().map(|(issued, counted)| issued.event(counted.count, counted.first_at)).collect()
    }
}

/// What the handlers and the writer share.
#[derive(Default)]
struct Shared {
    waiting: Mutex<Waiting>,
    /// Wakes the writer before its tick.
    wake: Notify,
    /// Wakes the recorders waiting for room once the writer has taken the buffer.
    room: Notify,
    /// Recordings that found the buffer full and waited, since start.
    waited: AtomicU64,
    /// Recordings dropped after waiting [`ROOM_WAIT`] for room, since start.
    dropped: AtomicU64,
}

/// Whether a take ends the usage window too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Usage {
    Close,
    KeepCounting,
}

impl Shared {
    /// Takes every waiting event (and, with [`Usage::Close`], the usage window's records after
    /// them) and wakes the recorders waiting for room.
    fn take(&self, usage: Usage) -> Vec<NewAuditEvent> {
        let mut waiting = self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut events = std::mem::take(&mut waiting.events);
        if usage == Usage::Close {
            events.extend(waiting.close_usage());
        }
        drop(waiting);
        self.room.notify_waiters();
        events
    }
}

#[derive(Clone)]
pub struct Auditor {
    shared: Arc<Shared>,
    /// Flush requests; the writer stops once every `Auditor` is gone.
    flushes: mpsc::Sender<oneshot::Sender<()>>,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor").field("waited", &self.waited()).field("dropped", &self.dropped()).finish()
    }
}

impl Auditor {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Store, settings: AuditSettings) -> Auditor {
        let shared = Arc::new(Shared::default());
        let (flushes, requests) = mpsc::channel(16);
        tokio::spawn(write_loop(store, shared.clone(), requests, settings));
        Auditor { shared, flushes }
    }

    /// Queues `event` for the writer. Waits only while the buffer is full ([`CAPACITY`]
    /// events), until the writer takes what waits.
    pub async fn record(&self, event: NewAuditEvent) {
        let mut event = Some(event);
        self.enqueue(|waiting| {
            if waiting.events.len() >= CAPACITY {
                return false;
            }
            waiting.events.extend(event.take());
            true
        })
        .await;
    }

    /// Counts an issued access token into its kind's usage record of this window. Beyond
    /// [`USAGE_KINDS`] kinds in the window, a token of a new kind is queued as an event of its
    /// own (waiting like [`Auditor::record`] when the buffer is full).
    pub async fn issued(&self, issued: Issued) {
        let mut issued = Some(issued);
        self.enqueue(|waiting| {
            let Some(what) = issued.take() else { return true };
            if let Some(counted) = waiting.usage.get_mut(&what) {
                counted.count += 1;
                return true;
            }
            if waiting.usage.len() < USAGE_KINDS {
                let order = waiting.usage.len();
                waiting.usage.insert(what, Counted { order, first_at: now(), count: 1 });
                return true;
            }
            if waiting.events.len() >= CAPACITY {
                issued = Some(what);
                return false;
            }
            waiting.events.push(what.event(1, now()));
            true
        })
        .await;
    }

    /// Runs `add` on what waits until it finds room (returns true), waiting for the writer to
    /// take the buffer each time it is full.
    async fn enqueue(&self, mut add: impl FnMut(&mut Waiting) -> bool) {
        loop {
            // Registered before the check, so a writer that takes the buffer between the check
            // and the wait still wakes this recorder.
            let room = self.shared.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let mut waiting = self.shared.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let before = waiting.events.len();
                if add(&mut waiting) {
                    let wake = before < WAKE_AT && waiting.events.len() >= WAKE_AT;
                    drop(waiting);
                    if wake {
                        self.shared.wake.notify_one();
                    }
                    return;
                }
            }
            let n = self.shared.waited.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 || n.is_multiple_of(10_000) {
                tracing::warn!(waited = n, "the audit writer is behind: requests wait for it to take its buffer");
            }
            self.shared.wake.notify_one();
            if tokio::time::timeout(ROOM_WAIT, room).await.is_err() {
                let n = self.shared.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if n == 1 || n.is_multiple_of(1_000) {
                    tracing::error!(dropped = n, "the audit writer is stuck: audit events were dropped");
                }
                return;
            }
        }
    }

    /// Waits until every event recorded before the call is written, the current usage window's
    /// records included (the window starts over).
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.flushes.send(ack).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Recordings that found the buffer full and waited for the writer, since start.
    pub fn waited(&self) -> u64 {
        self.shared.waited.load(Ordering::Relaxed)
    }

    /// Recordings dropped because the writer took nothing for [`ROOM_WAIT`], since start.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

async fn write_loop(
    store: Store,
    shared: Arc<Shared>,
    mut flushes: mpsc::Receiver<oneshot::Sender<()>>,
    settings: AuditSettings,
) {
    let mut writer = Writer { store: store.clone(), shared, backlog: Vec::new() };
    let first = tokio::time::Instant::now() + settings.batch_every;
    let mut tick = tokio::time::interval_at(first, settings.batch_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let first = tokio::time::Instant::now() + settings.usage_every;
    let mut usage_tick = tokio::time::interval_at(first, settings.usage_every);
    usage_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut prune = tokio::time::interval(settings.prune_every);
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            request = flushes.recv() => {
                writer.write(Usage::Close).await;
                match request {
                    Some(ack) => {
                        let _ = ack.send(());
                    }
                    None => return,
                }
            }
            _ = tick.tick() => writer.write(Usage::KeepCounting).await,
            _ = usage_tick.tick() => writer.write(Usage::Close).await,
            _ = writer.shared.wake.notified() => writer.write(Usage::KeepCounting).await,
            _ = prune.tick() => {
                let cutoff = now() - i64::from(settings.retention_days) * 86_400;
                match store.prune_audit_events(cutoff).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, retention_days = settings.retention_days, "old audit events pruned"),
                    Err(e) => tracing::warn!(error = %e, "pruning the audit log failed"),
                }
            }
        }
    }
}

/// Takes what waits and runs the inserts.
struct Writer {
    store: Store,
    shared: Arc<Shared>,
    /// Events the database could not be reached for, oldest first: written before the next
    /// ones, at most [`CAPACITY`] of them.
    backlog: Vec<NewAuditEvent>,
}

impl Writer {
    /// Inserts what waits, [`BATCH`] events per insert, one insert at a time: a later batch
    /// running beside an earlier one could commit first and take lower ids. While the database
    /// is unreachable the events stay in the backlog, in order, for the next tick.
    async fn write(&mut self, usage: Usage) {
        let mut events = std::mem::take(&mut self.backlog);
        events.extend(self.shared.take(usage));
        let mut events = events.into_iter();
        while events.len() > 0 {
            let size = batch_size(events.len());
            let batch: Vec<NewAuditEvent> = events.by_ref().take(size).collect();
            if let Err(unwritten) = insert(&self.store, batch).await {
                let mut kept: Vec<NewAuditEvent> = unwritten.into_iter().chain(events).collect();
                if kept.len() > CAPACITY {
                    let lost = kept.len() - CAPACITY;
                    kept.drain(..lost);
                    self.shared.dropped.fetch_add(lost as u64, Ordering::Relaxed);
                    tracing::error!(events = lost, "the database stayed unreachable: the oldest audit events are lost");
                }
                tracing::warn!(events = kept.len(), "the database cannot be written: audit events kept to write later");
                self.backlog = kept;
                return;
            }
        }
    }
}

/// How many of `waiting` events go into the next insert: [`BATCH`], or the largest power of two
/// not above what is left. The database driver keeps every distinct statement prepared (a
/// multi-row insert's SQL depends on its row count), so arbitrary sizes would fill its
/// statement caches with hundreds of large statements; this keeps ten shapes.
fn batch_size(waiting: usize) -> usize {
    match waiting {
        0 => 0,
        n if n >= BATCH => BATCH,
        n => 1 << n.ilog2(),
    }
}

/// Writes `batch`; when one of its rows is refused (a realm deleted meanwhile), writes the
/// others one by one. `Err` gives the batch back when the database is unreachable; any other
/// failure loses the batch, with an error.
async fn insert(store: &Store, batch: Vec<NewAuditEvent>) -> Result<(), Vec<NewAuditEvent>> {
    if let Err(e) = store.insert_audit_events(&batch).await {
        if e.is_unavailable() || e.is_unwritable() {
            return Err(batch);
        }
        if !e.is_constraint_violation() {
            tracing::error!(error = %e, events = batch.len(), "the database refused a batch of audit events: they are lost");
            return Ok(());
        }
        tracing::warn!(error = %e, events = batch.len(), "writing audit events in one batch failed: writing them one by one");
        for event in batch.chunks(1) {
            if let Err(e) = store.insert_audit_events(event).await {
                tracing::warn!(error = %e, "an audit event was dropped");
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    pub name: String,
    /// `client` or `user`.
    pub kind: &'static str,
    pub source: Option<String>,
}

/// Identifiers longer than this are cut in the log (an attempted client id is anything).
const MAX_NAME: usize = 128;

impl Actor {
    pub fn client(id: &str, req: &HttpRequest) -> Actor {
        Actor { name: id.chars().take(MAX_NAME).collect(), kind: "client", source: source(req) }
    }

    pub fn user(username: &str, req: &HttpRequest) -> Actor {
        Actor { name: username.to_owned(), kind: "user", source: source(req) }
    }
}

fn source(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}

/// The actor `require_admin` found; a handler outside it gets a 500.
impl FromRequest for Actor {
    type Error = crate::error::AdminError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Actor>()
                .cloned()
                .ok_or_else(|| crate::error::AdminError::internal(&"no actor on an admin request")),
        )
    }
}

/// An event being described, before its actor stamps it.
pub struct Entry(NewAuditEvent);

/// Starts an event of `action` in `realm`.
pub fn entry(realm: RealmId, action: &'static str, summary: impl Into<String>) -> Entry {
    debug_assert!(ACTIONS.contains(&action), "unknown audit action {action}");
    Entry(NewAuditEvent {
        realm,
        occurred_at: now(),
        actor: String::new(),
        actor_type: "client",
        action,
        client_id: None,
        source: None,
        summary: summary.into(),
        before: None,
        after: None,
    })
}

fn to_json(v: &impl Serialize) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}

impl Entry {
    /// When it happened, if not now.
    pub fn at(mut self, occurred_at: latchkey_core::time::UnixTime) -> Self {
        self.0.occurred_at = occurred_at;
        self
    }

    pub fn client(mut self, client_id: &str) -> Self {
        self.0.client_id = Some(client_id.chars().take(MAX_NAME).collect());
        self
    }

    /// The object before the change: a wire type, which never holds a secret or a hash.
    pub fn before(mut self, v: &impl Serialize) -> Self {
        self.0.before = to_json(v);
        self
    }

    /// The object after the change: a wire type, which never holds a secret or a hash.
    pub fn after(mut self, v: &impl Serialize) -> Self {
        self.0.after = to_json(v);
        self
    }

    pub fn by(mut self, actor: &Actor) -> NewAuditEvent {
        self.0.actor = actor.name.clone();
        self.0.actor_type = actor.kind;
        self.0.source = actor.source.clone();
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u32) -> NewAuditEvent {
        entry(RealmId(1), "token.issue", format!("event {n}")).by(&Actor {
            name: "svc".into(),
            kind: "client",
            source: None,
        })
    }

    #[tokio::test]
    async fn a_full_buffer_makes_recording_wait_until_the_writer_takes_it() {
        // Nobody drains this buffer but the test.
        let (flushes, _requests) = mpsc::channel(1);
        let auditor = Auditor { shared: Arc::default(), flushes };
        for n in 0..CAPACITY {
            auditor.record(event(n as u32)).await;
        }
        assert_eq!(auditor.waited(), 0);
        let mut late = std::pin::pin!(auditor.record(event(CAPACITY as u32)));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(late.as_mut().poll(&mut cx).is_pending(), "a full buffer makes the recorder wait");
        assert_eq!(auditor.waited(), 1);
        assert!(late.as_mut().poll(&mut cx).is_pending(), "still full, still waiting");

        let taken = auditor.shared.take(Usage::KeepCounting);
        assert_eq!((taken.len(), taken[0].summary.as_str()), (CAPACITY, "event 0"), "nothing was dropped");
        assert!(late.as_mut().poll(&mut cx).is_ready(), "the writer taking the buffer lets it in");
        let kept = &auditor.shared.waiting.lock().unwrap().events;
        assert_eq!(kept.iter().map(|e| e.summary.as_str()).collect::<Vec<_>>(), [format!("event {CAPACITY}")]);
    }

    #[tokio::test]
    async fn a_stuck_writer_holds_a_recorder_no_longer_than_the_room_wait() {
        let (flushes, _requests) = mpsc::channel(1);
        let auditor = Auditor { shared: Arc::default(), flushes };
        for n in 0..CAPACITY {
            auditor.record(event(n as u32)).await;
        }
        let started = tokio::time::Instant::now();
        auditor.record(event(CAPACITY as u32)).await;
        // It waited for the writer (a lower bound, not a speed check), then gave up.
        assert!(started.elapsed() >= ROOM_WAIT);
        assert_eq!((auditor.waited(), auditor.dropped()), (1, 1));
        let kept = &auditor.shared.waiting.lock().unwrap().events;
        assert_eq!(kept.len(), CAPACITY);
        assert_eq!(kept[CAPACITY - 1].summary, format!("event {}", CAPACITY - 1), "the waiting ones are kept");
    }

    fn issued(client: &str, scope: &str) -> Issued {
        Issued {
            realm: RealmId(1),
            client: Actor { name: client.into(), kind: "client", source: Some("10.0.0.1".into()) },
            grant_type: "client_credentials",
            scope: scope.into(),
            expires_in: 3600,
        }
    }

    #[tokio::test]
    async fn tokens_of_one_kind_in_one_window_are_one_event() {
        let (flushes, _requests) = mpsc::channel(1);
        let auditor = Auditor { shared: Arc::default(), flushes };
        auditor.issued(issued("a", "read")).await;
        auditor.record(event(1)).await;
        auditor.issued(issued("a", "read")).await;
        auditor.issued(issued("b", "read")).await;
        auditor.issued(issued("a", "write")).await;
        auditor.issued(issued("a", "read")).await;

        // The writer's batches go on while the window is open: the counts are not in them.
        let events = auditor.shared.take(Usage::KeepCounting);
        assert_eq!(events.iter().map(|e| e.summary.as_str()).collect::<Vec<_>>(), ["event 1"]);
        auditor.issued(issued("b", "read")).await;

        let events = auditor.shared.take(Usage::Close);
        let got: Vec<(&str, Option<&str>, &str)> =
            events.iter().map(|e| (e.action, e.client_id.as_deref(), e.summary.as_str())).collect();
        assert_eq!(
            got,
            [
                ("token.issue", Some("a"), "3 access tokens issued for scope `read`"),
                ("token.issue", Some("b"), "2 access tokens issued for scope `read`"),
                ("token.issue", Some("a"), "access token issued for scope `write`"),
            ],
            "one record per kind, in the order of their first tokens"
        );
        let after = events[0].after.as_ref().unwrap();
        assert_eq!((&after["count"], &after["scope"], &after["expires_in"]), (&3.into(), &"read".into(), &3600.into()));
        assert_eq!(events[2].after.as_ref().unwrap()["count"], 1);
        assert_eq!((events[0].actor.as_str(), events[0].source.as_deref()), ("a", Some("10.0.0.1")));
        assert!(events.windows(2).all(|w| w[0].occurred_at <= w[1].occurred_at), "each dated at its first token");

        // A new window starts a new count.
        auditor.issued(issued("a", "read")).await;
        let events = auditor.shared.take(Usage::Close);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].after.as_ref().unwrap()["count"], 1);
        assert!(auditor.shared.take(Usage::Close).is_empty());
    }

    #[tokio::test]
    async fn kinds_beyond_the_bound_are_events_of_their_own() {
        let (flushes, _requests) = mpsc::channel(1);
        let auditor = Auditor { shared: Arc::default(), flushes };
        for n in 0..USAGE_KINDS {
            auditor.issued(issued(&format!("client-{n}"), "read")).await;
        }
        auditor.issued(issued("client-0", "read")).await;
        assert!(auditor.shared.waiting.lock().unwrap().events.is_empty(), "a counted kind adds to its count");
        auditor.issued(issued("one-too-many", "read")).await;
        auditor.issued(issued("one-too-many", "read")).await;
        let events = auditor.shared.take(Usage::KeepCounting);
        let got: Vec<Option<&str>> = events.iter().map(|e| e.client_id.as_deref()).collect();
        assert_eq!(got, [Some("one-too-many"), Some("one-too-many")], "not counted: one event each");
        let records = auditor.shared.take(Usage::Close);
        assert_eq!(records.len(), USAGE_KINDS);
        assert_eq!(records[0].after.as_ref().unwrap()["count"], 2);
    }

    #[test]
    fn inserts_take_few_distinct_sizes() {
        let mut sizes = std::collections::BTreeSet::new();
        for waiting in 1..=3 * BATCH {
            let mut left = waiting;
            while left > 0 {
                let n = batch_size(left);
                assert!(n >= 1 && n <= left.min(BATCH), "{n} of {left}");
                sizes.insert(n);
                left -= n;
            }
        }
        assert_eq!(sizes.len(), 10, "{sizes:?}");
    }

    #[test]
    fn an_entry_carries_its_actor_and_values() {
        let actor = Actor { name: "admin".into(), kind: "user", source: Some("10.0.0.1".into()) };
        let e = entry(RealmId(7), "user.update", "changed")
            .client(&"x".repeat(500))
            .before(&serde_json::json!({"a": 1}))
            .after(&serde_json::json!({"a": 2}))
            .by(&actor);
        assert_eq!((e.realm, e.action, e.actor.as_str(), e.actor_type), (RealmId(7), "user.update", "admin", "user"));
        assert_eq!(e.source.as_deref(), Some("10.0.0.1"));
        assert_eq!(e.client_id.map(|c| c.len()), Some(MAX_NAME), "long ids are cut");
        assert_eq!((e.before, e.after), (Some(serde_json::json!({"a": 1})), Some(serde_json::json!({"a": 2}))));
    }
}
