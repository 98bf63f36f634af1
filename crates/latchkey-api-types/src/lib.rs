//! Wire types of Latchkey: the admin API's requests and responses, the OAuth2 endpoints'
//! responses, and both error shapes. serde only, so the wasm console can share them.

pub mod admin;
pub mod oauth2;

pub use admin::{ErrorBody, ErrorEnvelope, Page};
pub use oauth2::OAuthError;
