//! The floor of `cargo xtask bench`: what actix-web alone costs on this machine. Every POST or
//! GET on any path reads the request body and answers the same JSON body of a given size (the
//! size of Latchkey's token response), with none of the OAuth work: no parsing, no database, no
//! hashing, no signing. Latchkey's figures are read against it.
//!
//! Usage: `latchkey-bench-floor BIND_ADDRESS BODY_BYTES`, for example `127.0.0.1:8098 580`.

use actix_web::http::header;
use actix_web::{App, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let (bind, size) = match parse_args(std::env::args().skip(1).collect()) {
        Ok(a) => a,
        Err(message) => {
            eprintln!("{message}\nusage: latchkey-bench-floor BIND_ADDRESS BODY_BYTES");
            std::process::exit(2);
        }
    };
    let body = web::Bytes::from(json_body(size));
    HttpServer::new(move || {
        let body = body.clone();
        App::new().default_service(web::route().to(move |request: web::Bytes| answer(request, body.clone())))
    })
    .bind(&bind)?
    .run()
    .await
}

fn parse_args(args: Vec<String>) -> Result<(String, usize), String> {
    match args.as_slice() {
        [bind, size] => Ok((bind.clone(), size.parse().map_err(|_| format!("BODY_BYTES `{size}` is not a number"))?)),
        _ => Err("expected two arguments".into()),
    }
}

/// Reads the request body (as Latchkey's form extractor does) and answers like the token
/// endpoint: JSON, `no-store`.
async fn answer(_request: web::Bytes, body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").insert_header((header::CACHE_CONTROL, "no-store")).body(body)
}

/// A token-response-shaped JSON document of exactly `size` bytes (at least the bare shape's).
fn json_body(size: usize) -> String {
    let (head, tail) = (r#"{"access_token":""#, r#"","token_type":"Bearer","expires_in":3600}"#);
    let filler = size.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(filler))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_the_asked_size_and_is_json_shaped() {
        assert_eq!(json_body(600).len(), 600);
        assert!(json_body(600).starts_with(r#"{"access_token":"xx"#));
        assert!(json_body(1).ends_with("3600}"), "never shorter than the shape");
    }
}
