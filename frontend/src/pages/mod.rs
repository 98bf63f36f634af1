//! The console's pages, one module per area of the admin API.

pub mod applications;
pub mod audit;
pub mod identities;
pub mod provider;
pub mod realms;
pub mod try_it;
