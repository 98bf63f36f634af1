//! Realms and their OAuth2 provider settings.

use crate::entities::{oauth2_provider, realm};
use crate::hot::{Change, Counted, MARK_EVERY};
use crate::{
    Paged, Result, Store, StoreError, corrupt, grants_from_text, grants_to_text, scopes_from_text, scopes_to_text,
};
use latchkey_core::time::now;
use latchkey_oauth2::{NewSigningKey, Origin, ProviderSettings, RateLimits};
use latchkey_realms::{Realm, RealmId, RealmName};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

fn to_realm(m: realm::Model) -> Result<Realm> {
    Ok(Realm {
        id: RealmId(m.id),
        name: RealmName::parse(&m.name).map_err(corrupt)?,
        display_name: m.display_name,
        enabled: m.enabled,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_provider(m: oauth2_provider::Model) -> Result<ProviderSettings> {
    Ok(ProviderSettings {
        grant_types: grants_from_text(&m.grant_types)?,
        access_token_lifetime: m.access_token_lifetime,
        default_scopes: scopes_from_text(&m.default_scopes)?,
        signing_alg: m.signing_alg.parse().map_err(corrupt)?,
        rate_limits: RateLimits {
            per_client: u32::try_from(m.rate_limit_per_client).map_err(corrupt)?,
            per_address: u32::try_from(m.rate_limit_per_address).map_err(corrupt)?,
            failed_auth: u32::try_from(m.rate_limit_failed_auth).map_err(corrupt)?,
        },
        cors_origins: m
            .cors_origins
            .split_whitespace()
            .map(Origin::parse)
            .collect::<Result<_, _>>()
            .map_err(corrupt)?,
    })
}

/// Inserts a realm with its provider settings and first signing key, inside the caller's
/// transaction.
pub(crate) async fn insert_realm(
    txn: &DatabaseTransaction,
    name: &RealmName,
    display_name: &str,
    enabled: bool,
    provider: &ProviderSettings,
    key: NewSigningKey,
    at: i64,
) -> Result<realm::Model> {
    let row = realm::ActiveModel {
        name: Set(name.as_str().to_owned()),
        display_name: Set(display_name.to_owned()),
        enabled: Set(enabled),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(StoreError::conflict_on("name"))?;
    provider_row(RealmId(row.id), provider, at).insert(txn).await?;
    crate::keys::new_key_row(RealmId(row.id), key, at).insert(txn).await?;
    Ok(row)
}

pub(crate) fn provider_row(realm: RealmId, p: &ProviderSettings, at: i64) -> oauth2_provider::ActiveModel {
    // RateLimits::MAX fits an i32.
    let limit = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    oauth2_provider::ActiveModel {
        realm_id: Set(realm.0),
        grant_types: Set(grants_to_text(&p.grant_types)),
        access_token_lifetime: Set(p.access_token_lifetime),
        default_scopes: Set(scopes_to_text(&p.default_scopes)),
        signing_alg: Set(p.signing_alg.as_str().to_owned()),
        rate_limit_per_client: Set(limit(p.rate_limits.per_client)),
        rate_limit_per_address: Set(limit(p.rate_limits.per_address)),
        rate_limit_failed_auth: Set(limit(p.rate_limits.failed_auth)),
        cors_origins: Set(p.cors_origins.iter().map(Origin::as_str).collect::<Vec<_>>().join(" ")),
        updated_at: Set(at),
    }
}

impl Store {
    /// Creates a realm with its provider settings and first signing key, all or nothing.
    pub async fn create_realm(
        &self,
        name: &RealmName,
        display_name: &str,
        enabled: bool,
        provider: &ProviderSettings,
        key: NewSigningKey,
    ) -> Result<Realm> {
        let txn = self.db.begin().await?;
        let row = insert_realm(&txn, name, display_name, enabled, provider, key, now()).await?;
        // Nothing of a new realm is cached, but the number of realms is.
        let logged = crate::hot::log(&txn, RealmId(row.id), Change::Realm).await?;
        txn.commit().await?;
        self.changed(logged);
        to_realm(row)
    }

    pub async fn find_realm(&self, name: &str) -> Result<Option<Realm>> {
        if !crate::can_exist(name) {
            return Ok(None);
        }
        realm::Entity::find().filter(realm::Column::Name.eq(name)).one(&self.db).await?.map(to_realm).transpose()
    }

    /// A page of realms; `search` matches name and display name. Without a search the total
    /// comes from memory when fresh.
    pub async fn list_realms(&self, search: Option<&str>, page: u64, per_page: u64) -> Result<Paged<Realm>> {
        let mut q = realm::Entity::find();
        let search = search.filter(|s| !s.is_empty());
        if let Some(s) = search {
            q = q.filter(crate::contains_any(&[realm::Column::Name, realm::Column::DisplayName], s));
        }
        let total = self.list_total(search.is_none().then_some(Counted::Realms), q.clone()).await?;
        let offset = (page - 1).saturating_mul(per_page);
        let marks = if search.is_none() { self.realm_marks().await? } else { None };
        let q = match marks {
            // Start at the mark before the page: at most `MARK_EVERY - 1` rows are walked.
            Some(marks) => match usize::try_from(offset / MARK_EVERY).ok().and_then(|i| marks.get(i)) {
                Some(mark) => q.filter(realm::Column::Name.gte(&**mark)).offset(offset % MARK_EVERY),
                None => return Ok(Paged { items: Vec::new(), total }),
            },
            None => q.offset(offset),
        };
        let rows = q.order_by_asc(realm::Column::Name).limit(per_page).all(&self.db).await?;
        Ok(Paged { items: rows.into_iter().map(to_realm).collect::<Result<_>>()?, total })
    }

    pub async fn update_realm(&self, r: &Realm) -> Result<Realm> {
        let txn = self.db.begin().await?;
        let row = realm::ActiveModel {
            id: Set(r.id.0),
            name: Set(r.name.as_str().to_owned()),
            display_name: Set(r.display_name.clone()),
            enabled: Set(r.enabled),
            created_at: Set(r.created_at),
            updated_at: Set(now()),
        }
        .update(&txn)
        .await?;
        let logged = crate::hot::log(&txn, r.id, Change::Realm).await?;
        txn.commit().await?;
        self.changed(logged);
        to_realm(row)
    }

    /// Deletes a realm and, by cascade, everything in it.
    pub async fn delete_realm(&self, id: RealmId) -> Result<bool> {
        let txn = self.db.begin().await?;
        let res = realm::Entity::delete_by_id(id.0).exec(&txn).await?;
        let logged = crate::hot::log(&txn, id, Change::Realm).await?;
        txn.commit().await?;
        self.changed(logged);
        Ok(res.rows_affected > 0)
    }

    pub async fn provider(&self, realm: RealmId) -> Result<ProviderSettings> {
        let row = oauth2_provider::Entity::find_by_id(realm.0)
            .one(&self.db)
            .await?
            .ok_or_else(|| corrupt("realm without oauth2 provider settings"))?;
        to_provider(row)
    }

    pub async fn update_provider(&self, realm: RealmId, p: &ProviderSettings) -> Result<()> {
        let txn = self.db.begin().await?;
        provider_row(realm, p, now()).update(&txn).await?;
        let logged = crate::hot::log(&txn, realm, Change::Provider).await?;
        txn.commit().await?;
        self.changed(logged);
        Ok(())
    }
}
