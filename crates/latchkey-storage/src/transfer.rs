//! Whole-realm reads and the one-transaction apply behind `latchkey realm export` and `import`.

use crate::entities::{application, application_owner, realm, user};
use crate::{Result, Store, StoreError, corrupt};
use latchkey_applications::{Application, ApplicationSettings, ClientId};
use latchkey_core::secret::SecretHash;
use latchkey_core::time::now;
use latchkey_identities::{User, Username};
use latchkey_oauth2::{NewSigningKey, ProviderSettings};
use latchkey_realms::{RealmId, RealmName};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use std::collections::HashMap;

/// What an import writes to one realm. Only what differs from the database is in it, so a
/// second import of the same file writes nothing. (No `Debug`: it carries a private key.)
pub struct RealmImport {
    pub name: RealmName,
    /// `Some` when the realm does not exist yet: it is created with `provider` (which must then
    /// be `Some`) and this first signing key.
    pub new_key: Option<NewSigningKey>,
    /// New display name and enabled flag, when they change (or the realm is new).
    pub realm: Option<(String, bool)>,
    /// The provider settings, when they change (or the realm is new).
    pub provider: Option<ProviderSettings>,
    /// Identities to create or update, by username.
    pub users: Vec<ImportUser>,
    /// Applications to create or update, by client id; after `users`, so owners may be new.
    pub applications: Vec<ImportApplication>,
}

#[derive(Debug)]
pub struct ImportUser {
    pub username: Username,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub enabled: bool,
    /// `None` keeps the stored hash (a new identity then has no password).
    pub password_hash: Option<SecretHash>,
}

#[derive(Debug)]
pub struct ImportApplication {
    pub client_id: ClientId,
    pub settings: ApplicationSettings,
    /// `None` keeps the stored hash (a new application then has no secret).
    pub secret_hash: Option<SecretHash>,
    /// The complete owner list, by username; each exists in the realm once `users` are applied.
    pub owners: Vec<Username>,
}

impl Store {
    /// Every application of `realm` with its owners' usernames, both sorted.
    pub async fn realm_applications(&self, realm: RealmId) -> Result<Vec<(Application, Vec<String>)>> {
        let apps = application::Entity::find()
            .filter(application::Column::RealmId.eq(realm.0))
            .order_by_asc(application::Column::ClientId)
            .all(&self.db)
            .await?;
        let names: HashMap<i32, String> = user::Entity::find()
            .filter(user::Column::RealmId.eq(realm.0))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.username))
            .collect();
        let ids: Vec<i32> = apps.iter().map(|a| a.id).collect();
        let mut owners: HashMap<i32, Vec<String>> = HashMap::new();
        if !ids.is_empty() {
            for o in application_owner::Entity::find()
                .filter(application_owner::Column::ApplicationId.is_in(ids))
                .all(&self.db)
                .await?
            {
                let name = names.get(&o.user_id).ok_or_else(|| corrupt("an owner outside the realm"))?;
                owners.entry(o.application_id).or_default().push(name.clone());
            }
        }
        apps.into_iter()
            .map(|m| {
                let mut own = owners.remove(&m.id).unwrap_or_default();
                own.sort();
                Ok((crate::applications::to_application(m)?, own))
            })
            .collect()
    }

    /// Every identity of `realm`, sorted by username.
    pub async fn realm_users(&self, realm: RealmId) -> Result<Vec<User>> {
        user::Entity::find()
            .filter(user::Column::RealmId.eq(realm.0))
            .order_by_asc(user::Column::Username)
            .all(&self.db)
            .await?
            .into_iter()
            .map(crate::users::to_user)
            .collect()
    }

    /// Applies an import in one transaction: all of it, or nothing.
    pub async fn apply_realm_import(&self, imp: RealmImport) -> Result<RealmId> {
        let t = now();
        let txn = self.db.begin().await?;
        let realm_id = match imp.new_key {
            Some(key) => {
                let (display_name, enabled) =
                    imp.realm.clone().ok_or_else(|| corrupt("a new realm needs its fields"))?;
                let provider = imp.provider.as_ref().ok_or_else(|| corrupt("a new realm needs its provider"))?;
                let row =
                    crate::realms::insert_realm(&txn, &imp.name, &display_name, enabled, provider, key, t).await?;
                RealmId(row.id)
            }
            None => {
                let row = realm::Entity::find()
                    .filter(realm::Column::Name.eq(imp.name.as_str()))
                    .one(&txn)
                    .await?
                    .ok_or_else(|| corrupt("the realm to import into vanished"))?;
                let id = RealmId(row.id);
                if let Some((display_name, enabled)) = &imp.realm {
                    let mut row: realm::ActiveModel = row.into();
                    row.display_name = Set(display_name.clone());
                    row.enabled = Set(*enabled);
                    row.updated_at = Set(t);
                    row.update(&txn).await?;
                }
                if let Some(p) = &imp.provider {
                    crate::realms::provider_row(id, p, t).update(&txn).await?;
                }
                id
            }
        };
        for u in imp.users {
            upsert_user(&txn, realm_id, u, t).await?;
        }
        for a in imp.applications {
            upsert_application(&txn, realm_id, a, t).await?;
        }
        let logged = crate::hot::log(&txn, realm_id, crate::hot::Change::Realm).await?;
        txn.commit().await?;
        self.changed(logged);
        Ok(realm_id)
    }
}

async fn upsert_user(db: &impl ConnectionTrait, realm: RealmId, u: ImportUser, t: i64) -> Result<()> {
    let found = user::Entity::find()
        .filter(user::Column::RealmId.eq(realm.0))
        .filter(user::Column::Username.eq(u.username.as_str()))
        .one(db)
        .await?;
    let mut row = match found {
        Some(m) => m.into(),
        None => user::ActiveModel {
            realm_id: Set(realm.0),
            username: Set(u.username.as_str().to_owned()),
            password_hash: Set(None),
            is_admin: Set(false),
            created_at: Set(t),
            ..Default::default()
        },
    };
    if let Some(h) = u.password_hash {
        row.password_hash = Set(Some(h.as_phc().to_owned()));
    }
    row.email = Set(u.email);
    row.given_name = Set(u.given_name);
    row.family_name = Set(u.family_name);
    row.enabled = Set(u.enabled);
    row.updated_at = Set(t);
    row.save(db).await.map_err(StoreError::conflict_on("username"))?;
    Ok(())
}

async fn upsert_application(db: &impl ConnectionTrait, realm: RealmId, a: ImportApplication, t: i64) -> Result<()> {
    let found = application::Entity::find()
        .filter(application::Column::RealmId.eq(realm.0))
        .filter(application::Column::ClientId.eq(a.client_id.as_str()))
        .one(db)
        .await?;
    let mut row = match found {
        Some(m) => m.into(),
        None => application::ActiveModel {
            realm_id: Set(realm.0),
            client_id: Set(a.client_id.as_str().to_owned()),
            secret_hash: Set(None),
            created_at: Set(t),
            ..Default::default()
        },
    };
    if let Some(h) = a.secret_hash {
        row.secret_hash = Set(Some(h.as_phc().to_owned()));
    }
    crate::applications::settings_columns(&mut row, &a.settings);
    row.updated_at = Set(t);
    let saved = row.save(db).await.map_err(StoreError::conflict_on("client_id"))?;
    let app_id = match saved.id {
        sea_orm::ActiveValue::Set(id) | sea_orm::ActiveValue::Unchanged(id) => id,
        sea_orm::ActiveValue::NotSet => return Err(corrupt("saved application without id")),
    };
    let names: Vec<&str> = a.owners.iter().map(Username::as_str).collect();
    let ids: Vec<i32> = if names.is_empty() {
        vec![]
    } else {
        user::Entity::find()
            .filter(user::Column::RealmId.eq(realm.0))
            .filter(user::Column::Username.is_in(names.iter().copied()))
            .all(db)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect()
    };
    if ids.len() != names.len() {
        return Err(corrupt(format!("an owner of application {} is not an identity of the realm", a.client_id)));
    }
    let ids: Vec<_> = ids.into_iter().map(latchkey_identities::UserId).collect();
    crate::applications::replace_owners(db, latchkey_applications::ApplicationId(app_id), &ids).await
}
