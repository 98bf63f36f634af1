//! Typed client of the admin API (`/admin/v1`, same origin, cookie session + CSRF header) and of
//! a realm's OAuth2 endpoints (for "Try it").

use gloo_net::http::{Method, RequestBuilder, Response};
use latchkey_api_types::admin::{
    Application, ClientSecret, CreateApplication, CreateRealm, CreateUser, CreatedApplication, OAuth2Provider,
    PatchApplication, PatchOAuth2Provider, PatchRealm, PatchUser, Realm, Session, SignIn, SigningKey, SigningKeys,
    User,
};
use latchkey_api_types::{ErrorBody, ErrorEnvelope, Page};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::rc::Rc;

const ADMIN: &str = "/admin/v1";

thread_local! {
    /// The session's CSRF token, in memory only: sent as `X-CSRF-Token` on every non-GET call.
    static CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
    /// What to do when the admin API answers 401 (the app goes to the login page).
    static ON_UNAUTHORIZED: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
}

pub fn set_csrf(token: Option<String>) {
    CSRF.with(|c| *c.borrow_mut() = token);
}

pub fn on_unauthorized(f: impl Fn() + 'static) {
    ON_UNAUTHORIZED.with(|h| *h.borrow_mut() = Some(Rc::new(f)));
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// An answer in the admin API's error envelope (or one made up locally for a form field).
    Api { status: u16, error: ErrorBody, retry_after: Option<u64> },
    /// No answer, or one that is not the expected shape.
    Network(String),
}

impl ApiError {
    /// A field error found before sending (e.g. a number that does not parse).
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Api {
            status: 0,
            error: ErrorBody { code: "invalid_field".into(), message: message.into(), field: Some(field.into()) },
            retry_after: None,
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Api { status, .. } => *status,
            ApiError::Network(_) => 0,
        }
    }

    /// The input of the request field at fault: `redirect_uris[0]` is `redirect_uris`, and a
    /// nested `rate_limits.per_client` is `rate_limits_per_client`.
    pub fn field_name(&self) -> Option<String> {
        match self {
            ApiError::Api { error, .. } => {
                error.field.as_deref().map(|f| f.split('[').next().unwrap_or(f).replace('.', "_"))
            }
            ApiError::Network(_) => None,
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::Api { error, .. } => capitalize(&error.message),
            ApiError::Network(m) => format!("The server could not be reached ({m})."),
        }
    }
}

/// Capitalizes a message that starts with a plain word (not one that starts with an
/// identifier such as `client_credentials`).
fn capitalize(s: &str) -> String {
    let first = s.split_whitespace().next().unwrap_or_default();
    if !first.chars().all(|c| c.is_ascii_lowercase()) {
        return s.to_owned();
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Percent-encodes one path segment.
pub fn seg(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

async fn decode_error(resp: Response) -> ApiError {
    let status = resp.status();
    let retry_after = resp.headers().get("retry-after").and_then(|v| v.trim().parse().ok());
    let text = resp.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorEnvelope>(&text) {
        Ok(env) => ApiError::Api { status, error: env.error, retry_after },
        Err(_) => ApiError::Api {
            status,
            error: ErrorBody {
                code: "http".into(),
                message: format!("the server answered {status} {}", resp.status_text()),
                field: None,
            },
            retry_after,
        },
    }
}

/// Sends one admin API request; a 401 (other than on `/session` itself) hands over to the
/// unauthorized handler.
async fn send(method: Method, path: &str, body: Option<String>) -> Result<Response, ApiError> {
    let url = format!("{ADMIN}{path}");
    let mut req = RequestBuilder::new(&url).method(method.clone()).header("Accept", "application/json");
    if method != Method::GET
        && let Some(token) = CSRF.with(|c| c.borrow().clone())
    {
        req = req.header("X-CSRF-Token", &token);
    }
    let req = match body {
        Some(b) => req.header("Content-Type", "application/json").body(b),
        None => req.build(),
    }
    .map_err(|e| ApiError::Network(e.to_string()))?;
    let resp = req.send().await.map_err(|e| ApiError::Network(e.to_string()))?;
    if resp.ok() {
        return Ok(resp);
    }
    let err = decode_error(resp).await;
    if err.status() == 401
        && path != "/session"
        && let Some(h) = ON_UNAUTHORIZED.with(|h| h.borrow().clone())
    {
        h();
    }
    Err(err)
}

async fn json<T: DeserializeOwned>(method: Method, path: &str, body: Option<String>) -> Result<T, ApiError> {
    let resp = send(method, path, body).await?;
    resp.json::<T>().await.map_err(|e| ApiError::Network(e.to_string()))
}

fn body<B: Serialize>(b: &B) -> Option<String> {
    Some(serde_json::to_string(b).unwrap_or_default())
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    json(Method::GET, path, None).await
}

async fn post<B: Serialize, T: DeserializeOwned>(path: &str, b: &B) -> Result<T, ApiError> {
    json(Method::POST, path, body(b)).await
}

async fn patch<B: Serialize, T: DeserializeOwned>(path: &str, b: &B) -> Result<T, ApiError> {
    json(Method::PATCH, path, body(b)).await
}

async fn delete(path: &str) -> Result<(), ApiError> {
    send(Method::DELETE, path, None).await.map(|_| ())
}

fn list_query(search: &str, page: u64, per_page: u64) -> String {
    let mut q = format!("?page={page}&per_page={per_page}");
    if !search.trim().is_empty() {
        q.push_str("&search=");
        q.push_str(&seg(search.trim()));
    }
    q
}

// ---- session

pub async fn sign_in(username: String, password: String) -> Result<Session, ApiError> {
    post("/session", &SignIn { username, password }).await
}

pub async fn current_session() -> Result<Session, ApiError> {
    get("/session").await
}

pub async fn sign_out() -> Result<(), ApiError> {
    delete("/session").await
}

// ---- realms

pub async fn list_realms(page: u64, per_page: u64) -> Result<Page<Realm>, ApiError> {
    get(&format!("/realms{}", list_query("", page, per_page))).await
}

pub async fn create_realm(b: CreateRealm) -> Result<Realm, ApiError> {
    post("/realms", &b).await
}

pub async fn patch_realm(realm: String, b: PatchRealm) -> Result<Realm, ApiError> {
    patch(&format!("/realms/{}", seg(&realm)), &b).await
}

pub async fn delete_realm(realm: String) -> Result<(), ApiError> {
    delete(&format!("/realms/{}", seg(&realm))).await
}

// ---- OAuth2 provider and keys

pub async fn provider(realm: String) -> Result<OAuth2Provider, ApiError> {
    get(&format!("/realms/{}/oauth2-provider", seg(&realm))).await
}

pub async fn patch_provider(realm: String, b: PatchOAuth2Provider) -> Result<OAuth2Provider, ApiError> {
    patch(&format!("/realms/{}/oauth2-provider", seg(&realm)), &b).await
}

pub async fn keys(realm: String) -> Result<Vec<SigningKey>, ApiError> {
    get::<SigningKeys>(&format!("/realms/{}/keys", seg(&realm))).await.map(|k| k.items)
}

pub async fn rotate_key(realm: String) -> Result<SigningKey, ApiError> {
    json(Method::POST, &format!("/realms/{}/keys/rotate", seg(&realm)), None).await
}

// ---- applications

pub async fn list_applications(
    realm: String,
    search: String,
    page: u64,
    per_page: u64,
) -> Result<Page<Application>, ApiError> {
    get(&format!("/realms/{}/applications{}", seg(&realm), list_query(&search, page, per_page))).await
}

pub async fn application(realm: String, client_id: String) -> Result<Application, ApiError> {
    get(&format!("/realms/{}/applications/{}", seg(&realm), seg(&client_id))).await
}

pub async fn create_application(realm: String, b: CreateApplication) -> Result<CreatedApplication, ApiError> {
    post(&format!("/realms/{}/applications", seg(&realm)), &b).await
}

pub async fn patch_application(realm: String, client_id: String, b: PatchApplication) -> Result<Application, ApiError> {
    patch(&format!("/realms/{}/applications/{}", seg(&realm), seg(&client_id)), &b).await
}

pub async fn delete_application(realm: String, client_id: String) -> Result<(), ApiError> {
    delete(&format!("/realms/{}/applications/{}", seg(&realm), seg(&client_id))).await
}

pub async fn rotate_secret(realm: String, client_id: String) -> Result<ClientSecret, ApiError> {
    json(Method::POST, &format!("/realms/{}/applications/{}/secret", seg(&realm), seg(&client_id)), None).await
}

// ---- users (identities)

pub async fn list_users(realm: String, search: String, page: u64, per_page: u64) -> Result<Page<User>, ApiError> {
    get(&format!("/realms/{}/users{}", seg(&realm), list_query(&search, page, per_page))).await
}

pub async fn user(realm: String, username: String) -> Result<User, ApiError> {
    get(&format!("/realms/{}/users/{}", seg(&realm), seg(&username))).await
}

pub async fn create_user(realm: String, b: CreateUser) -> Result<User, ApiError> {
    post(&format!("/realms/{}/users", seg(&realm)), &b).await
}

pub async fn patch_user(realm: String, username: String, b: PatchUser) -> Result<User, ApiError> {
    patch(&format!("/realms/{}/users/{}", seg(&realm), seg(&username)), &b).await
}

pub async fn delete_user(realm: String, username: String) -> Result<(), ApiError> {
    delete(&format!("/realms/{}/users/{}", seg(&realm), seg(&username))).await
}

// ---- audit log

/// The audit list's filters, as the API takes them (empty: no filter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilters {
    pub since: String,
    pub until: String,
    pub actor: String,
    pub action: String,
    pub client: String,
}

pub async fn audit(
    realm: String,
    f: AuditFilters,
    page: u64,
    per_page: u64,
) -> Result<Page<latchkey_api_types::admin::AuditEvent>, ApiError> {
    let mut q = format!("?page={page}&per_page={per_page}");
    for (k, v) in
        [("since", &f.since), ("until", &f.until), ("actor", &f.actor), ("action", &f.action), ("client", &f.client)]
    {
        if !v.trim().is_empty() {
            q.push_str(&format!("&{k}={}", seg(v.trim())));
        }
    }
    get(&format!("/realms/{}/audit{q}", seg(&realm))).await
}

// ---- a realm's OAuth2 endpoints ("Try it")

/// How the client authenticates at the token and introspection endpoints (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Basic,
    Post,
}

/// An OAuth2 endpoint's answer: its status and body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthReply {
    pub status: u16,
    pub body: String,
}

/// POSTs an `application/x-www-form-urlencoded` form to `/oauth2/realms/{realm}/{endpoint}`,
/// authenticating as the client. Nothing is stored.
pub async fn oauth_post(
    realm: &str,
    endpoint: &str,
    auth: ClientAuth,
    client_id: &str,
    secret: &str,
    params: &[(&str, &str)],
) -> Result<OAuthReply, String> {
    use crate::util::form_urlencode;
    let mut form: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", form_urlencode(v))).collect();
    let url = format!("/oauth2/realms/{}/{endpoint}", seg(realm));
    // No cookies, and above all no browser login prompt on a 401 `WWW-Authenticate: Basic`
    // (Fetch: a request that does not include credentials never prompts).
    let mut req = RequestBuilder::new(&url)
        .method(Method::POST)
        .credentials(web_sys::RequestCredentials::Omit)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json");
    match auth {
        ClientAuth::Basic => req = req.header("Authorization", &crate::util::basic_auth(client_id, secret)),
        ClientAuth::Post => {
            form.push(format!("client_id={}", form_urlencode(client_id)));
            form.push(format!("client_secret={}", form_urlencode(secret)));
        }
    }
    let resp = req.body(form.join("&")).map_err(|e| e.to_string())?.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = resp.text().await.map_err(|e| e.to_string())?;
    Ok(OAuthReply { status, body })
}
