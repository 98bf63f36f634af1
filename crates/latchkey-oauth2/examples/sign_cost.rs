//! What one access token's signature and verification cost with the crypto backend in use, on
//! one core of this machine: the floor under the token endpoint's CPU per request, and for
//! RS256 the limit on its throughput. `cargo xtask bench` runs it and reports the figures.
//!
//! `cargo run --release -p latchkey-oauth2 --example sign_cost`: one line per algorithm,
//! `SIGN-COST alg=ES256 sign_us=… verify_us=…`.

use latchkey_oauth2::{
    AccessTokenClaims, KeyStatus, MasterKey, NewSigningKey, Signer, SigningAlg, SigningKey, Verifier,
};
use std::time::{Duration, Instant};

/// Each figure is the mean over at least this long.
const MEASURE: Duration = Duration::from_secs(1);

fn main() {
    let master = MasterKey::generate();
    for alg in SigningAlg::ALL {
        let new = NewSigningKey::generate(alg, &master).expect("a new key");
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
        let signer = Signer::open(&key, &master).expect("the key opens");
        let verifier = Verifier::from_key(&key).expect("the public key parses");
        let issuer = "https://latchkey.example/oauth2/realms/bench";
        let claims = || AccessTokenClaims::for_client(issuer, "bench-client", "read".into(), now(), 3600);
        let token = claims().sign(&signer).expect("signs");
        let sign = per_call(|| {
            std::hint::black_box(claims().sign(&signer).expect("signs"));
        });
        let verify = per_call(|| {
            std::hint::black_box(latchkey_oauth2::verify(&token, &verifier, issuer).expect("verifies"));
        });
        println!("SIGN-COST alg={alg} sign_us={:.1} verify_us={:.1}", micros(sign), micros(verify));
    }
}

/// The mean time of one call of `f`, after a warm-up.
fn per_call(mut f: impl FnMut()) -> Duration {
    for _ in 0..20 {
        f();
    }
    let started = Instant::now();
    let mut calls = 0u32;
    while started.elapsed() < MEASURE {
        for _ in 0..10 {
            f();
        }
        calls += 10;
    }
    started.elapsed() / calls
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn now() -> i64 {
    latchkey_core::time::now()
}
