//! The seed's demonstration, end to end over HTTP: an operator prepares a realm, a client gets
//! a token, a resource server validates it by introspection and by the JWKS.

use crate::helpers::{Backend, TestApp, jwt_parts, verify_with_jwks};
use latchkey_core::time::now;
use reqwest::Method;
use serde_json::json;

async fn seed_demonstration(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    // The operator creates the realm; its provider allows client credentials from the start.
    let realm = app.create_realm("customers").await;
    assert_eq!(realm["issuer"], app.issuer("customers"));
    let provider = app.admin_call(Method::GET, "/realms/customers/oauth2-provider", None, 200).await;
    assert!(provider["grant_types"].as_array().unwrap().contains(&json!("client_credentials")));
    assert_eq!(provider["access_token_lifetime"], 3600);
    assert_eq!(provider["signing_alg"], "RS256");

    // The application owner and the resource owner.
    for (username, given) in [("app-owner", "Ada"), ("resource-owner", "Rob")] {
        let u = app
            .admin_call(
                Method::POST,
                "/realms/customers/users",
                Some(json!({"username": username, "password": "correct horse battery", "given_name": given, "email": format!("{username}@example.com")})),
                201,
            )
            .await;
        assert_eq!(u["username"], username);
        assert!(u.get("password").is_none() && u.get("password_hash").is_none());
    }

    // The confidential OIDC web application, with its sign-in URL and grant types.
    let created = app
        .admin_call(
            Method::POST,
            "/realms/customers/applications",
            Some(json!({
                "client_id": "client",
                "client_secret": "secret-of-the-client",
                "client_name": "Customer data sync",
                "sign_in_method": "oidc",
                "application_type": "web",
                "grant_types": ["client_credentials"],
                "redirect_uris": ["https://sync.example.com/callback"],
                "allowed_scopes": ["read", "write"],
                "owners": ["app-owner"],
            })),
            201,
        )
        .await;
    assert_eq!(created["client_secret"], "secret-of-the-client");
    assert_eq!(created["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(created["owners"], json!(["app-owner"]));

    // The seed's curl: POST --user client:secret grant_type=client_credentials scope=write.
    let before = now();
    let resp = app.token_request("customers", "client", "secret-of-the-client", Some("write")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: serde_json::Value = resp.json().await.unwrap();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "exactly the seed's fields: {body}");
    assert_eq!(body["scope"], "write");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();

    // RFC 9068 shape.
    let (header, claims) = jwt_parts(token);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "RS256");
    assert!(header["kid"].is_string());
    assert_eq!(claims["iss"], app.issuer("customers"));
    assert_eq!(claims["sub"], "client");
    assert_eq!(claims["client_id"], "client");
    assert_eq!(claims["aud"], "client");
    assert_eq!(claims["scope"], "write");
    let iat = claims["iat"].as_i64().unwrap();
    assert!(iat >= before && iat <= now());
    assert_eq!(claims["exp"].as_i64().unwrap(), iat + 3600);
    assert!(claims["jti"].as_str().unwrap().len() >= 16);

    // A resource server asks the authorization server (introspection, as a client of the realm)…
    app.create_client("customers", "resource-server", &[]).await;
    let rs_secret = app
        .admin_call(Method::POST, "/realms/customers/applications/resource-server/secret", None, 200)
        .await["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let info = app.introspect("customers", "resource-server", &rs_secret, token).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["scope"], "write");
    assert_eq!(info["client_id"], "client");
    assert_eq!(info["sub"], "client");
    assert_eq!(info["aud"], "client");
    assert_eq!(info["iss"], app.issuer("customers"));
    assert_eq!(info["exp"], claims["exp"]);
    assert_eq!(info["iat"], claims["iat"]);
    assert_eq!(info["token_type"], "Bearer");

    // …or verifies the JWT against the realm's JWKS.
    let verified = verify_with_jwks(&app, "customers", token).await.expect("verifies against the JWKS");
    assert_eq!(verified["scope"], "write");

    // ForgeRock's tokeninfo.
    let ti: serde_json::Value = app.get_json(&format!("{}/tokeninfo", app.issuer("customers")), Some(token)).await;
    assert_eq!(ti["scope"], json!(["write"]));
    assert_eq!(ti["client_id"], "client");
    assert_eq!(ti["realm"], "/customers");
    assert!((3590..=3600).contains(&ti["expires_in"].as_i64().unwrap()));
    // Without a token: 401 and a challenge without an error code (RFC 6750 §3.1).
    let none = app.http.get(format!("{}/tokeninfo", app.issuer("customers"))).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer realm=\"customers\"");
}

/// Drives the grant with the `oauth2` crate, a client library we did not write.
async fn oauth2_crate_client(backend: Backend) {
    use oauth2::basic::BasicClient;
    use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};

    let app = TestApp::spawn(backend).await;
    app.create_realm("partners").await;
    let secret = app.create_client("partners", "sync.job", &["write", "read"]).await;

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        if matches!(auth, AuthType::RequestBody) {
            app.admin_call(
                Method::PATCH,
                "/realms/partners/applications/sync.job",
                Some(json!({"token_endpoint_auth_method": "client_secret_post"})),
                200,
            )
            .await;
        }
        let client = BasicClient::new(ClientId::new("sync.job".into()))
            .set_client_secret(ClientSecret::new(secret.clone()))
            .set_auth_type(auth.clone())
            .set_token_uri(TokenUrl::new(format!("{}/access_token", app.issuer("partners"))).unwrap());
        let token = client
            .exchange_client_credentials()
            .add_scope(Scope::new("write".into()))
            .add_scope(Scope::new("read".into()))
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("{auth:?}: {e:?}"));
        assert_eq!(token.token_type(), &oauth2::basic::BasicTokenType::Bearer);
        assert_eq!(token.expires_in(), Some(std::time::Duration::from_secs(3600)));
        let scopes: Vec<String> = token.scopes().unwrap().iter().map(|s| s.to_string()).collect();
        assert_eq!(scopes, ["write", "read"]);
        verify_with_jwks(&app, "partners", token.access_token().secret()).await.unwrap();
    }
}

/// The same endpoints answer at ForgeRock's paths, so a ForgeRock client only changes the host.
async fn forgerock_paths(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("alpha").await;
    let secret = app.create_client("alpha", "fr-client", &["write"]).await;
    for (realm, id, secret, path) in [
        ("alpha", "fr-client", secret.as_str(), "/am/oauth2/realms/root/realms/alpha"),
        ("root", crate::helpers::OPERATOR_ID, crate::helpers::OPERATOR_SECRET, "/am/oauth2/realms/root"),
    ] {
        let scope = if realm == "root" { "admin" } else { "write" };
        let resp = app
            .http
            .post(app.url(&format!("{path}/access_token")))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let token = resp.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
        // Tokens from either path carry the realm's one issuer.
        assert_eq!(jwt_parts(&token).1["iss"], app.issuer(realm));
        let jwks = app.http.get(app.url(&format!("{path}/connect/jwk_uri"))).send().await.unwrap();
        assert_eq!(jwks.status(), 200);
        let disc: serde_json::Value =
            app.get_json(&app.url(&format!("{path}/.well-known/openid-configuration")), None).await;
        assert_eq!(disc["issuer"], app.issuer(realm));
    }
}

/// OpenID Connect Discovery and RFC 8414 metadata agree and point at working endpoints.
async fn discovery(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("disc").await;
    app.admin_call(Method::PATCH, "/realms/disc/oauth2-provider", Some(json!({"default_scopes": ["read"]})), 200).await;
    let oidc: serde_json::Value =
        app.get_json(&format!("{}/.well-known/openid-configuration", app.issuer("disc")), None).await;
    let rfc8414: serde_json::Value =
        app.get_json(&app.url("/.well-known/oauth-authorization-server/oauth2/realms/disc"), None).await;
    assert_eq!(oidc, rfc8414);
    let iss = app.issuer("disc");
    assert_eq!(oidc["issuer"], iss);
    assert_eq!(oidc["token_endpoint"], format!("{iss}/access_token"));
    assert_eq!(oidc["jwks_uri"], format!("{iss}/connect/jwk_uri"));
    assert_eq!(oidc["introspection_endpoint"], format!("{iss}/introspect"));
    assert_eq!(oidc["revocation_endpoint"], format!("{iss}/token/revoke"));
    assert_eq!(oidc["grant_types_supported"], json!(["client_credentials"]));
    assert_eq!(oidc["token_endpoint_auth_methods_supported"], json!(["client_secret_basic", "client_secret_post"]));
    assert_eq!(oidc["scopes_supported"], json!(["read"]));
    for field in ["response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported"] {
        assert!(oidc[field].is_array(), "{field}");
    }
    let jwks = app.http.get(oidc["jwks_uri"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(jwks.status(), 200);
    assert_eq!(
        app.http
            .get(app.url("/.well-known/oauth-authorization-server/oauth2/realms/nope"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

async fn health(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in ["/health/live", "/health/ready"] {
        let resp = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["status"], "ok");
    }
}

both_backends!(seed_demonstration, oauth2_crate_client, forgerock_paths, discovery, health);
