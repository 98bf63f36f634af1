//! A realm's identities (users): list with search, create, edit, reset password, delete.

use crate::api::{self, ApiError};
use crate::components::{
    CheckboxField, ConfirmDialog, ConfirmState, Flash, FormAlert, FormState, ListQuery, SearchBox, Submit, TextField,
    navigator, paged_list, param, when_loaded,
};
use crate::util::{non_empty, set_title};
use latchkey_api_types::admin::{CreateUser, PatchUser, User};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

const PER_PAGE: u64 = 50;

fn ids_path(realm: &str) -> String {
    format!("/console/realms/{realm}/identities")
}

fn full_name(u: &User) -> String {
    [u.given_name.as_deref(), u.family_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ")
}

#[component]
pub fn IdentitiesPage() -> impl IntoView {
    let realm = param("realm");
    Effect::new(move |_| set_title(&format!("Identities · {}", realm.get())));
    let q = ListQuery::new(move || ids_path(&realm.get_untracked()));
    let users = LocalResource::new(move || api::list_users(realm.get(), q.search.get(), q.page.get(), PER_PAGE));
    let list = move || {
        paged_list(
            users.get(),
            || q.empty_text("identities"),
            q.on_page,
            |items| {
                let realm = realm.get();
                view! {
                    <table class="list">
                        <thead>
                            <tr>
                                <th scope="col">"Username"</th>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Email"</th>
                                <th scope="col">"Status"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {items
                                .into_iter()
                                .map(|u| {
                                    let href = format!("{}/{}", ids_path(&realm), u.username);
                                    view! {
                                        <tr>
                                            <td>
                                                <a href=href>{u.username.clone()}</a>
                                                {u.is_admin.then(|| view! { <span class="tag">"Administrator"</span> })}
                                            </td>
                                            <td>{full_name(&u)}</td>
                                            <td>{u.email.clone().unwrap_or_default()}</td>
                                            <td>
                                                <span class="badge" class:on=u.enabled class:off=!u.enabled>
                                                    {if u.enabled { "Enabled" } else { "Disabled" }}
                                                </span>
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
            },
        )
    };
    view! {
        <div class="page-head">
            <div>
                <h1>"Identities"</h1>
                <p class="muted">"The realm's users: application owners and resource owners."</p>
            </div>
            <a class="button primary" href=move || format!("{}/new", ids_path(&realm.get()))>
                "+ New identity"
            </a>
        </div>
        <SearchBox id="search" label="Search identities" initial=q.search.get_untracked() on_search=q.on_search />
        {list}
    }
}

#[component]
pub fn NewIdentityPage() -> impl IntoView {
    let realm = param("realm");
    Effect::new(move |_| set_title(&format!("New identity · {}", realm.get())));
    let flash = Flash::get();
    let go = navigator();
    let form = FormState::new(&["username", "password", "email", "given_name", "family_name", "enabled"]);
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let given_name = RwSignal::new(String::new());
    let family_name = RwSignal::new(String::new());
    let enabled = RwSignal::new(true);
    let create = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = CreateUser {
            username: username.get_untracked().trim().to_owned(),
            password: Some(password.get_untracked()).filter(|p| !p.is_empty()),
            email: non_empty(&email.get_untracked()),
            given_name: non_empty(&given_name.get_untracked()),
            family_name: non_empty(&family_name.get_untracked()),
            enabled: Some(enabled.get_untracked()),
        };
        let go = go.clone();
        let realm = realm.get_untracked();
        form.submit(api::create_user(realm.clone(), body), move |u| {
            let to = format!("{}/{}", ids_path(&realm), u.username);
            flash.show_at(to.clone(), "Identity created.");
            go(&to);
        });
    };
    view! {
        <div class="page-head">
            <div>
                <h1>"New identity"</h1>
            </div>
        </div>
        <form class="card form" on:submit=create novalidate aria-label="New identity">
            <FormAlert form />
            <TextField
                form
                id="username"
                label="Username"
                value=username
                autocomplete="off"
                hint="Letters, digits and . _ @ + - (up to 128)."
            />
            <TextField
                form
                id="password"
                label="Password"
                value=password
                kind="password"
                autocomplete="new-password"
                hint="Optional: without one, the identity cannot sign in with a password."
            />
            <TextField form id="email" label="Email" value=email kind="email" autocomplete="off" />
            <TextField form id="given_name" label="First name" value=given_name autocomplete="off" />
            <TextField form id="family_name" label="Last name" value=family_name autocomplete="off" />
            <CheckboxField form id="enabled" label="Enabled" checked=enabled />
            <div class="actions">
                <Submit form label="Create identity" />
                <a class="button" href=move || ids_path(&realm.get())>
                    "Cancel"
                </a>
            </div>
        </form>
    }
}

#[component]
pub fn IdentityPage() -> impl IntoView {
    let realm = param("realm");
    let username = param("username");
    Effect::new(move |_| set_title(&format!("{} · Identities · {}", username.get(), realm.get())));
    let user = LocalResource::new(move || api::user(realm.get(), username.get()));
    when_loaded(
        user,
        move |e| {
            if e.status() == 404 {
                format!("There is no identity “{}” in this realm.", username.get_untracked())
            } else {
                e.message()
            }
        },
        move |u| view! { <Identity user=u res=user /> },
    )
}

#[component]
fn Identity(user: User, res: LocalResource<Result<User, ApiError>>) -> impl IntoView {
    let realm = param("realm");
    let flash = Flash::get();
    let go = navigator();
    let name = user.username.clone();
    let summary = move || {
        res.with(|u| match u {
            Some(Ok(u)) => {
                let mut parts = vec![if u.has_password { "Has a password" } else { "No password set" }];
                if u.is_admin {
                    parts.push("Administrator");
                }
                parts.join(" · ")
            }
            _ => String::new(),
        })
    };

    // Profile
    let form = FormState::new(&["email", "given_name", "family_name", "enabled"]);
    let email = RwSignal::new(user.email.clone().unwrap_or_default());
    let given_name = RwSignal::new(user.given_name.clone().unwrap_or_default());
    let family_name = RwSignal::new(user.family_name.clone().unwrap_or_default());
    let enabled = RwSignal::new(user.enabled);
    let n = name.clone();
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = PatchUser {
            email: Some(non_empty(&email.get_untracked())),
            given_name: Some(non_empty(&given_name.get_untracked())),
            family_name: Some(non_empty(&family_name.get_untracked())),
            enabled: Some(enabled.get_untracked()),
            password: None,
        };
        form.submit(api::patch_user(realm.get_untracked(), n.clone(), body), move |u| {
            res.set(Some(Ok(u)));
            flash.show("Saved.");
        });
    };

    // Password
    let pw_form = FormState::new(&["password"]);
    let password = RwSignal::new(String::new());
    let n = name.clone();
    let reset = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = PatchUser { password: Some(password.get_untracked()), ..Default::default() };
        pw_form.submit(api::patch_user(realm.get_untracked(), n.clone(), body), move |u| {
            password.set(String::new());
            res.set(Some(Ok(u)));
            flash.show("Password reset.");
        });
    };

    // Delete
    let delete = ConfirmState::new();
    let n = name.clone();
    let confirm_delete = Callback::new(move |()| {
        let (realm, go) = (realm.get_untracked(), go.clone());
        delete.run(api::delete_user(realm.clone(), n.clone()), move |()| {
            let to = ids_path(&realm);
            flash.show_at(to.clone(), "Identity deleted.");
            go(&to);
        });
    });

    view! {
        <div class="page-head">
            <div>
                <h1>{name.clone()}</h1>
                <p class="muted">{summary}</p>
            </div>
        </div>
        <form class="card form" on:submit=save novalidate aria-labelledby="profile-title">
            <h2 id="profile-title">"Profile"</h2>
            <FormAlert form />
            <TextField form id="email" label="Email" value=email kind="email" autocomplete="off" />
            <TextField form id="given_name" label="First name" value=given_name autocomplete="off" />
            <TextField form id="family_name" label="Last name" value=family_name autocomplete="off" />
            <CheckboxField form id="enabled" label="Enabled" checked=enabled />
            <div class="actions">
                <Submit form label="Save" />
            </div>
        </form>
        <form class="card form" on:submit=reset novalidate aria-labelledby="password-title">
            <h2 id="password-title">"Reset password"</h2>
            <p class="muted">"Sets a new password; the old one stops working."</p>
            <FormAlert form=pw_form />
            <TextField
                form=pw_form
                id="password"
                label="New password"
                value=password
                kind="password"
                autocomplete="new-password"
            />
            <div class="actions">
                <Submit form=pw_form label="Reset password" />
            </div>
        </form>
        <section class="card danger-zone" aria-labelledby="delete-title">
            <h2 id="delete-title">"Delete this identity"</h2>
            <p class="muted">"The identity and its password are removed. This cannot be undone."</p>
            <button type="button" class="danger" on:click=move |_| delete.ask()>
                "Delete identity"
            </button>
        </section>
        <ConfirmDialog
            state=delete
            title="Delete identity"
            message=format!("Delete the identity “{name}”? This cannot be undone.")
            confirm="Delete identity"
            on_confirm=confirm_delete
        />
    }
}
