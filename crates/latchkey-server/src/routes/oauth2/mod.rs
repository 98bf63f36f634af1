//! The OAuth2 endpoints of a realm, at Latchkey's paths and at ForgeRock's.

mod cors;
mod discovery;
mod introspect;
mod token;

use crate::error::OAuthError;
use crate::extract::{AuthMethod, ClientCredentials, MAX_FORM_BYTES, OAuthForm, client_credentials};
use crate::limits::{Budget, RetryAfter, Who};
use crate::state::AppState;
use crate::tokens::verify_secret;
use actix_web::http::{Method, header};
use actix_web::middleware::from_fn;
use actix_web::{FromRequest, Handler, HttpRequest, HttpResponse, Responder, web};
use latchkey_applications::{Application, TokenEndpointAuthMethod};
use latchkey_oauth2::ProviderSettings;
use latchkey_realms::Realm;
use std::sync::Arc;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Order matters: actix matches scopes by prefix, first registered first.
    cfg.service(realm_scope("/oauth2/realms/{realm}"))
        .service(realm_scope("/am/oauth2/realms/root/realms/{realm}"))
        .service(realm_scope("/am/oauth2/realms/root"))
        .service(endpoint("/.well-known/oauth-authorization-server/oauth2/realms/{realm}", "GET", discovery::rfc8414));
}

fn realm_scope(path: &str) -> actix_web::Scope {
    web::scope(path)
        .app_data(web::PayloadConfig::new(MAX_FORM_BYTES))
        .service(endpoint("/access_token", "POST", token::access_token).wrap(from_fn(cors::middleware)))
        .service(endpoint("/introspect", "POST", introspect::introspect).wrap(from_fn(cors::middleware)))
        .service(endpoint("/token/revoke", "POST", introspect::revoke))
        .service(endpoint("/tokeninfo", "GET", introspect::tokeninfo))
        .service(endpoint("/connect/jwk_uri", "GET", discovery::jwks))
        .service(endpoint("/.well-known/openid-configuration", "GET", discovery::openid_configuration))
}

/// One endpoint answering one method; any other method is 405 with `Allow` (RFC 9110 §15.5.6).
fn endpoint<F, Args>(path: &str, method: &'static str, handler: F) -> actix_web::Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let allow = method;
    let method = Method::from_bytes(method.as_bytes()).expect("a valid method name");
    web::resource(path).route(web::method(method).to(handler)).default_service(web::to(move || async move {
        HttpResponse::MethodNotAllowed().insert_header((header::ALLOW, allow)).json(latchkey_api_types::OAuthError {
            error: "invalid_request".into(),
            error_description: Some(format!("this endpoint answers {allow} only")),
        })
    }))
}

/// The realm a request names, or 404.
pub(crate) async fn load_realm(state: &AppState, name: &str) -> Result<Arc<Realm>, OAuthError> {
    state.store.cached_realm(name).await?.ok_or_else(|| OAuthError::unknown_realm(name))
}

/// Authenticates a confidential client of `realm` by the method it registered (RFC 6749
/// §2.3.1). Every failure, whatever its cause, is the same `invalid_client`.
///
/// Rate limits come first (see [`crate::limits`]): the source address's request budget, then
/// the failure budgets of the client id and the address, checked before any hashing and spent
/// by every failure; an authenticated client then spends from its own request budget.
pub(crate) async fn authenticate_client(
    state: &AppState,
    realm: &Realm,
    provider: &ProviderSettings,
    req: &HttpRequest,
    form: &OAuthForm,
) -> Result<Arc<Application>, OAuthError> {
    // Malformed credentials are as good as none. Every failure is counted and audited, with the
    // client id it attempted (if one could be read).
    let creds = client_credentials(req, form).ok().flatten();
    match authenticate(state, realm, provider, req, creds.as_ref()).await {
        Ok(app) => Ok(app),
        Err(Refused::Invalid) => {
            state.metrics.client_auth_failed(realm.name.as_str());
            audit_failed_authentication(state, realm, req, creds.as_ref().map(|c| c.client_id.as_str())).await;
            Err(OAuthError::invalid_client(realm.name.as_str()))
        }
        Err(Refused::Other(e)) => Err(e),
    }
}

/// Why [`authenticate`] refused.
enum Refused {
    /// The client did not authenticate: `invalid_client`, counted and audited.
    Invalid,
    /// Rate limited, or the server could not check.
    Other(OAuthError),
}

impl From<OAuthError> for Refused {
    fn from(e: OAuthError) -> Self {
        Refused::Other(e)
    }
}

async fn authenticate(
    state: &AppState,
    realm: &Realm,
    provider: &ProviderSettings,
    req: &HttpRequest,
    creds: Option<&ClientCredentials>,
) -> Result<Arc<Application>, Refused> {
    let invalid = || Refused::Invalid;
    let limited = |r: RetryAfter| OAuthError::rate_limited(r.seconds());
    let limits = provider.rate_limits;
    let addr = Who::Address(req.peer_addr().map(|a| a.ip()));
    let budgets = &state.rate_limiter;
    budgets.take(realm.id, Budget::Address, addr, limits.per_address).map_err(limited)?;
    if !realm.enabled {
        return Err(invalid());
    }
    let creds = creds.ok_or_else(invalid)?;
    let client = Who::Client(&creds.client_id);
    budgets.check(realm.id, Budget::FailedClient, client, limits.failed_auth).map_err(limited)?;
    budgets.check(realm.id, Budget::FailedAddress, addr, limits.failed_auth).map_err(limited)?;
    let failed = || {
        // Spending can only fail when the budget just ran out: the next attempt is refused.
        let _ = budgets.take(realm.id, Budget::FailedClient, client, limits.failed_auth);
        let _ = budgets.take(realm.id, Budget::FailedAddress, addr, limits.failed_auth);
        invalid()
    };
    let Some(secret) = creds.client_secret.as_deref() else {
        return Err(failed());
    };
    let app = state.store.cached_application(realm.id, &creds.client_id).await.map_err(OAuthError::from)?;
    let hash = app.as_ref().and_then(|a| a.secret_hash.as_ref());
    let cached = hash.is_some_and(|h| state.verified_secrets.matches(realm.id, &creds.client_id, h, secret));
    state.metrics.secret_verified(cached);
    if !cached {
        if !verify_secret(&state.hash_gate, hash.cloned(), secret.to_owned()).await.map_err(|_| OAuthError::busy())? {
            return Err(failed());
        }
        if let Some(h) = hash {
            state.verified_secrets.remember(realm.id, &creds.client_id, h, secret);
        }
    }
    let app = app.ok_or_else(failed)?;
    let method_matches = matches!(
        (app.settings.token_endpoint_auth_method, creds.method),
        (TokenEndpointAuthMethod::ClientSecretBasic, AuthMethod::Basic)
            | (TokenEndpointAuthMethod::ClientSecretPost, AuthMethod::Post)
    );
    if !app.settings.enabled || !app.is_confidential() || !method_matches {
        return Err(failed());
    }
    budgets.take(realm.id, Budget::Client, client, limits.per_client).map_err(limited)?;
    Ok(app)
}

/// Records a failed client authentication: the attempted client id (or `anonymous`), and from where.
async fn audit_failed_authentication(state: &AppState, realm: &Realm, req: &HttpRequest, attempted: Option<&str>) {
    let endpoint = req.path().rsplit('/').next().unwrap_or_default();
    let mut entry = crate::audit::entry(
        realm.id,
        "client.authentication_failed",
        format!("client authentication failed at the {endpoint} endpoint"),
    );
    if let Some(id) = attempted {
        entry = entry.client(id);
    }
    state.auditor.record(entry.by(&crate::audit::Actor::client(attempted.unwrap_or("anonymous"), req))).await;
}
