//! Table `audit_events`: the audit log, one row per event.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub realm_id: i32,
    pub occurred_at: i64,
    pub actor: String,
    pub actor_type: String,
    pub action: String,
    pub client_id: Option<String>,
    pub source: Option<String>,
    pub summary: String,
    /// JSON text, never holding a secret or a hash.
    pub before: Option<String>,
    /// JSON text, never holding a secret or a hash.
    pub after: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
