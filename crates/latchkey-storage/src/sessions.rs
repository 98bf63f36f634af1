//! Console sessions of administrators, stored by the digest of their token.

use crate::entities::{admin_session, user};
use crate::users::to_user;
use crate::{Result, Store};
use latchkey_core::time::{UnixTime, now};
use latchkey_identities::{User, UserId};
use latchkey_realms::RealmId;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

/// A stored session and the identity it belongs to.
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub realm: RealmId,
    pub user: User,
    pub created_at: UnixTime,
    pub last_seen_at: UnixTime,
    pub expires_at: UnixTime,
}

impl Store {
    /// Stores a new session and prunes the ones past their absolute expiry.
    pub async fn create_admin_session(&self, user: UserId, token_digest: &str, expires_at: UnixTime) -> Result<()> {
        let t = now();
        // One transaction, so that a failed commit is reported (see `create_user`).
        let txn = self.db.begin().await?;
        admin_session::Entity::delete_many().filter(admin_session::Column::ExpiresAt.lt(t)).exec(&txn).await?;
        admin_session::Entity::insert(admin_session::ActiveModel {
            token_digest: Set(token_digest.to_owned()),
            user_id: Set(user.0),
            created_at: Set(t),
            last_seen_at: Set(t),
            expires_at: Set(expires_at),
        })
        .exec(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn find_admin_session(&self, token_digest: &str) -> Result<Option<AdminSession>> {
        let Some(s) = admin_session::Entity::find_by_id(token_digest.to_owned()).one(&self.db).await? else {
            return Ok(None);
        };
        // The foreign key cascades, so the identity exists while its session does.
        let Some(u) = user::Entity::find_by_id(s.user_id).one(&self.db).await? else {
            return Ok(None);
        };
        Ok(Some(AdminSession {
            realm: RealmId(u.realm_id),
            user: to_user(u)?,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
        }))
    }

    /// Records activity on a session (for its idle expiry).
    pub async fn touch_admin_session(&self, token_digest: &str, at: UnixTime) -> Result<()> {
        admin_session::Entity::update_many()
            .col_expr(admin_session::Column::LastSeenAt, sea_orm::sea_query::Expr::value(at))
            .filter(admin_session::Column::TokenDigest.eq(token_digest))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub async fn delete_admin_session(&self, token_digest: &str) -> Result<()> {
        admin_session::Entity::delete_by_id(token_digest.to_owned()).exec(&self.db).await?;
        Ok(())
    }
}
