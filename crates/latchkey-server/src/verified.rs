//! Client secrets already verified with argon2id, remembered by a keyed fingerprint so that a
//! client's repeat requests skip the 25 ms hash (see [`latchkey_core::secret::FastCheck`]).
//!
//! An entry holds the stored hash it was verified against: when the secret is rotated the hash
//! changes and the entry no longer applies. A candidate that does not match the fingerprint is
//! not refused here: it goes through argon2id like any other, so a wrong secret takes the same
//! time whether or not the client has been seen (and spends the failure budget).

use latchkey_core::secret::{FastCheck, Fingerprint, SecretHash};
use latchkey_realms::RealmId;
use std::collections::HashMap;
use std::sync::RwLock;

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
    entries: RwLock<HashMap<(RealmId, Box<str>), Entry>>,
}

impl VerifiedSecrets {
    /// Whether `candidate` is the secret last verified for this client against `hash`.
    pub fn matches(&self, realm: RealmId, client_id: &str, hash: &SecretHash, candidate: &str) -> bool {
        let entries = self.entries.read().expect("verified secrets poisoned");
        entries
            .get(&(realm, client_id.into()))
            .is_some_and(|e| *e.hash == *hash.as_phc() && self.check.matches(&e.fingerprint, candidate))
    }

    /// Remembers that `secret` verified against `hash`.
    pub fn remember(&self, realm: RealmId, client_id: &str, hash: &SecretHash, secret: &str) {
        let entry = Entry { hash: hash.as_phc().into(), fingerprint: self.check.fingerprint(secret) };
        let mut entries = self.entries.write().expect("verified secrets poisoned");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert((realm, client_id.into()), entry);
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
}
