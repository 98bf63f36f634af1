//! Latchkey's schema migrations. Frozen once released: a change is a new migration.
//!
//! They name tables and columns as plain strings and never import storage's entities, so they
//! stay as written while the entities move on. The same migrations run on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_tables;
mod m20261127_000002_admin_sessions;
mod m20261127_000003_audit_events;
mod m20261127_000004_provider_limits;
mod m20261127_000005_change_log;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_tables::Migration),
            Box::new(m20261127_000002_admin_sessions::Migration),
            Box::new(m20261127_000003_audit_events::Migration),
            Box::new(m20261127_000004_provider_limits::Migration),
            Box::new(m20261127_000005_change_log::Migration),
        ]
    }
}
