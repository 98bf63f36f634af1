//! Shared vocabulary of Latchkey: scopes, grant types, time and secret hashing.
//!
//! Every other crate speaks these types; none of them knows HTTP or SQL.

mod grant_type;
mod scope;
pub mod secret;
pub mod time;

pub use grant_type::{GrantType, UnknownGrantType};
pub use scope::{Scope, ScopeError, ScopeSet};

/// A rule broken by one named field of an admin request; the admin API reports it as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl ToString) -> Self {
        FieldError { field: field.into(), message: message.to_string() }
    }
}
