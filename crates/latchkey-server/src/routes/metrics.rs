//! `GET /metrics`: Prometheus' text exposition format 0.0.4 (see [`crate::metrics`]).
//!
//! Open by default, like the health probes: meant for the internal network, never to be
//! published. With `LATCHKEY_METRICS_TOKEN` set it asks for that token as a bearer token.

use crate::extract::bearer_token;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use latchkey_core::secret::constant_time_eq;
use secrecy::ExposeSecret;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(metrics);
}

#[get("/metrics")]
async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Some(expected) = &state.metrics_token {
        let given = bearer_token(&req);
        if !given.is_some_and(|t| constant_time_eq(t, expected.expose_secret())) {
            return HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""))
                .json(latchkey_api_types::OAuthError {
                    error: "invalid_token".into(),
                    error_description: Some("a bearer token (LATCHKEY_METRICS_TOKEN) is required".into()),
                });
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(state.metrics.render(state.store.pool_stats(), state.store.cache_stats()))
}
