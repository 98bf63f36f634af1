//! Revoked access tokens, kept until they would have expired anyway.

use crate::entities::revoked_token;
use crate::hot::Change;
use crate::{Result, Store};
use latchkey_core::time::{UnixTime, now};
use latchkey_realms::RealmId;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};

impl Store {
    /// Records `jti` as revoked until `expires_at`. Revoking twice is harmless.
    pub async fn revoke_token(&self, realm: RealmId, jti: &str, expires_at: UnixTime) -> Result<()> {
        let txn = self.db.begin().await?;
        revoked_token::Entity::insert(revoked_token::ActiveModel {
            realm_id: Set(realm.0),
            jti: Set(jti.to_owned()),
            expires_at: Set(expires_at),
        })
        .on_conflict_do_nothing_on([revoked_token::Column::RealmId, revoked_token::Column::Jti])
        .exec_without_returning(&txn)
        .await?;
        let logged = crate::hot::log(&txn, realm, Change::Revocation(jti)).await?;
        txn.commit().await?;
        self.changed(logged);
        // Entries past their token's expiry protect nothing: prune them as we go.
        revoked_token::Entity::delete_many().filter(revoked_token::Column::ExpiresAt.lt(now())).exec(&self.db).await?;
        Ok(())
    }

    pub async fn is_token_revoked(&self, realm: RealmId, jti: &str) -> Result<bool> {
        if !crate::can_exist(jti) {
            return Ok(false);
        }
        let n = revoked_token::Entity::find()
            .filter(revoked_token::Column::RealmId.eq(realm.0))
            .filter(revoked_token::Column::Jti.eq(jti))
            .count(&self.db)
            .await?;
        Ok(n > 0)
    }
}
