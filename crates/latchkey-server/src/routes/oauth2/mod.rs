//! The OAuth2 endpoints of a realm, at Latchkey's paths and at ForgeRock's.

mod discovery;
mod introspect;
mod token;

use crate::error::OAuthError;
use crate::extract::{AuthMethod, MAX_FORM_BYTES, OAuthForm, client_credentials};
use crate::state::AppState;
use crate::tokens::verify_secret;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, Handler, HttpRequest, HttpResponse, Responder, web};
use latchkey_applications::{Application, TokenEndpointAuthMethod};
use latchkey_realms::Realm;

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
        .service(endpoint("/access_token", "POST", token::access_token))
        .service(endpoint("/introspect", "POST", introspect::introspect))
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
pub(crate) async fn load_realm(state: &AppState, name: &str) -> Result<Realm, OAuthError> {
    state.store.find_realm(name).await?.ok_or_else(|| OAuthError::unknown_realm(name))
}

/// Authenticates a confidential client of `realm` by the method it registered (RFC 6749
/// §2.3.1). Every failure, whatever its cause, is the same `invalid_client`.
pub(crate) async fn authenticate_client(
    state: &AppState,
    realm: &Realm,
    req: &HttpRequest,
    form: &OAuthForm,
) -> Result<Application, OAuthError> {
    let invalid = || OAuthError::invalid_client(realm.name.as_str());
    if !realm.enabled {
        return Err(invalid());
    }
    let creds = client_credentials(req, form).map_err(|_| invalid())?.ok_or_else(invalid)?;
    let secret = creds.client_secret.ok_or_else(invalid)?;
    let app = state.store.find_application(realm.id, &creds.client_id).await?;
    let hash = app.as_ref().and_then(|a| a.secret_hash.clone());
    if !verify_secret(hash, secret).await {
        return Err(invalid());
    }
    let app = app.ok_or_else(invalid)?;
    let method_matches = matches!(
        (app.settings.token_endpoint_auth_method, creds.method),
        (TokenEndpointAuthMethod::ClientSecretBasic, AuthMethod::Basic)
            | (TokenEndpointAuthMethod::ClientSecretPost, AuthMethod::Post)
    );
    if !app.settings.enabled || !app.is_confidential() || !method_matches {
        return Err(invalid());
    }
    Ok(app)
}
