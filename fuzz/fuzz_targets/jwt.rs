//! Tokens presented to introspection, tokeninfo and the admin API: read (`peek`) and verified
//! against a realm's key. Nothing the fuzzer makes verifies unless it is a token the key signed.
//! An input starting with `~` is appended to the first half of a token the key signed.
#![no_main]
use latchkey_oauth2::{
    AccessTokenClaims, KeyStatus, MasterKey, NewSigningKey, Signer, SigningAlg, SigningKey, Verifier, peek, verify,
};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

const ISSUER: &str = "https://id.example.com/oauth2/realms/fuzz";

struct Key {
    verifier: Verifier,
    /// A token it signed, valid for a year: the seed's mutations start near it.
    signed: String,
}

static KEY: LazyLock<Key> = LazyLock::new(|| {
    let master = MasterKey::generate();
    let new = NewSigningKey::generate(SigningAlg::ES256, &master).unwrap();
    let key = SigningKey {
        kid: new.kid,
        alg: new.alg,
        sealed_private_key: new.sealed_private_key,
        public_jwk: new.public_jwk,
        status: KeyStatus::Active,
        created_at: 0,
        retired_at: None,
        expires_at: None,
    };
    let now = latchkey_core::time::now();
    let claims = AccessTokenClaims::for_client(ISSUER, "svc", "read".into(), now, 365 * 86_400);
    let signed = claims.sign(&Signer::open(&key, &master).unwrap()).unwrap();
    let verifier = Verifier::from_key(&key).unwrap();
    assert!(verify(&signed, &verifier, ISSUER).is_ok(), "the fuzzer's own token verifies");
    Key { verifier, signed }
});

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let key = &*KEY;
    // An input starting with `~` is spliced onto the signed token, to reach the signature check.
    let spliced;
    let token = match token.strip_prefix('~') {
        Some(tail) => {
            spliced = format!("{}{tail}", &key.signed[..key.signed.len() / 2]);
            spliced.as_str()
        }
        None => token,
    };
    let peeked = peek(token);
    if let Ok(claims) = verify(token, &key.verifier, ISSUER) {
        // The signature covers the header and claims as text: only the signed ones verify.
        let (signed_head, _) = key.signed.rsplit_once('.').unwrap();
        assert!(token.starts_with(&format!("{signed_head}.")), "a token the key did not sign verified: {token}");
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(peeked.expect("a verified token can be read").iss, ISSUER);
    }
});
