//! What every handler shares: the store, the master key, the public URL, and caches of
//! unsealed signing keys and parsed verification keys.

use latchkey_oauth2::{MasterKey, Signer, SigningKey, Verifier};
use latchkey_realms::RealmName;
use latchkey_storage::Store;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub struct AppState {
    pub store: Store,
    pub master_key: MasterKey,
    /// Without a trailing slash.
    pub public_url: String,
    // Keys never change under a kid, so entries never go stale; a rotated-away key simply stops
    // being asked for.
    signers: RwLock<HashMap<String, Arc<Signer>>>,
    verifiers: RwLock<HashMap<String, Arc<Verifier>>>,
}

/// Where the realm's OAuth2 endpoints live, below the public URL.
pub const ISSUER_PATH: &str = "/oauth2/realms/";

impl AppState {
    pub fn new(store: Store, master_key: MasterKey, public_url: String) -> Self {
        AppState { store, master_key, public_url, signers: RwLock::default(), verifiers: RwLock::default() }
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
