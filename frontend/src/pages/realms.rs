//! `/console/realms`: list, create, enable or disable, delete with confirmation.

use crate::api::{self, ApiError};
use crate::components::{
    ConfirmDialog, ConfirmState, Flash, FormAlert, FormState, Submit, TextField, page_query, paged_list, replacer,
    with_query,
};
use crate::util::{focus_id, non_empty, set_title};
use latchkey_api_types::admin::{CreateRealm, PatchRealm, Realm};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

const ROOT: &str = "root";
const PER_PAGE: u64 = 50;

#[component]
pub fn RealmsPage() -> impl IntoView {
    set_title("Realms");
    let flash = Flash::get();
    let page = page_query();
    let realms = LocalResource::new(move || api::list_realms(page.get(), PER_PAGE));
    let replace = replacer();
    let on_page = Callback::new(move |p: u64| replace(&with_query("/console/realms", "", p)));

    // Errors of the row actions (enable, disable).
    let row_error = RwSignal::new(None::<ApiError>);

    // "+ New realm"
    let show_form = RwSignal::new(false);
    let form = FormState::new(&["name", "display_name"]);
    let name = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let open_form = move |_| {
        show_form.set(true);
        focus_id("name");
    };
    let close_form = move |_| {
        show_form.set(false);
        form.error.set(None);
    };
    let create = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = CreateRealm {
            name: name.get_untracked().trim().to_owned(),
            display_name: non_empty(&display_name.get_untracked()),
            enabled: None,
        };
        form.submit(api::create_realm(body), move |_: Realm| {
            flash.show("Realm created.");
            show_form.set(false);
            name.set(String::new());
            display_name.set(String::new());
            realms.refetch();
        });
    };

    // Delete, confirmed in a dialog.
    let to_delete = RwSignal::new(String::new());
    let delete = ConfirmState::new();
    let confirm_delete = Callback::new(move |()| {
        delete.error.set(None);
        delete.run(api::delete_realm(to_delete.get_untracked()), move |()| {
            delete.open.set(false);
            flash.show("Realm deleted.");
            realms.refetch();
        });
    });

    // Enable or disable in place.
    let toggling = RwSignal::new(None::<String>);
    let toggle = move |realm: String, enable: bool| {
        toggling.set(Some(realm.clone()));
        row_error.set(None);
        spawn_local(async move {
            let r = api::patch_realm(realm, PatchRealm { display_name: None, enabled: Some(enable) }).await;
            toggling.set(None);
            match r {
                Ok(updated) => {
                    realms.update(|page| {
                        if let Some(Ok(page)) = page {
                            for r in page.items.iter_mut().filter(|r| r.name == updated.name) {
                                *r = updated.clone();
                            }
                        }
                    });
                    flash.show(if enable { "Realm enabled." } else { "Realm disabled." });
                }
                Err(e) => row_error.set(Some(e)),
            }
        });
    };
    let enabled_of = move |name: &str| {
        realms.with(|r| match r {
            Some(Ok(p)) => p.items.iter().find(|r| r.name == name).map(|r| r.enabled).unwrap_or(false),
            _ => false,
        })
    };

    let rows = move || {
        realms.with(|r| match r {
            Some(Ok(p)) => p.items.iter().map(|r| (r.name.clone(), r.display_name.clone())).collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    };
    let table = move || {
        paged_list(
            realms.get(),
            || "No realms yet.".to_owned(),
            on_page,
            |_| {
                view! {
                    <table class="list">
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Display name"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col" class="actions-col">
                                    <span class="visually-hidden">"Actions"</span>
                                </th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=rows key=|r| r.clone() let:row>
                                {
                                    let (name, display) = row;
                                    let n1 = name.clone();
                                    let n2 = name.clone();
                                    let n3 = name.clone();
                                    let n4 = name.clone();
                                    let enabled = Memo::new(move |_| enabled_of(&n1));
                                    view! {
                                        <tr>
                                            <td>
                                                <a href=format!("/console/realms/{name}")>{name.clone()}</a>
                                            </td>
                                            <td>{display}</td>
                                            <td>
                                                <span
                                                    class="badge"
                                                    class:on=move || enabled.get()
                                                    class:off=move || !enabled.get()
                                                >
                                                    {move || if enabled.get() { "Enabled" } else { "Disabled" }}
                                                </span>
                                            </td>
                                            <td class="row-actions">
                                                <button
                                                    type="button"
                                                    disabled=move || toggling.with(|t| t.as_deref() == Some(n2.as_str()))
                                                    on:click=move |_| toggle(n3.clone(), !enabled.get_untracked())
                                                >
                                                    {move || if enabled.get() { "Disable" } else { "Enable" }}
                                                </button>
                                                {(name != ROOT)
                                                    .then(|| {
                                                        view! {
                                                            <button
                                                                type="button"
                                                                class="danger-outline"
                                                                on:click=move |_| {
                                                                    to_delete.set(n4.clone());
                                                                    delete.ask();
                                                                }
                                                            >
                                                                "Delete"
                                                            </button>
                                                        }
                                                    })}
                                            </td>
                                        </tr>
                                    }
                                }
                            </For>
                        </tbody>
                    </table>
                }
            },
        )
    };

    view! {
        <div class="page-head">
            <div>
                <h1>"Realms"</h1>
                <p class="muted">"Each realm is a separate tenant: its own applications, identities, keys and issuer."</p>
            </div>
            <button type="button" class="primary" aria-expanded=move || show_form.get().to_string() on:click=open_form>
                "+ New realm"
            </button>
        </div>
        {move || {
            show_form
                .get()
                .then(|| {
                    view! {
                        <form class="card form" on:submit=create novalidate aria-labelledby="new-realm-title">
                            <h2 id="new-realm-title">"New realm"</h2>
                            <FormAlert form />
                            <TextField
                                form
                                id="name"
                                label="Name"
                                value=name
                                hint="Lowercase letters, digits and hyphens; part of the realm's URLs."
                            />
                            <TextField form id="display_name" label="Display name" value=display_name />
                            <div class="actions">
                                <Submit form label="Create realm" />
                                <button type="button" on:click=close_form>
                                    "Cancel"
                                </button>
                            </div>
                        </form>
                    }
                })
        }}
        {move || row_error.get().map(|e| view! { <div role="alert" class="alert">{e.message()}</div> })}
        {table}
        <ConfirmDialog
            state=delete
            title="Delete realm"
            message=Signal::derive(move || {
                format!(
                    "Delete the realm “{}” and everything in it (applications, identities, signing keys)? This cannot be undone.",
                    to_delete.get(),
                )
            })
            confirm="Delete realm"
            on_confirm=confirm_delete
        />
    }
}
