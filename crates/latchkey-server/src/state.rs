//! What every handler shares: the store, the master key, the public URL, and caches of
//! unsealed signing keys and parsed verification keys.

use crate::session::LoginThrottle;
use crate::settings::SessionSettings;
use latchkey_oauth2::{MasterKey, Signer, SigningKey, Verifier};
use latchkey_realms::{ROOT_REALM, RealmId, RealmName};
use latchkey_storage::{Store, StoreError};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};

pub struct AppState {
    pub store: Store,
    pub master_key: MasterKey,
    /// Without a trailing slash.
    pub public_url: String,
    pub sessions: SessionSettings,
    pub login_throttle: LoginThrottle,
    /// Where the built console lives.
    pub console_dir: PathBuf,
    /// The root realm is never deleted, so its id never changes.
    root_realm: OnceLock<RealmId>,
    // Keys never change under a kid, so entries never go stale; a rotated-away key simply stops
    // being asked for.
    signers: RwLock<HashMap<String, Arc<Signer>>>,
    verifiers: RwLock<HashMap<String, Arc<Verifier>>>,
}

/// Where the realm's OAuth2 endpoints live, below the public URL.
pub const ISSUER_PATH: &str = "/oauth2/realms/";

impl AppState {
    pub fn new(
        store: Store,
        master_key: MasterKey,
        public_url: String,
        sessions: SessionSettings,
        console_dir: PathBuf,
    ) -> Self {
        AppState {
            store,
            master_key,
            public_url,
            sessions,
            login_throttle: LoginThrottle::default(),
            console_dir,
            root_realm: OnceLock::new(),
            signers: RwLock::default(),
            verifiers: RwLock::default(),
        }
    }

    pub async fn root_realm_id(&self) -> Result<RealmId, StoreError> {
        if let Some(id) = self.root_realm.get() {
            return Ok(*id);
        }
        let root = self.store.find_realm(ROOT_REALM).await?;
        let id = root.ok_or_else(|| StoreError::Corrupt("the root realm is missing".into()))?.id;
        Ok(*self.root_realm.get_or_init(|| id))
    }

    pub fn issuer(&self, realm: &RealmName) -> String {
        format!("{}{ISSUER_PATH}{realm}", self.public_url)
    }

    /// The realm name an issuer URL of ours names, if it is one.
    pub fn realm_of_issuer<'a>(&self, iss: &'a str) -> Option<&'a str> {
        iss.strip_prefix(self.public_url.as_str())?.strip_prefix(ISSUER_PATH)
    }

    /// The unsealed signer for a stored key, cached by kid.
    pub fn signer(&self, key: &SigningKey) -> Result<Arc<Signer>, latchkey_oauth2::keys::KeyError> {
        if let Some(s) = self.signers.read().expect("signer cache poisoned").get(&key.kid) {
            return Ok(s.clone());
        }
        let s = Arc::new(Signer::open(key, &self.master_key)?);
        self.signers.write().expect("signer cache poisoned").insert(key.kid.clone(), s.clone());
        Ok(s)
    }

    /// The parsed public key for a stored key, cached by kid.
    pub fn verifier(&self, key: &SigningKey) -> Result<Arc<Verifier>, latchkey_oauth2::keys::KeyError> {
        if let Some(v) = self.verifiers.read().expect("verifier cache poisoned").get(&key.kid) {
            return Ok(v.clone());
        }
        let v = Arc::new(Verifier::from_key(key)?);
        self.verifiers.write().expect("verifier cache poisoned").insert(key.kid.clone(), v.clone());
        Ok(v)
    }
}
