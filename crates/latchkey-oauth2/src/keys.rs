//! Signing keys: generation, sealing under the master key, signing and verification.
//!
//! A key's private half exists in plaintext only in memory; storage holds it sealed with
//! AES-256-GCM under the [`MasterKey`], with the key id as associated data so a sealed blob
//! cannot be moved to another key's row.

use crate::provider::SigningAlg;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use latchkey_core::secret::{random_bytes, random_id};
use latchkey_core::time::UnixTime;
use secrecy::{ExposeSecret, SecretSlice};
use serde_json::json;
use std::fmt;

const SEAL_VERSION: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("master key must be 32 bytes, base64-encoded")]
    BadMasterKey,
    #[error("a sealed signing key could not be opened: wrong master key, or the data was altered")]
    Unseal,
    #[error("a signing key could not be parsed")]
    BadKey,
    #[error("key generation failed")]
    Generate,
    #[error("signing failed")]
    Sign,
}

/// The key that encrypts signing keys at rest. Never printed.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        MasterKey(random_bytes())
    }

    /// Parses 32 bytes in standard or URL-safe base64 (padding optional).
    pub fn from_base64(s: &str) -> Result<Self, KeyError> {
        let s = s.trim();
        let bytes = STANDARD
            .decode(s)
            .or_else(|_| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')))
            .map_err(|_| KeyError::BadMasterKey)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadMasterKey)?;
        Ok(MasterKey(arr))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.0).expect("32-byte AES-256 key"))
    }

    /// Encrypts `plaintext`, binding it to `kid`: version ‖ nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, kid: &str, plaintext: &[u8]) -> Vec<u8> {
        let nonce_bytes: [u8; NONCE_LEN] = random_bytes();
        let mut in_out = plaintext.to_vec();
        self.aead()
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_bytes), Aad::from(kid.as_bytes()), &mut in_out)
            .expect("AES-GCM sealing of a small buffer cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&in_out);
        out
    }

    pub fn open(&self, kid: &str, sealed: &[u8]) -> Result<SecretSlice<u8>, KeyError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != SEAL_VERSION {
            return Err(KeyError::Unseal);
        }
        let nonce = Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN]).map_err(|_| KeyError::Unseal)?;
        let mut in_out = sealed[1 + NONCE_LEN..].to_vec();
        let plain =
            self.aead().open_in_place(nonce, Aad::from(kid.as_bytes()), &mut in_out).map_err(|_| KeyError::Unseal)?;
        let len = plain.len();
        in_out.truncate(len);
        Ok(SecretSlice::from(in_out))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// Signs new tokens. One per realm.
    Active,
    /// Verifies tokens it signed until they have all expired; then it is dropped.
    Retired,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(KeyStatus::Active),
            "retired" => Some(KeyStatus::Retired),
            _ => None,
        }
    }
}

/// A signing key as stored: public JWK in clear, private part sealed.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub sealed_private_key: Vec<u8>,
    /// The public JWK (RFC 7517) as JSON text, with `kid`, `alg` and `use`.
    pub public_jwk: String,
    pub status: KeyStatus,
    pub created_at: UnixTime,
    pub retired_at: Option<UnixTime>,
    /// For a retired key: when the last token it may have signed expires.
    pub expires_at: Option<UnixTime>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A freshly generated key, ready to store.
pub struct NewSigningKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub sealed_private_key: Vec<u8>,
    pub public_jwk: String,
}

impl NewSigningKey {
    /// Generates a key pair for `alg` and seals its private half under `master`.
    pub fn generate(alg: SigningAlg, master: &MasterKey) -> Result<Self, KeyError> {
        let kid = random_id();
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        let (pkcs8, jwk): (Vec<u8>, serde_json::Value) = match alg {
            SigningAlg::RS256 => {
                let kp = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
                let der: Pkcs8V1Der<'static> = kp.as_der().map_err(|_| KeyError::Generate)?;
                let c = signature::RsaPublicKeyComponents::<Vec<u8>>::from(kp.public_key());
                (der.as_ref().to_vec(), json!({"kty": "RSA", "n": b64(&c.n), "e": b64(&c.e)}))
            }
            SigningAlg::ES256 => {
                let kp = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(|_| KeyError::Generate)?;
                let der = kp.to_pkcs8v1().map_err(|_| KeyError::Generate)?;
                let point = kp.public_key().as_ref();
                let (x, y) = point[1..].split_at(32);
                (der.as_ref().to_vec(), json!({"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)}))
            }
            SigningAlg::EdDSA => {
                let kp = Ed25519KeyPair::generate().map_err(|_| KeyError::Generate)?;
                let der = kp.to_pkcs8().map_err(|_| KeyError::Generate)?;
                let x = kp.public_key().as_ref();
                (der.as_ref().to_vec(), json!({"kty": "OKP", "crv": "Ed25519", "x": b64(x)}))
            }
        };
        let mut jwk = jwk;
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!(alg.as_str());
        jwk["use"] = json!("sig");
        let sealed_private_key = master.seal(&kid, &pkcs8);
        Ok(NewSigningKey { kid, alg, sealed_private_key, public_jwk: jwk.to_string() })
    }
}

enum SignerKey {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// An unsealed private key, ready to sign. Keep it in memory only.
pub struct Signer {
    kid: String,
    alg: SigningAlg,
    key: SignerKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl Signer {
    /// Unseals a stored key.
    pub fn open(key: &SigningKey, master: &MasterKey) -> Result<Self, KeyError> {
        let der = master.open(&key.kid, &key.sealed_private_key)?;
        let der = der.expose_secret();
        let parsed = match key.alg {
            SigningAlg::RS256 => SignerKey::Rsa(RsaKeyPair::from_pkcs8(der).map_err(|_| KeyError::BadKey)?),
            SigningAlg::ES256 => SignerKey::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(|_| KeyError::BadKey)?,
            ),
            SigningAlg::EdDSA => SignerKey::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(|_| KeyError::BadKey)?),
        };
        Ok(Signer { kid: key.kid.clone(), alg: key.alg, key: parsed })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// Signs `message`, returning the raw JWS signature.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match &self.key {
            SignerKey::Rsa(kp) => {
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig).map_err(|_| KeyError::Sign)?;
                Ok(sig)
            }
            SignerKey::Ec(kp) => Ok(kp.sign(&rng, message).map_err(|_| KeyError::Sign)?.as_ref().to_vec()),
            SignerKey::Ed(kp) => Ok(kp.sign(message).as_ref().to_vec()),
        }
    }
}

/// A public key that verifies tokens, built from the stored JWK.
pub struct Verifier {
    pub(crate) alg: SigningAlg,
    pub(crate) key: jsonwebtoken::DecodingKey,
}

impl Verifier {
    pub fn from_key(key: &SigningKey) -> Result<Self, KeyError> {
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_str(&key.public_jwk).map_err(|_| KeyError::BadKey)?;
        let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|_| KeyError::BadKey)?;
        Ok(Verifier { alg: key.alg, key: decoding })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_round_trips_and_binds_the_kid() {
        let m = MasterKey::generate();
        let sealed = m.seal("kid-1", b"private");
        assert!(!sealed.windows(7).any(|w| w == b"private"));
        assert_eq!(m.open("kid-1", &sealed).unwrap().expose_secret(), b"private");
        assert!(m.open("kid-2", &sealed).is_err());
        assert!(MasterKey::generate().open("kid-1", &sealed).is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(m.open("kid-1", &tampered).is_err());
        assert_eq!(MasterKey::from_base64(&m.to_base64()).unwrap().0, m.0);
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
    }
}
