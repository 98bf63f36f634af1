//! CORS for a realm's token and introspection endpoints, off unless the realm's provider lists
//! the page's origin. Requests without `Origin` (every non-browser client) skip it entirely.

use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use latchkey_realms::ROOT_REALM;

/// How long a browser may cache a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(origin) = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_owned) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let allowed = allowed(&req, &origin).await;
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = if preflight && allowed {
        let (http_req, _) = req.into_parts();
        let resp = HttpResponse::build(StatusCode::NO_CONTENT)
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "POST"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, Content-Type"))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE))
            .finish();
        ServiceResponse::new(http_req, resp)
    } else {
        next.call(req).await?.map_into_boxed_body()
    };
    let headers = res.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if allowed && let Ok(v) = HeaderValue::from_str(&origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    Ok(res)
}

/// Whether the realm the path names lists `origin`. Any failure to tell is a no.
async fn allowed(req: &ServiceRequest, origin: &str) -> bool {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return false;
    };
    let name = req.match_info().get("realm").unwrap_or(ROOT_REALM);
    let Ok(Some(realm)) = state.store.cached_realm(name).await else {
        return false;
    };
    state.store.cached_provider(realm.id).await.is_ok_and(|p| p.allows_origin(origin))
}
