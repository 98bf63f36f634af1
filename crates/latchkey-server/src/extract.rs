//! Request parsing at the edge: realm from the path, OAuth2 form bodies, client credentials,
//! bearer tokens, and admin JSON bodies with the field at fault.

use crate::error::{AdminError, OAuthError};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
pub use latchkey_oauth2::wire::BadCredentials;
use latchkey_oauth2::wire::{self, FormError};
use latchkey_realms::ROOT_REALM;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// Largest OAuth2 form body we read.
pub const MAX_FORM_BYTES: usize = 16 * 1024;
/// Largest admin JSON body we read.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// The realm named by the path: `{realm}` in `/oauth2/realms/{realm}/…`, or `root` for
/// ForgeRock's `/am/oauth2/realms/root/…` paths.
pub struct RealmParam(pub String);

impl FromRequest for RealmParam {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let name = req.match_info().get("realm").unwrap_or(ROOT_REALM).to_owned();
        std::future::ready(Ok(RealmParam(name)))
    }
}

/// An `application/x-www-form-urlencoded` body with each parameter at most once
/// (RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once").
#[derive(Debug)]
pub struct OAuthForm(HashMap<String, String>);

impl OAuthForm {
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Self, OAuthError> {
        wire::parse_form(content_type, body).map(OAuthForm).map_err(|e| match e {
            FormError::UnsupportedMediaType => OAuthError::unsupported_media_type(),
            e => OAuthError::invalid_request(e.to_string()),
        })
    }

    /// A parameter; an empty value counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| OAuthError::invalid_request(format!("missing parameter `{name}`")))
    }
}

impl FromRequest for OAuthForm {
    type Error = OAuthError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|e| match e.as_response_error().status_code().as_u16() {
                413 => OAuthError::payload_too_large(),
                _ => OAuthError::invalid_request("the body could not be read"),
            })?;
            OAuthForm::parse(content_type.as_deref(), &body)
        })
    }
}

/// How a client presented its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Basic,
    Post,
}

/// Client credentials from the request, not yet checked.
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub method: AuthMethod,
}

/// Reads client credentials from the Basic header (RFC 6749 §2.3.1: id and secret each
/// form-urlencoded before base64) or from the body; both at once is an error (§2.3).
/// `Ok(None)`: no credentials at all.
pub fn client_credentials(req: &HttpRequest, form: &OAuthForm) -> Result<Option<ClientCredentials>, BadCredentials> {
    match req.headers().get(header::AUTHORIZATION) {
        Some(value) => {
            let (id, secret) = wire::parse_basic(value.as_bytes())?;
            if form.get("client_secret").is_some() || form.get("client_id").is_some_and(|b| b != id) {
                return Err(BadCredentials);
            }
            Ok(Some(ClientCredentials { client_id: id, client_secret: Some(secret), method: AuthMethod::Basic }))
        }
        None => Ok(form.get("client_id").map(|id| ClientCredentials {
            client_id: id.to_owned(),
            client_secret: form.get("client_secret").map(str::to_owned),
            method: AuthMethod::Post,
        })),
    }
}

/// The token of an `Authorization: Bearer` header (RFC 6750 §2.1).
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    wire::parse_bearer(req.headers().get(header::AUTHORIZATION)?.as_bytes())
}

/// A JSON body for the admin API, decoded with the path of the field at fault on error.
pub struct AdminJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for AdminJson<T> {
    type Error = AdminError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(AdminError::unsupported_media_type());
            }
            let body = body.await.map_err(|e| match e.as_response_error().status_code().as_u16() {
                413 => AdminError::payload_too_large(),
                _ => AdminError::invalid_body("the body could not be read", None),
            })?;
            // Every admin body is an object (serde would also take a struct as an array).
            if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
                return Err(AdminError::invalid_body("the body must be a JSON object", None));
            }
            let de = &mut serde_json::Deserializer::from_slice(&body);
            let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let message = inner.to_string();
                // `.` is the document itself and `?` a place serde could not name: no field.
                let field = if path != "." && path != "?" {
                    Some(path)
                } else {
                    crate::error::field_in_serde_message(&message)
                };
                AdminError::invalid_body(message, field)
            })?;
            // Anything after the one JSON value makes the body invalid.
            de.end().map_err(|e| AdminError::invalid_body(e.to_string(), None))?;
            Ok(AdminJson(value))
        })
    }
}
