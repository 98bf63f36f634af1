//! Routes, laid out like the URL tree.
//!
//! - `/health/{live,ready}`, `/metrics`
//! - `/oauth2/realms/{realm}/…` and ForgeRock's `/am/oauth2/realms/root[/realms/{realm}]/…`
//! - `/.well-known/oauth-authorization-server/oauth2/realms/{realm}` (RFC 8414)
//! - `/admin/v1/…`
//! - `/console/…`

pub mod admin;
pub mod console;
pub mod health;
pub mod methods;
pub mod metrics;
pub mod oauth2;

use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    metrics::configure(cfg);
    oauth2::configure(cfg);
    admin::configure(cfg);
    console::configure(cfg);
    cfg.default_service(web::to(not_found));
}

/// Any path no route claims: 405 if the path is documented under other methods, else 404.
async fn not_found(req: HttpRequest) -> HttpResponse {
    if let Some(answer) = methods::method_not_allowed(&req) {
        return answer;
    }
    HttpResponse::NotFound().json(latchkey_api_types::OAuthError {
        error: "not_found".into(),
        error_description: Some("no such endpoint".into()),
    })
}
