//! Latchkey's admin console: a Leptos client-side app mounted at `/console`, a client of the
//! admin API (`/admin/v1`) on the same origin. Wire types come from `latchkey-api-types`.

mod api;
mod app;
mod components;
mod pages;
mod util;

pub use app::App;
