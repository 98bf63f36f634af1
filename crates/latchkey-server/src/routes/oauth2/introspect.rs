//! Token checks for resource servers: introspection (RFC 7662), revocation (RFC 7009) and
//! ForgeRock's legacy `tokeninfo`.

use super::{authenticate_client, load_realm};
use crate::error::OAuthError;
use crate::extract::{OAuthForm, RealmParam, bearer_token};
use crate::state::AppState;
use crate::tokens;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use latchkey_api_types::oauth2::{IntrospectionResponse, TokenInfoResponse};
use latchkey_applications::Application;
use latchkey_core::time::now;
use latchkey_oauth2::AccessTokenClaims;
use latchkey_realms::Realm;
use std::sync::Arc;

/// Checks `token` and insists it belongs to `realm`. `Ok(None)`: not an active token here.
async fn active_in_realm(
    state: &AppState,
    realm: &Realm,
    token: &str,
) -> Result<Option<AccessTokenClaims>, OAuthError> {
    match tokens::check_in_realm(state, token, realm).await {
        Ok(claims) => Ok(claims),
        Err(e) if e.is_internal() => Err(e.into()),
        Err(_) => Ok(None),
    }
}

/// The common start of introspection and revocation: the realm, the authenticated caller, and
/// the `token` parameter.
async fn authenticated_token_request(
    state: &AppState,
    realm_name: &str,
    req: &HttpRequest,
    form: Result<OAuthForm, OAuthError>,
) -> Result<(Arc<Realm>, Arc<Application>, String), OAuthError> {
    let realm = load_realm(state, realm_name).await?;
    let form = form?;
    let provider = state.store.cached_provider(realm.id).await?;
    let app = authenticate_client(state, &realm, &provider, req, &form).await?;
    let token = form.require("token")?.to_owned();
    Ok((realm, app, token))
}

fn no_store() -> actix_web::HttpResponseBuilder {
    let mut b = HttpResponse::Ok();
    b.insert_header((header::CACHE_CONTROL, "no-store")).insert_header((header::PRAGMA, "no-cache"));
    b
}

#[tracing::instrument(name = "introspect", skip_all, fields(realm = %realm.0))]
pub async fn introspect(
    state: web::Data<AppState>,
    realm: RealmParam,
    req: HttpRequest,
    form: Result<OAuthForm, OAuthError>,
) -> Result<HttpResponse, OAuthError> {
    let (realm, _, token) = authenticated_token_request(&state, &realm.0, &req, form).await?;
    let body = match active_in_realm(&state, &realm, &token).await? {
        Some(c) => IntrospectionResponse {
            active: true,
            scope: Some(c.scope),
            client_id: Some(c.client_id),
            sub: Some(c.sub),
            aud: Some(c.aud),
            iss: Some(c.iss),
            exp: Some(c.exp),
            iat: Some(c.iat),
            jti: Some(c.jti),
            token_type: Some("Bearer".into()),
        },
        None => IntrospectionResponse::default(),
    };
    Ok(no_store().json(body))
}

#[tracing::instrument(name = "revoke", skip_all, fields(realm = %realm.0))]
pub async fn revoke(
    state: web::Data<AppState>,
    realm: RealmParam,
    req: HttpRequest,
    form: Result<OAuthForm, OAuthError>,
) -> Result<HttpResponse, OAuthError> {
    let (realm, app, token) = authenticated_token_request(&state, &realm.0, &req, form).await?;
    // RFC 7009 §2.2: an invalid, expired or unknown token is answered 200 all the same.
    if let Some(claims) = active_in_realm(&state, &realm, &token).await? {
        if claims.client_id != app.client_id.as_str() {
            return Err(OAuthError::unauthorized_client("the token was issued to another client"));
        }
        state.store.revoke_token(realm.id, &claims.jti, claims.exp).await?;
        let event = crate::audit::entry(realm.id, "token.revoke", format!("access token `{}` revoked", claims.jti))
            .client(app.client_id.as_str())
            .before(&serde_json::json!({"jti": claims.jti, "scope": claims.scope, "exp": claims.exp}));
        state.auditor.record(event.by(&crate::audit::Actor::client(app.client_id.as_str(), &req))).await;
        tracing::info!(client_id = %app.client_id, "access token revoked");
    }
    Ok(no_store().finish())
}

#[tracing::instrument(name = "tokeninfo", skip_all, fields(realm = %realm.0))]
pub async fn tokeninfo(
    state: web::Data<AppState>,
    realm: RealmParam,
    req: HttpRequest,
) -> Result<HttpResponse, OAuthError> {
    let realm = load_realm(&state, &realm.0).await?;
    let token = bearer_token(&req).ok_or_else(|| OAuthError::missing_token(realm.name.as_str()))?;
    let claims =
        active_in_realm(&state, &realm, token).await?.ok_or_else(|| OAuthError::invalid_token(realm.name.as_str()))?;
    Ok(no_store().json(TokenInfoResponse {
        scope: claims.scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        client_id: claims.client_id,
        realm: format!("/{}", realm.name),
        expires_in: (claims.exp - now()).max(0),
        token_type: "Bearer".into(),
        grant_type: "client_credentials".into(),
    }))
}
