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
pub mod metrics;
pub mod oauth2;

use actix_web::{HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    metrics::configure(cfg);
    oauth2::configure(cfg);
    admin::configure(cfg);
    console::configure(cfg);
    cfg.default_service(web::to(not_found));
}

/// Any path no route claims.
async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(latchkey_api_types::OAuthError {
        error: "not_found".into(),
        error_description: Some("no such endpoint".into()),
    })
}
