//! A realm's OAuth2 provider settings.

use latchkey_applications::MAX_ACCESS_TOKEN_LIFETIME;
use latchkey_core::{FieldError, GrantType, ScopeSet};
use std::fmt;
use std::str::FromStr;

/// The lifetime of an access token when neither the client nor the realm says otherwise.
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: i64 = 3600;

/// The JWS algorithm a realm signs access tokens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    RS256,
    ES256,
    EdDSA,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
            SigningAlg::EdDSA => "EdDSA",
        }
    }

    pub(crate) fn jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            SigningAlg::RS256 => jsonwebtoken::Algorithm::RS256,
            SigningAlg::ES256 => jsonwebtoken::Algorithm::ES256,
            SigningAlg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

impl FromStr for SigningAlg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        SigningAlg::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| "must be one of: RS256, ES256, EdDSA".to_owned())
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// The grants the realm allows at its token endpoint.
    pub grant_types: Vec<GrantType>,
    pub access_token_lifetime: i64,
    /// Scopes granted when neither the request nor the client names any.
    pub default_scopes: ScopeSet,
    pub signing_alg: SigningAlg,
}

impl ProviderSettings {
    /// A new realm allows every grant Latchkey implements.
    pub fn new_realm() -> Self {
        ProviderSettings {
            grant_types: GrantType::IMPLEMENTED.to_vec(),
            access_token_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            default_scopes: ScopeSet::new(),
            signing_alg: SigningAlg::RS256,
        }
    }

    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        if !(1..=MAX_ACCESS_TOKEN_LIFETIME).contains(&self.access_token_lifetime) {
            return Err(FieldError::new(
                "access_token_lifetime",
                format!("must be between 1 and {MAX_ACCESS_TOKEN_LIFETIME} seconds"),
            ));
        }
        Ok(())
    }
}

/// What an admin may change on the provider.
#[derive(Debug, Clone, Default)]
pub struct ProviderPatch {
    pub grant_types: Option<Vec<GrantType>>,
    pub access_token_lifetime: Option<i64>,
    pub default_scopes: Option<ScopeSet>,
    pub signing_alg: Option<SigningAlg>,
}

impl ProviderPatch {
    /// Applies the patch and checks the result; tells whether the signing algorithm changed
    /// (the caller must then rotate to a key of the new algorithm).
    pub fn apply(self, s: &mut ProviderSettings) -> Result<bool, FieldError> {
        let before = s.signing_alg;
        if let Some(mut g) = self.grant_types {
            g.dedup();
            s.grant_types = g;
        }
        if let Some(l) = self.access_token_lifetime {
            s.access_token_lifetime = l;
        }
        if let Some(d) = self.default_scopes {
            s.default_scopes = d;
        }
        if let Some(a) = self.signing_alg {
            s.signing_alg = a;
        }
        s.validate()?;
        Ok(before != s.signing_alg)
    }
}
