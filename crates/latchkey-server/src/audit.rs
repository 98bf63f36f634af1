//! The audit log's writer. Handlers hand events to the [`Auditor`], which never waits: a
//! bounded channel feeds a background task that writes them in batches (one multi-row insert
//! for up to [`BATCH`] events, at least every `batch_every`, 250 ms by default), and prunes events older than
//! the retention. A full channel drops the event with a warning rather than slow a request.
//! [`Auditor::flush`] waits until everything recorded before it is written (the audit list
//! calls it so reads see every earlier event; shutdown calls it last).

use crate::settings::AuditSettings;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use latchkey_core::time::now;
use latchkey_realms::RealmId;
use latchkey_storage::{NewAuditEvent, Store};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot};

/// Events written in one insert at most.
pub const BATCH: usize = 500;
/// Events waiting for the writer at most; beyond, new events are dropped (and counted).
pub const CAPACITY: usize = 10_000;

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

enum Msg {
    Event(Box<NewAuditEvent>),
    Flush(oneshot::Sender<()>),
}

/// The handle handlers record events through. Cheap to clone.
#[derive(Clone)]
pub struct Auditor {
    tx: mpsc::Sender<Msg>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor").field("dropped", &self.dropped()).finish()
    }
}

impl Auditor {
    /// Starts the writer task on the current runtime. It prunes once at start, then every
    /// `settings.prune_every`.
    pub fn start(store: Store, settings: AuditSettings) -> Auditor {
        let (tx, rx) = mpsc::channel(CAPACITY);
        tokio::spawn(write_loop(store, rx, settings));
        Auditor { tx, dropped: Arc::default() }
    }

    /// Queues an event without waiting. When the queue is full the event is dropped and
    /// counted, with a warning.
    pub fn record(&self, event: NewAuditEvent) {
        match self.tx.try_send(Msg::Event(Box::new(event))) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // The first drop, then every thousandth: a flood of warnings helps nobody.
                if n == 1 || n.is_multiple_of(1000) {
                    tracing::warn!(dropped = n, "the audit queue is full: audit events were dropped");
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::warn!("the audit writer has stopped: an audit event was dropped");
            }
        }
    }

    /// Waits until every event recorded before this call is written (or failed to be).
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Msg::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Events dropped because the queue was full, since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn write_loop(store: Store, mut rx: mpsc::Receiver<Msg>, settings: AuditSettings) {
    let mut buf: Vec<NewAuditEvent> = Vec::with_capacity(BATCH);
    let mut msgs = Vec::with_capacity(BATCH);
    let first = tokio::time::Instant::now() + settings.batch_every;
    let mut tick = tokio::time::interval_at(first, settings.batch_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate: pruning at start.
    let mut prune = tokio::time::interval(settings.prune_every);
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            n = rx.recv_many(&mut msgs, BATCH) => {
                if n == 0 {
                    write(&store, &mut buf).await;
                    return;
                }
                for m in msgs.drain(..) {
                    match m {
                        Msg::Event(e) => {
                            buf.push(*e);
                            if buf.len() >= BATCH {
                                write(&store, &mut buf).await;
                            }
                        }
                        Msg::Flush(ack) => {
                            write(&store, &mut buf).await;
                            let _ = ack.send(());
                        }
                    }
                }
            }
            _ = tick.tick() => write(&store, &mut buf).await,
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

/// Writes the buffer in one insert. If that fails (say, one event's realm was deleted
/// meanwhile), writes the events one by one so the others are kept.
async fn write(store: &Store, buf: &mut Vec<NewAuditEvent>) {
    if buf.is_empty() {
        return;
    }
    let batch = std::mem::take(buf);
    if let Err(e) = store.insert_audit_events(batch.clone()).await {
        tracing::warn!(error = %e, events = batch.len(), "writing audit events in one batch failed: writing them one by one");
        for event in batch {
            if let Err(e) = store.insert_audit_events(vec![event]).await {
                tracing::warn!(error = %e, "an audit event was dropped");
            }
        }
    }
}

/// Who made a request: an admin client (bearer token), a console user (session), or an
/// OAuth2 client; and from which address. `require_admin` puts it in the request's extensions.
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
        // A queue of two that nobody drains: `record` must return at once all the same.
        let (tx, mut rx) = mpsc::channel(2);
        let auditor = Auditor { tx, dropped: Arc::default() };
        for n in 0..5 {
            auditor.record(event(n));
        }
        assert_eq!(auditor.dropped(), 3);
        let mut kept = Vec::new();
        while let Ok(Msg::Event(e)) = rx.try_recv() {
            kept.push(e.summary);
        }
        assert_eq!(kept, ["event 0", "event 1"]);
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
