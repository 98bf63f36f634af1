//! Signing keys of a realm: the active one, the retired ones still verifying, rotation.

use crate::entities::{application, oauth2_provider, signing_key};
use crate::hot::Change;
use crate::{Result, Store, corrupt};
use latchkey_core::time::{UnixTime, now};
use latchkey_oauth2::{KeyStatus, NewSigningKey, SigningKey};
use latchkey_realms::RealmId;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

fn to_key(m: signing_key::Model) -> Result<SigningKey> {
    Ok(SigningKey {
        alg: m.alg.parse().map_err(corrupt)?,
        status: KeyStatus::parse(&m.status).ok_or_else(|| corrupt("unknown key status"))?,
        kid: m.kid,
        sealed_private_key: m.sealed_private_key,
        public_jwk: m.public_jwk,
        created_at: m.created_at,
        retired_at: m.retired_at,
        expires_at: m.expires_at,
    })
}

/// The row of a new active key.
pub(crate) fn new_key_row(realm: RealmId, key: NewSigningKey, at: UnixTime) -> signing_key::ActiveModel {
    signing_key::ActiveModel {
        kid: Set(key.kid),
        realm_id: Set(realm.0),
        alg: Set(key.alg.as_str().to_owned()),
        sealed_private_key: Set(key.sealed_private_key),
        public_jwk: Set(key.public_jwk),
        status: Set(KeyStatus::Active.as_str().to_owned()),
        created_at: Set(at),
        retired_at: Set(None),
        expires_at: Set(None),
    }
}

/// Retired keys whose last token may still be alive at `at`, and the active key.
fn usable_at(realm: RealmId, at: UnixTime) -> Condition {
    Condition::all().add(signing_key::Column::RealmId.eq(realm.0)).add(
        Condition::any()
            .add(signing_key::Column::Status.eq(KeyStatus::Active.as_str()))
            .add(signing_key::Column::ExpiresAt.gt(at)),
    )
}

impl Store {
    /// The key that signs new tokens.
    pub async fn active_key(&self, realm: RealmId) -> Result<SigningKey> {
        let row = signing_key::Entity::find()
            .filter(signing_key::Column::RealmId.eq(realm.0))
            .filter(signing_key::Column::Status.eq(KeyStatus::Active.as_str()))
            .one(&self.db)
            .await?
            .ok_or_else(|| corrupt("realm without an active signing key"))?;
        to_key(row)
    }

    /// The active key and the retired keys some unexpired token may still need, newest first.
    pub async fn verification_keys(&self, realm: RealmId) -> Result<Vec<SigningKey>> {
        signing_key::Entity::find()
            .filter(usable_at(realm, now()))
            .order_by_desc(signing_key::Column::CreatedAt)
            .all(&self.db)
            .await?
            .into_iter()
            .map(to_key)
            .collect()
    }

    /// One usable key of the realm by id (for verifying a presented token).
    pub async fn verification_key(&self, realm: RealmId, kid: &str) -> Result<Option<SigningKey>> {
        if !crate::can_exist(kid) {
            return Ok(None);
        }
        signing_key::Entity::find()
            .filter(usable_at(realm, now()))
            .filter(signing_key::Column::Kid.eq(kid))
            .one(&self.db)
            .await?
            .map(to_key)
            .transpose()
    }

    /// The longest lifetime any token of the realm can have now: the realm's, or a client's
    /// override if longer.
    pub async fn max_access_token_lifetime(&self, realm: RealmId) -> Result<i64> {
        let provider: Option<i64> = oauth2_provider::Entity::find_by_id(realm.0)
            .select_only()
            .column(oauth2_provider::Column::AccessTokenLifetime)
            .into_tuple()
            .one(&self.db)
            .await?;
        let clients: Option<Option<i64>> = application::Entity::find()
            .filter(application::Column::RealmId.eq(realm.0))
            .select_only()
            .column_as(application::Column::AccessTokenLifetime.max(), "max")
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(provider.unwrap_or(0).max(clients.flatten().unwrap_or(0)))
    }

    /// Makes `new` the active key. The old active key retires and stays published until
    /// `retired_expires_at`; retired keys past their time are dropped.
    pub async fn rotate_key(
        &self,
        realm: RealmId,
        new: NewSigningKey,
        retired_expires_at: UnixTime,
    ) -> Result<SigningKey> {
        let t = now();
        let txn = self.db.begin().await?;
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::Status, Expr::value(KeyStatus::Retired.as_str()))
            .col_expr(signing_key::Column::RetiredAt, Expr::value(t))
            .col_expr(signing_key::Column::ExpiresAt, Expr::value(retired_expires_at))
            .filter(signing_key::Column::RealmId.eq(realm.0))
            .filter(signing_key::Column::Status.eq(KeyStatus::Active.as_str()))
            .exec(&txn)
            .await?;
        signing_key::Entity::delete_many()
            .filter(signing_key::Column::RealmId.eq(realm.0))
            .filter(signing_key::Column::Status.eq(KeyStatus::Retired.as_str()))
            .filter(signing_key::Column::ExpiresAt.lte(t))
            .exec(&txn)
            .await?;
        let row = new_key_row(realm, new, t).insert(&txn).await?;
        let logged = crate::hot::log(&txn, realm, Change::Keys).await?;
        txn.commit().await?;
        self.changed(logged);
        to_key(row)
    }
}
