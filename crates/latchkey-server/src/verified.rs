//! What was verified once and need not be again: client secrets ([`VerifiedSecrets`]) and access
//! token signatures ([`VerifiedTokens`]), each remembered under a keyed fingerprint (see
//! [`latchkey_core::secret::FastCheck`]), never in plaintext.
//!
//! **Secrets.** A client's repeat requests skip the 25 ms argon2id hash. An entry holds the stored hash it was verified against: when the secret is rotated the hash
//! changes and the entry no longer applies. A candidate that does not match the fingerprint is
//! not refused here: it goes through argon2id like any other, so a wrong secret takes the same
//! time whether or not the client has been seen (and spends the failure budget).

use latchkey_core::secret::{FastCheck, Fingerprint, SecretHash};
use latchkey_oauth2::AccessTokenClaims;
use latchkey_realms::RealmId;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// More entries than this and the cache starts over (a bound on memory, not an eviction policy).
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug)]
struct Entry {
    hash: Box<str>,
    fingerprint: Fingerprint,
}

#[derive(Debug, Default)]
pub struct VerifiedSecrets {
    check: FastCheck,
    entries: RwLock<Entries>,
}

/// By realm, then client id: looked up without allocating a key.
#[derive(Debug, Default)]
struct Entries {
    by_realm: HashMap<RealmId, HashMap<Box<str>, Entry>>,
    len: usize,
}

impl VerifiedSecrets {
    /// Whether `candidate` is the secret last verified for this client against `hash`.
    pub fn matches(&self, realm: RealmId, client_id: &str, hash: &SecretHash, candidate: &str) -> bool {
        let entries = self.entries.read().expect("verified secrets poisoned");
        entries
            .by_realm
            .get(&realm)
            .and_then(|clients| clients.get(client_id))
            .is_some_and(|e| *e.hash == *hash.as_phc() && self.check.matches(&e.fingerprint, candidate))
    }

    /// Remembers that `secret` verified against `hash`.
    pub fn remember(&self, realm: RealmId, client_id: &str, hash: &SecretHash, secret: &str) {
        let entry = Entry { hash: hash.as_phc().into(), fingerprint: self.check.fingerprint(secret) };
        let mut entries = self.entries.write().expect("verified secrets poisoned");
        if entries.len >= MAX_ENTRIES {
            *entries = Entries::default();
        }
        if entries.by_realm.entry(realm).or_default().insert(client_id.into(), entry).is_none() {
            entries.len += 1;
        }
    }
}

/// Access tokens whose signature, type and issuer were verified, by a keyed fingerprint of the
/// whole token: a resource server introspects the same token on every call it serves, and the
/// signature check (about 70 µs for ES256) is the bulk of the work.
///
/// An entry stands for the signature only. Every use still checks, fresh, what can change during
/// the token's life: the realm is enabled, the signing key may still verify, the token has not
/// expired and is not revoked (see `tokens::check`). Only verified tokens enter, so memory grows
/// only with tokens this server issued, up to a bound.
#[derive(Debug, Default)]
pub struct VerifiedTokens {
    check: FastCheck,
    entries: RwLock<HashMap<Fingerprint, (RealmId, Arc<AccessTokenClaims>)>>,
}

impl VerifiedTokens {
    /// The key this token is remembered under.
    pub fn fingerprint(&self, token: &str) -> Fingerprint {
        self.check.fingerprint(token)
    }

    /// The claims of the token with fingerprint `f`, verified earlier for `realm`.
    pub fn get(&self, realm: RealmId, f: &Fingerprint) -> Option<Arc<AccessTokenClaims>> {
        let entries = self.entries.read().expect("verified tokens poisoned");
        entries.get(f).filter(|(r, _)| *r == realm).map(|(_, claims)| claims.clone())
    }

    /// Remembers that the token with fingerprint `f` verified for `realm` with `claims`.
    pub fn remember(&self, realm: RealmId, f: Fingerprint, claims: Arc<AccessTokenClaims>) {
        let mut entries = self.entries.write().expect("verified tokens poisoned");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(f, (realm, claims));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_remembered_secret_under_the_same_hash_matches() {
        let v = VerifiedSecrets::default();
        let hash = SecretHash::create("right");
        let realm = RealmId(1);
        assert!(!v.matches(realm, "app", &hash, "right"), "nothing remembered yet");
        v.remember(realm, "app", &hash, "right");
        assert!(v.matches(realm, "app", &hash, "right"));
        assert!(!v.matches(realm, "app", &hash, "wrong"));
        assert!(!v.matches(RealmId(2), "app", &hash, "right"), "another realm");
        assert!(!v.matches(realm, "other", &hash, "right"), "another client");
        let rotated = SecretHash::create("right");
        assert!(!v.matches(realm, "app", &rotated, "right"), "a new hash needs a new argon2id check");
    }

    #[test]
    fn a_token_is_known_by_its_whole_text_and_realm() {
        let v = VerifiedTokens::default();
        let claims = Arc::new(AccessTokenClaims::for_client("https://i/realm", "app", "read".into(), 0, 60));
        let token = "header.payload.signature";
        v.remember(RealmId(1), v.fingerprint(token), claims.clone());
        assert_eq!(v.get(RealmId(1), &v.fingerprint(token)), Some(claims));
        assert_eq!(v.get(RealmId(2), &v.fingerprint(token)), None, "another realm");
        assert_eq!(v.get(RealmId(1), &v.fingerprint("header.payload2.signature")), None, "another payload");
        assert_eq!(v.get(RealmId(1), &v.fingerprint("header.payload.signaturf")), None, "another signature");
    }
}
