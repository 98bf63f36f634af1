//! Identities of a realm: application owners, resource owners, administrators.

use super::{created, load_realm, paging};
use crate::audit::{Actor, entry};
use crate::error::AdminError;
use crate::extract::AdminJson;
use crate::state::AppState;
use crate::tokens::hash_secret;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use latchkey_api_types::admin as dto;
use latchkey_api_types::admin::PageQuery;
use latchkey_core::FieldError;
use latchkey_core::secret::SecretHash;
use latchkey_identities::{NewUser, User, UserPatch, Username, check_password, parse_email, parse_person_name};
use latchkey_realms::Realm;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(create).service(read).service(update).service(remove);
}

fn user_dto(u: User) -> dto::User {
    dto::User {
        has_password: u.password_hash.is_some(),
        username: u.username.to_string(),
        email: u.email,
        given_name: u.given_name,
        family_name: u.family_name,
        enabled: u.enabled,
        is_admin: u.is_admin,
        created_at: u.created_at,
        updated_at: u.updated_at,
    }
}

async fn password_hash(state: &AppState, p: String) -> Result<SecretHash, AdminError> {
    check_password(&p).map_err(|e| FieldError::new("password", e))?;
    hash_secret(&state.hash_gate, p).await.map_err(|e| AdminError::internal(&e))
}

fn optional(
    field: &str,
    v: Option<String>,
    parse: fn(&str) -> Result<String, latchkey_identities::IdentityError>,
) -> Result<Option<String>, AdminError> {
    v.map(|s| parse(&s).map_err(|e| FieldError::new(field, e).into())).transpose()
}

async fn load_user(state: &AppState, realm: &Realm, username: &str) -> Result<User, AdminError> {
    state.store.find_user(realm.id, username).await?.ok_or_else(|| AdminError::not_found("identity", username))
}

#[get("/realms/{realm}/users")]
async fn list(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AdminError> {
    let realm = load_realm(&state, &path).await?;
    let (page, per_page) = paging(&q)?;
    let found = state.store.list_users(realm.id, q.search.as_deref(), page, per_page).await?;
    let items = found.items.into_iter().map(user_dto).collect();
    Ok(HttpResponse::Ok().json(dto::Page { items, page, per_page, total: found.total }))
}

#[post("/realms/{realm}/users")]
#[tracing::instrument(skip_all, fields(realm = %path.as_str(), username = %body.0.username))]
async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: AdminJson<dto::CreateUser>,
) -> Result<HttpResponse, AdminError> {
    let realm = load_realm(&state, &path).await?;
    let b = body.0;
    let username = Username::parse(&b.username).map_err(|e| FieldError::new("username", e))?;
    let email = optional("email", b.email, parse_email)?;
    let given_name = optional("given_name", b.given_name, parse_person_name)?;
    let family_name = optional("family_name", b.family_name, parse_person_name)?;
    if state.store.find_user(realm.id, username.as_str()).await?.is_some() {
        return Err(AdminError::conflict("username", format!("an identity `{username}` exists in this realm")));
    }
    let password_hash = match b.password {
        Some(p) => Some(password_hash(&state, p).await?),
        None => None,
    };
    let user = state
        .store
        .create_user(
            realm.id,
            NewUser {
                username,
                password_hash,
                email,
                given_name,
                family_name,
                enabled: b.enabled.unwrap_or(true),
                is_admin: false,
            },
        )
        .await?;
    tracing::info!("identity created");
    let location = format!("/admin/v1/realms/{}/users/{}", realm.name, user.username);
    let body = user_dto(user);
    let event = entry(realm.id, "user.create", format!("identity `{}` created", body.username));
    state.auditor.record(event.after(&body).by(&actor)).await;
    Ok(created(location, body))
}

#[get("/realms/{realm}/users/{username}")]
async fn read(state: web::Data<AppState>, path: web::Path<(String, String)>) -> Result<HttpResponse, AdminError> {
    let (realm, username) = path.into_inner();
    let realm = load_realm(&state, &realm).await?;
    Ok(HttpResponse::Ok().json(user_dto(load_user(&state, &realm, &username).await?)))
}

#[patch("/realms/{realm}/users/{username}")]
#[tracing::instrument(skip_all, fields(realm = %path.0, username = %path.1))]
async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
    body: AdminJson<dto::PatchUser>,
) -> Result<HttpResponse, AdminError> {
    let (realm, username) = path.into_inner();
    let realm = load_realm(&state, &realm).await?;
    let mut user = load_user(&state, &realm, &username).await?;
    let before = user_dto(user.clone());
    let b = body.0;
    let patch = UserPatch {
        email: b.email.map(|e| optional("email", e, parse_email)).transpose()?,
        given_name: b.given_name.map(|g| optional("given_name", g, parse_person_name)).transpose()?,
        family_name: b.family_name.map(|f| optional("family_name", f, parse_person_name)).transpose()?,
        enabled: b.enabled,
        password_hash: match b.password {
            Some(p) => Some(password_hash(&state, p).await?),
            None => None,
        },
    };
    let password_changed = patch.password_hash.is_some();
    patch.apply(&mut user);
    let user = state.store.update_user(realm.id, &user).await?;
    let after = user_dto(user);
    // A new password shows only as the words "password changed", never as a value or a hash.
    let summary = if password_changed {
        format!("identity `{username}` updated (password changed)")
    } else {
        format!("identity `{username}` updated")
    };
    state.auditor.record(entry(realm.id, "user.update", summary).before(&before).after(&after).by(&actor)).await;
    Ok(HttpResponse::Ok().json(after))
}

#[delete("/realms/{realm}/users/{username}")]
#[tracing::instrument(skip_all, fields(realm = %path.0, username = %path.1))]
async fn remove(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let (realm, username) = path.into_inner();
    let realm = load_realm(&state, &realm).await?;
    let before = user_dto(load_user(&state, &realm, &username).await?);
    if !state.store.delete_user(realm.id, &username).await? {
        return Err(AdminError::not_found("identity", &username));
    }
    let event = entry(realm.id, "user.delete", format!("identity `{username}` deleted"));
    state.auditor.record(event.before(&before).by(&actor)).await;
    Ok(HttpResponse::NoContent().finish())
}
