//! The OAuth2 provider of a realm: its settings, the client credentials grant, signing keys
//! (encrypted at rest under the master key) and RFC 9068 JWT access tokens.
//!
//! Pure rules and cryptography: no HTTP, no SQL.

pub mod grant;
pub mod keys;
pub mod provider;
pub mod token;
pub mod wire;

pub use grant::{GrantError, client_credentials};
pub use keys::{KeyError, KeyStatus, MasterKey, NewSigningKey, Signer, SigningKey, Verifier};
pub use provider::{Origin, ProviderPatch, ProviderSettings, RateLimits, SigningAlg};
pub use token::{AccessTokenClaims, TokenError, UnverifiedToken, peek, verify};
