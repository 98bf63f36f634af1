//! A realm's OAuth2 Provider: Core (token lifetime, signing algorithm), Advanced (grant types,
//! default scopes) and Signing keys (list, rotate).

use crate::api::{self, ApiError};
use crate::components::{
    ConfirmDialog, ConfirmState, Flash, FormAlert, FormState, Go, Loading, SelectField, Submit, TextArea, TextField,
    param, when_loaded,
};
use crate::pages::applications::{DefaultScopesField, GrantTypesField};
use crate::util::{format_time, lines, set_title, tokens};
use latchkey_api_types::admin::{OAuth2Provider, PatchOAuth2Provider, PatchRateLimits};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

const ALGS: &[(&str, &str)] = &[("RS256", "RS256"), ("ES256", "ES256"), ("EdDSA", "EdDSA")];

#[derive(Clone, Copy)]
struct ProviderRes(LocalResource<Result<OAuth2Provider, ApiError>>);

fn provider_path(realm: &str) -> String {
    format!("/console/realms/{realm}/provider")
}

#[component]
pub fn ProviderLayout() -> impl IntoView {
    let realm = param("realm");
    Effect::new(move |_| set_title(&format!("OAuth2 Provider · {}", realm.get())));
    let res = LocalResource::new(move || api::provider(realm.get()));
    provide_context(ProviderRes(res));
    let tab = move |seg: &'static str, label: &'static str| {
        view! { <A href=move || format!("{}/{seg}", provider_path(&realm.get()))>{label}</A> }
    };
    view! {
        <div class="page-head">
            <div>
                <h1>"OAuth2 Provider"</h1>
                <p class="muted">
                    "How this realm issues tokens. Issuer: "
                    <span class="mono">{move || format!("{}/oauth2/realms/{}", crate::util::origin(), realm.get())}</span>
                </p>
            </div>
        </div>
        <nav class="tabs" aria-label="Provider settings">
            {tab("core", "Core")}
            {tab("advanced", "Advanced")}
            {tab("keys", "Signing keys")}
        </nav>
        <Outlet />
    }
}

/// `…/provider` → Core.
#[component]
pub fn ProviderIndex() -> impl IntoView {
    let realm = param("realm");
    view! { <Go to=format!("{}/core", provider_path(&realm.get_untracked())) /> }
}

/// Renders `f(settings)` once loaded (not again on updates, so forms keep their state).
fn with_provider<V: IntoView + 'static>(f: impl Fn(OAuth2Provider) -> V + Send + Sync + 'static) -> impl IntoView {
    let ProviderRes(res) = expect_context();
    when_loaded(res, ApiError::message, f)
}

/// A function that saves the settings and updates the shared copy (contexts read now, at
/// component creation, not in the event handler).
fn provider_saver(form: FormState) -> impl Fn(String, PatchOAuth2Provider) + Clone {
    let ProviderRes(res) = expect_context();
    let flash = Flash::get();
    move |realm, body| {
        form.submit(api::patch_provider(realm, body), move |p| {
            res.set(Some(Ok(p)));
            flash.show("Saved.");
        })
    }
}

#[component]
pub fn CoreTab() -> impl IntoView {
    with_provider(|p| view! { <CoreForm settings=p /> })
}

#[component]
fn CoreForm(settings: OAuth2Provider) -> impl IntoView {
    let realm = param("realm");
    let form = FormState::new(&["access_token_lifetime", "signing_alg"]);
    let save_provider = provider_saver(form);
    let lifetime = RwSignal::new(settings.access_token_lifetime.to_string());
    let alg = RwSignal::new(settings.signing_alg.clone());
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Ok(l) = lifetime.get_untracked().trim().parse::<i64>() else {
            form.fail(ApiError::field("access_token_lifetime", "Enter a whole number of seconds (1 to 86400)."));
            return;
        };
        let body = PatchOAuth2Provider {
            access_token_lifetime: Some(l),
            signing_alg: Some(alg.get_untracked()),
            ..Default::default()
        };
        save_provider(realm.get_untracked(), body);
    };
    view! {
        <form class="card form" on:submit=save novalidate aria-labelledby="core-title">
            <h2 id="core-title">"Core"</h2>
            <FormAlert form />
            <TextField
                form
                id="access_token_lifetime"
                label="Access token lifetime (seconds)"
                value=lifetime
                kind="number"
                hint="1 to 86400. Applications may set their own."
            />
            <SelectField
                form
                id="signing_alg"
                label="Signing algorithm"
                value=alg
                options=ALGS
                hint="JWS algorithm of the access tokens. Changing it rotates the signing key."
            />
            <div class="actions">
                <Submit form label="Save" />
            </div>
        </form>
    }
}

#[component]
pub fn AdvancedTab() -> impl IntoView {
    with_provider(|p| view! { <AdvancedForm settings=p /> })
}

#[component]
fn AdvancedForm(settings: OAuth2Provider) -> impl IntoView {
    let realm = param("realm");
    let form = FormState::new(&[
        "grant_types",
        "default_scopes",
        "rate_limits_per_client",
        "rate_limits_per_address",
        "rate_limits_failed_auth",
        "cors_origins",
    ]);
    let save_provider = provider_saver(form);
    let grants = RwSignal::new(settings.grant_types.clone());
    let scopes = RwSignal::new(settings.default_scopes.join(" "));
    let per_client = RwSignal::new(settings.rate_limits.per_client.to_string());
    let per_address = RwSignal::new(settings.rate_limits.per_address.to_string());
    let failed_auth = RwSignal::new(settings.rate_limits.failed_auth.to_string());
    let origins = RwSignal::new(settings.cors_origins.join("\n"));
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let fields = [
            ("rate_limits_per_client", per_client),
            ("rate_limits_per_address", per_address),
            ("rate_limits_failed_auth", failed_auth),
        ];
        let mut values = [0u32; 3];
        for (value, (id, input)) in values.iter_mut().zip(fields) {
            match input.get_untracked().trim().parse::<u32>() {
                Ok(n) => *value = n,
                Err(_) => {
                    form.fail(ApiError::field(id, "Enter a whole number of requests per minute (0 or more)."));
                    return;
                }
            }
        }
        let [c, a, f] = values;
        let body = PatchOAuth2Provider {
            grant_types: Some(grants.get_untracked()),
            default_scopes: Some(tokens(&scopes.get_untracked())),
            rate_limits: Some(PatchRateLimits { per_client: Some(c), per_address: Some(a), failed_auth: Some(f) }),
            cors_origins: Some(lines(&origins.get_untracked())),
            ..Default::default()
        };
        save_provider(realm.get_untracked(), body);
    };
    view! {
        <form class="card form" on:submit=save novalidate aria-labelledby="advanced-title">
            <h2 id="advanced-title">"Advanced"</h2>
            <FormAlert form />
            <GrantTypesField
                form
                values=grants
                hint="The grants this realm's token endpoint allows. Ctrl-click (⌘-click) to select several."
            />
            <DefaultScopesField
                form
                value=scopes
                hint="Space-separated; granted when neither the request nor the application names any."
            />
            <fieldset>
                <legend>"Rate limits (per minute)"</legend>
                <p class="hint">
                    "For the token, introspection and revocation endpoints. Answers beyond a limit are 429 with Retry-After."
                </p>
                <TextField
                    form
                    id="rate_limits_per_client"
                    label="Requests per client"
                    value=per_client
                    kind="number"
                    hint="Of one authenticated application; 0 is no limit."
                />
                <TextField
                    form
                    id="rate_limits_per_address"
                    label="Requests per address"
                    value=per_address
                    kind="number"
                    hint="From one source address; 0 is no limit."
                />
                <TextField
                    form
                    id="rate_limits_failed_auth"
                    label="Failed authentications"
                    value=failed_auth
                    kind="number"
                    hint="Per client ID and per source address; beyond it, attempts are refused before the secret is checked."
                />
            </fieldset>
            <TextArea
                form
                id="cors_origins"
                label="CORS allowed origins"
                value=origins
                hint="One origin per line (https://app.example.com). Browser pages from these origins may call the token and introspection endpoints; none: CORS is off."
            />
            <div class="actions">
                <Submit form label="Save" />
            </div>
        </form>
    }
}

#[component]
pub fn KeysTab() -> impl IntoView {
    let realm = param("realm");
    let flash = Flash::get();
    let keys = LocalResource::new(move || api::keys(realm.get()));
    let rotate = ConfirmState::new();
    let confirm = Callback::new(move |()| {
        rotate.run(api::rotate_key(realm.get_untracked()), move |k| {
            rotate.open.set(false);
            flash.show(format!("Signing key rotated: the new key is {}.", k.kid));
            keys.refetch();
        });
    });
    let table = move || match keys.get() {
        None => view! { <Loading /> }.into_any(),
        Some(Err(e)) => view! { <div role="alert" class="alert">{e.message()}</div> }.into_any(),
        Some(Ok(list)) if list.is_empty() => view! { <p class="empty">"No signing keys yet."</p> }.into_any(),
        Some(Ok(list)) => view! {
            <table class="list">
                <thead>
                    <tr>
                        <th scope="col">"Key ID (kid)"</th>
                        <th scope="col">"Algorithm"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Expires"</th>
                    </tr>
                </thead>
                <tbody>
                    {list
                        .into_iter()
                        .map(|k| {
                            let active = k.status == "active";
                            view! {
                                <tr>
                                    <td class="mono small">{k.kid}</td>
                                    <td>{k.alg}</td>
                                    <td>
                                        <span class="badge" class:on=active class:off=!active>
                                            {if active { "Active".to_owned() } else { capital(&k.status) }}
                                        </span>
                                    </td>
                                    <td>{format_time(k.created_at)}</td>
                                    <td>{k.expires_at.map(format_time).unwrap_or_else(|| "—".to_owned())}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        }
        .into_any(),
    };
    view! {
        <section class="card" aria-labelledby="keys-title">
            <div class="section-head">
                <h2 id="keys-title">"Signing keys"</h2>
                <button type="button" class="primary" on:click=move |_| rotate.ask()>
                    "Rotate signing key"
                </button>
            </div>
            <p class="muted">
                "The active key signs new access tokens. A retired key stays in the JWKS, verifying the tokens it signed, until they expire."
            </p>
            {table}
        </section>
        <ConfirmDialog
            state=rotate
            title="Rotate signing key"
            message="A new key of the realm's signing algorithm becomes active; the current one is retired and keeps verifying its tokens until they expire."
                .to_owned()
            confirm="Rotate signing key"
            on_confirm=confirm
        />
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}
