//! Issuing and checking access tokens against storage: the glue between the OAuth2 rules,
//! the realm's keys and the revocation list.

use crate::limits::{Busy, HashGate};
use crate::state::AppState;
use latchkey_applications::Application;
use latchkey_core::secret::SecretHash;
use latchkey_core::time::now;
use latchkey_oauth2::{AccessTokenClaims, TokenError};
use latchkey_realms::Realm;
use latchkey_storage::StoreError;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("the token names no realm of this server, or an unknown or disabled one")]
    UnknownIssuer,
    #[error("the token's key is unknown or retired past use")]
    UnknownKey,
    #[error("the token was revoked")]
    Revoked,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] latchkey_oauth2::KeyError),
}

impl CheckError {
    /// Whether the failure is ours (a 500), not the token's.
    pub fn is_internal(&self) -> bool {
        matches!(self, CheckError::Store(_) | CheckError::Key(_))
    }
}

/// Signs an access token for `app` in `realm` with the realm's active key.
pub async fn issue(
    state: &AppState,
    realm: &Realm,
    app: &Application,
    scope: String,
    lifetime: i64,
) -> Result<String, CheckError> {
    let key = state.store.cached_active_key(realm.id).await?;
    let signer = state.signer(&key)?;
    let claims =
        AccessTokenClaims::for_client(&state.issuer(&realm.name), app.client_id.as_str(), scope, now(), lifetime);
    Ok(claims.sign(&signer)?)
}

/// Checks a presented token as a resource server would: issuer names an enabled realm of
/// ours, the key is one of that realm's, signature, type and expiry hold, and the token is not
/// revoked. Returns the realm and claims.
pub async fn check(state: &AppState, token: &str) -> Result<(Arc<Realm>, AccessTokenClaims), CheckError> {
    let peeked = latchkey_oauth2::peek(token)?;
    let realm_name = state.realm_of_issuer(&peeked.iss).ok_or(CheckError::UnknownIssuer)?;
    let realm = state.store.cached_realm(realm_name).await?.ok_or(CheckError::UnknownIssuer)?;
    let claims = check_peeked(state, token, &peeked, &realm).await?;
    Ok((realm, claims))
}

/// [`check`] for a token presented at `realm`'s endpoints: `Ok(None)` when it was issued by
/// another realm (without looking that realm up).
pub async fn check_in_realm(
    state: &AppState,
    token: &str,
    realm: &Realm,
) -> Result<Option<AccessTokenClaims>, CheckError> {
    let peeked = latchkey_oauth2::peek(token)?;
    let realm_name = state.realm_of_issuer(&peeked.iss).ok_or(CheckError::UnknownIssuer)?;
    if realm_name != realm.name.as_str() {
        return Ok(None);
    }
    check_peeked(state, token, &peeked, realm).await.map(Some)
}

async fn check_peeked(
    state: &AppState,
    token: &str,
    peeked: &latchkey_oauth2::UnverifiedToken,
    realm: &Realm,
) -> Result<AccessTokenClaims, CheckError> {
    if !realm.enabled {
        return Err(CheckError::UnknownIssuer);
    }
    // Checked on every use, so a token remembered as verified stops being valid with its key.
    let key = state.store.cached_verification_key(realm.id, &peeked.kid).await?.ok_or(CheckError::UnknownKey)?;
    let fingerprint = state.verified_tokens.fingerprint(token);
    let claims = match state.verified_tokens.get(realm.id, &fingerprint) {
        // `verify`'s expiry rule: expired once `exp` is in the past.
        Some(claims) if claims.exp < now() => return Err(TokenError::Expired.into()),
        Some(claims) => AccessTokenClaims::clone(&claims),
        None => {
            let verifier = state.verifier(&key)?;
            let claims = latchkey_oauth2::verify(token, &verifier, &state.issuer(&realm.name))?;
            state.verified_tokens.remember(realm.id, fingerprint, Arc::new(claims.clone()));
            claims
        }
    };
    if state.store.cached_is_token_revoked(realm.id, &claims.jti).await? {
        return Err(CheckError::Revoked);
    }
    Ok(claims)
}

/// Verifies a secret off the async executor, through the gate that bounds argon2id work (it
/// costs tens of milliseconds and 19 MiB by design). With no hash (unknown client or user) it
/// verifies against a decoy so timing reveals nothing. `Err` when the gate is full.
pub async fn verify_secret(gate: &HashGate, hash: Option<SecretHash>, candidate: String) -> Result<bool, Busy> {
    let known = hash.is_some();
    let ok = gate
        .run(move || {
            let h = hash.as_ref().unwrap_or_else(|| SecretHash::decoy());
            h.verify(&candidate)
        })
        .await?;
    Ok(known && ok)
}

/// Hashes a secret on the gate's threads, queued (admin writes and bootstrap only).
pub async fn hash_secret(gate: &HashGate, secret: String) -> Result<SecretHash, Busy> {
    gate.run_queued(move || SecretHash::create(&secret)).await
}
