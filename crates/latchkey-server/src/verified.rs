//! What was verified once and need not be again: client secrets ([`VerifiedSecrets`]) and access
//! token signatures ([`VerifiedTokens`]), each remembered under a keyed fingerprint (see
//! [`latchkey_core::secret::FastCheck`]), never in plaintext.
//!
//! **Secrets.** A client's repeat requests skip the 25 ms argon2id hash. An entry holds the
//! stored hash it was verified against: when the secret is rotated the hash
//! changes and the entry no longer applies. A candidate that does not match the fingerprint is
//! not refused here: it goes through argon2id like any other, so a wrong secret takes the same
//! time whether or not the client has been seen (and spends the failure budget).

use latchkey_core::secret::{FastCheck, Fingerprint, SecretHash};
use latchkey_oauth2::AccessTokenClaims;
use latchkey_realms::RealmId;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// More entries than this in the current generation and it becomes the previous one (see
/// [`VerifiedSecrets`]); the access token cache starts over (a bound on memory).
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug)]
struct Entry {
    hash: Box<str>,
    fingerprint: Fingerprint,
}

/// Bounded by two generations of at most `capacity` entries each. When the current one is full it
/// becomes the previous one and the older is dropped; a match found only in the previous
/// generation moves into the current one. So a client seen since the last turnover keeps its fast
/// path however many others there are, and only a client idle for a whole generation pays
/// argon2id again.
#[derive(Debug)]
pub struct VerifiedSecrets {
    check: FastCheck,
    capacity: usize,
    entries: RwLock<Generations>,
}

impl Default for VerifiedSecrets {
    fn default() -> Self {
        Self::with_capacity(MAX_ENTRIES)
    }
}

#[derive(Debug, Default)]
struct Generations {
    current: Generation,
    previous: Generation,
}

/// By realm, then client id: looked up without allocating a key.
#[derive(Debug, Default)]
struct Generation {
    by_realm: HashMap<RealmId, HashMap<Box<str>, Entry>>,
    len: usize,
}

impl Generation {
    fn get(&self, realm: RealmId, client_id: &str) -> Option<&Entry> {
        self.by_realm.get(&realm).and_then(|clients| clients.get(client_id))
    }

    fn remove(&mut self, realm: RealmId, client_id: &str) -> Option<Entry> {
        let entry = self.by_realm.get_mut(&realm)?.remove(client_id)?;
        self.len -= 1;
        Some(entry)
    }
}

impl Generations {
    fn insert(&mut self, capacity: usize, realm: RealmId, client_id: &str, entry: Entry) {
        // Only a new client turns a full generation over; a replaced entry takes no room.
        if self.current.len >= capacity && self.current.get(realm, client_id).is_none() {
            self.previous = std::mem::take(&mut self.current);
        }
        if self.current.by_realm.entry(realm).or_default().insert(client_id.into(), entry).is_none() {
            self.current.len += 1;
        }
    }
}

impl VerifiedSecrets {
    /// At most `capacity` entries per generation (two generations).
    pub fn with_capacity(capacity: usize) -> Self {
        Self { check: FastCheck::default(), capacity: capacity.max(1), entries: RwLock::default() }
    }

    /// Whether `candidate` is the secret last verified for this client against `hash`.
    pub fn matches(&self, realm: RealmId, client_id: &str, hash: &SecretHash, candidate: &str) -> bool {
        let verifies = |e: &Entry| *e.hash == *hash.as_phc() && self.check.matches(&e.fingerprint, candidate);
        {
            let entries = self.entries.read().expect("verified secrets poisoned");
            if let Some(e) = entries.current.get(realm, client_id) {
                return verifies(e);
            }
        }
        // Not in the current generation: only the previous one can vouch for it, and a match moves
        // it back. (A request that misses here goes on to argon2id, so the write lock is cheap.)
        let mut entries = self.entries.write().expect("verified secrets poisoned");
        if let Some(e) = entries.current.get(realm, client_id) {
            return verifies(e); // moved back or replaced meanwhile
        }
        if !entries.previous.get(realm, client_id).is_some_and(verifies) {
            return false;
        }
        let entry = entries.previous.remove(realm, client_id).expect("found just above");
        entries.insert(self.capacity, realm, client_id, entry);
        true
    }

    /// Remembers that `secret` verified against `hash`.
    pub fn remember(&self, realm: RealmId, client_id: &str, hash: &SecretHash, secret: &str) {
        let entry = Entry { hash: hash.as_phc().into(), fingerprint: self.check.fingerprint(secret) };
        let mut entries = self.entries.write().expect("verified secrets poisoned");
        entries.insert(self.capacity, realm, client_id, entry);
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
    fn a_client_in_use_keeps_its_fast_path_when_the_cache_turns_over() {
        let v = VerifiedSecrets::with_capacity(2);
        let hash = SecretHash::create("s");
        let realm = RealmId(1);
        v.remember(realm, "a", &hash, "s");
        v.remember(realm, "b", &hash, "s");
        v.remember(realm, "c", &hash, "s"); // the current generation was full: {a, b} is now the previous one
        assert!(v.matches(realm, "a", &hash, "s"), "the previous generation still answers");
        assert!(!v.matches(realm, "b", &hash, "wrong"), "and still refuses a wrong secret");
        v.remember(realm, "d", &hash, "s"); // {c, a} becomes the previous generation, b is dropped
        assert!(v.matches(realm, "a", &hash, "s"), "a was used in the last generation");
        assert!(v.matches(realm, "c", &hash, "s"));
        assert!(!v.matches(realm, "b", &hash, "s"), "b was idle for a whole generation");
        let rotated = SecretHash::create("s");
        assert!(!v.matches(realm, "a", &rotated, "s"), "a new hash needs a new argon2id check in any generation");
    }

    #[test]
    fn a_secret_rotated_in_a_full_generation_does_not_turn_it_over() {
        let v = VerifiedSecrets::with_capacity(2);
        let (old, new) = (SecretHash::create("old"), SecretHash::create("new"));
        let realm = RealmId(1);
        v.remember(realm, "a", &old, "old");
        v.remember(realm, "b", &old, "old");
        v.remember(realm, "a", &new, "new"); // replaces a's entry: still two clients
        assert!(v.matches(realm, "a", &new, "new"));
        assert!(!v.matches(realm, "a", &old, "old"), "the old secret's entry was replaced");
        v.remember(realm, "c", &old, "old"); // the first turnover: {a, b} is the previous generation
        v.remember(realm, "d", &old, "old"); // the current one is {c, d}
        assert!(
            v.matches(realm, "b", &old, "old"),
            "the replacement took no room: b went through one turnover, not two"
        );
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
