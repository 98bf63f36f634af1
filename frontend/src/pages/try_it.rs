//! "Try it": the client credentials grant of one application, from the browser. Shows the
//! curl command, then the token response, the decoded JWT and the introspection result. The
//! secret is typed in and never stored.

use crate::api::{self, ClientAuth, OAuthReply};
use crate::pages::applications::{app_type_label, with_app};
use crate::util::{decode_jwt, form_urlencode, origin, pretty_json};
use latchkey_api_types::OAuthError;
use latchkey_api_types::admin::Application;
use latchkey_api_types::oauth2::TokenResponse;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn TryItTab() -> impl IntoView {
    with_app(|a| view! { <TryIt app=a /> })
}

/// Why this application may not use the client credentials grant, if it may not.
fn why_not(app: &Application) -> Option<String> {
    let cc = app.grant_types.iter().any(|g| g == "client_credentials");
    if app.application_type != "web" {
        Some(format!(
            "This is a {} application, a public client without a secret: the client credentials grant needs a confidential (Web) application.",
            app_type_label(&app.application_type)
        ))
    } else if !cc {
        Some(
            "Client Credentials is not among this application's grant types. Add it on the Sign On tab to try it here."
                .into(),
        )
    } else if app.token_endpoint_auth_method == "none" {
        Some(
            "This application's token endpoint authentication method is none: it cannot authenticate with its secret."
                .into(),
        )
    } else if app.allowed_scopes.is_empty() {
        Some(
            "This application has no allowed scopes, so the token endpoint can grant it none. Set its Allowed scopes (and Default scopes) on the Sign On tab."
                .into(),
        )
    } else if !app.enabled {
        Some("This application is disabled: the token endpoint refuses it. Enable it on the General tab.".into())
    } else {
        None
    }
}

/// The result of one try.
#[derive(Clone, Default)]
struct Outcome {
    token: Option<OAuthReply>,
    /// The decoded header and claims, or why the token could not be decoded.
    jwt: Option<Result<(String, String), String>>,
    introspection: Option<OAuthReply>,
    /// An OAuth error or a failed request, as one line.
    error: Option<String>,
}

fn oauth_error_line(reply: &OAuthReply) -> String {
    match serde_json::from_str::<OAuthError>(&reply.body) {
        Ok(e) => match e.error_description {
            Some(d) => format!("{} (HTTP {}): {d}", e.error, reply.status),
            None => format!("{} (HTTP {})", e.error, reply.status),
        },
        Err(_) => format!("The endpoint answered HTTP {}.", reply.status),
    }
}

#[component]
fn TryIt(app: Application) -> impl IntoView {
    let realm = crate::components::param("realm").get_untracked();
    if let Some(reason) = why_not(&app) {
        return view! {
            <section class="card">
                <h2>"Try it"</h2>
                <p>{reason}</p>
            </section>
        }
        .into_any();
    }
    let auth =
        if app.token_endpoint_auth_method == "client_secret_post" { ClientAuth::Post } else { ClientAuth::Basic };
    let endpoint = format!("{}/oauth2/realms/{realm}/access_token", origin());
    let id = form_urlencode(&app.client_id);
    let curl = match auth {
        ClientAuth::Basic => format!("curl -s -u '{id}:CLIENT_SECRET' -d grant_type=client_credentials {endpoint}"),
        ClientAuth::Post => format!(
            "curl -s -d grant_type=client_credentials -d client_id={id} -d 'client_secret=CLIENT_SECRET' {endpoint}"
        ),
    };
    let secret = RwSignal::new(String::new());
    let scope = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Outcome>);
    let client_id = app.client_id.clone();
    let run = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (realm, client_id, secret, scope) =
            (realm.clone(), client_id.clone(), secret.get_untracked(), scope.get_untracked());
        busy.set(true);
        outcome.set(None);
        spawn_local(async move {
            let mut out = Outcome::default();
            let mut params = vec![("grant_type", "client_credentials")];
            let scope = scope.trim().to_owned();
            if !scope.is_empty() {
                params.push(("scope", scope.as_str()));
            }
            match api::oauth_post(&realm, "access_token", auth, &client_id, &secret, &params).await {
                Err(e) => out.error = Some(format!("The token request failed: {e}")),
                Ok(reply) => {
                    let token = (reply.status == 200)
                        .then(|| serde_json::from_str::<TokenResponse>(&reply.body).ok())
                        .flatten();
                    if token.is_none() {
                        out.error = Some(oauth_error_line(&reply));
                    }
                    out.token = Some(reply);
                    if let Some(t) = token {
                        out.jwt = Some(decode_jwt(&t.access_token));
                        let params = [("token", t.access_token.as_str())];
                        match api::oauth_post(&realm, "introspect", auth, &client_id, &secret, &params).await {
                            Ok(r) => {
                                if r.status != 200 {
                                    out.error = Some(oauth_error_line(&r));
                                }
                                out.introspection = Some(r);
                            }
                            Err(e) => out.error = Some(format!("The introspection request failed: {e}")),
                        }
                    }
                }
            }
            busy.set(false);
            outcome.set(Some(out));
        });
    };
    let results = move || {
        outcome.get().map(|o| {
            let block = |title: &'static str, testid: &'static str, status: Option<u16>, text: String| {
                view! {
                    <section class="result">
                        <div class="result-head">
                            <h3>{title}</h3>
                            {status
                                .map(|s| {
                                    view! {
                                        <span class="badge" class:on=s == 200 class:off=s != 200>
                                            {format!("HTTP {s}")}
                                        </span>
                                    }
                                })}
                        </div>
                        <pre data-testid=testid class="code">
                            {text}
                        </pre>
                    </section>
                }
            };
            let token =
                o.token.map(|r| block("Token response", "token-response", Some(r.status), pretty_json(&r.body)));
            let jwt = o.jwt.map(|j| match j {
                Ok((h, c)) => view! {
                    {block("JWT header", "jwt-header", None, h)}
                    {block("JWT claims", "jwt-claims", None, c)}
                }
                .into_any(),
                Err(e) => view! { <p class="alert" role="alert">{e}</p> }.into_any(),
            });
            let intro =
                o.introspection.map(|r| block("Introspection", "introspection", Some(r.status), pretty_json(&r.body)));
            view! {
                {o.error.map(|e| view! { <div role="alert" class="alert">{e}</div> })}
                {token}
                {jwt}
                {intro}
            }
        })
    };
    view! {
        <section class="card form" aria-labelledby="try-title">
            <h2 id="try-title">"Try it"</h2>
            <p class="muted">
                "Ask this realm's token endpoint for an access token with the client credentials grant, as the application would:"
            </p>
            <pre data-testid="curl-command" class="code">
                {curl}
            </pre>
            <form on:submit=run novalidate>
                <div class="field">
                    <label for="client_secret">"Client Secret"</label>
                    <input
                        id="client_secret"
                        type="password"
                        autocomplete="off"
                        spellcheck="false"
                        prop:value=move || secret.get()
                        on:input=move |ev| secret.set(event_target_value(&ev))
                    />
                    <p class="hint">"Used for this request only; never stored."</p>
                </div>
                <div class="field">
                    <label for="scope">"Scope"</label>
                    <input
                        id="scope"
                        type="text"
                        spellcheck="false"
                        prop:value=move || scope.get()
                        on:input=move |ev| scope.set(event_target_value(&ev))
                    />
                    <p class="hint">"Optional, space-separated. Empty: the default scopes."</p>
                </div>
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || busy.get()>
                        "Request token"
                    </button>
                </div>
            </form>
            {move || busy.get().then(|| view! { <p class="muted">"Requesting…"</p> })}
            {results}
        </section>
    }
    .into_any()
}
