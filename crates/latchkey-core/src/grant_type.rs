//! OAuth 2.0 grant types (RFC 6749 §4, and the registered extension grants).

use std::fmt;
use std::str::FromStr;

/// A grant type Latchkey knows by name. Only those with [`GrantType::is_implemented`] can be
/// used at a token endpoint; the others may be listed in settings ahead of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
    Password,
    Implicit,
    DeviceCode,
    JwtBearer,
    TokenExchange,
}

impl GrantType {
    pub const ALL: [GrantType; 8] = [
        GrantType::AuthorizationCode,
        GrantType::ClientCredentials,
        GrantType::RefreshToken,
        GrantType::Password,
        GrantType::Implicit,
        GrantType::DeviceCode,
        GrantType::JwtBearer,
        GrantType::TokenExchange,
    ];

    /// The grants this version of Latchkey can issue tokens for.
    pub const IMPLEMENTED: [GrantType; 1] = [GrantType::ClientCredentials];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Password => "password",
            GrantType::Implicit => "implicit",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            GrantType::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }

    pub fn is_implemented(self) -> bool {
        Self::IMPLEMENTED.contains(&self)
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A grant type name Latchkey does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown grant type `{0}`")]
pub struct UnknownGrantType(pub String);

impl FromStr for GrantType {
    type Err = UnknownGrantType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GrantType::ALL.into_iter().find(|g| g.as_str() == s).ok_or_else(|| UnknownGrantType(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for g in GrantType::ALL {
            assert_eq!(g.as_str().parse::<GrantType>(), Ok(g));
        }
        assert!("client-credentials".parse::<GrantType>().is_err());
        assert!("".parse::<GrantType>().is_err());
    }

    #[test]
    fn only_client_credentials_is_implemented() {
        assert!(GrantType::ClientCredentials.is_implemented());
        assert!(!GrantType::AuthorizationCode.is_implemented());
    }
}
