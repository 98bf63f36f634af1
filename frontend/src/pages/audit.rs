//! A realm's audit log: admin changes, tokens issued, failed client authentications and
//! revocations, newest first, with filters and paging kept in the URL.

use crate::api::{self, ApiError, AuditFilters};
use crate::components::{
    Field, FormAlert, FormState, SelectField, Submit, TextField, page_query, paged_list, param, query, replacer,
};
use crate::util::{format_time, set_title};
use latchkey_api_types::admin::{AuditEvent, JsonValue};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

const PER_PAGE: u64 = 50;

/// The actions the server records, for the filter (value, label).
const ACTIONS: &[(&str, &str)] = &[
    ("", "Any action"),
    ("application.create", "application.create"),
    ("application.update", "application.update"),
    ("application.delete", "application.delete"),
    ("application.secret_rotate", "application.secret_rotate"),
    ("user.create", "user.create"),
    ("user.update", "user.update"),
    ("user.delete", "user.delete"),
    ("provider.update", "provider.update"),
    ("key.rotate", "key.rotate"),
    ("realm.create", "realm.create"),
    ("realm.update", "realm.update"),
    ("realm.delete", "realm.delete"),
    ("token.issue", "token.issue"),
    ("token.revoke", "token.revoke"),
    ("client.authentication_failed", "client.authentication_failed"),
];

const FIELDS: &[&str] = &["since", "until", "actor", "action", "client"];

fn audit_path(realm: &str) -> String {
    format!("/console/realms/{realm}/audit")
}

/// `path?since=…&…&page=…` without the empty ones.
fn filtered_path(path: &str, f: &AuditFilters, page: u64) -> String {
    let mut parts: Vec<String> =
        [("since", &f.since), ("until", &f.until), ("actor", &f.actor), ("action", &f.action), ("client", &f.client)]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", api::seg(v)))
            .collect();
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() { path.to_owned() } else { format!("{path}?{}", parts.join("&")) }
}

/// Unix seconds → the value of a `datetime-local` input, in UTC (`2026-11-27T17:05`).
fn to_input(secs: &str) -> String {
    let Ok(s) = secs.parse::<f64>() else { return String::new() };
    let iso = String::from(js_sys::Date::new(&JsValue::from_f64(s * 1000.0)).to_iso_string());
    iso.get(0..16).unwrap_or_default().to_owned()
}

/// A `datetime-local` value read as UTC → Unix seconds; `Err` when it is not a time.
fn from_input(field: &str, v: &str) -> Result<String, ApiError> {
    if v.trim().is_empty() {
        return Ok(String::new());
    }
    let ms = js_sys::Date::parse(&format!("{}:00Z", v.trim()));
    if ms.is_nan() {
        return Err(ApiError::field(field, "Enter a date and time."));
    }
    Ok(((ms / 1000.0).floor() as i64).to_string())
}

fn pretty(v: &JsonValue) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let realm = param("realm");
    Effect::new(move |_| set_title(&format!("Audit · {}", realm.get())));
    let (since, until, actor, action, client) =
        (query("since"), query("until"), query("actor"), query("action"), query("client"));
    let page = page_query();
    let filters = Memo::new(move |_| AuditFilters {
        since: since.get(),
        until: until.get(),
        actor: actor.get(),
        action: action.get(),
        client: client.get(),
    });
    let events = LocalResource::new(move || api::audit(realm.get(), filters.get(), page.get(), PER_PAGE));
    let replace = replacer();
    let go_page = replace.clone();
    let on_page = Callback::new(move |p: u64| {
        go_page(&filtered_path(&audit_path(&realm.get_untracked()), &filters.get_untracked(), p))
    });

    // The filter form, filled from the URL.
    let form = FormState::new(FIELDS);
    let since_in = RwSignal::new(to_input(&since.get_untracked()));
    let until_in = RwSignal::new(to_input(&until.get_untracked()));
    let actor_in = RwSignal::new(actor.get_untracked());
    let action_in = RwSignal::new(action.get_untracked());
    let client_in = RwSignal::new(client.get_untracked());
    let apply_replace = replace.clone();
    let apply = move |ev: SubmitEvent| {
        ev.prevent_default();
        let read = || -> Result<AuditFilters, ApiError> {
            Ok(AuditFilters {
                since: from_input("since", &since_in.get_untracked())?,
                until: from_input("until", &until_in.get_untracked())?,
                actor: actor_in.get_untracked().trim().to_owned(),
                action: action_in.get_untracked(),
                client: client_in.get_untracked().trim().to_owned(),
            })
        };
        match read() {
            Ok(f) => {
                form.error.set(None);
                apply_replace(&filtered_path(&audit_path(&realm.get_untracked()), &f, 1));
            }
            Err(e) => form.fail(e),
        }
    };
    let clear = move |_| {
        for s in [since_in, until_in, actor_in, action_in, client_in] {
            s.set(String::new());
        }
        form.error.set(None);
        replace(&audit_path(&realm.get_untracked()));
    };

    let list = move || {
        let empty = move || {
            if filters.get_untracked() == AuditFilters::default() {
                "No audit events yet.".to_owned()
            } else {
                "No audit events match these filters.".to_owned()
            }
        };
        paged_list(events.get(), empty, on_page, |items: Vec<AuditEvent>| {
            view! {
                <table class="list audit">
                    <thead>
                        <tr>
                            <th scope="col">"Time"</th>
                            <th scope="col">"Actor"</th>
                            <th scope="col">"Action"</th>
                            <th scope="col">"Client"</th>
                            <th scope="col">"Summary"</th>
                        </tr>
                    </thead>
                    <tbody>{items.into_iter().map(|e| view! { <EventRow e /> }).collect_view()}</tbody>
                </table>
            }
        })
    };

    view! {
        <div class="page-head">
            <div>
                <h1>"Audit"</h1>
                <p class="muted">
                    "Admin changes, tokens issued, failed client authentications and revocations in this realm, newest first."
                </p>
            </div>
        </div>
        <form class="card form filters" on:submit=apply novalidate aria-label="Filters">
            <FormAlert form />
            <div class="filter-grid">
                <Field form id="since" label="Since (UTC)" hint=None>
                    <input
                        id="since"
                        name="since"
                        type="datetime-local"
                        prop:value=move || since_in.get()
                        on:input=move |ev| since_in.set(event_target_value(&ev))
                        aria-invalid=move || form.field_error("since").is_some().then_some("true")
                        aria-describedby=move || form.field_error("since").is_some().then_some("since-error")
                    />
                </Field>
                <Field form id="until" label="Until (UTC)" hint=None>
                    <input
                        id="until"
                        name="until"
                        type="datetime-local"
                        prop:value=move || until_in.get()
                        on:input=move |ev| until_in.set(event_target_value(&ev))
                        aria-invalid=move || form.field_error("until").is_some().then_some("true")
                        aria-describedby=move || form.field_error("until").is_some().then_some("until-error")
                    />
                </Field>
                <TextField form id="actor" label="Actor" value=actor_in autocomplete="off" />
                <SelectField form id="action" label="Action" value=action_in options=ACTIONS />
                <TextField form id="client" label="Client" value=client_in autocomplete="off" />
            </div>
            <div class="actions">
                <Submit form label="Apply filters" />
                <button type="button" on:click=clear>
                    "Clear filters"
                </button>
            </div>
        </form>
        {list}
    }
}

/// One event: its row, and the before/after values in a disclosure when it has them.
#[component]
fn EventRow(e: AuditEvent) -> impl IntoView {
    let has_values = e.before.is_some() || e.after.is_some();
    let before = e.before.as_ref().map(pretty);
    let after = e.after.as_ref().map(pretty);
    let actor_kind = if e.actor_type == "user" { "console user" } else { "client" };
    view! {
        <tr>
            <td class="nowrap">{format_time(e.occurred_at)}</td>
            <td>
                <span class="actor">{e.actor.clone()}</span>
                <span class="muted small">
                    {format!(" ({actor_kind}{})", e.source.as_deref().map(|s| format!(", {s}")).unwrap_or_default())}
                </span>
            </td>
            <td>
                <code>{e.action.clone()}</code>
            </td>
            <td>{e.client_id.clone().unwrap_or_default()}</td>
            <td>
                {e.summary.clone()}
                {has_values
                    .then(|| {
                        view! {
                            <details class="audit-values">
                                <summary>"Before and after"</summary>
                                {before
                                    .map(|b| {
                                        view! {
                                            <h3 class="small">"Before"</h3>
                                            <pre class="code">{b}</pre>
                                        }
                                    })}
                                {after
                                    .map(|a| {
                                        view! {
                                            <h3 class="small">"After"</h3>
                                            <pre class="code">{a}</pre>
                                        }
                                    })}
                            </details>
                        }
                    })}
            </td>
        </tr>
    }
}
