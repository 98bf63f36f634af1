//! Bootstrap, run at every start and idempotent: the `root` realm, the operator's automation
//! client, and the first administrator. The second run changes nothing.

use crate::settings::{Credentials, Settings};
use crate::state::AppState;
use crate::tokens::{hash_secret, verify_secret};
use anyhow::Context;
use latchkey_applications::{ApplicationSettings, ApplicationType, ClientId, SignInMethod, TokenEndpointAuthMethod};
use latchkey_core::secret::generate_secret;
use latchkey_core::{GrantType, ScopeSet};
use latchkey_identities::{NewUser, Username};
use latchkey_oauth2::{NewSigningKey, ProviderSettings};
use latchkey_realms::{Realm, RealmName};
use latchkey_storage::{NewApplication, StoreError};
use secrecy::{ExposeSecret, SecretString};

/// Client id of the operator client generated when none is configured.
pub const DEFAULT_OPERATOR_CLIENT_ID: &str = "latchkey-operator";
/// The scope that opens the admin API.
pub const ADMIN_SCOPE: &str = "admin";

/// Username of the administrator generated when none is configured.
pub const DEFAULT_ADMIN_USERNAME: &str = "admin";

pub async fn run(state: &AppState, settings: &Settings) -> anyhow::Result<()> {
    let (root, created) = ensure_root_realm(state).await?;
    let mut generated = Vec::new();
    match &settings.bootstrap_client {
        Some(c) => ensure_operator_client(state, &root, c).await?,
        None if created => {
            if let Some(secret) = generate_operator_client(state, &root).await? {
                generated.push(format!(
                    "The operator client of the root realm (client credentials, scope `admin`):\n    \
                     client_id:     {DEFAULT_OPERATOR_CLIENT_ID}\n    client_secret: {}\n  \
                     To replace it, set LATCHKEY_BOOTSTRAP_CLIENT_ID and LATCHKEY_BOOTSTRAP_CLIENT_SECRET and\n  \
                     restart, or call POST /admin/v1/realms/root/applications/{DEFAULT_OPERATOR_CLIENT_ID}/secret",
                    secret.expose_secret()
                ));
            }
        }
        None => {}
    }
    match &settings.bootstrap_admin {
        Some(admin) => ensure_admin(state, &root, admin).await?,
        None if created => {
            let password = generate_secret();
            let admin = Credentials { id: DEFAULT_ADMIN_USERNAME.into(), secret: password.clone() };
            ensure_admin(state, &root, &admin).await?;
            generated.push(format!(
                "The console administrator (sign in at /console):\n    \
                 username:      {DEFAULT_ADMIN_USERNAME}\n    password:      {}\n  \
                 To replace it, set LATCHKEY_BOOTSTRAP_ADMIN_USERNAME and LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD\n  \
                 and restart, or reset it with PATCH /admin/v1/realms/root/users/{DEFAULT_ADMIN_USERNAME}",
                password.expose_secret()
            ));
        }
        None => {}
    }
    if !generated.is_empty() {
        // The one place secrets are ever written out, as the operator configured none: straight
        // to stderr, once, not through the structured log.
        let rule = "=".repeat(96);
        eprintln!(
            "\n{rule}\nLatchkey's first start generated credentials. They are shown only this once.\n\n{}\n{rule}\n",
            generated.join("\n\n")
        );
        tracing::warn!("generated bootstrap credentials; they were printed once above");
    }
    Ok(())
}

async fn ensure_root_realm(state: &AppState) -> anyhow::Result<(Realm, bool)> {
    let name = RealmName::root();
    if let Some(r) = state.store.find_realm(name.as_str()).await? {
        return Ok((r, false));
    }
    let provider = ProviderSettings::new_realm();
    let key = NewSigningKey::generate(provider.signing_alg, &state.master_key)?;
    match state.store.create_realm(&name, "Root", true, &provider, key).await {
        Ok(r) => {
            tracing::info!("created the root realm");
            Ok((r, true))
        }
        // Another replica created it first.
        Err(StoreError::Conflict { .. }) => {
            Ok((state.store.find_realm(name.as_str()).await?.context("root realm vanished")?, false))
        }
        Err(e) => Err(e.into()),
    }
}

fn operator_settings() -> ApplicationSettings {
    ApplicationSettings {
        client_name: "Latchkey operator automation".into(),
        description: Some("Gets admin API tokens by client credentials. Created by bootstrap.".into()),
        sign_in_method: SignInMethod::Oidc,
        application_type: ApplicationType::Web,
        grant_types: vec![GrantType::ClientCredentials],
        redirect_uris: vec![],
        allowed_scopes: ScopeSet::from_tokens([ADMIN_SCOPE]).expect("valid scope"),
        default_scopes: ScopeSet::from_tokens([ADMIN_SCOPE]).expect("valid scope"),
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        access_token_lifetime: None,
        enabled: true,
    }
}

/// The configured operator client exists; if its secret differs from the configured one, the
/// configured one replaces it (that is how an operator rotates it).
async fn ensure_operator_client(state: &AppState, root: &Realm, c: &Credentials) -> anyhow::Result<()> {
    let client_id = ClientId::parse(&c.id).context("LATCHKEY_BOOTSTRAP_CLIENT_ID")?;
    let secret = c.secret.expose_secret().to_owned();
    match state.store.find_application(root.id, client_id.as_str()).await? {
        Some(app) => {
            if !verify_secret(&state.hash_gate, app.secret_hash.clone(), secret.clone()).await.unwrap_or(false) {
                let hash = hash_secret(&state.hash_gate, secret).await?;
                state.store.set_client_secret(root.id, &app, &hash).await?;
                tracing::info!(client_id = %client_id, "operator client secret replaced from LATCHKEY_BOOTSTRAP_CLIENT_SECRET");
            }
        }
        None => {
            let hash = hash_secret(&state.hash_gate, secret).await?;
            create_operator(state, root, client_id.clone(), hash).await?;
            tracing::info!(client_id = %client_id, "created the operator client from LATCHKEY_BOOTSTRAP_CLIENT_ID");
        }
    }
    Ok(())
}

async fn create_operator(
    state: &AppState,
    root: &Realm,
    client_id: ClientId,
    hash: latchkey_core::secret::SecretHash,
) -> anyhow::Result<()> {
    let new = NewApplication { client_id, secret_hash: Some(hash), settings: operator_settings(), owners: vec![] };
    match state.store.create_application(root.id, new).await {
        Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// First start without a configured operator client: make one, and return its secret to show
/// once (`None` if it already exists).
async fn generate_operator_client(state: &AppState, root: &Realm) -> anyhow::Result<Option<SecretString>> {
    let client_id = ClientId::parse(DEFAULT_OPERATOR_CLIENT_ID).expect("valid client id");
    if state.store.find_application(root.id, client_id.as_str()).await?.is_some() {
        return Ok(None);
    }
    let secret = generate_secret();
    let hash = hash_secret(&state.hash_gate, secret.expose_secret().to_owned()).await?;
    create_operator(state, root, client_id, hash).await?;
    Ok(Some(secret))
}

async fn ensure_admin(state: &AppState, root: &Realm, admin: &Credentials) -> anyhow::Result<()> {
    let username = Username::parse(&admin.id).context("LATCHKEY_BOOTSTRAP_ADMIN_USERNAME")?;
    let password = admin.secret.expose_secret().to_owned();
    latchkey_identities::check_password(&password).context("LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD")?;
    match state.store.find_user(root.id, username.as_str()).await? {
        Some(mut user) => {
            let mut changed = !user.is_admin;
            user.is_admin = true;
            if !verify_secret(&state.hash_gate, user.password_hash.clone(), password.clone()).await.unwrap_or(false) {
                user.password_hash = Some(hash_secret(&state.hash_gate, password).await?);
                changed = true;
            }
            if changed {
                state.store.update_user(root.id, &user).await?;
                tracing::info!(username = %username, "bootstrap administrator updated");
            }
        }
        None => {
            let hash = hash_secret(&state.hash_gate, password).await?;
            let new = NewUser {
                username: username.clone(),
                password_hash: Some(hash),
                email: None,
                given_name: None,
                family_name: None,
                enabled: true,
                is_admin: true,
            };
            match state.store.create_user(root.id, new).await {
                Ok(_) => tracing::info!(username = %username, "created the bootstrap administrator"),
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
