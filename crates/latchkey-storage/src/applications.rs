//! Applications (OAuth clients) of a realm and their owners.

use crate::entities::{application, application_owner, user};
use crate::hot::{Change, Counted};
use crate::{
    Paged, Result, Store, StoreError, corrupt, grants_from_text, grants_to_text, scopes_from_text, scopes_to_text,
};
use latchkey_applications::{Application, ApplicationId, ApplicationSettings, ClientId, RedirectUri};
use latchkey_core::secret::SecretHash;
use latchkey_core::time::now;
use latchkey_identities::UserId;
use latchkey_realms::RealmId;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

/// An application to register.
#[derive(Debug)]
pub struct NewApplication {
    pub client_id: ClientId,
    pub secret_hash: Option<SecretHash>,
    pub settings: ApplicationSettings,
    pub owners: Vec<UserId>,
}

pub(crate) fn to_application(m: application::Model) -> Result<Application> {
    let uris: Vec<String> = serde_json::from_str(&m.redirect_uris).map_err(corrupt)?;
    Ok(Application {
        id: ApplicationId(m.id),
        client_id: ClientId::parse(&m.client_id).map_err(corrupt)?,
        secret_hash: m.secret_hash.map(SecretHash::from_phc).transpose().map_err(corrupt)?,
        settings: ApplicationSettings {
            client_name: m.client_name,
            description: m.description,
            sign_in_method: m.sign_in_method.parse().map_err(corrupt)?,
            application_type: m.application_type.parse().map_err(corrupt)?,
            grant_types: grants_from_text(&m.grant_types)?,
            redirect_uris: uris.iter().map(|u| RedirectUri::parse(u)).collect::<Result<_, _>>().map_err(corrupt)?,
            allowed_scopes: scopes_from_text(&m.allowed_scopes)?,
            default_scopes: scopes_from_text(&m.default_scopes)?,
            token_endpoint_auth_method: m.token_endpoint_auth_method.parse().map_err(corrupt)?,
            access_token_lifetime: m.access_token_lifetime,
            enabled: m.enabled,
        },
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(crate) fn settings_columns(a: &mut application::ActiveModel, s: &ApplicationSettings) {
    let uris: Vec<&str> = s.redirect_uris.iter().map(|u| u.as_str()).collect();
    a.client_name = Set(s.client_name.clone());
    a.description = Set(s.description.clone());
    a.sign_in_method = Set(s.sign_in_method.as_str().to_owned());
    a.application_type = Set(s.application_type.as_str().to_owned());
    a.grant_types = Set(grants_to_text(&s.grant_types));
    a.redirect_uris = Set(serde_json::to_string(&uris).expect("strings serialize"));
    a.allowed_scopes = Set(scopes_to_text(&s.allowed_scopes));
    a.default_scopes = Set(scopes_to_text(&s.default_scopes));
    a.token_endpoint_auth_method = Set(s.token_endpoint_auth_method.as_str().to_owned());
    a.access_token_lifetime = Set(s.access_token_lifetime);
    a.enabled = Set(s.enabled);
}

pub(crate) async fn replace_owners(db: &impl ConnectionTrait, app: ApplicationId, owners: &[UserId]) -> Result<()> {
    application_owner::Entity::delete_many()
        .filter(application_owner::Column::ApplicationId.eq(app.0))
        .exec(db)
        .await?;
    if !owners.is_empty() {
        let rows =
            owners.iter().map(|u| application_owner::ActiveModel { application_id: Set(app.0), user_id: Set(u.0) });
        application_owner::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}

impl Store {
    pub async fn create_application(&self, realm: RealmId, new: NewApplication) -> Result<Application> {
        let t = now();
        let mut row = application::ActiveModel {
            realm_id: Set(realm.0),
            client_id: Set(new.client_id.as_str().to_owned()),
            secret_hash: Set(new.secret_hash.as_ref().map(|h| h.as_phc().to_owned())),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        };
        settings_columns(&mut row, &new.settings);
        let txn = self.db.begin().await?;
        let row = row.insert(&txn).await.map_err(StoreError::conflict_on("client_id"))?;
        replace_owners(&txn, ApplicationId(row.id), &new.owners).await?;
        // Nothing of a new client is cached, but the realm's number of applications is.
        let logged = crate::hot::log(&txn, realm, Change::Application(new.client_id.as_str())).await?;
        txn.commit().await?;
        self.changed(logged);
        to_application(row)
    }

    /// The application with `client_id` in `realm`: the token endpoint's lookup.
    pub async fn find_application(&self, realm: RealmId, client_id: &str) -> Result<Option<Application>> {
        if !crate::can_exist(client_id) {
            return Ok(None);
        }
        application::Entity::find()
            .filter(application::Column::RealmId.eq(realm.0))
            .filter(application::Column::ClientId.eq(client_id))
            .one(&self.db)
            .await?
            .map(to_application)
            .transpose()
    }

    /// Usernames of an application's owners, sorted.
    pub async fn application_owners(&self, app: ApplicationId) -> Result<Vec<String>> {
        Ok(self.owners_of(&[app]).await?.pop().unwrap_or_default())
    }

    /// Usernames of the owners of each of `apps`, sorted, in `apps`' order: two queries whatever
    /// the number of applications (a page of the list).
    pub async fn owners_of(&self, apps: &[ApplicationId]) -> Result<Vec<Vec<String>>> {
        let mut owners = vec![Vec::new(); apps.len()];
        if apps.is_empty() {
            return Ok(owners);
        }
        let pairs: Vec<(i32, i32)> = application_owner::Entity::find()
            .filter(application_owner::Column::ApplicationId.is_in(apps.iter().map(|a| a.0)))
            .select_only()
            .column(application_owner::Column::ApplicationId)
            .column(application_owner::Column::UserId)
            .into_tuple()
            .all(&self.db)
            .await?;
        if pairs.is_empty() {
            return Ok(owners);
        }
        let users: Vec<(i32, String)> = user::Entity::find()
            .filter(user::Column::Id.is_in(pairs.iter().map(|p| p.1)))
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::Username)
            .into_tuple()
            .all(&self.db)
            .await?;
        let usernames: std::collections::HashMap<i32, String> = users.into_iter().collect();
        for (app, user) in pairs {
            if let (Some(i), Some(name)) = (apps.iter().position(|a| a.0 == app), usernames.get(&user)) {
                owners[i].push(name.clone());
            }
        }
        owners.iter_mut().for_each(|o| o.sort());
        Ok(owners)
    }

    /// A page of the realm's applications; `search` matches client id and name. Without a search
    /// the total comes from memory when fresh.
    pub async fn list_applications(
        &self,
        realm: RealmId,
        search: Option<&str>,
        page: u64,
        per_page: u64,
    ) -> Result<Paged<Application>> {
        use application::Column as C;
        let mut q = application::Entity::find().filter(C::RealmId.eq(realm.0));
        let search = search.filter(|s| !s.is_empty());
        if let Some(s) = search {
            q = q.filter(crate::contains_any(&[C::ClientId, C::ClientName], s));
        }
        let total = self.list_total(search.is_none().then_some(Counted::Applications(realm)), q.clone()).await?;
        let pages = q.order_by_asc(application::Column::ClientId).paginate(&self.db, per_page);
        let items = pages.fetch_page(page - 1).await?.into_iter().map(to_application).collect::<Result<_>>()?;
        Ok(Paged { items, total })
    }

    /// Writes an application's settings and, when given, its new owner list, in one transaction.
    pub async fn update_application(
        &self,
        realm: RealmId,
        app: &Application,
        owners: Option<&[UserId]>,
    ) -> Result<Application> {
        let mut row = application::ActiveModel {
            id: Set(app.id.0),
            realm_id: Set(realm.0),
            client_id: Set(app.client_id.as_str().to_owned()),
            secret_hash: Set(app.secret_hash.as_ref().map(|h| h.as_phc().to_owned())),
            created_at: Set(app.created_at),
            updated_at: Set(now()),
            ..Default::default()
        };
        settings_columns(&mut row, &app.settings);
        let txn = self.db.begin().await?;
        // `app` was read through a realm-scoped lookup, so its id belongs to `realm`.
        let updated = row.update(&txn).await?;
        if let Some(owners) = owners {
            replace_owners(&txn, app.id, owners).await?;
        }
        let logged = crate::hot::log(&txn, realm, Change::Application(app.client_id.as_str())).await?;
        txn.commit().await?;
        self.changed(logged);
        to_application(updated)
    }

    /// Replaces the secret of `app` (read through a lookup in `realm`).
    pub async fn set_client_secret(&self, realm: RealmId, app: &Application, hash: &SecretHash) -> Result<()> {
        let txn = self.db.begin().await?;
        application::Entity::update_many()
            .col_expr(application::Column::SecretHash, sea_orm::sea_query::Expr::value(hash.as_phc()))
            .col_expr(application::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now()))
            .filter(application::Column::RealmId.eq(realm.0))
            .filter(application::Column::Id.eq(app.id.0))
            .exec(&txn)
            .await?;
        let logged = crate::hot::log(&txn, realm, Change::Application(app.client_id.as_str())).await?;
        txn.commit().await?;
        self.changed(logged);
        Ok(())
    }

    pub async fn delete_application(&self, realm: RealmId, client_id: &str) -> Result<bool> {
        if !crate::can_exist(client_id) {
            return Ok(false);
        }
        let txn = self.db.begin().await?;
        let res = application::Entity::delete_many()
            .filter(application::Column::RealmId.eq(realm.0))
            .filter(application::Column::ClientId.eq(client_id))
            .exec(&txn)
            .await?;
        let logged = crate::hot::log(&txn, realm, Change::Application(client_id)).await?;
        txn.commit().await?;
        self.changed(logged);
        Ok(res.rows_affected > 0)
    }
}
