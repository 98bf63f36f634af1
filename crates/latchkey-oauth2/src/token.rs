//! RFC 9068 JWT access tokens: minting and verification.

use crate::keys::{KeyError, Signer, Verifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_core::secret::random_id;
use latchkey_core::time::UnixTime;
use serde::{Deserialize, Serialize};

/// The `typ` header RFC 9068 §2.1 requires.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// The claims of a Latchkey access token (RFC 9068 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub iat: UnixTime,
    pub exp: UnixTime,
    pub jti: String,
}

impl AccessTokenClaims {
    /// Claims for a client credentials token: the client is both subject and audience.
    pub fn for_client(issuer: &str, client_id: &str, scope: String, now: UnixTime, lifetime: i64) -> Self {
        AccessTokenClaims {
            iss: issuer.to_owned(),
            sub: client_id.to_owned(),
            aud: client_id.to_owned(),
            client_id: client_id.to_owned(),
            scope,
            iat: now,
            exp: now + lifetime,
            jti: random_id(),
        }
    }

    /// Signs the claims into a compact JWS with `typ: at+jwt` and the signer's `kid`.
    pub fn sign(&self, signer: &Signer) -> Result<String, KeyError> {
        #[derive(Serialize)]
        struct Header<'a> {
            alg: &'a str,
            typ: &'a str,
            kid: &'a str,
        }
        let header = Header { alg: signer.alg().as_str(), typ: ACCESS_TOKEN_TYP, kid: signer.kid() };
        let mut jwt = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("header serializes"));
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("claims serialize")));
        let sig = signer.sign(jwt.as_bytes())?;
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(sig));
        Ok(jwt)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is not an RFC 9068 access token")]
    WrongType,
    #[error("the token's signature, issuer or lifetime is not valid")]
    Invalid,
    #[error("the token has expired")]
    Expired,
}

/// What can be read from a token before its signature is checked: enough to find its realm
/// and key. Nothing here may be trusted until [`verify`] succeeds.
#[derive(Debug, Clone)]
pub struct UnverifiedToken {
    pub kid: String,
    pub iss: String,
}

/// Reads the header's `kid` and the claims' `iss` without verifying anything.
pub fn peek(token: &str) -> Result<UnverifiedToken, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    if header.typ.as_deref() != Some(ACCESS_TOKEN_TYP) {
        return Err(TokenError::WrongType);
    }
    let kid = header.kid.ok_or(TokenError::Malformed)?;
    #[derive(Deserialize)]
    struct Iss {
        iss: String,
    }
    let payload = token.split('.').nth(1).ok_or(TokenError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenError::Malformed)?;
    let Iss { iss } = serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
    Ok(UnverifiedToken { kid, iss })
}

/// Verifies signature, algorithm, `typ`, issuer and expiry (no leeway), as a resource server must
/// (RFC 9068 §4).
pub fn verify(token: &str, verifier: &Verifier, issuer: &str) -> Result<AccessTokenClaims, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    if header.typ.as_deref() != Some(ACCESS_TOKEN_TYP) {
        return Err(TokenError::WrongType);
    }
    let mut v = jsonwebtoken::Validation::new(verifier.alg.jsonwebtoken());
    v.set_issuer(&[issuer]);
    v.set_required_spec_claims(&["exp", "iss", "iat", "sub"]);
    v.validate_aud = false;
    v.leeway = 0;
    jsonwebtoken::decode::<AccessTokenClaims>(token, &verifier.key, &v).map(|d| d.claims).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
        _ => TokenError::Invalid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyStatus, MasterKey, NewSigningKey, SigningKey};
    use crate::provider::SigningAlg;
    use latchkey_core::time::now;

    fn key(alg: SigningAlg, master: &MasterKey) -> SigningKey {
        let k = NewSigningKey::generate(alg, master).unwrap();
        SigningKey {
            kid: k.kid,
            alg: k.alg,
            sealed_private_key: k.sealed_private_key,
            public_jwk: k.public_jwk,
            status: KeyStatus::Active,
            created_at: 0,
            retired_at: None,
            expires_at: None,
        }
    }

    #[test]
    fn every_algorithm_signs_and_verifies() {
        let master = MasterKey::generate();
        for alg in SigningAlg::ALL {
            let k = key(alg, &master);
            let signer = Signer::open(&k, &master).unwrap();
            let verifier = Verifier::from_key(&k).unwrap();
            let claims = AccessTokenClaims::for_client("https://iss", "c1", "write".into(), now(), 60);
            let jwt = claims.sign(&signer).unwrap();
            assert_eq!(verify(&jwt, &verifier, "https://iss"), Ok(claims.clone()), "{alg}");
            let peeked = peek(&jwt).unwrap();
            assert_eq!((peeked.kid.as_str(), peeked.iss.as_str()), (k.kid.as_str(), "https://iss"));
            assert_eq!(verify(&jwt, &verifier, "https://other"), Err(TokenError::Invalid));

            // Another key of the same algorithm does not verify it.
            let other = Verifier::from_key(&key(alg, &master)).unwrap();
            assert_eq!(verify(&jwt, &other, "https://iss"), Err(TokenError::Invalid));

            // A flipped claim breaks the signature.
            let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
            let mut body: serde_json::Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
            body["scope"] = "admin".into();
            parts[1] = URL_SAFE_NO_PAD.encode(body.to_string());
            assert_eq!(verify(&parts.join("."), &verifier, "https://iss"), Err(TokenError::Invalid));
        }
    }

    #[test]
    fn expired_tokens_fail() {
        let master = MasterKey::generate();
        let k = key(SigningAlg::EdDSA, &master);
        let claims = AccessTokenClaims::for_client("i", "c", "s".into(), now() - 100, 10);
        let jwt = claims.sign(&Signer::open(&k, &master).unwrap()).unwrap();
        assert_eq!(verify(&jwt, &Verifier::from_key(&k).unwrap(), "i"), Err(TokenError::Expired));
    }

    #[test]
    fn garbage_is_malformed() {
        for t in ["", "a.b.c", "not a jwt", "....."] {
            assert!(peek(t).is_err(), "{t}");
        }
    }
}
