//! What every handler shares: the store, the master key, the public URL, and caches of
//! unsealed signing keys and parsed verification keys.

use crate::limits::{HashGate, RateLimiter};
use crate::session::LoginThrottle;
use crate::settings::SessionSettings;
use crate::verified::{VerifiedSecrets, VerifiedTokens};
use latchkey_oauth2::{MasterKey, Signer, SigningKey, Verifier};
use latchkey_realms::{ROOT_REALM, RealmId, RealmName};
use latchkey_storage::{Store, StoreError};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

pub struct AppState {
    pub store: Store,
    pub master_key: MasterKey,
    /// Without a trailing slash.
    pub public_url: String,
    pub sessions: SessionSettings,
    pub login_throttle: LoginThrottle,
    /// The audit log's non-blocking writer.
    pub auditor: crate::audit::Auditor,
    /// Request and failed-authentication budgets of the OAuth2 endpoints.
    pub rate_limiter: RateLimiter,
    /// Bounds the argon2id work in flight.
    pub hash_gate: HashGate,
    /// Client secrets already verified, for repeat requests.
    pub verified_secrets: VerifiedSecrets,
    pub verified_tokens: VerifiedTokens,
    /// What `/metrics` reports.
    pub metrics: crate::metrics::Metrics,
    /// With it, `/metrics` asks for this bearer token.
    pub metrics_token: Option<secrecy::SecretString>,
    /// What a graceful shutdown watches and sets.
    pub traffic: Traffic,
    /// Where the built console lives.
    pub console_dir: PathBuf,
    /// The root realm is never deleted, so its id never changes.
    root_realm: OnceLock<RealmId>,
    // Keys never change under a kid, so entries never go stale; a rotated-away key simply stops
    // being asked for.
    signers: RwLock<HashMap<String, Arc<Signer>>>,
    verifiers: RwLock<HashMap<String, Arc<Verifier>>>,
}

/// Requests being answered, and whether the server is shutting down (`startup::Drain`).
#[derive(Default)]
pub struct Traffic {
    /// Requests between the metrics middleware's start and their response.
    pub in_flight: AtomicUsize,
    /// Requests started, ever.
    pub started: AtomicU64,
    /// Set by a graceful shutdown: every response then closes its connection.
    pub draining: AtomicBool,
}

/// Counts a request in flight while it lives.
pub struct InFlight<'a>(&'a Traffic);

impl<'a> InFlight<'a> {
    pub fn start(traffic: &'a Traffic) -> Self {
        traffic.in_flight.fetch_add(1, Ordering::Relaxed);
        traffic.started.fetch_add(1, Ordering::Relaxed);
        InFlight(traffic)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
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
        auditor: crate::audit::Auditor,
    ) -> Self {
        AppState {
            store,
            master_key,
            public_url,
            sessions,
            login_throttle: LoginThrottle::default(),
            auditor,
            rate_limiter: RateLimiter::default(),
            hash_gate: HashGate::for_this_machine(),
            verified_secrets: VerifiedSecrets::default(),
            verified_tokens: VerifiedTokens::default(),
            metrics: crate::metrics::Metrics::default(),
            metrics_token: None,
            traffic: Traffic::default(),
            console_dir,
            root_realm: OnceLock::new(),
            signers: RwLock::default(),
            verifiers: RwLock::default(),
        }
    }

    /// Makes `/metrics` ask for `token` as a bearer token.
    pub fn with_metrics_token(mut self, token: Option<secrecy::SecretString>) -> Self {
        self.metrics_token = token;
        self
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
