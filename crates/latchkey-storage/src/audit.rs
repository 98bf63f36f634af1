//! The audit log: events written in batches, read newest first with filters, pruned by age.

use crate::entities::audit_event;
use crate::{Paged, Result, Store, StoreError};
use latchkey_core::time::UnixTime;
use latchkey_realms::RealmId;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::Value;

/// An event to record. `before` and `after` are the changed object's public description:
/// callers never put a secret, a password or a hash in them.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    pub realm: RealmId,
    pub occurred_at: UnixTime,
    /// Who: an admin client id, a console username, or the OAuth2 client (attempted) id.
    pub actor: String,
    /// `client` or `user`.
    pub actor_type: &'static str,
    /// What, as `area.verb`: `application.create`, `token.issue`, …
    pub action: &'static str,
    /// The client the event concerns, if any.
    pub client_id: Option<String>,
    /// The caller's network address.
    pub source: Option<String>,
    pub summary: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: i64,
    pub occurred_at: UnixTime,
    pub actor: String,
    pub actor_type: String,
    pub action: String,
    pub client_id: Option<String>,
    pub source: Option<String>,
    pub summary: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Which events to list; every field narrows (exact matches, times inclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub since: Option<UnixTime>,
    pub until: Option<UnixTime>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub client_id: Option<String>,
}

fn to_row(e: &NewAuditEvent) -> audit_event::ActiveModel {
    let text = |v: &Option<Value>| v.as_ref().map(Value::to_string);
    // What a request attempted (a client id, say) may hold NUL, which PostgreSQL text cannot:
    // one such event would fail its whole batch.
    let clean = |s: &str| if crate::can_exist(s) { s.to_owned() } else { s.replace('\0', "\u{fffd}") };
    audit_event::ActiveModel {
        id: NotSet,
        realm_id: Set(e.realm.0),
        occurred_at: Set(e.occurred_at),
        actor: Set(clean(&e.actor)),
        actor_type: Set(e.actor_type.to_owned()),
        action: Set(e.action.to_owned()),
        client_id: Set(e.client_id.as_deref().map(clean)),
        source: Set(e.source.as_deref().map(clean)),
        summary: Set(clean(&e.summary)),
        before: Set(text(&e.before)),
        after: Set(text(&e.after)),
    }
}

fn to_event(m: audit_event::Model) -> Result<AuditEvent> {
    let json = |t: Option<String>| -> Result<Option<Value>> {
        t.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("audit event {}: {e}", m.id))))
            .transpose()
    };
    Ok(AuditEvent {
        id: m.id,
        occurred_at: m.occurred_at,
        before: json(m.before.clone())?,
        after: json(m.after.clone())?,
        actor: m.actor,
        actor_type: m.actor_type,
        action: m.action,
        client_id: m.client_id,
        source: m.source,
        summary: m.summary,
    })
}

impl Store {
    /// Writes `events` in one multi-row insert (one round trip).
    pub async fn insert_audit_events(&self, events: &[NewAuditEvent]) -> Result<u64> {
        if events.is_empty() {
            return Ok(0);
        }
        Ok(audit_event::Entity::insert_many(events.iter().map(to_row)).exec_without_returning(&self.db).await?)
    }

    /// A page of the realm's events matching `filter`, newest first.
    pub async fn list_audit_events(
        &self,
        realm: RealmId,
        filter: &AuditFilter,
        page: u64,
        per_page: u64,
    ) -> Result<Paged<AuditEvent>> {
        use audit_event::Column as C;
        let keys = [&filter.actor, &filter.action, &filter.client_id];
        if !keys.iter().all(|k| k.as_deref().is_none_or(crate::can_exist)) {
            return Ok(Paged { items: Vec::new(), total: 0 });
        }
        let mut q = audit_event::Entity::find().filter(C::RealmId.eq(realm.0));
        if let Some(t) = filter.since {
            q = q.filter(C::OccurredAt.gte(t));
        }
        if let Some(t) = filter.until {
            q = q.filter(C::OccurredAt.lte(t));
        }
        if let Some(a) = &filter.actor {
            q = q.filter(C::Actor.eq(a.as_str()));
        }
        if let Some(a) = &filter.action {
            q = q.filter(C::Action.eq(a.as_str()));
        }
        if let Some(c) = &filter.client_id {
            q = q.filter(C::ClientId.eq(c.as_str()));
        }
        let pages = q.order_by_desc(C::OccurredAt).order_by_desc(C::Id).paginate(&self.db, per_page);
        let total = pages.num_items().await?;
        let items = pages.fetch_page(page - 1).await?.into_iter().map(to_event).collect::<Result<_>>()?;
        Ok(Paged { items, total })
    }

    /// Deletes the events of every realm that occurred before `cutoff`; returns how many.
    pub async fn prune_audit_events(&self, cutoff: UnixTime) -> Result<u64> {
        let res = audit_event::Entity::delete_many()
            .filter(audit_event::Column::OccurredAt.lt(cutoff))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }
}
