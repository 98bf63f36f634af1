//! Applications (OAuth clients) of a realm.

use super::{created, load_realm, paging, parse_all, scope_set};
use crate::audit::{Actor, entry};
use crate::error::AdminError;
use crate::extract::AdminJson;
use crate::state::AppState;
use crate::tokens::hash_secret;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use latchkey_api_types::admin as dto;
use latchkey_api_types::admin::PageQuery;
use latchkey_applications::{Application, ApplicationSettings, ApplicationType, ClientId, RedirectUri, SignInMethod};
use latchkey_core::secret::{SecretHash, generate_secret};
use latchkey_core::{FieldError, GrantType};
use latchkey_identities::UserId;
use latchkey_realms::Realm;
use latchkey_storage::NewApplication;
use secrecy::{ExposeSecret, SecretString};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(create).service(read).service(update).service(remove).service(rotate_secret);
}

fn app_dto(a: Application, owners: Vec<String>) -> dto::Application {
    let s = a.settings;
    dto::Application {
        client_id: a.client_id.to_string(),
        client_name: s.client_name,
        description: s.description,
        sign_in_method: s.sign_in_method.as_str().to_owned(),
        application_type: s.application_type.as_str().to_owned(),
        grant_types: s.grant_types.iter().map(|g| g.as_str().to_owned()).collect(),
        redirect_uris: s.redirect_uris.iter().map(|u| u.as_str().to_owned()).collect(),
        allowed_scopes: s.allowed_scopes.to_vec(),
        default_scopes: s.default_scopes.to_vec(),
        token_endpoint_auth_method: s.token_endpoint_auth_method.as_str().to_owned(),
        access_token_lifetime: s.access_token_lifetime,
        owners,
        enabled: s.enabled,
        created_at: a.created_at,
        updated_at: a.updated_at,
    }
}

fn parse_enum<T: std::str::FromStr<Err = String>>(field: &str, v: &str) -> Result<T, AdminError> {
    v.parse().map_err(|m| AdminError::invalid_field(FieldError::new(field, m)))
}

fn grant_types(v: &[String]) -> Result<Vec<GrantType>, AdminError> {
    parse_all("grant_types", v, |s| s.parse().map_err(|e: latchkey_core::UnknownGrantType| e.to_string()))
}

fn redirect_uris(v: &[String]) -> Result<Vec<RedirectUri>, AdminError> {
    v.iter().map(|u| RedirectUri::parse(u).map_err(AdminError::invalid_field)).collect()
}

fn check_secret(s: &str) -> Result<(), AdminError> {
    if (8..=512).contains(&s.chars().count()) && !s.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(FieldError::new("client_secret", "must be 8 to 512 characters without control characters").into())
    }
}

async fn resolve_owners(state: &AppState, realm: &Realm, owners: &[String]) -> Result<Vec<UserId>, AdminError> {
    state
        .store
        .resolve_users(realm.id, owners)
        .await?
        .map_err(|name| FieldError::new("owners", format!("no identity named `{name}` in this realm")).into())
}

async fn load_app(state: &AppState, realm: &Realm, client_id: &str) -> Result<Application, AdminError> {
    state
        .store
        .find_application(realm.id, client_id)
        .await?
        .ok_or_else(|| AdminError::not_found("application", client_id))
}

#[get("/realms/{realm}/applications")]
async fn list(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AdminError> {
    let realm = load_realm(&state, &path).await?;
    let (page, per_page) = paging(&q)?;
    let found = state.store.list_applications(realm.id, q.search.as_deref(), page, per_page).await?;
    let ids: Vec<_> = found.items.iter().map(|a| a.id).collect();
    let owners = state.store.owners_of(&ids).await?;
    let items = found.items.into_iter().zip(owners).map(|(a, o)| app_dto(a, o)).collect();
    Ok(HttpResponse::Ok().json(dto::Page { items, page, per_page, total: found.total }))
}

#[post("/realms/{realm}/applications")]
#[tracing::instrument(skip_all, fields(realm = %path.as_str(), client_id))]
async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: AdminJson<dto::CreateApplication>,
) -> Result<HttpResponse, AdminError> {
    let realm = load_realm(&state, &path).await?;
    let b = body.0;
    let client_id = match &b.client_id {
        Some(id) => ClientId::parse(id)?,
        None => ClientId::generate(),
    };
    tracing::Span::current().record("client_id", client_id.as_str());
    let application_type: ApplicationType =
        parse_enum("application_type", b.application_type.as_deref().unwrap_or("web"))?;
    let settings = ApplicationSettings {
        client_name: b.client_name.unwrap_or_else(|| client_id.to_string()),
        description: b.description,
        sign_in_method: parse_enum::<SignInMethod>("sign_in_method", b.sign_in_method.as_deref().unwrap_or("oidc"))?,
        application_type,
        grant_types: match &b.grant_types {
            Some(g) => grant_types(g)?,
            None if application_type.is_confidential() => vec![GrantType::ClientCredentials],
            None => vec![GrantType::AuthorizationCode],
        },
        redirect_uris: redirect_uris(b.redirect_uris.as_deref().unwrap_or_default())?,
        allowed_scopes: scope_set("allowed_scopes", b.allowed_scopes.as_deref().unwrap_or_default())?,
        default_scopes: scope_set("default_scopes", b.default_scopes.as_deref().unwrap_or_default())?,
        token_endpoint_auth_method: match &b.token_endpoint_auth_method {
            Some(m) => parse_enum("token_endpoint_auth_method", m)?,
            None => ApplicationSettings::default_auth_method(application_type),
        },
        access_token_lifetime: b.access_token_lifetime,
        enabled: b.enabled.unwrap_or(true),
    };
    settings.validate()?;
    let secret: Option<SecretString> = match (application_type.is_confidential(), b.client_secret) {
        (true, Some(s)) => {
            check_secret(&s)?;
            Some(SecretString::from(s))
        }
        (true, None) => Some(generate_secret()),
        (false, Some(_)) => {
            return Err(FieldError::new(
                "client_secret",
                "native and spa applications are public: they have no secret",
            )
            .into());
        }
        (false, None) => None,
    };
    let owner_names = b.owners.unwrap_or_default();
    let owners = resolve_owners(&state, &realm, &owner_names).await?;
    if state.store.find_application(realm.id, client_id.as_str()).await?.is_some() {
        return Err(AdminError::conflict("client_id", format!("an application `{client_id}` exists in this realm")));
    }
    let secret_hash = match &secret {
        Some(s) => Some(
            hash_secret(&state.hash_gate, s.expose_secret().to_owned()).await.map_err(|e| AdminError::internal(&e))?,
        ),
        None => None,
    };
    let app = state
        .store
        .create_application(realm.id, NewApplication { client_id: client_id.clone(), secret_hash, settings, owners })
        .await?;
    let owners = state.store.application_owners(app.id).await?;
    tracing::info!("application registered");
    let application = app_dto(app, owners);
    let event = entry(realm.id, "application.create", format!("application `{client_id}` registered"));
    state.auditor.record(event.client(client_id.as_str()).after(&application).by(&actor)).await;
    Ok(created(
        format!("/admin/v1/realms/{}/applications/{client_id}", realm.name),
        dto::CreatedApplication { application, client_secret: secret.map(|s| s.expose_secret().to_owned()) },
    ))
}

#[get("/realms/{realm}/applications/{client_id}")]
async fn read(state: web::Data<AppState>, path: web::Path<(String, String)>) -> Result<HttpResponse, AdminError> {
    let (realm, client_id) = path.into_inner();
    let realm = load_realm(&state, &realm).await?;
    let app = load_app(&state, &realm, &client_id).await?;
    let owners = state.store.application_owners(app.id).await?;
    Ok(HttpResponse::Ok().json(app_dto(app, owners)))
}

#[patch("/realms/{realm}/applications/{client_id}")]
#[tracing::instrument(skip_all, fields(realm = %path.0, client_id = %path.1))]
async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
    body: AdminJson<dto::PatchApplication>,
) -> Result<HttpResponse, AdminError> {
    let (realm, client_id) = path.into_inner();
    let realm = load_realm(&state, &realm).await?;
    let mut app = load_app(&state, &realm, &client_id).await?;
    let before = app_dto(app.clone(), state.store.application_owners(app.id).await?);
    let b = body.0;
    let s = &mut app.settings;
    if let Some(t) = &b.application_type
        && parse_enum::<ApplicationType>("application_type", t)? != s.application_type
    {
        return Err(FieldError::new(
            "application_type",
            "an application's type cannot change: register a new application",
        )
        .into());
    }
    if let Some(v) = b.client_name {
        s.client_name = v;
    }
    if let Some(v) = b.description {
        s.description = v;
    }
    if let Some(v) = &b.sign_in_method {
        s.sign_in_method = parse_enum("sign_in_method", v)?;
    }
    if let Some(v) = &b.grant_types {
        s.grant_types = grant_types(v)?;
    }
    if let Some(v) = &b.redirect_uris {
        s.redirect_uris = redirect_uris(v)?;
    }
    if let Some(v) = &b.allowed_scopes {
        s.allowed_scopes = scope_set("allowed_scopes", v)?;
    }
    if let Some(v) = &b.default_scopes {
        s.default_scopes = scope_set("default_scopes", v)?;
    }
    if let Some(v) = &b.token_endpoint_auth_method {
        s.token_endpoint_auth_method = parse_enum("token_endpoint_auth_method", v)?;
    }
    if let Some(v) = b.access_token_lifetime {
        s.access_token_lifetime = v;
    }
    if let Some(v) = b.enabled {
        s.enabled = v;
    }
    s.validate()?;
    let owners = match &b.owners {
        Some(names) => Some(resolve_owners(&state, &realm, names).await?),
        None => None,
    };
    let app = state.store.update_application(realm.id, &app, owners.as_deref()).await?;
    let owners = state.store.application_owners(app.id).await?;
    let after = app_dto(app, owners);
    let event = entry(realm.id, "application.update", format!("application `{client_id}` updated"));
    state.auditor.record(event.client(&client_id).before(&before).after(&after).by(&actor)).await;
    Ok(HttpResponse::Ok().json(after))
}

#[delete("/realms/{realm}/applications/{client_id}")]
#[tracing::instrument(skip_all, fields(realm = %path.0, client_id = %path.1))]
async fn remove(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let (realm, client_id) = path.into_inner();
    let realm = load_realm(&state, &realm).await?;
    let app = load_app(&state, &realm, &client_id).await?;
    let before = app_dto(app.clone(), state.store.application_owners(app.id).await?);
    if !state.store.delete_application(realm.id, &client_id).await? {
        return Err(AdminError::not_found("application", &client_id));
    }
    tracing::info!("application deleted");
    let event = entry(realm.id, "application.delete", format!("application `{client_id}` deleted"));
    state.auditor.record(event.client(&client_id).before(&before).by(&actor)).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Replaces the secret and returns the new one, this once.
#[post("/realms/{realm}/applications/{client_id}/secret")]
#[tracing::instrument(skip_all, fields(realm = %path.0, client_id = %path.1))]
async fn rotate_secret(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let (realm, client_id) = path.into_inner();
    let realm = load_realm(&state, &realm).await?;
    let app = load_app(&state, &realm, &client_id).await?;
    if !app.settings.application_type.is_confidential() {
        return Err(FieldError::new("application_type", "public applications have no secret").into());
    }
    let secret = generate_secret();
    let hash: SecretHash =
        hash_secret(&state.hash_gate, secret.expose_secret().to_owned()).await.map_err(|e| AdminError::internal(&e))?;
    state.store.set_client_secret(realm.id, &app, &hash).await?;
    tracing::info!("client secret rotated");
    // Neither the secret nor its hash goes to the log: only that it changed.
    let event = entry(realm.id, "application.secret_rotate", format!("client secret of `{client_id}` rotated"));
    state.auditor.record(event.client(&client_id).by(&actor)).await;
    Ok(HttpResponse::Ok().json(dto::ClientSecret {
        client_id: app.client_id.to_string(),
        client_secret: secret.expose_secret().to_owned(),
    }))
}
