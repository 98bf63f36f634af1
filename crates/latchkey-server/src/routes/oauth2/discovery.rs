//! Discovery: the realm's JWKS, OpenID Connect Discovery and RFC 8414 metadata.

use super::load_realm;
use crate::error::OAuthError;
use crate::extract::RealmParam;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use latchkey_api_types::oauth2::{Jwks, ServerMetadata};
use latchkey_core::GrantType;
use latchkey_oauth2::SigningAlg;
use latchkey_realms::Realm;

/// The public keys that verify the realm's tokens: the active key and retired keys whose tokens
/// may still be alive.
pub async fn jwks(state: web::Data<AppState>, realm: RealmParam) -> Result<HttpResponse, OAuthError> {
    let realm = load_realm(&state, &realm.0).await?;
    let keys = state.store.cached_verification_keys(realm.id).await?;
    let keys = keys
        .iter()
        .map(|k| serde_json::from_str::<serde_json::Value>(&k.public_jwk))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| OAuthError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .content_type("application/jwk-set+json")
        .json(Jwks { keys }))
}

pub async fn openid_configuration(state: web::Data<AppState>, realm: RealmParam) -> Result<HttpResponse, OAuthError> {
    metadata(&state, &realm.0).await
}

/// RFC 8414 §3: the well-known suffix goes between the host and the issuer's path.
pub async fn rfc8414(state: web::Data<AppState>, realm: RealmParam) -> Result<HttpResponse, OAuthError> {
    metadata(&state, &realm.0).await
}

async fn metadata(state: &AppState, realm_name: &str) -> Result<HttpResponse, OAuthError> {
    let realm = load_realm(state, realm_name).await?;
    let provider = state.store.cached_provider(realm.id).await?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=60")).json(server_metadata(
        state,
        &realm,
        &provider.grant_types,
        &provider.default_scopes.to_vec(),
    )))
}

fn server_metadata(state: &AppState, realm: &Realm, grants: &[GrantType], scopes: &[String]) -> ServerMetadata {
    let issuer = state.issuer(&realm.name);
    let client_auth = vec!["client_secret_basic".to_owned(), "client_secret_post".to_owned()];
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    ServerMetadata {
        token_endpoint: format!("{issuer}/access_token"),
        jwks_uri: format!("{issuer}/connect/jwk_uri"),
        introspection_endpoint: format!("{issuer}/introspect"),
        revocation_endpoint: format!("{issuer}/token/revoke"),
        authorization_endpoint: format!("{issuer}/authorize"),
        grant_types_supported: grants.iter().filter(|g| g.is_implemented()).map(|g| g.as_str().to_owned()).collect(),
        response_types_supported: strings(&["code"]),
        subject_types_supported: strings(&["public"]),
        id_token_signing_alg_values_supported: SigningAlg::ALL.iter().map(|a| a.as_str().to_owned()).collect(),
        token_endpoint_auth_methods_supported: client_auth.clone(),
        introspection_endpoint_auth_methods_supported: client_auth.clone(),
        revocation_endpoint_auth_methods_supported: client_auth,
        scopes_supported: scopes.to_vec(),
        claims_supported: strings(&["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"]),
        issuer,
    }
}
