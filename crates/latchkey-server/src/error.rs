//! The two wire error shapes and their HTTP mapping, in one place.
//!
//! OAuth2 endpoints answer RFC 6749 §5.2 bodies; the admin API answers its envelope with a
//! stable code and the field at fault. Unexpected failures log their cause and answer an opaque
//! 500 in the endpoint's own shape.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use latchkey_api_types::{ErrorBody, ErrorEnvelope, OAuthError as OAuthBody};
use latchkey_core::FieldError;
use latchkey_storage::StoreError;
use std::fmt;

/// An error of an OAuth2 endpoint.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    www_authenticate: Option<String>,
    retry_after: Option<u64>,
}

/// Longest `error_description` or admin error message; what is longer is cut, with `…`. They
/// may quote what the client sent, which can be anything up to the body limit.
const MAX_MESSAGE: usize = 256;
/// Longest admin error `field` (a path that may quote an unknown member's name).
const MAX_FIELD: usize = 128;

/// `s` cut to `max` characters, with `…` (or `...` where only ASCII may go) when cut.
fn cut(s: String, max: usize, ellipsis: &str) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}{ellipsis}", &s[..at]),
        None => s,
    }
}

/// RFC 6749 §5.2: `error_description` is limited to `%x20-21 / %x23-5B / %x5D-7E`, and it may
/// quote client input: every other character becomes `?`.
fn oauth_description(d: String) -> String {
    let allowed = |c: char| matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E');
    let d = if d.chars().all(allowed) { d } else { d.chars().map(|c| if allowed(c) { c } else { '?' }).collect() };
    cut(d, MAX_MESSAGE, "...")
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        let description = oauth_description(description.into());
        OAuthError { status, error, description, www_authenticate: None, retry_after: None }
    }

    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", d)
    }

    /// 401 with the Basic challenge of the realm (RFC 6749 §5.2).
    pub fn invalid_client(realm: &str) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
        e.www_authenticate = Some(format!("Basic realm=\"{realm}\""));
        e
    }

    pub fn unsupported_grant_type(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", d)
    }

    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unauthorized_client", d)
    }

    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", d)
    }

    /// 401 for a request without a bearer token: per RFC 6750 §3.1 the challenge carries no
    /// error code when no authentication was attempted.
    pub fn missing_token(realm: &str) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "invalid_token", "a bearer access token is required");
        e.www_authenticate = Some(format!("Bearer realm=\"{realm}\""));
        e
    }

    /// 401 for a bad bearer token (RFC 6750 §3.1).
    pub fn invalid_token(realm: &str) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "invalid_token", "the access token is not valid");
        e.www_authenticate = Some(format!("Bearer realm=\"{realm}\", error=\"invalid_token\""));
        e
    }

    /// 429: a rate limit of the realm is spent.
    pub fn rate_limited(retry_after_seconds: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            format!("rate limit exceeded; retry after {retry_after_seconds} s"),
        );
        e.retry_after = Some(retry_after_seconds);
        e
    }

    /// 503: too many secret verifications in flight.
    pub fn busy() -> Self {
        let mut e =
            Self::new(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "the server is busy; retry shortly");
        e.retry_after = Some(1);
        e
    }

    /// The error code of [`Self::unknown_realm`].
    pub const UNKNOWN_REALM: &'static str = "not_found";

    pub fn unknown_realm(realm: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, Self::UNKNOWN_REALM, format!("no realm named `{realm}`"))
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        )
    }

    pub fn payload_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", "the body is too large")
    }

    pub fn internal(cause: &dyn fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error at an OAuth2 endpoint");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error")
    }

    pub fn error_code(&self) -> &'static str {
        self.error
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() || e.is_unwritable() {
            let description = if e.is_unavailable() {
                tracing::warn!(error = %e, "the database is unavailable");
                "the database is unavailable; retry shortly"
            } else {
                tracing::error!(error = %e, "the database cannot store changes (disk full or read-only)");
                "the database cannot store changes; retry later"
            };
            let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", description);
            e.retry_after = Some(1);
            return e;
        }
        OAuthError::internal(&e)
    }
}

/// A token check that failed on our side: the database (503 while it is unreachable) or a key.
impl From<crate::tokens::CheckError> for OAuthError {
    fn from(e: crate::tokens::CheckError) -> Self {
        match e {
            crate::tokens::CheckError::Store(e) => e.into(),
            e => OAuthError::internal(&e),
        }
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        resp.insert_header((header::CACHE_CONTROL, "no-store")).insert_header((header::PRAGMA, "no-cache"));
        if let Some(challenge) = &self.www_authenticate
            && let Ok(v) = HeaderValue::from_str(challenge)
        {
            resp.insert_header((header::WWW_AUTHENTICATE, v));
        }
        if let Some(s) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, s));
        }
        resp.json(OAuthBody { error: self.error.to_owned(), error_description: Some(self.description.clone()) })
    }
}

/// An error of the admin API.
#[derive(Debug)]
pub struct AdminError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
    www_authenticate: Option<&'static str>,
    retry_after: Option<u64>,
}

impl AdminError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>, field: Option<String>) -> Self {
        let message = cut(message.into(), MAX_MESSAGE, "…");
        let field = field.map(|f| cut(f, MAX_FIELD, "…"));
        AdminError { status, code, message, field, www_authenticate: None, retry_after: None }
    }

    pub fn invalid_body(message: impl Into<String>, field: Option<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_body", message, field)
    }

    pub fn invalid_query(message: impl Into<String>, field: Option<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_query", message, field)
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be application/json",
            None,
        )
    }

    pub fn payload_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the body is too large", None)
    }

    pub fn invalid_field(e: FieldError) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", e.message, Some(e.field))
    }

    pub fn not_found(what: &str, name: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("no {what} named `{name}`"), None)
    }

    /// No admin route has this method and path.
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no admin API route has this method and path", None)
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message, Some(field.to_owned()))
    }

    /// 401 without a token: the challenge names no error (RFC 6750 §3.1).
    pub fn missing_token() -> Self {
        let mut e = Self::unauthorized();
        e.www_authenticate = Some("Bearer realm=\"latchkey-admin\"");
        e
    }

    pub fn unauthorized() -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer access token from the root realm, or a console session, is required",
            None,
        );
        e.www_authenticate = Some("Bearer realm=\"latchkey-admin\", error=\"invalid_token\"");
        e
    }

    pub fn forbidden() -> Self {
        let mut e =
            Self::new(StatusCode::FORBIDDEN, "forbidden", "the token lacks the `admin` scope of the root realm", None);
        e.www_authenticate = Some("Bearer realm=\"latchkey-admin\", error=\"insufficient_scope\", scope=\"admin\"");
        e
    }

    /// A failed console sign-in: the same answer whatever was wrong.
    pub fn invalid_credentials() -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "wrong username or password", None);
        e.www_authenticate = Some("Session realm=\"latchkey-console\"");
        e
    }

    /// Too many failed sign-ins for this username or address: try again after `seconds`.
    pub fn too_many_attempts(seconds: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!("too many failed attempts; try again in {seconds} s"),
            None,
        );
        e.retry_after = Some(seconds);
        e
    }

    /// Too many password verifications in flight: retry shortly.
    pub fn busy() -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "the server is busy; try again shortly", None);
        e.retry_after = Some(1);
        e
    }

    /// A state-changing request authenticated by the session cookie without its CSRF token.
    pub fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "a request authenticated by the session cookie needs its X-CSRF-Token header",
            None,
        )
    }

    pub fn internal(cause: &dyn fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error in the admin API");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error", None)
    }
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { field } => AdminError::conflict(field, format!("{field} is already taken")),
            other if other.is_unavailable() || other.is_unwritable() => {
                let message = if other.is_unavailable() {
                    tracing::warn!(error = %other, "the database is unavailable");
                    "the database is unavailable; nothing was changed; retry shortly"
                } else {
                    tracing::error!(error = %other, "the database cannot store changes (disk full or read-only)");
                    "the database cannot store changes (disk full or read-only); nothing was changed"
                };
                let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message, None);
                e.retry_after = Some(1);
                e
            }
            other => AdminError::internal(&other),
        }
    }
}

/// A token check that failed on our side: the database (503 while it is unreachable) or a key.
impl From<crate::tokens::CheckError> for AdminError {
    fn from(e: crate::tokens::CheckError) -> Self {
        match e {
            crate::tokens::CheckError::Store(e) => e.into(),
            e => AdminError::internal(&e),
        }
    }
}

impl From<FieldError> for AdminError {
    fn from(e: FieldError) -> Self {
        AdminError::invalid_field(e)
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        if let Some(c) = self.www_authenticate {
            resp.insert_header((header::WWW_AUTHENTICATE, c));
        }
        if let Some(s) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, s));
        }
        resp.json(ErrorEnvelope {
            error: ErrorBody { code: self.code.to_owned(), message: self.message.clone(), field: self.field.clone() },
        })
    }
}

/// The field a serde error names, if any: serde quotes it in backticks ("missing field `name`").
pub fn field_in_serde_message(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_owned())
}
