//! `POST access_token`: the token endpoint (RFC 6749 §3.2), client credentials grant (§4.4).

use super::{authenticate_client, load_realm};
use crate::error::OAuthError;
use crate::extract::{OAuthForm, RealmParam};
use crate::state::AppState;
use crate::tokens;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use latchkey_api_types::oauth2::TokenResponse;
use latchkey_core::{GrantType, ScopeSet};
use latchkey_oauth2::GrantError;

#[tracing::instrument(name = "token", skip_all, fields(realm = %realm.0, client_id, outcome))]
pub async fn access_token(
    state: web::Data<AppState>,
    realm: RealmParam,
    req: HttpRequest,
    form: Result<OAuthForm, OAuthError>,
) -> Result<HttpResponse, OAuthError> {
    // The label is one of the known grant types: a made-up name must not make a new series.
    let grant = form.as_ref().ok().and_then(|f| f.get("grant_type")).and_then(|g| g.parse::<GrantType>().ok());
    let result = issue(&state, &realm.0, &req, form).await;
    let outcome = match &result {
        Ok(_) => "issued",
        Err(e) => e.error_code(),
    };
    tracing::Span::current().record("outcome", outcome);
    // Counted by realm only when the realm exists: unknown names would make unbounded series.
    if outcome != OAuthError::UNKNOWN_REALM {
        state.metrics.token(&realm.0, grant.map_or("unknown", GrantType::as_str), outcome);
    }
    result
}

async fn issue(
    state: &AppState,
    realm_name: &str,
    req: &HttpRequest,
    form: Result<OAuthForm, OAuthError>,
) -> Result<HttpResponse, OAuthError> {
    let realm = load_realm(state, realm_name).await?;
    let form = form?;
    let grant_name = form.require("grant_type")?;
    let grant: GrantType = grant_name
        .parse()
        .map_err(|_| OAuthError::unsupported_grant_type(format!("unknown grant type `{grant_name}`")))?;
    let provider = state.store.cached_provider(realm.id).await?;
    if !grant.is_implemented() || !provider.allows(grant) {
        return Err(OAuthError::unsupported_grant_type(format!("the realm does not allow the {grant} grant")));
    }
    let requested = form
        .get("scope")
        .map(ScopeSet::parse_delimited)
        .transpose()
        .map_err(|e| OAuthError::invalid_scope(e.to_string()))?;

    let app = authenticate_client(state, &realm, &provider, req, &form).await?;
    tracing::Span::current().record("client_id", app.client_id.as_str());

    let granted = latchkey_oauth2::client_credentials(&provider, &app, requested.as_ref()).map_err(|e| match e {
        GrantError::UnsupportedGrantType(_) => OAuthError::unsupported_grant_type(e.to_string()),
        GrantError::UnauthorizedClient(_) => OAuthError::unauthorized_client(e.to_string()),
        GrantError::InvalidScope(_) => OAuthError::invalid_scope(e.to_string()),
    })?;
    let scope = granted.scope.to_string();
    let jwt = tokens::issue(state, &realm, &app, scope.clone(), granted.lifetime).await?;
    // Counted, not written: the audit writer records this window's tokens of this kind as one
    // event, in batches off the request path.
    let issued =
        crate::audit::Issued::new(realm.id, app.client_id.as_str(), req, grant.as_str(), &scope, granted.lifetime);
    state.auditor.issued(issued).await;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse { access_token: jwt, scope, token_type: "Bearer".into(), expires_in: granted.lifetime }))
}
