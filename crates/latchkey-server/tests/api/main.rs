//! Latchkey's integration tests: the real server on a free port, on SQLite and on PostgreSQL.
//!
//! Each test is written once as `async fn name(backend: Backend)` and instantiated for both
//! backends by `both_backends!`. PostgreSQL must be reachable (`LATCHKEY_TEST_POSTGRES_URL`,
//! default `postgres://postgres@127.0.0.1:5432/postgres`): its tests fail, never skip, without it.

#![allow(clippy::type_complexity)] // table tests name their columns in a tuple

#[macro_use]
mod helpers;

mod admin;
mod audit;
mod console;
mod demo;
mod errors;
mod faults;
mod isolation;
mod keys;
mod limits;
mod negative;
mod observability;
mod process;
mod replicas;
mod transfer;
