//! Latchkey's HTTP server: settings, startup, bootstrap, and the routes of the OAuth2
//! endpoints and the admin API. The only crate that knows HTTP.

mod audit;
pub mod bootstrap;
pub mod cli;
mod error;
mod extract;
mod healthcheck;
mod limits;
mod metrics;
pub mod realm_transfer;
mod routes;
mod session;
pub mod settings;
pub mod startup;
mod state;
pub mod telemetry;
mod tokens;
mod verified;

pub use settings::Settings;
pub use startup::Application;
