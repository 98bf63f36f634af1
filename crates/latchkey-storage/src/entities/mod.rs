//! sea-orm entities, one per table. Private to this crate: nothing outside sees a row type.

pub mod admin_session;
pub mod application;
pub mod application_owner;
pub mod audit_event;
pub mod change_log;
pub mod oauth2_provider;
pub mod realm;
pub mod revoked_token;
pub mod signing_key;
pub mod user;
