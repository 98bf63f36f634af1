//! Realms, their OAuth2 provider settings, and their signing keys.

use super::{created, load_realm, paging, parse_all, scope_set};
use crate::audit::{Actor, entry};
use crate::error::AdminError;
use crate::extract::AdminJson;
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use latchkey_api_types::admin as dto;
use latchkey_api_types::admin::PageQuery;
use latchkey_core::FieldError;
use latchkey_core::time::now;
use latchkey_oauth2::{
    KeyStatus, NewSigningKey, Origin, ProviderPatch, ProviderSettings, RateLimits, SigningAlg, SigningKey,
};
use latchkey_realms::{Realm, RealmName, RealmPatch, parse_display_name};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(read)
        .service(update)
        .service(remove)
        .service(read_provider)
        .service(update_provider)
        .service(list_keys)
        .service(rotate_key);
}

fn realm_dto(state: &AppState, r: Realm) -> dto::Realm {
    dto::Realm {
        issuer: state.issuer(&r.name),
        name: r.name.to_string(),
        display_name: r.display_name,
        enabled: r.enabled,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn provider_dto(p: ProviderSettings) -> dto::OAuth2Provider {
    dto::OAuth2Provider {
        grant_types: p.grant_types.iter().map(|g| g.as_str().to_owned()).collect(),
        access_token_lifetime: p.access_token_lifetime,
        default_scopes: p.default_scopes.to_vec(),
        signing_alg: p.signing_alg.as_str().to_owned(),
        rate_limits: dto::RateLimits {
            per_client: p.rate_limits.per_client,
            per_address: p.rate_limits.per_address,
            failed_auth: p.rate_limits.failed_auth,
        },
        cors_origins: p.cors_origins.iter().map(|o| o.as_str().to_owned()).collect(),
    }
}

fn key_dto(k: SigningKey) -> dto::SigningKey {
    dto::SigningKey {
        kid: k.kid,
        alg: k.alg.as_str().to_owned(),
        status: k.status.as_str().to_owned(),
        created_at: k.created_at,
        retired_at: k.retired_at,
        expires_at: if k.status == KeyStatus::Retired { k.expires_at } else { None },
    }
}

/// Generates a key pair off the async executor (RSA generation takes a while).
async fn generate_key(state: &AppState, alg: SigningAlg) -> Result<NewSigningKey, AdminError> {
    let master = state.master_key.clone();
    actix_web::web::block(move || NewSigningKey::generate(alg, &master))
        .await
        .map_err(|e| AdminError::internal(&e))?
        .map_err(|e| AdminError::internal(&e))
}

/// Rotates the realm to a new key of `alg`; the old key stays published until every token it
/// may have signed has expired (plus a minute of clock skew).
pub(crate) async fn rotate(state: &AppState, realm: &Realm, alg: SigningAlg) -> Result<SigningKey, AdminError> {
    let key = generate_key(state, alg).await?;
    let longest = state.store.max_access_token_lifetime(realm.id).await?;
    Ok(state.store.rotate_key(realm.id, key, now() + longest + 60).await?)
}

#[get("/realms")]
async fn list(state: web::Data<AppState>, q: web::Query<PageQuery>) -> Result<HttpResponse, AdminError> {
    let (page, per_page) = paging(&q)?;
    let found = state.store.list_realms(q.search.as_deref(), page, per_page).await?;
    let items = found.items.into_iter().map(|r| realm_dto(&state, r)).collect();
    Ok(HttpResponse::Ok().json(dto::Page { items, page, per_page, total: found.total }))
}

#[post("/realms")]
#[tracing::instrument(skip_all, fields(realm = %body.0.name))]
async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: AdminJson<dto::CreateRealm>,
) -> Result<HttpResponse, AdminError> {
    let body = body.0;
    let name = RealmName::parse(&body.name).map_err(|e| FieldError::new("name", e))?;
    let display_name = match body.display_name {
        Some(d) => parse_display_name(&d).map_err(|e| FieldError::new("display_name", e))?,
        None => name.to_string(),
    };
    if state.store.find_realm(name.as_str()).await?.is_some() {
        return Err(AdminError::conflict("name", format!("a realm named `{name}` exists")));
    }
    let provider = ProviderSettings::new_realm();
    let key = generate_key(&state, provider.signing_alg).await?;
    let realm = state.store.create_realm(&name, &display_name, body.enabled.unwrap_or(true), &provider, key).await?;
    tracing::info!("realm created");
    let body = realm_dto(&state, realm);
    // Realms are created and deleted in `root`'s log: a deleted realm's own log goes with it.
    let root = state.root_realm_id().await?;
    state.auditor.record(entry(root, "realm.create", format!("realm `{name}` created")).after(&body).by(&actor)).await;
    Ok(created(format!("/admin/v1/realms/{name}"), body))
}

#[get("/realms/{realm}")]
async fn read(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, AdminError> {
    let realm = load_realm(&state, &path).await?;
    Ok(HttpResponse::Ok().json(realm_dto(&state, realm)))
}

#[patch("/realms/{realm}")]
async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: AdminJson<dto::PatchRealm>,
) -> Result<HttpResponse, AdminError> {
    let mut realm = load_realm(&state, &path).await?;
    let before = realm_dto(&state, realm.clone());
    let body = body.0;
    let patch = RealmPatch {
        display_name: body
            .display_name
            .map(|d| parse_display_name(&d).map_err(|e| FieldError::new("display_name", e)))
            .transpose()?,
        enabled: body.enabled,
    };
    patch.apply(&mut realm).map_err(|e| FieldError::new("enabled", e))?;
    let realm = state.store.update_realm(&realm).await?;
    let after = realm_dto(&state, realm.clone());
    let event = entry(realm.id, "realm.update", format!("realm `{}` updated", realm.name));
    state.auditor.record(event.before(&before).after(&after).by(&actor)).await;
    Ok(HttpResponse::Ok().json(after))
}

#[delete("/realms/{realm}")]
#[tracing::instrument(skip_all, fields(realm = %path.as_str()))]
async fn remove(state: web::Data<AppState>, actor: Actor, path: web::Path<String>) -> Result<HttpResponse, AdminError> {
    let realm = load_realm(&state, &path).await?;
    realm.check_deletable().map_err(|e| AdminError::conflict("name", e.to_string()))?;
    state.store.delete_realm(realm.id).await?;
    tracing::info!("realm deleted");
    let root = state.root_realm_id().await?;
    let event = entry(root, "realm.delete", format!("realm `{}` deleted", realm.name));
    state.auditor.record(event.before(&realm_dto(&state, realm)).by(&actor)).await;
    Ok(HttpResponse::NoContent().finish())
}

#[get("/realms/{realm}/oauth2-provider")]
async fn read_provider(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, AdminError> {
    let realm = load_realm(&state, &path).await?;
    Ok(HttpResponse::Ok().json(provider_dto(state.store.provider(realm.id).await?)))
}

#[patch("/realms/{realm}/oauth2-provider")]
async fn update_provider(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: AdminJson<dto::PatchOAuth2Provider>,
) -> Result<HttpResponse, AdminError> {
    let realm = load_realm(&state, &path).await?;
    let body = body.0;
    let mut provider = state.store.provider(realm.id).await?;
    let patch = ProviderPatch {
        grant_types: body
            .grant_types
            .as_deref()
            .map(|g| {
                parse_all("grant_types", g, |s| s.parse().map_err(|e: latchkey_core::UnknownGrantType| e.to_string()))
            })
            .transpose()?,
        access_token_lifetime: body.access_token_lifetime,
        default_scopes: body.default_scopes.as_deref().map(|s| scope_set("default_scopes", s)).transpose()?,
        signing_alg: body
            .signing_alg
            .map(|a| a.parse::<SigningAlg>().map_err(|m| FieldError::new("signing_alg", m)))
            .transpose()?,
        rate_limits: body.rate_limits.map(|l| {
            let current = provider.rate_limits;
            RateLimits {
                per_client: l.per_client.unwrap_or(current.per_client),
                per_address: l.per_address.unwrap_or(current.per_address),
                failed_auth: l.failed_auth.unwrap_or(current.failed_auth),
            }
        }),
        cors_origins: body.cors_origins.as_deref().map(|o| parse_all("cors_origins", o, Origin::parse)).transpose()?,
    };
    let before = provider_dto(provider.clone());
    let alg_changed = patch.apply(&mut provider)?;
    state.store.update_provider(realm.id, &provider).await?;
    let after = provider_dto(provider.clone());
    let event = entry(realm.id, "provider.update", format!("OAuth2 provider of `{}` updated", realm.name));
    state.auditor.record(event.before(&before).after(&after).by(&actor)).await;
    if alg_changed {
        let key = rotate(&state, &realm, provider.signing_alg).await?;
        let event = entry(realm.id, "key.rotate", format!("signing key rotated to {} `{}`", key.alg.as_str(), key.kid));
        state.auditor.record(event.after(&key_dto(key)).by(&actor)).await;
    }
    Ok(HttpResponse::Ok().json(after))
}

#[get("/realms/{realm}/keys")]
async fn list_keys(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, AdminError> {
    let realm = load_realm(&state, &path).await?;
    let keys: Vec<_> = state.store.verification_keys(realm.id).await?.into_iter().map(key_dto).collect();
    Ok(HttpResponse::Ok().json(dto::SigningKeys { items: keys }))
}

#[post("/realms/{realm}/keys/rotate")]
#[tracing::instrument(skip_all, fields(realm = %path.as_str()))]
async fn rotate_key(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let realm = load_realm(&state, &path).await?;
    let provider = state.store.provider(realm.id).await?;
    let key = rotate(&state, &realm, provider.signing_alg).await?;
    tracing::info!(kid = %key.kid, "signing key rotated");
    let body = key_dto(key);
    let event = entry(realm.id, "key.rotate", format!("signing key rotated to {} `{}`", body.alg, body.kid));
    state.auditor.record(event.after(&body).by(&actor)).await;
    Ok(created(format!("/admin/v1/realms/{}/keys", realm.name), body))
}
