//! Liveness and readiness probes.

use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(live).service(ready);
}

/// The process is up and serving HTTP.
#[get("/health/live")]
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers and every migration is applied.
#[get("/health/ready")]
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ready().await {
        Ok(true) => HttpResponse::Ok().json(json!({"status": "ok"})),
        Ok(false) => {
            HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable", "reason": "migrations pending"}))
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable", "reason": "database unreachable"}))
        }
    }
}
