//! A realm's audit log, newest first, with filters.

use super::{load_realm, paging};
use crate::audit::ACTIONS;
use crate::error::AdminError;
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use latchkey_api_types::admin::{self as dto, AuditQuery, JsonValue, PageQuery};
use latchkey_storage::{AuditEvent, AuditFilter};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list);
}

/// Converts without going through serde (which cannot fail here, but would have to say so).
fn json(v: serde_json::Value) -> JsonValue {
    use serde_json::Value as V;
    match v {
        V::Null => JsonValue::Null,
        V::Bool(b) => JsonValue::Bool(b),
        V::Number(n) => n.as_i64().map(JsonValue::Int).unwrap_or_else(|| JsonValue::Float(n.as_f64().unwrap_or(0.0))),
        V::String(s) => JsonValue::String(s),
        V::Array(a) => JsonValue::Array(a.into_iter().map(json).collect()),
        V::Object(o) => JsonValue::Object(o.into_iter().map(|(k, v)| (k, json(v))).collect()),
    }
}

fn event_dto(e: AuditEvent) -> dto::AuditEvent {
    dto::AuditEvent {
        id: e.id,
        occurred_at: e.occurred_at,
        actor: e.actor,
        actor_type: e.actor_type,
        action: e.action,
        client_id: e.client_id,
        source: e.source,
        summary: e.summary,
        before: e.before.map(json),
        after: e.after.map(json),
    }
}

/// `Some` for a non-empty value, which must be at most 256 characters.
fn text(field: &str, v: &Option<String>) -> Result<Option<String>, AdminError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > 256 => {
            Err(AdminError::invalid_query(format!("{field} must be at most 256 characters"), Some(field.into())))
        }
        Some(t) => Ok(Some(t.to_owned())),
    }
}

fn time(field: &str, v: &Option<String>) -> Result<Option<i64>, AdminError> {
    text(field, v)?
        .map(|t| {
            t.parse::<i64>().map_err(|_| {
                AdminError::invalid_query(format!("{field} must be a time in Unix seconds"), Some(field.into()))
            })
        })
        .transpose()
}

fn filter(q: &AuditQuery) -> Result<AuditFilter, AdminError> {
    let f = AuditFilter {
        since: time("since", &q.since)?,
        until: time("until", &q.until)?,
        actor: text("actor", &q.actor)?,
        action: text("action", &q.action)?,
        client_id: text("client", &q.client)?,
    };
    if let (Some(s), Some(u)) = (f.since, f.until)
        && s > u
    {
        return Err(AdminError::invalid_query("until must not be before since", Some("until".into())));
    }
    if let Some(a) = &f.action
        && !ACTIONS.contains(&a.as_str())
    {
        return Err(AdminError::invalid_query(
            format!("unknown action `{a}`; one of: {}", ACTIONS.join(", ")),
            Some("action".into()),
        ));
    }
    Ok(f)
}

/// The realm's events, newest first. Events recorded before this request are all listed: the
/// queue of the audit writer is flushed first.
#[get("/realms/{realm}/audit")]
async fn list(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, AdminError> {
    let realm = load_realm(&state, &path).await?;
    let (page, per_page) = paging(&PageQuery { search: None, page: q.page, per_page: q.per_page })?;
    let filter = filter(&q)?;
    state.auditor.flush().await;
    let found = state.store.list_audit_events(realm.id, &filter, page, per_page).await?;
    let items = found.items.into_iter().map(event_dto).collect();
    Ok(HttpResponse::Ok().json(dto::Page { items, page, per_page, total: found.total }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_names_every_action() {
        let doc: serde_json::Value = serde_json::from_str(super::super::OPENAPI).unwrap();
        let listed = |v: &serde_json::Value| -> Vec<String> {
            v.as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect()
        };
        let event = &doc["components"]["schemas"]["AuditEvent"]["properties"]["action"]["enum"];
        assert_eq!(listed(event), ACTIONS);
        let params = &doc["paths"]["/admin/v1/realms/{realm}/audit"]["get"]["parameters"];
        let action = params.as_array().unwrap().iter().find(|p| p["name"] == "action").unwrap();
        assert_eq!(listed(&action["schema"]["enum"]), ACTIONS);
    }

    #[test]
    fn filters_are_parsed_and_checked() {
        let q = |since: &str, until: &str, action: &str| AuditQuery {
            since: Some(since.into()),
            until: Some(until.into()),
            action: Some(action.into()),
            actor: Some("  ".into()),
            ..Default::default()
        };
        let f = filter(&q("10", "20", "token.issue")).unwrap();
        assert_eq!((f.since, f.until, f.action.as_deref(), f.actor), (Some(10), Some(20), Some("token.issue"), None));
        assert!(filter(&q("", "", "")).unwrap() == AuditFilter::default());
        // The field each names is checked over HTTP (tests/api/audit.rs).
        for query in [q("x", "", ""), q("", "1e3", ""), q("5", "4", ""), q("", "", "nope")] {
            let e = filter(&query).unwrap_err().to_string();
            assert!(e.starts_with("invalid_query"), "{e}");
        }
    }
}
