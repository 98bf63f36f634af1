//! Table `applications`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub realm_id: i32,
    pub client_id: String,
    /// argon2id PHC string; `None` for public clients.
    pub secret_hash: Option<String>,
    pub client_name: String,
    pub description: Option<String>,
    pub sign_in_method: String,
    pub application_type: String,
    /// Space-separated grant type names.
    pub grant_types: String,
    /// JSON array of strings.
    pub redirect_uris: String,
    /// Space-separated scopes.
    pub allowed_scopes: String,
    /// Space-separated scopes.
    pub default_scopes: String,
    pub token_endpoint_auth_method: String,
    pub access_token_lifetime: Option<i64>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
