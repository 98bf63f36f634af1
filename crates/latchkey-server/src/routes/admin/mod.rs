//! The admin REST API under `/admin/v1`, protected like any resource server would protect
//! itself: a bearer access token of the `root` realm with scope `admin`, or, for the console, a
//! session cookie of a `root` administrator (with its CSRF token on state-changing requests).

mod applications;
mod audit;
mod realms;
mod session;
mod users;

use crate::audit::Actor;
use crate::error::AdminError;
use crate::extract::{MAX_JSON_BYTES, bearer_token};
use crate::state::AppState;
use crate::tokens;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpMessage, HttpResponse, get, web};
use latchkey_api_types::admin::PageQuery;
use latchkey_realms::Realm;

/// The OpenAPI document of the admin API and the OAuth2 endpoints.
pub const OPENAPI: &str = include_str!("../../openapi.json");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin/v1")
            .app_data(web::PayloadConfig::new(MAX_JSON_BYTES))
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                let field = crate::error::field_in_serde_message(&e.to_string());
                AdminError::invalid_query(e.to_string(), field).into()
            }))
            .service(openapi)
            .configure(session::configure)
            .service(
                web::scope("")
                    .wrap(from_fn(require_admin))
                    .configure(realms::configure)
                    .configure(applications::configure)
                    .configure(users::configure)
                    .configure(audit::configure)
                    .default_service(web::to(|req: actix_web::HttpRequest| async move {
                        super::methods::admin_method_not_allowed(&req).ok_or_else(AdminError::no_route)
                    })),
            ),
    );
}

#[get("/openapi.json")]
async fn openapi() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(OPENAPI)
}

/// Lets the request through only with a valid `root` token carrying scope `admin` (no token
/// or a bad one is 401, a valid one without the scope or of another realm is 403), or, without
/// a bearer token, with a live console session (and its CSRF token unless the method is safe).
async fn require_admin(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned().expect("AppState is registered");
    let Some(token) = bearer_token(req.request()).map(str::to_owned) else {
        if req.request().cookie(crate::session::COOKIE).is_none() {
            return Err(AdminError::missing_token().into());
        }
        let Some(signed_in) = crate::session::authenticate(&state, req.request()).await? else {
            return Err(AdminError::unauthorized().into());
        };
        if !crate::session::csrf_ok(req.request(), &signed_in.token) {
            return Err(AdminError::csrf().into());
        }
        tracing::Span::current().record("admin_user", signed_in.session.user.username.as_str());
        let actor = Actor::user(signed_in.session.user.username.as_str(), req.request());
        req.extensions_mut().insert(actor);
        return next.call(req).await;
    };
    match tokens::check(&state, &token).await {
        Ok((realm, claims)) => {
            if !realm.name.is_root() || !claims.scope.split(' ').any(|s| s == "admin") {
                return Err(AdminError::forbidden().into());
            }
            tracing::Span::current().record("admin_client", claims.client_id.as_str());
            let actor = Actor::client(&claims.client_id, req.request());
            req.extensions_mut().insert(actor);
            next.call(req).await
        }
        Err(e) if e.is_internal() => Err(AdminError::from(e).into()),
        Err(_) => Err(AdminError::unauthorized().into()),
    }
}

/// The realm an admin path names, or 404: from the token path's cache when it is fresh (this
/// process's own writes drop it at once, other replicas' within a second).
async fn load_realm(state: &AppState, name: &str) -> Result<Realm, AdminError> {
    let realm = state.store.cached_realm(name).await?;
    realm.map(std::sync::Arc::unwrap_or_clone).ok_or_else(|| AdminError::not_found("realm", name))
}

/// The last page number a list accepts: far past any real list, and small enough that the
/// offset it makes (times at most 200) is an ordinary number for the database.
pub(crate) const MAX_PAGE: u64 = 1_000_000;

/// Page and page size from the query: page 1 to [`MAX_PAGE`], per_page 1 to 200 (default 50).
fn paging(q: &PageQuery) -> Result<(u64, u64), AdminError> {
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(AdminError::invalid_query("page must be 1 to 1000000", Some("page".into())));
    }
    if !(1..=200).contains(&per_page) {
        return Err(AdminError::invalid_query("per_page must be 1 to 200", Some("per_page".into())));
    }
    Ok((page, per_page))
}

fn created(location: String, body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Created().insert_header((actix_web::http::header::LOCATION, location)).json(body)
}

/// Parses a list of wire values, reporting the field on the first bad one.
fn parse_all<T>(
    field: &str,
    values: &[String],
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, AdminError> {
    values
        .iter()
        .map(|v| {
            parse(v)
                .map_err(|m| AdminError::invalid_field(latchkey_core::FieldError::new(field, format!("`{v}`: {m}"))))
        })
        .collect()
}

fn scope_set(field: &str, values: &[String]) -> Result<latchkey_core::ScopeSet, AdminError> {
    latchkey_core::ScopeSet::from_tokens(values.iter().map(String::as_str))
        .map_err(|e| AdminError::invalid_field(latchkey_core::FieldError::new(field, e)))
}
