//! The change log: one row per committed change that a server's in-memory caches must drop
//! (a realm, its provider settings, an application, its signing keys) or learn (a revoked
//! token). Every replica polls it, so a change made at one is enforced by all within a second.
//! Rows are pruned after an hour; no realm foreign key, so a deleted realm's row survives it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("change_log")
                .col(big_pk_auto("id"))
                .col(integer("realm_id"))
                .col(string("kind"))
                .col(string_null("subject"))
                .col(big_integer("changed_at"))
                .take(),
        )
        .await?;
        m.create_index(Index::create().name("ix_change_log_time").table("change_log").col("changed_at").take()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("change_log").take()).await
    }
}
