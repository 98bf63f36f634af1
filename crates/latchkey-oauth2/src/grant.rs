//! The client credentials grant (RFC 6749 §4.4): which scopes a client gets, and for how long.

use crate::provider::ProviderSettings;
use latchkey_applications::Application;
use latchkey_core::{GrantType, ScopeSet};

/// Why a grant is refused; each maps to one RFC 6749 §5.2 error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("the realm does not allow the {0} grant")]
    UnsupportedGrantType(GrantType),
    #[error("the client is not allowed to use the {0} grant")]
    UnauthorizedClient(GrantType),
    #[error("{0}")]
    InvalidScope(String),
}

/// What a successful grant decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub scope: ScopeSet,
    pub lifetime: i64,
}

/// Decides a client credentials request by an authenticated client.
///
/// Without `requested` scopes the client's default scopes apply, else the realm's; with
/// neither, the request is refused. Every scope granted must be among the client's allowed
/// scopes.
pub fn client_credentials(
    provider: &ProviderSettings,
    app: &Application,
    requested: Option<&ScopeSet>,
) -> Result<Granted, GrantError> {
    let grant = GrantType::ClientCredentials;
    if !provider.allows(grant) {
        return Err(GrantError::UnsupportedGrantType(grant));
    }
    if !app.is_confidential() || !app.settings.grant_types.contains(&grant) {
        return Err(GrantError::UnauthorizedClient(grant));
    }
    let scope = match requested {
        Some(s) => s.clone(),
        None if !app.settings.default_scopes.is_empty() => app.settings.default_scopes.clone(),
        None if !provider.default_scopes.is_empty() => provider.default_scopes.clone(),
        None => {
            return Err(GrantError::InvalidScope(
                "no scope was requested and neither the client nor the realm has default scopes".into(),
            ));
        }
    };
    if let Some(s) = scope.missing_from(&app.settings.allowed_scopes).next() {
        return Err(GrantError::InvalidScope(format!("the client may not request scope `{s}`")));
    }
    let lifetime = app.settings.access_token_lifetime.unwrap_or(provider.access_token_lifetime);
    Ok(Granted { scope, lifetime })
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_applications::{
        ApplicationId, ApplicationSettings, ApplicationType, ClientId, SignInMethod, TokenEndpointAuthMethod,
    };
    use latchkey_core::secret::SecretHash;

    fn scopes(s: &str) -> ScopeSet {
        if s.is_empty() { ScopeSet::new() } else { ScopeSet::parse_delimited(s).unwrap() }
    }

    fn app(allowed: &str, default: &str) -> Application {
        Application {
            id: ApplicationId(1),
            client_id: ClientId::parse("c").unwrap(),
            secret_hash: Some(SecretHash::from_phc(SecretHash::decoy().as_phc().to_owned()).unwrap()),
            settings: ApplicationSettings {
                client_name: "c".into(),
                description: None,
                sign_in_method: SignInMethod::Oidc,
                application_type: ApplicationType::Web,
                grant_types: vec![GrantType::ClientCredentials],
                redirect_uris: vec![],
                allowed_scopes: scopes(allowed),
                default_scopes: scopes(default),
                token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
                access_token_lifetime: None,
                enabled: true,
            },
            created_at: 0,
            updated_at: 0,
        }
    }

    #[track_caller]
    fn check(app: &Application, realm_default: &str, requested: Option<&str>, expected: Result<&str, &str>) {
        let mut provider = ProviderSettings::new_realm();
        provider.default_scopes = scopes(realm_default);
        let requested = requested.map(scopes);
        let got = client_credentials(&provider, app, requested.as_ref());
        match (got, expected) {
            (Ok(g), Ok(s)) => assert_eq!(g.scope.to_string(), s),
            (Err(GrantError::InvalidScope(_)), Err("invalid_scope")) => {}
            (Err(GrantError::UnauthorizedClient(_)), Err("unauthorized_client")) => {}
            (Err(GrantError::UnsupportedGrantType(_)), Err("unsupported_grant_type")) => {}
            (got, expected) => panic!("got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn scope_selection() {
        let a = app("read write", "read");
        check(&a, "", Some("write"), Ok("write"));
        check(&a, "", Some("read write"), Ok("read write"));
        check(&a, "", Some("admin"), Err("invalid_scope"));
        check(&a, "", Some("write admin"), Err("invalid_scope"));
        check(&a, "write", None, Ok("read"));
        let b = app("read write", "");
        check(&b, "write", None, Ok("write"));
        check(&b, "", None, Err("invalid_scope"));
        check(&b, "admin", None, Err("invalid_scope"));
    }

    #[test]
    fn grant_permissions() {
        let mut a = app("write", "write");
        a.settings.grant_types = vec![GrantType::AuthorizationCode];
        check(&a, "", None, Err("unauthorized_client"));
        let mut public = app("write", "write");
        public.secret_hash = None;
        check(&public, "", None, Err("unauthorized_client"));

        let mut provider = ProviderSettings::new_realm();
        provider.grant_types = vec![GrantType::AuthorizationCode];
        let a = app("write", "write");
        assert_eq!(
            client_credentials(&provider, &a, None),
            Err(GrantError::UnsupportedGrantType(GrantType::ClientCredentials))
        );
    }

    #[test]
    fn lifetime_prefers_the_client() {
        let provider = ProviderSettings::new_realm();
        let mut a = app("write", "write");
        assert_eq!(client_credentials(&provider, &a, None).unwrap().lifetime, 3600);
        a.settings.access_token_lifetime = Some(60);
        assert_eq!(client_credentials(&provider, &a, None).unwrap().lifetime, 60);
    }
}
