//! Secrets: generation, argon2id hashing and verification, and random bytes.
//!
//! Client secrets and passwords are stored only as argon2id PHC strings. A [`SecretHash`]
//! never prints its content and is never serialized.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use std::fmt;
use std::sync::LazyLock;

/// An argon2id hash in PHC string form.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(String);

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("stored secret hash is not a valid PHC string")]
pub struct InvalidHash;

impl SecretHash {
    /// Hashes `secret` with argon2id at the crate's default parameters and a random salt.
    /// Costs tens of milliseconds by design: call it off the async executor.
    pub fn create(secret: &str) -> SecretHash {
        let hash = Argon2::default()
            .hash_password(secret.as_bytes())
            .expect("argon2id with default parameters and a 16-byte salt cannot fail");
        SecretHash(hash.to_string())
    }

    /// Wraps a PHC string read from storage, checking its shape.
    pub fn from_phc(phc: String) -> Result<SecretHash, InvalidHash> {
        PasswordHash::new(&phc).map_err(|_| InvalidHash)?;
        Ok(SecretHash(phc))
    }

    /// The PHC string, for storage only.
    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// Checks `candidate` against the hash. argon2's comparison is constant-time.
    pub fn verify(&self, candidate: &str) -> bool {
        match PasswordHash::new(&self.0) {
            Ok(parsed) => Argon2::default().verify_password(candidate.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        }
    }

    /// A fixed hash to verify against when the client or user is unknown, so that an unknown
    /// name costs the same time as a wrong secret and cannot be told apart by timing.
    pub fn decoy() -> &'static SecretHash {
        static DECOY: LazyLock<SecretHash> =
            LazyLock::new(|| SecretHash::create("latchkey-decoy-secret-never-matches"));
        &DECOY
    }
}

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).expect("the system random number generator failed");
    out
}

/// A new secret: 32 random bytes, base64url without padding (43 characters).
pub fn generate_secret() -> SecretString {
    SecretString::from(URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

/// A random identifier: 16 random bytes, base64url without padding (22 characters).
pub fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<16>())
}

/// SHA-256 of a high-entropy bearer value (a session token), base64url without padding: what is
/// stored in its place. Fast on purpose: the value is random, so there is nothing to brute force.
pub fn digest(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes()))
}

/// A keyed fingerprint (HMAC-SHA256 under a random key of this process) of a secret that has
/// already passed argon2id verification, so that repeat requests with the same secret can be
/// checked in microseconds. The key never leaves memory and the plaintext is never kept.
pub struct FastCheck {
    key: aws_lc_rs::hmac::Key,
}

/// A secret's fingerprint under a [`FastCheck`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fingerprint(..)")
    }
}

impl FastCheck {
    pub fn new() -> Self {
        FastCheck { key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &random_bytes::<32>()) }
    }

    pub fn fingerprint(&self, secret: &str) -> Fingerprint {
        let tag = aws_lc_rs::hmac::sign(&self.key, secret.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        Fingerprint(out)
    }

    /// Whether `candidate` has fingerprint `f`, in constant time.
    pub fn matches(&self, f: &Fingerprint, candidate: &str) -> bool {
        aws_lc_rs::hmac::verify(&self.key, candidate.as_bytes(), &f.0).is_ok()
    }
}

impl Default for FastCheck {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for FastCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FastCheck(..)")
    }
}

/// Whether two strings are equal, in time that depends only on their lengths.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn hash_verifies_only_the_right_secret() {
        let h = SecretHash::create("s3cret");
        assert!(h.as_phc().starts_with("$argon2id$"));
        assert!(h.verify("s3cret"));
        assert!(!h.verify("s3cret "));
        assert!(!h.verify(""));
        assert_eq!(format!("{h:?}"), "SecretHash(..)");
        assert!(SecretHash::from_phc(h.as_phc().to_owned()).unwrap().verify("s3cret"));
        assert!(SecretHash::from_phc("plaintext".into()).is_err());
    }

    /// OWASP's password storage minimum for argon2id: 19 MiB of memory, 2 passes, 1 lane.
    #[test]
    fn hashes_use_owasp_parameters_at_least() {
        let h = SecretHash::create("s3cret");
        let parsed = PasswordHash::new(h.as_phc()).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert_eq!(parsed.version, Some(0x13), "argon2 version 1.3");
        let param = |name: &str| -> u32 {
            let value = parsed.params.get(name).unwrap_or_else(|| panic!("no {name} in {}", h.as_phc()));
            value.to_string().parse().unwrap()
        };
        assert!(param("m") >= 19_456, "memory {} KiB", param("m"));
        assert!(param("t") >= 2, "{} passes", param("t"));
        assert!(param("p") >= 1);
        assert!(parsed.salt.is_some_and(|s| s.len() >= 16), "a salt of 16 bytes at least");
        assert_ne!(SecretHash::create("s3cret").as_phc(), h.as_phc(), "a fresh salt per hash");
    }

    #[test]
    fn generated_secrets_differ() {
        let a = generate_secret();
        let b = generate_secret();
        assert_eq!(a.expose_secret().len(), 43);
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn digest_is_sha256_base64url() {
        // SHA-256("abc"), RFC 6234 test vector.
        assert_eq!(digest("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
        assert_ne!(digest("abc"), digest("abd"));
    }

    #[test]
    fn fast_check_matches_only_its_secret_and_key() {
        let check = FastCheck::new();
        let f = check.fingerprint("s3cret");
        assert!(check.matches(&f, "s3cret"));
        assert!(!check.matches(&f, "s3cret "));
        assert!(!check.matches(&f, ""));
        assert!(!FastCheck::new().matches(&f, "s3cret"), "another process's key");
        assert_eq!(format!("{f:?}"), "Fingerprint(..)");
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
        assert!(!constant_time_eq("", "a"));
    }
}
