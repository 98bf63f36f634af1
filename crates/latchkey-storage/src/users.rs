//! Identities of a realm.

use crate::entities::user;
use crate::{Paged, Result, Store, StoreError, corrupt};
use latchkey_core::secret::SecretHash;
use latchkey_core::time::now;
use latchkey_identities::{NewUser, User, UserId, Username};
use latchkey_realms::RealmId;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait};

pub(crate) fn to_user(m: user::Model) -> Result<User> {
    Ok(User {
        id: UserId(m.id),
        username: Username::parse(&m.username).map_err(corrupt)?,
        password_hash: m.password_hash.map(SecretHash::from_phc).transpose().map_err(corrupt)?,
        email: m.email,
        given_name: m.given_name,
        family_name: m.family_name,
        enabled: m.enabled,
        is_admin: m.is_admin,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

impl Store {
    pub async fn create_user(&self, realm: RealmId, new: NewUser) -> Result<User> {
        let t = now();
        // In a transaction, like every write that reads back what it wrote: alone, SQLite's
        // INSERT … RETURNING hands back the row before it commits, and a failed commit (a full
        // disk) would go unreported.
        let txn = self.db.begin().await?;
        let row = user::ActiveModel {
            realm_id: Set(realm.0),
            username: Set(new.username.as_str().to_owned()),
            password_hash: Set(new.password_hash.map(|h| h.as_phc().to_owned())),
            email: Set(new.email),
            given_name: Set(new.given_name),
            family_name: Set(new.family_name),
            enabled: Set(new.enabled),
            is_admin: Set(new.is_admin),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(StoreError::conflict_on("username"))?;
        txn.commit().await?;
        to_user(row)
    }

    pub async fn find_user(&self, realm: RealmId, username: &str) -> Result<Option<User>> {
        if !crate::can_exist(username) {
            return Ok(None);
        }
        user::Entity::find()
            .filter(user::Column::RealmId.eq(realm.0))
            .filter(user::Column::Username.eq(username))
            .one(&self.db)
            .await?
            .map(to_user)
            .transpose()
    }

    /// Resolves usernames of `realm` to ids; the `Err` names the first unknown one.
    pub async fn resolve_users(&self, realm: RealmId, usernames: &[String]) -> Result<Result<Vec<UserId>, String>> {
        if usernames.is_empty() {
            return Ok(Ok(vec![]));
        }
        if let Some(bad) = usernames.iter().find(|u| !crate::can_exist(u)) {
            return Ok(Err(bad.clone()));
        }
        let rows = user::Entity::find()
            .filter(user::Column::RealmId.eq(realm.0))
            .filter(user::Column::Username.is_in(usernames.iter().cloned()))
            .all(&self.db)
            .await?;
        let mut ids = Vec::with_capacity(usernames.len());
        for name in usernames {
            match rows.iter().find(|r| &r.username == name) {
                Some(r) if !ids.contains(&UserId(r.id)) => ids.push(UserId(r.id)),
                Some(_) => {}
                None => return Ok(Err(name.clone())),
            }
        }
        Ok(Ok(ids))
    }

    /// A page of the realm's identities; `search` matches username, email and names.
    pub async fn list_users(
        &self,
        realm: RealmId,
        search: Option<&str>,
        page: u64,
        per_page: u64,
    ) -> Result<Paged<User>> {
        use user::Column as C;
        let mut q = user::Entity::find().filter(C::RealmId.eq(realm.0));
        if let Some(s) = search.filter(|s| !s.is_empty()) {
            q = q.filter(crate::contains_any(&[C::Username, C::Email, C::GivenName, C::FamilyName], s));
        }
        let pages = q.order_by_asc(user::Column::Username).paginate(&self.db, per_page);
        let total = pages.num_items().await?;
        let items = pages.fetch_page(page - 1).await?.into_iter().map(to_user).collect::<Result<_>>()?;
        Ok(Paged { items, total })
    }

    pub async fn update_user(&self, realm: RealmId, u: &User) -> Result<User> {
        let row = user::ActiveModel {
            id: Set(u.id.0),
            realm_id: Set(realm.0),
            username: Set(u.username.as_str().to_owned()),
            password_hash: Set(u.password_hash.as_ref().map(|h| h.as_phc().to_owned())),
            email: Set(u.email.clone()),
            given_name: Set(u.given_name.clone()),
            family_name: Set(u.family_name.clone()),
            enabled: Set(u.enabled),
            is_admin: Set(u.is_admin),
            created_at: Set(u.created_at),
            updated_at: Set(now()),
        };
        // `u` was read through a realm-scoped lookup, so its id belongs to `realm`. In a
        // transaction so that a failed commit is reported (see `create_user`).
        let txn = self.db.begin().await?;
        let updated = row.update(&txn).await?;
        txn.commit().await?;
        to_user(updated)
    }

    pub async fn delete_user(&self, realm: RealmId, username: &str) -> Result<bool> {
        if !crate::can_exist(username) {
            return Ok(false);
        }
        let res = user::Entity::delete_many()
            .filter(user::Column::RealmId.eq(realm.0))
            .filter(user::Column::Username.eq(username))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected > 0)
    }
}
