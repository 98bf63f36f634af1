//! `/admin/v1/session`: console sign-in and sign-out (see [`crate::session`]).

use crate::error::AdminError;
use crate::extract::AdminJson;
use crate::session::{self, Authenticated, LoginThrottle};
use crate::state::AppState;
use crate::tokens::verify_secret;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use latchkey_api_types::admin as dto;
use latchkey_core::FieldError;
use latchkey_core::secret::{digest, generate_secret};
use latchkey_core::time::{UnixTime, now};
use latchkey_identities::Username;
use latchkey_realms::ROOT_REALM;
use secrecy::ExposeSecret;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(sign_in).service(current).service(sign_out);
}

fn session_dto(state: &AppState, username: &Username, token: &str, expires_at: UnixTime) -> dto::Session {
    dto::Session {
        username: username.to_string(),
        csrf_token: session::csrf_token(token),
        expires_at,
        idle_timeout: state.sessions.idle_timeout,
    }
}

/// Signs an administrator in. Every failure (unknown username, wrong password, disabled or
/// not an administrator) answers the same, after the same argon2id verification.
#[post("/session")]
#[tracing::instrument(skip_all)]
async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: AdminJson<dto::SignIn>,
) -> Result<HttpResponse, AdminError> {
    let dto::SignIn { username, password } = body.0;
    for (field, value) in [("username", &username), ("password", &password)] {
        if value.is_empty() {
            return Err(FieldError::new(field, "is required").into());
        }
    }
    let keys = LoginThrottle::keys(&username, &req);
    if let Some(seconds) = state.login_throttle.wait(&keys) {
        tracing::warn!("console sign-in throttled");
        return Err(AdminError::too_many_attempts(seconds));
    }
    let root = state.root_realm_id().await?;
    let user = state.store.find_user(root, &username).await?;
    let verified = verify_secret(&state.hash_gate, user.as_ref().and_then(|u| u.password_hash.clone()), password)
        .await
        .map_err(|_| AdminError::busy())?;
    let Some(user) = user.filter(|u| verified && u.enabled && u.is_admin) else {
        state.login_throttle.failed(&keys);
        tracing::info!("console sign-in failed");
        return Err(AdminError::invalid_credentials());
    };
    state.login_throttle.succeeded(&keys);

    let token = generate_secret().expose_secret().to_owned();
    let expires_at = now() + state.sessions.lifetime;
    state.store.create_admin_session(user.id, &digest(&token), expires_at).await?;
    tracing::info!(realm = ROOT_REALM, username = %user.username, "console sign-in");
    let body = session_dto(&state, &user.username, &token, expires_at);
    Ok(HttpResponse::Ok().cookie(session::cookie(&state, token)).insert_header(no_store()).json(body))
}

/// The current session, so a reloaded console learns who it is and its CSRF token.
#[get("/session")]
async fn current(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AdminError> {
    match session::authenticate(&state, &req).await? {
        Some(Authenticated { token, session }) => Ok(HttpResponse::Ok().insert_header(no_store()).json(session_dto(
            &state,
            &session.user.username,
            &token,
            session.expires_at,
        ))),
        None => Err(AdminError::unauthorized()),
    }
}

/// Signs out: the session ends on the server and the cookie is cleared. Without a live
/// session there is nothing to end, and the answer is the same.
#[delete("/session")]
async fn sign_out(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AdminError> {
    if let Some(a) = session::authenticate(&state, &req).await? {
        if !session::csrf_ok(&req, &a.token) {
            return Err(AdminError::csrf());
        }
        state.store.delete_admin_session(&digest(&a.token)).await?;
        tracing::info!(username = %a.session.user.username, "console sign-out");
    }
    Ok(HttpResponse::NoContent().cookie(session::removal_cookie(&state)).finish())
}

fn no_store() -> (actix_web::http::header::HeaderName, &'static str) {
    (actix_web::http::header::CACHE_CONTROL, "no-store")
}
