//! Per-realm rate limits of the token, introspection and revocation endpoints, and the origins
//! CORS allows there. Existing realms get the defaults.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Column and default, in the order they are added.
const COLUMNS: [(&str, i32); 3] =
    [("rate_limit_per_client", 6_000), ("rate_limit_per_address", 12_000), ("rate_limit_failed_auth", 10)];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for (column, default) in COLUMNS {
            m.alter_table(Table::alter().table("oauth2_providers").add_column(integer(column).default(default)).take())
                .await?;
        }
        m.alter_table(Table::alter().table("oauth2_providers").add_column(text("cors_origins").default("")).take())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["cors_origins", "rate_limit_failed_auth", "rate_limit_per_address", "rate_limit_per_client"] {
            m.alter_table(Table::alter().table("oauth2_providers").drop_column(column).take()).await?;
        }
        Ok(())
    }
}
