//! Console sign-in sessions of administrators. The session token itself is never stored: only
//! its SHA-256 digest, so a database read does not yield a usable cookie.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("admin_sessions")
                .col(string("token_digest").primary_key())
                .col(integer("user_id"))
                .col(big_integer("created_at"))
                .col(big_integer("last_seen_at"))
                .col(big_integer("expires_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_admin_sessions_user")
                        .from("admin_sessions", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("admin_sessions").take()).await
    }
}
