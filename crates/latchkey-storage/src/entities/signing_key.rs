//! Table `signing_keys`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    pub realm_id: i32,
    pub alg: String,
    /// AES-256-GCM under the master key; never plaintext.
    pub sealed_private_key: Vec<u8>,
    pub public_jwk: String,
    pub status: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    pub expires_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
