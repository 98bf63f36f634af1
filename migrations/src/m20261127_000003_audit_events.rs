//! The audit log: admin changes, token issuance, failed client authentication and revocation,
//! one row per event, in the realm they concern (deleting the realm deletes its events).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every filter of the audit list is realm-scoped and ordered by time.
const INDEXES: [(&str, &[&str]); 4] = [
    ("ix_audit_events_realm_time", &["realm_id", "occurred_at"]),
    ("ix_audit_events_realm_actor", &["realm_id", "actor", "occurred_at"]),
    ("ix_audit_events_realm_action", &["realm_id", "action", "occurred_at"]),
    ("ix_audit_events_realm_client", &["realm_id", "client_id", "occurred_at"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("audit_events")
                .col(big_pk_auto("id"))
                .col(integer("realm_id"))
                .col(big_integer("occurred_at"))
                .col(string("actor"))
                .col(string("actor_type"))
                .col(string("action"))
                .col(string_null("client_id"))
                .col(string_null("source"))
                .col(text("summary"))
                .col(text_null("before"))
                .col(text_null("after"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_audit_events_realm")
                        .from("audit_events", "realm_id")
                        .to("realms", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        for (name, cols) in INDEXES {
            let mut index = Index::create();
            index.name(name).table("audit_events");
            for c in cols {
                index.col(*c);
            }
            m.create_index(index.take()).await?;
        }
        // Pruning by age crosses realms.
        m.create_index(Index::create().name("ix_audit_events_time").table("audit_events").col("occurred_at").take())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("audit_events").take()).await
    }
}
