//! The audit log's writer. Handlers hand events to the [`Auditor`], which never waits: they go
//! into a bounded buffer that a background task empties every `batch_every` (250 ms by
//! default), or sooner once [`WAKE_AT`] events wait, writing them in batches (one multi-row
//! insert per [`BATCH`] events at most, one insert at a time so that ids follow the order of
//! recording, which the log's "newest first" relies on). Recording wakes nobody: on the token path, a wake per event cost more than
//! the event. A full buffer drops the event with a warning rather than slow a request. The task
//! also prunes events older than the retention. [`Auditor::flush`] waits until everything
//! recorded before it is written (the audit list calls it so reads see every earlier event;
//! shutdown calls it last).

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
use tokio::task::JoinSet;

/// Events written in one insert at most.
pub const BATCH: usize = 500;
/// Events waiting for the writer at most; beyond, new events are dropped (and counted).
pub const CAPACITY: usize = 10_000;
/// Events waiting that wake the writer before its tick.
pub const WAKE_AT: usize = 2_000;
/// Batch inserts running at once at most: one, or a later batch could commit first and take
/// lower ids than events recorded before it.
pub const IN_FLIGHT: usize = 1;

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

/// What the handlers and the writer share.
#[derive(Default)]
struct Shared {
    waiting: Mutex<Vec<NewAuditEvent>>,
    wake: Notify,
    dropped: AtomicU64,
}

#[derive(Clone)]
pub struct Auditor {
    shared: Arc<Shared>,
    /// Flush requests; the writer stops once every `Auditor` is gone.
    flushes: mpsc::Sender<oneshot::Sender<()>>,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor").field("dropped", &self.dropped()).finish()
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

    /// Queues `event` for the writer; never waits.
    pub fn record(&self, event: NewAuditEvent) {
        let mut waiting = self.shared.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if waiting.len() >= CAPACITY {
            drop(waiting);
            let n = self.shared.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 || n.is_multiple_of(1000) {
                tracing::warn!(dropped = n, "the audit queue is full: audit events were dropped");
            }
            return;
        }
        waiting.push(event);
        let wake = waiting.len() == WAKE_AT;
        drop(waiting);
        if wake {
            self.shared.wake.notify_one();
        }
    }

    /// Waits until every event recorded before the call is written.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.flushes.send(ack).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Events dropped because the buffer was full, since start.
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
    let mut writer = Writer { store: store.clone(), shared, writing: JoinSet::new() };
    let first = tokio::time::Instant::now() + settings.batch_every;
    let mut tick = tokio::time::interval_at(first, settings.batch_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut prune = tokio::time::interval(settings.prune_every);
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            request = flushes.recv() => {
                writer.flush().await;
                match request {
                    Some(ack) => {
                        let _ = ack.send(());
                    }
                    None => return,
                }
            }
            _ = tick.tick() => writer.write().await,
            _ = writer.shared.wake.notified() => writer.write().await,
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
    writing: JoinSet<()>,
}

impl Writer {
    /// Starts inserting what waits, [`BATCH`] events per insert, keeping at most [`IN_FLIGHT`]
    /// inserts running.
    async fn write(&mut self) {
        let waiting =
            std::mem::take(&mut *self.shared.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let mut events = waiting.into_iter();
        while events.len() > 0 {
            let size = batch_size(events.len());
            let batch: Vec<NewAuditEvent> = events.by_ref().take(size).collect();
            while self.writing.len() >= IN_FLIGHT {
                self.writing.join_next().await;
            }
            self.writing.spawn(insert(self.store.clone(), batch));
        }
    }

    /// Writes what waits and waits for every insert to finish.
    async fn flush(&mut self) {
        self.write().await;
        while self.writing.join_next().await.is_some() {}
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

async fn insert(store: Store, batch: Vec<NewAuditEvent>) {
    if let Err(e) = store.insert_audit_events(&batch).await {
        tracing::warn!(error = %e, events = batch.len(), "writing audit events in one batch failed: writing them one by one");
        for event in batch.chunks(1) {
            if let Err(e) = store.insert_audit_events(event).await {
                tracing::warn!(error = %e, "an audit event was dropped");
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
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
    async fn a_full_queue_drops_and_counts_instead_of_waiting() {
        // A buffer that nobody drains: `record` must return at once all the same.
        let (flushes, _requests) = mpsc::channel(1);
        let auditor = Auditor { shared: Arc::default(), flushes };
        for n in 0..CAPACITY + 3 {
            auditor.record(event(n as u32));
        }
        assert_eq!(auditor.dropped(), 3);
        let kept = auditor.shared.waiting.lock().unwrap();
        assert_eq!(kept.len(), CAPACITY);
        assert_eq!(kept[0].summary, "event 0", "the oldest are kept");
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
