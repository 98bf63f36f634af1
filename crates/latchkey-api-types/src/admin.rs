//! Requests and responses of the admin REST API under `/admin/v1`.
//!
//! Field names are snake_case; application fields take RFC 7591 names where one exists.
//! Times are whole seconds since the Unix epoch.

use serde::{Deserialize, Deserializer, Serialize};

/// The admin API's one error shape: `{"error": {"code", "message", "field"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable, machine-readable: `invalid_body`, `invalid_field`, `invalid_query`, `not_found`,
    /// `conflict`, `unauthorized`, `forbidden`, `internal`.
    pub code: String,
    pub message: String,
    /// The request field at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// One page of a list, with the total count across all pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

/// `?search=&page=&per_page=` on every list (page from 1; per_page 1 to 200, default 50).
/// `search` is a case-insensitive substring of the names the list is searched by.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    #[serde(default, deserialize_with = "page_number", skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    #[serde(default, deserialize_with = "per_page_number", skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u64>,
}

/// `?page=` from a query string; the error names the parameter, which serde's own ("number too
/// large to fit in target type") does not.
fn page_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    query_number(d, "page")
}

/// `?per_page=` (see [`page_number`]).
fn per_page_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    query_number(d, "per_page")
}

fn query_number<'de, D: Deserializer<'de>>(d: D, name: &str) -> Result<Option<u64>, D::Error> {
    let text = String::deserialize(d)?;
    let error = || serde::de::Error::custom(format!("`{name}` must be a whole number, not `{text}`"));
    text.parse().map(Some).map_err(|_| error())
}

/// Deserializes a present field (even `null`) as `Some(..)`, so a PATCH can tell "absent"
/// (`None`) from "clear it" (`Some(None)`).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Deserializes a present field as `Some(..)` and refuses `null`: a field the API description
/// does not mark nullable is either left out or given a value of its type.
fn some<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// [`some`] for an integer field, which takes any JSON number without a fractional part, as
/// JSON Schema's `integer` does (`300` and `300.0` alike).
fn some_whole<'de, T: TryFrom<i128>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Whole::deserialize(d).map(|w| Some(w.0))
}

/// [`present`] for a nullable integer field (see [`some_whole`]).
fn present_whole<'de, T: TryFrom<i128>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<Whole<T>>::deserialize(d).map(|w| Some(w.map(|w| w.0)))
}

/// A JSON number without a fractional part, in `T`'s range.
struct Whole<T>(T);

impl<'de, T: TryFrom<i128>> Deserialize<'de> for Whole<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, Unexpected, Visitor};
        struct Number;
        impl Visitor<'_> for Number {
            type Value = i128;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: Error>(self, v: i64) -> Result<i128, E> {
                Ok(v.into())
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<i128, E> {
                Ok(v.into())
            }
            fn visit_f64<E: Error>(self, v: f64) -> Result<i128, E> {
                // Below 2^63 every whole f64 is exact as an i128.
                if v.fract() == 0.0 && v.abs() < 9.2e18 {
                    Ok(v as i128)
                } else {
                    Err(E::invalid_value(Unexpected::Float(v), &self))
                }
            }
        }
        let n = d.deserialize_any(Number)?;
        let name = std::any::type_name::<T>();
        T::try_from(n).map(Whole).map_err(|_| match i64::try_from(n) {
            Ok(n) => D::Error::invalid_value(Unexpected::Signed(n), &name),
            Err(_) => D::Error::invalid_value(Unexpected::Other("a number out of range"), &name),
        })
    }
}

/// `POST /admin/v1/session`: an administrator of the `root` realm signs in to the console.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

/// A console session. The session token itself travels only in its HttpOnly cookie; the
/// `csrf_token` goes back in the `X-CSRF-Token` header of every state-changing request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub username: String,
    pub csrf_token: String,
    /// Absolute expiry (Unix seconds), whatever the activity.
    pub expires_at: i64,
    /// Seconds of inactivity after which the session ends.
    pub idle_timeout: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Realm {
    pub name: String,
    pub display_name: String,
    pub enabled: bool,
    /// The realm's OAuth2 issuer URL.
    pub issuer: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRealm {
    pub name: String,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchRealm {
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuth2Provider {
    pub grant_types: Vec<String>,
    pub access_token_lifetime: i64,
    pub default_scopes: Vec<String>,
    pub signing_alg: String,
    pub rate_limits: RateLimits,
    /// Origins allowed by CORS at the token and introspection endpoints (none: CORS is off).
    pub cors_origins: Vec<String>,
}

/// Per-minute budgets of the realm's token, introspection and revocation endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    /// Requests of one authenticated client (0: no limit).
    pub per_client: u32,
    /// Requests from one source address (0: no limit).
    pub per_address: u32,
    /// Failed client authentications per client id and per source address (at least 1).
    pub failed_auth: u32,
}

/// A change to some of the rate limits.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchRateLimits {
    #[serde(default, deserialize_with = "some_whole", skip_serializing_if = "Option::is_none")]
    pub per_client: Option<u32>,
    #[serde(default, deserialize_with = "some_whole", skip_serializing_if = "Option::is_none")]
    pub per_address: Option<u32>,
    #[serde(default, deserialize_with = "some_whole", skip_serializing_if = "Option::is_none")]
    pub failed_auth: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchOAuth2Provider {
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some_whole", skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime: Option<i64>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub default_scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub signing_alg: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<PatchRateLimits>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub cors_origins: Option<Vec<String>>,
}

/// A signing key's public description; the private half never leaves the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    pub alg: String,
    /// `active` (signs new tokens) or `retired` (verifies until its tokens expire).
    pub status: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// `GET /realms/{realm}/keys`: every key still published, not paginated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeys {
    pub items: Vec<SigningKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub client_id: String,
    pub client_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub sign_in_method: String,
    pub application_type: String,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub allowed_scopes: Vec<String>,
    pub default_scopes: Vec<String>,
    pub token_endpoint_auth_method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime: Option<i64>,
    pub owners: Vec<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The answer to a create: the application and, this once, its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApplication {
    #[serde(flatten)]
    pub application: Application,
    /// Present for confidential (web) applications only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateApplication {
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub sign_in_method: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub application_type: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub allowed_scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub default_scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default, deserialize_with = "some_whole", skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime: Option<i64>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub owners: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchApplication {
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub sign_in_method: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub application_type: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub allowed_scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub default_scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default, deserialize_with = "present_whole", skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime: Option<Option<i64>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub owners: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// A new client secret, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecret {
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    pub enabled: bool,
    /// Whether the identity administers Latchkey (root realm only).
    pub is_admin: bool,
    pub has_password: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub family_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "some", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// Any JSON value (the API types crate depends on serde only). Object members are sorted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum JsonValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Array(Vec<JsonValue>),
    Object(std::collections::BTreeMap<String, JsonValue>),
}

/// One event of a realm's audit log (`GET /admin/v1/realms/{realm}/audit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: i64,
    /// When it happened (Unix seconds).
    pub occurred_at: i64,
    /// Who: the admin client id (bearer token), the console username (session), or the OAuth2
    /// client id (for a failed authentication, the id it attempted).
    pub actor: String,
    /// `client` or `user`.
    pub actor_type: String,
    /// What, as `area.verb`: `application.create`, `token.issue`, `client.authentication_failed`, …
    pub action: String,
    /// The client the event concerns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The caller's network address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub summary: String,
    /// The object before the change, as the admin API shows it (never a secret or a hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<JsonValue>,
    /// The object after the change, as the admin API shows it (never a secret or a hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<JsonValue>,
}

/// `?since=&until=&actor=&action=&client=&page=&per_page=` on the audit list. Times are Unix
/// seconds, both inclusive; the others match exactly; empty values filter nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(default, deserialize_with = "page_number", skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    #[serde(default, deserialize_with = "per_page_number", skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u64>,
}
