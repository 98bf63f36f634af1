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

/// Request budgets of a realm's token, introspection and revocation endpoints, per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests of one authenticated client; 0 is no limit.
    pub per_client: u32,
    /// Requests from one source address; 0 is no limit.
    pub per_address: u32,
    /// Failed client authentications for one client id, and from one source address. Once
    /// spent, further attempts are refused before any secret is hashed. At least 1.
    pub failed_auth: u32,
}

impl RateLimits {
    /// The most any budget may be.
    pub const MAX: u32 = 10_000_000;
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits { per_client: 6_000, per_address: 12_000, failed_auth: 10 }
    }
}

/// A web origin allowed to call the realm's token and introspection endpoints from a browser
/// (CORS): `scheme://host[:port]`, as browsers send it in `Origin`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin(String);

impl Origin {
    pub fn parse(s: &str) -> Result<Origin, String> {
        let url = url::Url::parse(s).map_err(|e| format!("`{s}` is not an origin: {e}"))?;
        let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !url.username().is_empty() || !bare {
            return Err(format!("`{s}` is not an origin: expected scheme://host[:port], http or https"));
        }
        Ok(Origin(url.origin().ascii_serialization()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
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
    pub rate_limits: RateLimits,
    /// Origins allowed by CORS at the token and introspection endpoints; none by default.
    pub cors_origins: Vec<Origin>,
}

impl ProviderSettings {
    /// A new realm allows every grant Latchkey implements.
    pub fn new_realm() -> Self {
        ProviderSettings {
            grant_types: GrantType::IMPLEMENTED.to_vec(),
            access_token_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            default_scopes: ScopeSet::new(),
            signing_alg: SigningAlg::RS256,
            rate_limits: RateLimits::default(),
            cors_origins: Vec::new(),
        }
    }

    /// Whether a browser page of `origin` may call the token and introspection endpoints.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.cors_origins.iter().any(|o| o.as_str() == origin)
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
        let l = self.rate_limits;
        for (field, value, min) in [
            ("rate_limits.per_client", l.per_client, 0),
            ("rate_limits.per_address", l.per_address, 0),
            ("rate_limits.failed_auth", l.failed_auth, 1),
        ] {
            if !(min..=RateLimits::MAX).contains(&value) {
                return Err(FieldError::new(
                    field,
                    format!("must be between {min} and {} per minute", RateLimits::MAX),
                ));
            }
        }
        if self.cors_origins.len() > 100 {
            return Err(FieldError::new("cors_origins", "at most 100 origins"));
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
    pub rate_limits: Option<RateLimits>,
    pub cors_origins: Option<Vec<Origin>>,
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
        if let Some(l) = self.rate_limits {
            s.rate_limits = l;
        }
        if let Some(mut o) = self.cors_origins {
            o.sort();
            o.dedup();
            s.cors_origins = o;
        }
        s.validate()?;
        Ok(before != s.signing_alg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_port_only() {
        assert_eq!(Origin::parse("https://app.example.com").unwrap().as_str(), "https://app.example.com");
        assert_eq!(Origin::parse("https://App.Example.com:443/").unwrap().as_str(), "https://app.example.com");
        assert_eq!(Origin::parse("http://localhost:3000").unwrap().as_str(), "http://localhost:3000");
        for bad in [
            "app.example.com",
            "ftp://x.example",
            "https://x.example/path",
            "https://x.example?q",
            "https://u@x.example",
            "",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rate_limits_are_checked() {
        let mut p = ProviderSettings::new_realm();
        assert!(p.validate().is_ok());
        p.rate_limits.failed_auth = 0;
        assert_eq!(p.validate().unwrap_err().field, "rate_limits.failed_auth");
        p.rate_limits = RateLimits { per_client: 0, per_address: 0, failed_auth: 1 };
        assert!(p.validate().is_ok(), "0 is no limit for requests");
        p.rate_limits.per_client = RateLimits::MAX + 1;
        assert_eq!(p.validate().unwrap_err().field, "rate_limits.per_client");
    }

    #[test]
    fn patch_sorts_and_dedups_origins() {
        let mut p = ProviderSettings::new_realm();
        let o = |s| Origin::parse(s).unwrap();
        ProviderPatch {
            cors_origins: Some(vec![o("https://b.example"), o("https://a.example"), o("https://b.example")]),
            ..Default::default()
        }
        .apply(&mut p)
        .unwrap();
        assert_eq!(p.cors_origins, vec![o("https://a.example"), o("https://b.example")]);
        assert!(p.allows_origin("https://a.example"));
        assert!(!p.allows_origin("https://c.example"));
    }
}
