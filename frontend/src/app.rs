//! The app: routes under `/console`, the session gate, the header, the login page and the
//! realm layout (navigation and breadcrumb).

use crate::api::{self, ApiError};
use crate::components::{Flash, FormAlert, FormState, Go, StatusRegion, Submit, TextField, navigator, param, query};
use crate::pages::{applications, audit, identities, provider, realms, try_it};
use crate::util::set_title;
use latchkey_api_types::admin::Session;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Outlet, ParentRoute, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;

/// The signed-in administrator, once known.
#[derive(Clone, Copy)]
pub struct Auth {
    pub session: RwSignal<Option<Session>>,
}

impl Auth {
    fn set(&self, s: Option<Session>) {
        api::set_csrf(s.as_ref().map(|s| s.csrf_token.clone()));
        self.session.set(s);
    }
}

#[component]
pub fn App() -> impl IntoView {
    Flash::provide();
    provide_context(Auth { session: RwSignal::new(None) });
    view! {
        <Router base="/console">
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=LoginPage />
                <ParentRoute path=path!("") view=Protected>
                    <Route path=path!("") view=|| view! { <Go to="/console/realms" /> } />
                    <Route path=path!("/realms") view=realms::RealmsPage />
                    <ParentRoute path=path!("/realms/:realm") view=RealmLayout>
                        <Route path=path!("") view=RealmIndex />
                        <Route path=path!("/applications") view=applications::ApplicationsPage />
                        <Route path=path!("/applications/new") view=applications::NewApplicationPage />
                        <ParentRoute path=path!("/applications/:client_id") view=applications::ApplicationLayout>
                            <Route path=path!("") view=applications::ApplicationIndex />
                            <Route path=path!("/general") view=applications::GeneralTab />
                            <Route path=path!("/sign-on") view=applications::SignOnTab />
                            <Route path=path!("/credentials") view=applications::CredentialsTab />
                            <Route path=path!("/try") view=try_it::TryItTab />
                        </ParentRoute>
                        <ParentRoute path=path!("/provider") view=provider::ProviderLayout>
                            <Route path=path!("") view=provider::ProviderIndex />
                            <Route path=path!("/core") view=provider::CoreTab />
                            <Route path=path!("/advanced") view=provider::AdvancedTab />
                            <Route path=path!("/keys") view=provider::KeysTab />
                        </ParentRoute>
                        <Route path=path!("/identities") view=identities::IdentitiesPage />
                        <Route path=path!("/identities/new") view=identities::NewIdentityPage />
                        <Route path=path!("/identities/:username") view=identities::IdentityPage />
                        <Route path=path!("/audit") view=audit::AuditPage />
                    </ParentRoute>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    set_title("Not found");
    view! {
        <main class="page narrow">
            <h1>"Page not found"</h1>
            <p>
                "Nothing lives at this address. " <a href="/console/realms">"Go to the realms"</a> "."
            </p>
        </main>
    }
}

/// The current path and query, to come back to after signing in.
fn here() -> String {
    web_sys::window()
        .map(|w| {
            let l = w.location();
            format!("{}{}", l.pathname().unwrap_or_default(), l.search().unwrap_or_default())
        })
        .unwrap_or_default()
}

/// Everything but the login page: needs a session. Learns it with `GET /admin/v1/session` on
/// page load; without one (401), goes to `/console/login?next=<here>`.
#[component]
fn Protected() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let go = navigator();
    {
        let go = go.clone();
        api::on_unauthorized(move || {
            auth.set(None);
            let next = here();
            if !next.starts_with("/console/login") {
                go(&format!("/console/login?next={}", api::seg(&next)));
            }
        });
    }
    let load_error = RwSignal::new(None::<ApiError>);
    if auth.session.get_untracked().is_none() {
        spawn_local(async move {
            match api::current_session().await {
                Ok(s) => auth.set(Some(s)),
                Err(e) if e.status() == 401 => go(&format!("/console/login?next={}", api::seg(&here()))),
                Err(e) => load_error.set(Some(e)),
            }
        });
    }
    let signed_in = Memo::new(move |_| auth.session.with(Option::is_some));
    move || {
        if signed_in.get() {
            view! {
                <Header />
                <main id="main" class="page">
                    <StatusRegion />
                    <Outlet />
                </main>
            }
            .into_any()
        } else if let Some(e) = load_error.get() {
            view! {
                <main class="page narrow">
                    <div role="alert" class="alert">
                        {e.message()}
                    </div>
                </main>
            }
            .into_any()
        } else {
            view! {
                <main class="page narrow">
                    <p class="muted">"Loading…"</p>
                </main>
            }
            .into_any()
        }
    }
}

#[component]
fn Header() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let go = navigator();
    let busy = RwSignal::new(false);
    let sign_out = move |_| {
        busy.set(true);
        let go = go.clone();
        spawn_local(async move {
            // Whatever the answer, the console forgets the session.
            let _ = api::sign_out().await;
            busy.set(false);
            auth.set(None);
            go("/console/login");
        });
    };
    let username = move || auth.session.with(|s| s.as_ref().map(|s| s.username.clone()).unwrap_or_default());
    view! {
        <header class="topbar">
            <a class="brand" href="/console/realms">
                <span class="logo" aria-hidden="true">
                    "◆"
                </span>
                "Latchkey"
            </a>
            <span class="spacer"></span>
            <span class="who">{move || format!("Signed in as {}", username())}</span>
            <button type="button" class="ghost" on:click=sign_out disabled=move || busy.get()>
                "Sign out"
            </button>
        </header>
    }
}

/// Maps the sign-in failures to the texts the contract fixes.
fn sign_in_error(e: ApiError) -> ApiError {
    match e {
        ApiError::Api { status: 401, mut error, retry_after } => {
            error.message = "Wrong username or password.".into();
            error.field = None;
            ApiError::Api { status: 401, error, retry_after }
        }
        ApiError::Api { status: 429, mut error, retry_after } => {
            error.message = match retry_after {
                Some(n) => format!("Too many attempts. Try again in {n} seconds."),
                None => "Too many attempts. Try again later.".into(),
            };
            ApiError::Api { status: 429, error, retry_after }
        }
        other => other,
    }
}

/// Where to go after signing in: `?next=` when it is a console page, else the realms.
fn next_path(next: &str) -> String {
    let ok = next.starts_with("/console") && !next.starts_with("//") && !next.starts_with("/console/login");
    if ok { next.to_owned() } else { "/console/realms".to_owned() }
}

#[component]
fn LoginPage() -> impl IntoView {
    set_title("Sign in");
    let auth = expect_context::<Auth>();
    let go = navigator();
    let next = query("next");
    let form = FormState::new(&["username", "password"]);
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let go = go.clone();
        let (u, p) = (username.get_untracked(), password.get_untracked());
        form.submit(async move { api::sign_in(u, p).await.map_err(sign_in_error) }, move |s| {
            auth.set(Some(s));
            go(&next_path(&next.get_untracked()));
        });
    };
    view! {
        <main class="login">
            <div class="login-card">
                <p class="brand-mark">
                    <span class="logo" aria-hidden="true">
                        "◆"
                    </span>
                    "Latchkey"
                </p>
                <h1>"Sign in to Latchkey"</h1>
                <p class="muted">"The administration console. Administrators of the root realm only."</p>
                <form on:submit=on_submit novalidate>
                    <FormAlert form />
                    <TextField form id="username" label="Username" value=username autocomplete="username" />
                    <TextField
                        form
                        id="password"
                        label="Password"
                        value=password
                        kind="password"
                        autocomplete="current-password"
                    />
                    <Submit form label="Sign in" class="primary wide" />
                </form>
            </div>
        </main>
    }
}

/// `/console/realms/:realm` → its applications.
#[component]
fn RealmIndex() -> impl IntoView {
    let realm = param("realm");
    view! { <Go to=format!("/console/realms/{}/applications", realm.get_untracked()) /> }
}

/// The sections of a realm: (path segment, label).
const SECTIONS: [(&str, &str); 4] = [
    ("applications", "Applications"),
    ("identities", "Identities"),
    ("provider", "OAuth2 Provider"),
    ("audit", "Audit"),
];

/// A realm's pages: the realm navigation, the breadcrumb, then the page.
#[component]
fn RealmLayout() -> impl IntoView {
    let realm = param("realm");
    let location = use_location();
    // The path below the realm: ["applications", "my-app", "general"], …
    let rest = Memo::new(move |_| {
        let prefix = format!("/console/realms/{}/", realm.get());
        location.pathname.with(|p| {
            p.strip_prefix(&prefix)
                .unwrap_or_default()
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
    });
    let crumbs = move || {
        let realm = realm.get();
        let rest = rest.get();
        let mut items: Vec<(String, Option<String>)> = vec![
            ("Realms".into(), Some("/console/realms".into())),
            (realm.clone(), Some(format!("/console/realms/{realm}/applications"))),
        ];
        if let Some((seg, label)) = rest.first().and_then(|s| SECTIONS.iter().find(|(p, _)| p == s)) {
            items.push((label.to_string(), Some(format!("/console/realms/{realm}/{seg}"))));
            match (*seg, rest.get(1).map(String::as_str)) {
                ("applications", Some("new")) => items.push(("New application".into(), None)),
                ("identities", Some("new")) => items.push(("New identity".into(), None)),
                ("applications" | "identities", Some(item)) => items.push((item.to_owned(), None)),
                _ => {}
            }
        }
        let n = items.len();
        items
            .into_iter()
            .enumerate()
            .map(|(i, (label, href))| {
                let last = i + 1 == n;
                view! {
                    <li>
                        {if last {
                            view! { <span aria-current="page">{label}</span> }.into_any()
                        } else {
                            view! { <a href=href.unwrap_or_default()>{label}</a> }.into_any()
                        }}
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <div class="realm-layout">
            <aside class="sidebar">
                <p class="sidebar-title">
                    <span class="muted small">"Realm"</span>
                    <span class="realm-name">{move || realm.get()}</span>
                </p>
                <nav aria-label="Realm">
                    <ul>
                        {SECTIONS
                            .iter()
                            .map(|(seg, label)| {
                                view! {
                                    <li>
                                        <A href=move || {
                                            format!("/console/realms/{}/{seg}", realm.get())
                                        }>{*label}</A>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </nav>
            </aside>
            <div class="content">
                <nav aria-label="Breadcrumb" class="breadcrumb">
                    <ol>{crumbs}</ol>
                </nav>
                <Outlet />
            </div>
        </div>
    }
}
