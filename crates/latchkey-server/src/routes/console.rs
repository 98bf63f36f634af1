//! `/console`: the admin console, a single-page app built by `cargo xtask console` into the
//! console directory. `/console/assets/…` are content-hashed files, cached for a year; every
//! other path under `/console` is a deep link answered with `index.html`, never cached.

use crate::state::AppState;
use actix_files::NamedFile;
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY as CONTENT_SECURITY_POLICY_HEADER, CONTENT_TYPE, HeaderValue,
    REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, HttpResponse, web};

/// Only the console's own files: its script and wasm (`wasm-unsafe-eval` lets WebAssembly
/// compile), its stylesheet, and calls to this origin. No framing, no plugins, no inline script.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/console")
            .wrap(
                DefaultHeaders::new()
                    .add((CONTENT_SECURITY_POLICY_HEADER, CONTENT_SECURITY_POLICY))
                    .add((X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((REFERRER_POLICY, "no-referrer"))
                    .add((X_FRAME_OPTIONS, "DENY")),
            )
            .route("/assets/{path:.*}", web::get().to(asset))
            .route("", web::get().to(index))
            .route("/{tail:.*}", web::get().to(index)),
    );
}

/// A built asset. Only plain relative paths are served (no `..`, no hidden files), so nothing
/// outside the assets directory can be named.
async fn asset(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let plain = path.split('/').all(|seg| {
        !seg.is_empty()
            && !seg.starts_with('.')
            && seg.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    });
    let file = if plain { NamedFile::open(state.console_dir.join("assets").join(path.as_str())).ok() } else { None };
    match file {
        Some(f) => {
            let mut resp = f.use_last_modified(false).into_response(&req);
            resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
            resp
        }
        None => super::not_found(req).await,
    }
}

/// The app's `index.html`, or, when the console is not built, a page that says how to build it.
async fn index(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let mut resp = match NamedFile::open(state.console_dir.join("index.html")) {
        Ok(f) => f.use_etag(false).use_last_modified(false).into_response(&req),
        Err(_) => {
            HttpResponse::ServiceUnavailable().insert_header((CONTENT_TYPE, "text/html; charset=utf-8")).body(NOT_BUILT)
        }
    };
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

const NOT_BUILT: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Latchkey console not built</title></head>
<body>
<h1>The Latchkey console is not built</h1>
<p>This server found no console in its console directory (<code>LATCHKEY_CONSOLE_DIR</code>,
default <code>./frontend/dist</code>). The admin API and the OAuth2 endpoints work without it.</p>
<p>To build it, from the repository root:</p>
<pre>cargo xtask console</pre>
<p>or run the server with <code>cargo xtask run</code>, which builds the console first.
README.md lists the one-time tools (the wasm32 target and <code>wasm-bindgen-cli</code>).</p>
</body></html>
"#;
