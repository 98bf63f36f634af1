//! A realm's applications: the list, the "+ Custom Application" wizard, and an application's
//! tabs General, Sign On and Credentials ("Try it" is in `try_it`).

use crate::api::{self, ApiError};
use crate::components::{
    CheckboxField, ConfirmDialog, ConfirmState, Field, Flash, FormAlert, FormState, Go, ListQuery, Loading,
    MultiSelect, OwnersField, SearchBox, SecretOnce, SelectField, Submit, TextArea, TextField, navigator, paged_list,
    param, when_loaded,
};
use crate::util::{focus_id, lines, non_empty, random_secret, set_title, tokens};
use latchkey_api_types::admin::{Application, CreateApplication, CreatedApplication, PatchApplication};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

const PER_PAGE: u64 = 50;

/// Every grant type the API knows, with its label.
const GRANT_TYPES: &[(&str, &str)] = &[
    ("authorization_code", "Authorization Code"),
    ("client_credentials", "Client Credentials"),
    ("refresh_token", "Refresh Token"),
    ("password", "Resource Owner Password"),
    ("implicit", "Implicit"),
    ("urn:ietf:params:oauth:grant-type:device_code", "Device Code"),
    ("urn:ietf:params:oauth:grant-type:jwt-bearer", "JWT Bearer"),
    ("urn:ietf:params:oauth:grant-type:token-exchange", "Token Exchange"),
];

const AUTH_METHODS: &[(&str, &str)] = &[
    ("client_secret_basic", "client_secret_basic (HTTP Basic)"),
    ("client_secret_post", "client_secret_post (form parameters)"),
    ("none", "none (public client)"),
];

/// (value, label, description) of the application types.
const APP_TYPES: &[(&str, &str, &str)] = &[
    ("web", "Web", "A server-side application that can keep a secret (confidential client)."),
    ("native", "Native", "A desktop or mobile application: no secret (public client)."),
    ("spa", "Single-page", "A browser application: no secret (public client)."),
];

pub fn app_type_label(t: &str) -> &str {
    APP_TYPES.iter().find(|(v, _, _)| *v == t).map(|(_, l, _)| *l).unwrap_or(t)
}

pub fn grant_label(g: &str) -> &str {
    GRANT_TYPES.iter().find(|(v, _)| *v == g).map(|(_, l)| *l).unwrap_or(g)
}

fn apps_path(realm: &str) -> String {
    format!("/console/realms/{realm}/applications")
}

/// The `<select multiple>` "Grant Types" (`grant_types`) of an application or of a realm.
#[component]
pub fn GrantTypesField(form: FormState, values: RwSignal<Vec<String>>, hint: &'static str) -> impl IntoView {
    view! { <MultiSelect form id="grant_types" label="Grant Types" values options=GRANT_TYPES hint /> }
}

/// The "Default scopes" input (`default_scopes`, space-separated) of an application or of a realm.
#[component]
pub fn DefaultScopesField(form: FormState, value: RwSignal<String>, hint: &'static str) -> impl IntoView {
    view! { <TextField form id="default_scopes" label="Default scopes" value hint /> }
}

// ---------------------------------------------------------------------------------------------
// List

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let realm = param("realm");
    Effect::new(move |_| set_title(&format!("Applications · {}", realm.get())));
    let q = ListQuery::new(move || apps_path(&realm.get_untracked()));
    let apps = LocalResource::new(move || api::list_applications(realm.get(), q.search.get(), q.page.get(), PER_PAGE));
    let list = move || {
        paged_list(
            apps.get(),
            || q.empty_text("applications"),
            q.on_page,
            |items| {
                let realm = realm.get();
                view! {
                    <table class="list">
                        <thead>
                            <tr>
                                <th scope="col">"Client ID"</th>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Type"</th>
                                <th scope="col">"Grant types"</th>
                                <th scope="col">"Status"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {items
                                .into_iter()
                                .map(|a| {
                                    let href = format!("{}/{}/general", apps_path(&realm), a.client_id);
                                    let grants = a.grant_types.iter().map(|g| grant_label(g)).collect::<Vec<_>>().join(", ");
                                    view! {
                                        <tr>
                                            <td>
                                                <a href=href class="mono">
                                                    {a.client_id.clone()}
                                                </a>
                                            </td>
                                            <td>{a.client_name.clone()}</td>
                                            <td>{app_type_label(&a.application_type).to_owned()}</td>
                                            <td class="small">{grants}</td>
                                            <td>
                                                <span class="badge" class:on=a.enabled class:off=!a.enabled>
                                                    {if a.enabled { "Enabled" } else { "Disabled" }}
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
                <h1>"Applications"</h1>
                <p class="muted">"OAuth 2.0 / OpenID Connect clients registered in this realm."</p>
            </div>
            <a class="button primary" href=move || format!("{}/new", apps_path(&realm.get()))>
                "+ Custom Application"
            </a>
        </div>
        <SearchBox id="search" label="Search applications" initial=q.search.get_untracked() on_search=q.on_search />
        {list}
    }
}

// ---------------------------------------------------------------------------------------------
// The wizard

#[component]
pub fn NewApplicationPage() -> impl IntoView {
    let realm = param("realm");
    Effect::new(move |_| set_title(&format!("New application · {}", realm.get())));
    let flash = Flash::get();
    let step = RwSignal::new(1u8);
    let method = RwSignal::new("oidc".to_owned());
    let app_type = RwSignal::new("web".to_owned());
    let client_name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let owners = RwSignal::new(Vec::<String>::new());
    let client_id = RwSignal::new(String::new());
    let client_secret = RwSignal::new(String::new());
    let created = RwSignal::new(None::<CreatedApplication>);
    let form = FormState::new(&["client_name", "description", "owners", "client_id", "client_secret"]);

    let goto = move |n: u8| {
        step.set(n);
        focus_id("step-title");
    };
    let generate = move |_| match random_secret() {
        Ok(s) => client_secret.set(s),
        Err(e) => form.fail(ApiError::field("client_secret", format!("Could not generate a secret: {e}"))),
    };
    let create = move |ev: SubmitEvent| {
        ev.prevent_default();
        let web = app_type.get_untracked() == "web";
        let owners = owners.get_untracked();
        let body = CreateApplication {
            client_id: non_empty(&client_id.get_untracked()),
            client_secret: if web { non_empty(&client_secret.get_untracked()) } else { None },
            client_name: Some(client_name.get_untracked().trim().to_owned()),
            description: non_empty(&description.get_untracked()),
            sign_in_method: Some(method.get_untracked()),
            application_type: Some(app_type.get_untracked()),
            grant_types: web.then(|| vec!["client_credentials".to_owned()]),
            owners: (!owners.is_empty()).then_some(owners),
            ..Default::default()
        };
        form.submit(api::create_application(realm.get_untracked(), body), move |c| {
            created.set(Some(c));
            flash.show("Application created.");
            goto(4);
        });
    };

    let step_head = move |n: u8, title: &'static str| {
        view! {
            <p class="step-indicator">{format!("Step {n} of 3")}</p>
            <h2 id="step-title" tabindex="-1">
                {title}
            </h2>
        }
    };
    let cancel = move || view! { <a class="button" href=apps_path(&realm.get_untracked())>"Cancel"</a> };

    let body = move || {
        match step.get() {
        1 => view! {
            <form class="card form wizard" on:submit=move |ev: SubmitEvent| { ev.prevent_default(); goto(2); }>
                {step_head(1, "Choose a sign-in method")}
                <fieldset class="choices">
                    <legend class="visually-hidden">"Sign-in method"</legend>
                    <div class="choice">
                        <input
                            type="radio"
                            id="method-oidc"
                            name="sign_in_method"
                            value="oidc"
                            prop:checked=move || method.get() == "oidc"
                            on:change=move |_| method.set("oidc".into())
                            aria-describedby="method-oidc-desc"
                        />
                        <label for="method-oidc">"OIDC - OpenID Connect"</label>
                        <p id="method-oidc-desc" class="muted">
                            "OAuth 2.0 and OpenID Connect: access tokens as signed JWTs from this realm's token endpoint."
                        </p>
                    </div>
                </fieldset>
                <div class="actions">
                    <button type="submit" class="primary">
                        "Next"
                    </button>
                    {cancel()}
                </div>
            </form>
        }
        .into_any(),
        2 => view! {
            <form class="card form wizard" on:submit=move |ev: SubmitEvent| { ev.prevent_default(); goto(3); }>
                {step_head(2, "Choose an application type")}
                <fieldset class="choices">
                    <legend class="visually-hidden">"Application type"</legend>
                    {APP_TYPES
                        .iter()
                        .map(|(v, label, desc)| {
                            let id = format!("type-{v}");
                            let desc_id = format!("type-{v}-desc");
                            view! {
                                <div class="choice">
                                    <input
                                        type="radio"
                                        id=id.clone()
                                        name="application_type"
                                        value=*v
                                        prop:checked=move || app_type.get() == *v
                                        on:change=move |_| app_type.set((*v).to_owned())
                                        aria-describedby=desc_id.clone()
                                    />
                                    <label for=id>{*label}</label>
                                    <p id=desc_id class="muted">
                                        {*desc}
                                    </p>
                                </div>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <div class="actions">
                    <button type="button" on:click=move |_| goto(1)>
                        "Back"
                    </button>
                    <button type="submit" class="primary">
                        "Next"
                    </button>
                    {cancel()}
                </div>
            </form>
        }
        .into_any(),
        3 => {
            let web = app_type.get_untracked() == "web";
            let secret_invalid = move || form.field_error("client_secret").is_some();
            view! {
                <form class="card form wizard" on:submit=create novalidate>
                    {step_head(3, "Application details")}
                    <p class="muted">
                        {format!(
                            "A {} application signing in with OpenID Connect.",
                            app_type_label(&app_type.get_untracked()),
                        )}
                    </p>
                    <FormAlert form />
                    <TextField form id="client_name" label="Name" value=client_name />
                    <TextArea form id="description" label="Description" value=description rows=2 />
                    <OwnersField form realm owners />
                    <TextField
                        form
                        id="client_id"
                        label="Client ID"
                        value=client_id
                        hint="Letters, digits and - . _ ~ (up to 128). Left empty, one is generated."
                    />
                    {web
                        .then(|| {
                            view! {
                                <Field
                                    form
                                    id="client_secret"
                                    label="Client Secret"
                                    hint=Some(
                                        "At least 8 characters. Type one, generate one (32 random bytes), or leave it empty and the server generates one.",
                                    )
                                >
                                    <div class="input-with-button">
                                        <input
                                            id="client_secret"
                                            name="client_secret"
                                            type="text"
                                            class="mono"
                                            autocomplete="off"
                                            spellcheck="false"
                                            prop:value=move || client_secret.get()
                                            on:input=move |ev| client_secret.set(event_target_value(&ev))
                                            aria-invalid=move || secret_invalid().then_some("true")
                                            aria-describedby=move || {
                                                secret_invalid().then_some("client_secret-error")
                                            }
                                        />
                                        <button type="button" on:click=generate>
                                            "Generate"
                                        </button>
                                    </div>
                                </Field>
                            }
                        })}
                    <div class="actions">
                        <button type="button" on:click=move |_| goto(2)>
                            "Back"
                        </button>
                        <Submit form label="Create Application" />
                        {cancel()}
                    </div>
                </form>
            }
            .into_any()
        }
        _ => {
            let Some(c) = created.get_untracked() else {
                return view! { <Loading /> }.into_any();
            };
            let href = format!("{}/{}/general", apps_path(&realm.get_untracked()), c.application.client_id);
            view! {
                <section class="card form wizard">
                    <h2 id="step-title" tabindex="-1">
                        "Application created"
                    </h2>
                    <p>
                        "The application " <strong class="mono">{c.application.client_id.clone()}</strong>
                        {format!(" ({}) is registered in the realm {}.", c.application.client_name, realm.get_untracked())}
                    </p>
                    {match c.client_secret {
                        Some(s) => view! { <SecretOnce id="created_client_secret" label="Client Secret" secret=s /> }
                            .into_any(),
                        None => view! {
                            <p class="muted">"This is a public application: it has no client secret."</p>
                        }
                            .into_any(),
                    }}
                    <div class="actions">
                        <a class="button primary" href=href>
                            "Open application"
                        </a>
                    </div>
                </section>
            }
            .into_any()
        }
    }
    };
    view! {
        <div class="page-head">
            <div>
                <h1>"New application"</h1>
                <p class="muted">"Register a custom OAuth 2.0 / OpenID Connect application."</p>
            </div>
        </div>
        {body}
    }
}

// ---------------------------------------------------------------------------------------------
// One application

/// The application the tabs share, loaded once by the layout.
#[derive(Clone, Copy)]
pub struct AppRes(pub LocalResource<Result<Application, ApiError>>);

/// Renders `f(app)` once the application has loaded (and not again when it is updated, so a
/// form keeps its state and its messages).
pub fn with_app<V: IntoView + 'static>(f: impl Fn(Application) -> V + Send + Sync + 'static) -> impl IntoView {
    let AppRes(app) = expect_context();
    let ready = Memo::new(move |_| app.with(|a| matches!(a, Some(Ok(_)))));
    move || ready.get().then(|| app.get_untracked().and_then(Result::ok).map(&f))
}

#[component]
pub fn ApplicationLayout() -> impl IntoView {
    let realm = param("realm");
    let client_id = param("client_id");
    let app = LocalResource::new(move || api::application(realm.get(), client_id.get()));
    provide_context(AppRes(app));
    Effect::new(move |_| set_title(&format!("{} · Applications · {}", client_id.get(), realm.get())));
    let base = move || format!("{}/{}", apps_path(&realm.get()), client_id.get());
    let title = move || {
        app.with(|a| match a {
            Some(Ok(a)) => a.client_name.clone(),
            _ => client_id.get(),
        })
    };
    let subtitle = move || {
        app.with(|a| match a {
            Some(Ok(a)) => format!("{} · {} application", a.client_id, app_type_label(&a.application_type)),
            _ => String::new(),
        })
    };
    let enabled = move || app.with(|a| a.as_ref().and_then(|a| a.as_ref().ok()).map(|a| a.enabled));
    let tab = move |seg: &'static str, label: &'static str| {
        view! { <A href=move || format!("{}/{seg}", base())>{label}</A> }
    };
    view! {
        <div class="page-head">
            <div>
                <h1>{title}</h1>
                <p class="muted mono">{subtitle}</p>
            </div>
            {move || {
                enabled()
                    .map(|on| {
                        view! {
                            <span class="badge" class:on=on class:off=!on>
                                {if on { "Enabled" } else { "Disabled" }}
                            </span>
                        }
                    })
            }}
        </div>
        <nav class="tabs" aria-label="Application">
            {tab("general", "General")}
            {tab("sign-on", "Sign On")}
            {tab("credentials", "Credentials")}
            {tab("try", "Try it")}
        </nav>
        {when_loaded(
            app,
            move |e| {
                if e.status() == 404 {
                    format!("There is no application “{}” in this realm.", client_id.get_untracked())
                } else {
                    e.message()
                }
            },
            |_| view! { <Outlet /> },
        )}
    }
}

/// `…/applications/:client_id` → its General tab.
#[component]
pub fn ApplicationIndex() -> impl IntoView {
    let realm = param("realm");
    let client_id = param("client_id");
    view! { <Go to=format!("{}/{}/general", apps_path(&realm.get_untracked()), client_id.get_untracked()) /> }
}

#[component]
pub fn GeneralTab() -> impl IntoView {
    with_app(|a| view! { <GeneralForm app=a /> })
}

#[component]
fn GeneralForm(app: Application) -> impl IntoView {
    let AppRes(res) = expect_context();
    let flash = Flash::get();
    let go = navigator();
    let realm = param("realm");
    let client_id = app.client_id.clone();
    let form = FormState::new(&["client_name", "description", "owners", "enabled"]);
    let client_name = RwSignal::new(app.client_name.clone());
    let description = RwSignal::new(app.description.clone().unwrap_or_default());
    let owners = RwSignal::new(app.owners.clone());
    let enabled = RwSignal::new(app.enabled);
    let id = client_id.clone();
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = PatchApplication {
            client_name: Some(client_name.get_untracked().trim().to_owned()),
            description: Some(non_empty(&description.get_untracked())),
            owners: Some(owners.get_untracked()),
            enabled: Some(enabled.get_untracked()),
            ..Default::default()
        };
        form.submit(api::patch_application(realm.get_untracked(), id.clone(), body), move |a| {
            res.set(Some(Ok(a)));
            flash.show("Saved.");
        });
    };

    let delete = ConfirmState::new();
    let id = client_id.clone();
    let confirm_delete = Callback::new(move |()| {
        let (realm, go) = (realm.get_untracked(), go.clone());
        delete.run(api::delete_application(realm.clone(), id.clone()), move |()| {
            let to = apps_path(&realm);
            flash.show_at(to.clone(), "Application deleted.");
            go(&to);
        });
    });
    view! {
        <form class="card form" on:submit=save novalidate aria-labelledby="general-title">
            <h2 id="general-title">"General"</h2>
            <FormAlert form />
            <TextField form id="client_name" label="Name" value=client_name />
            <TextArea form id="description" label="Description" value=description rows=2 />
            <OwnersField form realm owners />
            <CheckboxField form id="enabled" label="Enabled" checked=enabled />
            <div class="actions">
                <Submit form label="Save" />
            </div>
        </form>
        <section class="card danger-zone" aria-labelledby="danger-title">
            <h2 id="danger-title">"Delete this application"</h2>
            <p class="muted">"Its tokens stop working when they expire; its client ID becomes free again."</p>
            <button type="button" class="danger" on:click=move |_| delete.ask()>
                "Delete application"
            </button>
        </section>
        <ConfirmDialog
            state=delete
            title="Delete application"
            message=format!("Delete the application “{client_id}”? This cannot be undone.")
            confirm="Delete application"
            on_confirm=confirm_delete
        />
    }
}

#[component]
pub fn SignOnTab() -> impl IntoView {
    with_app(|a| view! { <SignOnForm app=a /> })
}

#[component]
fn SignOnForm(app: Application) -> impl IntoView {
    let AppRes(res) = expect_context();
    let flash = Flash::get();
    let realm = param("realm");
    let form = FormState::new(&[
        "redirect_uris",
        "grant_types",
        "allowed_scopes",
        "default_scopes",
        "token_endpoint_auth_method",
        "access_token_lifetime",
    ]);
    let redirect_uris = RwSignal::new(app.redirect_uris.join("\n"));
    let grant_types = RwSignal::new(app.grant_types.clone());
    let allowed_scopes = RwSignal::new(app.allowed_scopes.join(" "));
    let default_scopes = RwSignal::new(app.default_scopes.join(" "));
    let auth_method = RwSignal::new(app.token_endpoint_auth_method.clone());
    let lifetime = RwSignal::new(app.access_token_lifetime.map(|l| l.to_string()).unwrap_or_default());
    let client_id = app.client_id.clone();
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let lifetime = lifetime.get_untracked();
        let lifetime = match lifetime.trim() {
            "" => None,
            l => match l.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    form.fail(ApiError::field("access_token_lifetime", "Enter a whole number of seconds."));
                    return;
                }
            },
        };
        let body = PatchApplication {
            redirect_uris: Some(lines(&redirect_uris.get_untracked())),
            grant_types: Some(grant_types.get_untracked()),
            allowed_scopes: Some(tokens(&allowed_scopes.get_untracked())),
            default_scopes: Some(tokens(&default_scopes.get_untracked())),
            token_endpoint_auth_method: Some(auth_method.get_untracked()),
            access_token_lifetime: Some(lifetime),
            ..Default::default()
        };
        form.submit(api::patch_application(realm.get_untracked(), client_id.clone(), body), move |a| {
            res.set(Some(Ok(a)));
            flash.show("Saved.");
        });
    };
    view! {
        <form class="card form" on:submit=save novalidate aria-labelledby="sign-on-title">
            <h2 id="sign-on-title">"General Settings"</h2>
            <FormAlert form />
            <TextArea
                form
                id="redirect_uris"
                label="Sign-in URLs"
                value=redirect_uris
                rows=3
                hint="Redirect URIs, one per line: https, or http for localhost only."
            />
            <GrantTypesField
                form
                values=grant_types
                hint="Ctrl-click (⌘-click) to select several. Client Credentials needs a Web application."
            />
            <TextField
                form
                id="allowed_scopes"
                label="Allowed scopes"
                value=allowed_scopes
                hint="Space-separated scopes this application may ask for."
            />
            <DefaultScopesField
                form
                value=default_scopes
                hint="Space-separated scopes granted when a request names none."
            />
            <SelectField
                form
                id="token_endpoint_auth_method"
                label="Token endpoint authentication method"
                value=auth_method
                options=AUTH_METHODS
                hint="Web applications use client_secret_basic or client_secret_post; public ones none."
            />
            <TextField
                form
                id="access_token_lifetime"
                label="Access token lifetime (seconds)"
                value=lifetime
                kind="number"
                hint="Empty: the realm's default."
            />
            <div class="actions">
                <Submit form label="Save" />
            </div>
        </form>
    }
}

#[component]
pub fn CredentialsTab() -> impl IntoView {
    with_app(|a| view! { <Credentials app=a /> })
}

#[component]
fn Credentials(app: Application) -> impl IntoView {
    let flash = Flash::get();
    let realm = param("realm");
    if app.application_type != "web" {
        return view! {
            <section class="card">
                <h2>"Credentials"</h2>
                <p>
                    {format!(
                        "This is a {} application, a public client: it has no client secret to rotate.",
                        app_type_label(&app.application_type),
                    )}
                </p>
            </section>
        }
        .into_any();
    }
    let new_secret = RwSignal::new(None::<String>);
    let rotate = ConfirmState::new();
    let client_id = app.client_id.clone();
    let confirm = Callback::new(move |()| {
        rotate.run(api::rotate_secret(realm.get_untracked(), client_id.clone()), move |s| {
            rotate.open.set(false);
            new_secret.set(Some(s.client_secret));
            flash.show("Secret rotated.");
            focus_id("new_client_secret");
        });
    });
    view! {
        <section class="card form" aria-labelledby="credentials-title">
            <h2 id="credentials-title">"Client secret"</h2>
            <p class="muted">
                {format!(
                    "The application authenticates with its client ID and secret ({}). The secret is stored hashed: it cannot be shown, only replaced.",
                    app.token_endpoint_auth_method,
                )}
            </p>
            {move || {
                new_secret
                    .get()
                    .map(|s| view! { <SecretOnce id="new_client_secret" label="New client secret" secret=s /> })
            }}
            <div class="actions">
                <button type="button" class="primary" on:click=move |_| rotate.ask()>
                    "Rotate secret"
                </button>
            </div>
        </section>
        <ConfirmDialog
            state=rotate
            title="Rotate secret"
            message="A new secret replaces the current one, which stops working at once."
                .to_owned()
            confirm="Rotate secret"
            on_confirm=confirm
        />
    }
    .into_any()
}
