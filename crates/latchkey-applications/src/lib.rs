//! Applications: the OAuth clients of a realm, and the rules their registration must follow.

mod redirect_uri;

pub use redirect_uri::RedirectUri;

use latchkey_core::secret::SecretHash;
use latchkey_core::time::UnixTime;
use latchkey_core::{FieldError, GrantType, ScopeSet};
use std::fmt;
use std::str::FromStr;

/// The longest access token lifetime a client or realm may ask for: one day.
pub const MAX_ACCESS_TOKEN_LIFETIME: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApplicationId(pub i32);

/// A client identifier (RFC 6749 §2.2), unique within its realm. We keep to URL-unreserved
/// characters so that it is safe in paths, headers and forms without escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let ok = (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if ok {
            Ok(ClientId(s.to_owned()))
        } else {
            Err(FieldError::new("client_id", "must be 1 to 128 characters of letters, digits and - . _ ~"))
        }
    }

    /// A fresh random client id.
    pub fn generate() -> Self {
        ClientId(latchkey_core::secret::random_id())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err(format!(
                        "must be one of: {}",
                        [$($s),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// How users sign in to the application. Only OpenID Connect today.
    SignInMethod { Oidc = "oidc" }
}

wire_enum! {
    /// `web` apps keep a secret (confidential); `native` and `spa` cannot (public).
    ApplicationType { Web = "web", Native = "native", Spa = "spa" }
}

wire_enum! {
    /// How the client authenticates at the token endpoint (RFC 7591 §2).
    TokenEndpointAuthMethod {
        ClientSecretBasic = "client_secret_basic",
        ClientSecretPost = "client_secret_post",
        None = "none",
    }
}

impl ApplicationType {
    pub fn is_confidential(self) -> bool {
        self == ApplicationType::Web
    }
}

/// Everything an admin may set on an application, checked as a whole by [`validate`](Self::validate).
#[derive(Debug, Clone)]
pub struct ApplicationSettings {
    pub client_name: String,
    pub description: Option<String>,
    pub sign_in_method: SignInMethod,
    pub application_type: ApplicationType,
    pub grant_types: Vec<GrantType>,
    pub redirect_uris: Vec<RedirectUri>,
    pub allowed_scopes: ScopeSet,
    pub default_scopes: ScopeSet,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub access_token_lifetime: Option<i64>,
    pub enabled: bool,
}

impl ApplicationSettings {
    /// The rules that tie fields together. Single fields are already parsed.
    pub fn validate(&self) -> Result<(), FieldError> {
        let text_ok = |s: &str, max: usize| s.chars().count() <= max && !s.chars().any(char::is_control);
        if self.client_name.trim().is_empty() {
            return Err(FieldError::new("client_name", "must not be empty"));
        }
        if !text_ok(&self.client_name, 255) {
            return Err(FieldError::new("client_name", "must be at most 255 characters without control characters"));
        }
        if let Some(d) = &self.description
            && (d.chars().count() > 1024 || d.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')))
        {
            return Err(FieldError::new(
                "description",
                "must be at most 1024 characters without control characters (line breaks and tabs allowed)",
            ));
        }
        let confidential = self.application_type.is_confidential();
        match (confidential, self.token_endpoint_auth_method) {
            (true, TokenEndpointAuthMethod::None) => {
                return Err(FieldError::new(
                    "token_endpoint_auth_method",
                    "a web application is confidential: use client_secret_basic or client_secret_post",
                ));
            }
            (false, m) if m != TokenEndpointAuthMethod::None => {
                return Err(FieldError::new(
                    "token_endpoint_auth_method",
                    "native and spa applications are public clients: the only method is none",
                ));
            }
            _ => {}
        }
        if !confidential && self.grant_types.contains(&GrantType::ClientCredentials) {
            return Err(FieldError::new("grant_types", "client_credentials needs a confidential (web) application"));
        }
        if let Some(extra) = self.default_scopes.missing_from(&self.allowed_scopes).next() {
            return Err(FieldError::new("default_scopes", format!("`{extra}` is not among allowed_scopes")));
        }
        if let Some(l) = self.access_token_lifetime
            && !(1..=MAX_ACCESS_TOKEN_LIFETIME).contains(&l)
        {
            return Err(FieldError::new(
                "access_token_lifetime",
                format!("must be between 1 and {MAX_ACCESS_TOKEN_LIFETIME} seconds"),
            ));
        }
        Ok(())
    }

    /// The default auth method for an application type.
    pub fn default_auth_method(t: ApplicationType) -> TokenEndpointAuthMethod {
        if t.is_confidential() { TokenEndpointAuthMethod::ClientSecretBasic } else { TokenEndpointAuthMethod::None }
    }
}

/// A registered application as stored.
#[derive(Debug, Clone)]
pub struct Application {
    pub id: ApplicationId,
    pub client_id: ClientId,
    pub secret_hash: Option<SecretHash>,
    pub settings: ApplicationSettings,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

impl Application {
    pub fn is_confidential(&self) -> bool {
        self.settings.application_type.is_confidential() && self.secret_hash.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> ApplicationSettings {
        ApplicationSettings {
            client_name: "Demo".into(),
            description: None,
            sign_in_method: SignInMethod::Oidc,
            application_type: ApplicationType::Web,
            grant_types: vec![GrantType::ClientCredentials],
            redirect_uris: vec![],
            allowed_scopes: ScopeSet::parse_delimited("read write").unwrap(),
            default_scopes: ScopeSet::parse_delimited("write").unwrap(),
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            access_token_lifetime: None,
            enabled: true,
        }
    }

    #[track_caller]
    fn check(edit: impl FnOnce(&mut ApplicationSettings), field: Option<&str>) {
        let mut s = web();
        edit(&mut s);
        assert_eq!(s.validate().err().map(|e| e.field), field.map(str::to_owned));
    }

    #[test]
    fn settings_rules() {
        check(|_| {}, None);
        check(|s| s.default_scopes = ScopeSet::parse_delimited("admin").unwrap(), Some("default_scopes"));
        check(|s| s.token_endpoint_auth_method = TokenEndpointAuthMethod::None, Some("token_endpoint_auth_method"));
        check(|s| s.application_type = ApplicationType::Spa, Some("token_endpoint_auth_method"));
        check(
            |s| {
                s.application_type = ApplicationType::Native;
                s.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
            },
            Some("grant_types"),
        );
        check(
            |s| {
                s.application_type = ApplicationType::Spa;
                s.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
                s.grant_types = vec![GrantType::AuthorizationCode];
            },
            None,
        );
        check(|s| s.access_token_lifetime = Some(0), Some("access_token_lifetime"));
        check(|s| s.access_token_lifetime = Some(86_401), Some("access_token_lifetime"));
        check(|s| s.access_token_lifetime = Some(60), None);
        check(|s| s.client_name = "a\u{0}b".into(), Some("client_name"));
        check(|s| s.client_name = String::new(), Some("client_name"));
        check(|s| s.client_name = "  ".into(), Some("client_name"));
    }

    #[test]
    fn client_ids() {
        assert!(ClientId::parse("my-client_1.x~").is_ok());
        for bad in ["", "a b", "a:b", "a/b", "ä", &"a".repeat(129)] {
            assert!(ClientId::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ClientId::generate().as_str().len(), 22);
    }

    #[test]
    fn wire_enums() {
        assert_eq!("web".parse(), Ok(ApplicationType::Web));
        assert!("Web".parse::<ApplicationType>().is_err());
        assert_eq!(TokenEndpointAuthMethod::ClientSecretPost.to_string(), "client_secret_post");
    }
}
