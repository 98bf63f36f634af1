//! Table `oauth2_providers`: one row per realm.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth2_providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub realm_id: i32,
    /// Space-separated grant type names.
    pub grant_types: String,
    pub access_token_lifetime: i64,
    /// Space-separated scopes.
    pub default_scopes: String,
    pub signing_alg: String,
    /// Per minute; 0 is no limit.
    pub rate_limit_per_client: i32,
    pub rate_limit_per_address: i32,
    pub rate_limit_failed_auth: i32,
    /// Space-separated origins.
    pub cors_origins: String,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
