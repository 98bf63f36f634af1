//! The first schema: realms, their OAuth2 providers and signing keys, applications and their
//! owners, users, and revoked tokens.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn realm_fk(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_realm"))
        .from(table, "realm_id")
        .to("realms", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("realms")
                .col(pk_auto("id"))
                .col(string_uniq("name"))
                .col(string("display_name"))
                .col(boolean("enabled"))
                .col(big_integer("created_at"))
                .col(big_integer("updated_at"))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("oauth2_providers")
                .col(integer("realm_id").primary_key())
                .col(text("grant_types"))
                .col(big_integer("access_token_lifetime"))
                .col(text("default_scopes"))
                .col(string("signing_alg"))
                .col(big_integer("updated_at"))
                .foreign_key(&mut realm_fk("oauth2_providers"))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("signing_keys")
                .col(string("kid").primary_key())
                .col(integer("realm_id"))
                .col(string("alg"))
                .col(blob("sealed_private_key"))
                .col(text("public_jwk"))
                .col(string("status"))
                .col(big_integer("created_at"))
                .col(big_integer_null("retired_at"))
                .col(big_integer_null("expires_at"))
                .foreign_key(&mut realm_fk("signing_keys"))
                .take(),
        )
        .await?;
        m.create_index(Index::create().name("ix_signing_keys_realm").table("signing_keys").col("realm_id").take())
            .await?;
        // At most one active key per realm, whatever races two rotations run. sea-query has no
        // partial indexes; this statement is the same on SQLite and PostgreSQL.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_signing_keys_one_active ON signing_keys (realm_id) WHERE status = 'active'",
            )
            .await?;

        m.create_table(
            Table::create()
                .table("applications")
                .col(pk_auto("id"))
                .col(integer("realm_id"))
                .col(string("client_id"))
                .col(text_null("secret_hash"))
                .col(string("client_name"))
                .col(text_null("description"))
                .col(string("sign_in_method"))
                .col(string("application_type"))
                .col(text("grant_types"))
                .col(text("redirect_uris"))
                .col(text("allowed_scopes"))
                .col(text("default_scopes"))
                .col(string("token_endpoint_auth_method"))
                .col(big_integer_null("access_token_lifetime"))
                .col(boolean("enabled"))
                .col(big_integer("created_at"))
                .col(big_integer("updated_at"))
                .foreign_key(&mut realm_fk("applications"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_applications_realm_client")
                .table("applications")
                .col("realm_id")
                .col("client_id")
                .unique()
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("users")
                .col(pk_auto("id"))
                .col(integer("realm_id"))
                .col(string("username"))
                .col(text_null("password_hash"))
                .col(string_null("email"))
                .col(string_null("given_name"))
                .col(string_null("family_name"))
                .col(boolean("enabled"))
                .col(boolean("is_admin"))
                .col(big_integer("created_at"))
                .col(big_integer("updated_at"))
                .foreign_key(&mut realm_fk("users"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_users_realm_username")
                .table("users")
                .col("realm_id")
                .col("username")
                .unique()
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("application_owners")
                .col(integer("application_id"))
                .col(integer("user_id"))
                .primary_key(Index::create().col("application_id").col("user_id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_application_owners_application")
                        .from("application_owners", "application_id")
                        .to("applications", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_application_owners_user")
                        .from("application_owners", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("revoked_tokens")
                .col(integer("realm_id"))
                .col(string("jti"))
                .col(big_integer("expires_at"))
                .primary_key(Index::create().col("realm_id").col("jti"))
                .foreign_key(&mut realm_fk("revoked_tokens"))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "revoked_tokens",
            "application_owners",
            "users",
            "applications",
            "signing_keys",
            "oauth2_providers",
            "realms",
        ] {
            m.drop_table(Table::drop().table(table).take()).await?;
        }
        Ok(())
    }
}
