//! Every token endpoint error of RFC 6749 §5.2 with its exact status, code and headers, and the edge cases that must succeed.

use crate::helpers::{Backend, TestApp, form_encode, jwt_parts};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA, WWW_AUTHENTICATE};
use reqwest::{Method, Response};
use serde_json::{Value, json};

/// A form body with every pair encoded, repeats kept (so a test can send a parameter twice).
fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v))).collect::<Vec<_>>().join("&")
}

/// POSTs a form body to `url`, with client_secret_basic credentials when `basic` is given.
async fn post_form(app: &TestApp, url: &str, basic: Option<(&str, &str)>, body: String) -> Response {
    let mut req = app.http.post(url).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(body);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(form_encode(id), Some(form_encode(secret)));
    }
    req.send().await.unwrap()
}

fn token_url(app: &TestApp, realm: &str) -> String {
    format!("{}/access_token", app.issuer(realm))
}

/// Asserts an RFC 6749 §5.2 error answer: status, `error` code, a string `error_description`,
/// no caching, and exactly the `WWW-Authenticate` challenge given (or none). Returns the body.
pub(crate) async fn assert_oauth_error(
    resp: Response,
    status: u16,
    code: &str,
    challenge: Option<&str>,
    case: &str,
) -> Value {
    let got = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "{case}: status (body {text})");
    assert_eq!(headers.get(CACHE_CONTROL).map(|v| v.to_str().unwrap()), Some("no-store"), "{case}: Cache-Control");
    assert_eq!(headers.get(PRAGMA).map(|v| v.to_str().unwrap()), Some("no-cache"), "{case}: Pragma");
    assert!(
        headers[CONTENT_TYPE].to_str().unwrap().starts_with("application/json"),
        "{case}: content type {:?}",
        headers[CONTENT_TYPE]
    );
    assert_eq!(headers.get(WWW_AUTHENTICATE).map(|v| v.to_str().unwrap()), challenge, "{case}: WWW-Authenticate");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{case}: not JSON ({e}): {text}"));
    assert_eq!(body["error"], code, "{case}: {body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(!description.is_empty(), "{case}: error_description in {body}");
    assert!(
        description.chars().all(|c| matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')),
        "{case}: RFC 6749 §5.2 allows only %x20-21 / %x23-5B / %x5D-7E in error_description: {description:?}"
    );
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["error", "error_description"], "{case}: only the RFC 6749 §5.2 members: {body}");
    body
}

/// Asserts a successful token answer with no caching; returns the body.
pub(crate) async fn assert_token(resp: Response, case: &str) -> Value {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    assert_eq!(status, 200, "{case}: {text}");
    assert_eq!(headers[CACHE_CONTROL], "no-store", "{case}");
    assert_eq!(headers[PRAGMA], "no-cache", "{case}");
    assert!(headers.get(WWW_AUTHENTICATE).is_none(), "{case}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["token_type"], "Bearer", "{case}");
    assert!(body["access_token"].is_string(), "{case}");
    body
}

async fn create_app(app: &TestApp, realm: &str, body: Value) -> Value {
    app.admin_call(Method::POST, &format!("/realms/{realm}/applications"), Some(body), 201).await
}

const CC: (&str, &str) = ("grant_type", "client_credentials");

/// Bad client credentials of every kind: 401 `invalid_client` with the realm's Basic challenge.
async fn invalid_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for r in ["acme", "other", "dormant"] {
        app.create_realm(r).await;
        // This table fails more often than the default failure budget allows (tests/api/limits.rs).
        let body = json!({"rate_limits": {"failed_auth": 1000}});
        app.admin_call(Method::PATCH, &format!("/realms/{r}/oauth2-provider"), Some(body), 200).await;
    }
    let basic = app.create_client("acme", "basic-client", &["read"]).await;
    let post = create_app(
        &app,
        "acme",
        json!({"client_id": "post-client", "application_type": "web", "grant_types": ["client_credentials"],
               "allowed_scopes": ["read"], "token_endpoint_auth_method": "client_secret_post"}),
    )
    .await["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let off = app.create_client("acme", "off-client", &["read"]).await;
    let foreign = app.create_client("other", "foreign-client", &["read"]).await;
    let dormant = app.create_client("dormant", "dormant-client", &["read"]).await;
    let spa = create_app(
        &app,
        "acme",
        json!({"client_id": "spa-client", "application_type": "spa", "token_endpoint_auth_method": "none",
               "grant_types": ["authorization_code"], "redirect_uris": ["https://spa.example.com/cb"], "allowed_scopes": ["read"]}),
    )
    .await;
    assert!(spa.get("client_secret").is_none(), "a public client has no secret: {spa}");
    let native = create_app(
        &app,
        "acme",
        json!({"client_id": "native-client", "application_type": "native", "token_endpoint_auth_method": "none",
               "grant_types": ["authorization_code"], "redirect_uris": ["http://localhost:8765/cb"], "allowed_scopes": ["read"]}),
    )
    .await;
    assert!(native.get("client_secret").is_none(), "{native}");

    // Every credential works before it is disabled, so the failures below have the stated cause.
    for (realm, id, secret) in
        [("acme", "off-client", &off), ("dormant", "dormant-client", &dormant), ("other", "foreign-client", &foreign)]
    {
        assert_token(app.token_request(realm, id, secret, Some("read")).await, id).await;
    }
    let (basic, post, off, foreign, dormant) =
        (basic.as_str(), post.as_str(), off.as_str(), foreign.as_str(), dormant.as_str());
    let patched = app
        .admin_call(Method::PATCH, "/realms/acme/applications/off-client", Some(json!({"enabled": false})), 200)
        .await;
    assert_eq!(patched["enabled"], false);
    let patched = app.admin_call(Method::PATCH, "/realms/dormant", Some(json!({"enabled": false})), 200).await;
    assert_eq!(patched["enabled"], false);

    let cases: Vec<(&str, &str, Option<(&str, &str)>, Vec<(&str, &str)>)> = vec![
        ("wrong secret", "acme", Some(("basic-client", "not-the-secret-at-all")), vec![CC, ("scope", "read")]),
        ("unknown client", "acme", Some(("nobody", "whatever-secret-1")), vec![CC, ("scope", "read")]),
        ("client of another realm", "acme", Some(("foreign-client", foreign)), vec![CC, ("scope", "read")]),
        ("disabled client", "acme", Some(("off-client", off)), vec![CC, ("scope", "read")]),
        ("disabled realm", "dormant", Some(("dormant-client", dormant)), vec![CC, ("scope", "read")]),
        ("no credentials", "acme", None, vec![CC, ("scope", "read")]),
        ("spa client by client_id", "acme", None, vec![CC, ("scope", "read"), ("client_id", "spa-client")]),
        ("native client by client_id", "acme", None, vec![CC, ("scope", "read"), ("client_id", "native-client")]),
        ("spa client by Basic with an empty secret", "acme", Some(("spa-client", "")), vec![CC, ("scope", "read")]),
        (
            "spa client by Basic with a made-up secret",
            "acme",
            Some(("spa-client", "made-up-secret")),
            vec![CC, ("scope", "read")],
        ),
        (
            "client_secret_basic client using client_secret_post",
            "acme",
            None,
            vec![CC, ("scope", "read"), ("client_id", "basic-client"), ("client_secret", basic)],
        ),
        (
            "client_secret_post client using client_secret_basic",
            "acme",
            Some(("post-client", post)),
            vec![CC, ("scope", "read")],
        ),
        (
            "client_secret_post client without its secret",
            "acme",
            None,
            vec![CC, ("scope", "read"), ("client_id", "post-client")],
        ),
        (
            "Basic header and client_secret in the body",
            "acme",
            Some(("basic-client", basic)),
            vec![CC, ("scope", "read"), ("client_secret", basic)],
        ),
    ];
    for (case, realm, auth, pairs) in cases {
        let resp = post_form(&app, &token_url(&app, realm), auth, form(&pairs)).await;
        assert_oauth_error(resp, 401, "invalid_client", Some(&format!("Basic realm=\"{realm}\"")), case).await;
    }

    // The good credentials still work: the failures were the cases', not the setup's.
    assert_token(app.token_request("acme", "basic-client", basic, Some("read")).await, "basic-client").await;
    let resp = post_form(
        &app,
        &token_url(&app, "acme"),
        None,
        form(&[CC, ("scope", "read"), ("client_id", "post-client"), ("client_secret", post)]),
    )
    .await;
    assert_token(resp, "post-client").await;
}

/// Unknown grant types, known ones Latchkey does not implement, and ones the realm does not allow.
async fn unsupported_grant_type(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    let secret = app.create_client("acme", "svc", &["read"]).await;
    for grant in ["foo", "password", "authorization_code", "refresh_token", "implicit", "CLIENT_CREDENTIALS"] {
        let resp = post_form(
            &app,
            &token_url(&app, "acme"),
            Some(("svc", &secret)),
            form(&[("grant_type", grant), ("scope", "read")]),
        )
        .await;
        assert_oauth_error(resp, 400, "unsupported_grant_type", None, grant).await;
    }

    // A realm whose provider no longer lists client_credentials.
    app.create_realm("nocc").await;
    let nocc = app.create_client("nocc", "svc", &["read"]).await;
    assert_token(app.token_request("nocc", "svc", &nocc, Some("read")).await, "before the PATCH").await;
    let provider = app
        .admin_call(
            Method::PATCH,
            "/realms/nocc/oauth2-provider",
            Some(json!({"grant_types": ["authorization_code"]})),
            200,
        )
        .await;
    assert_eq!(provider["grant_types"], json!(["authorization_code"]));
    let resp = app.token_request("nocc", "svc", &nocc, Some("read")).await;
    assert_oauth_error(resp, 400, "unsupported_grant_type", None, "realm without client_credentials").await;
    // The other realm is unaffected.
    assert_token(app.token_request("acme", "svc", &secret, Some("read")).await, "acme").await;
}

/// A confidential client whose own grant types lack client_credentials.
async fn unauthorized_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    let created = create_app(
        &app,
        "acme",
        json!({"client_id": "web-code", "application_type": "web", "grant_types": ["authorization_code"],
               "redirect_uris": ["https://app.example.com/cb"], "allowed_scopes": ["read"]}),
    )
    .await;
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let resp = app.token_request("acme", "web-code", &secret, Some("read")).await;
    assert_oauth_error(resp, 400, "unauthorized_client", None, "web client without client_credentials").await;

    // Granting it the grant makes the same request succeed.
    app.admin_call(
        Method::PATCH,
        "/realms/acme/applications/web-code",
        Some(json!({"grant_types": ["authorization_code", "client_credentials"]})),
        200,
    )
    .await;
    assert_token(app.token_request("acme", "web-code", &secret, Some("read")).await, "after the PATCH").await;
}

/// Missing grant_type, and parameters sent twice.
async fn invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    let secret = app.create_client("acme", "svc", &["read", "write"]).await;
    let cases: Vec<(&str, String)> = vec![
        ("missing grant_type", form(&[("scope", "read")])),
        ("empty grant_type", form(&[("grant_type", ""), ("scope", "read")])),
        ("empty body", String::new()),
        ("grant_type twice", form(&[CC, CC, ("scope", "read")])),
        ("grant_type twice, different values", form(&[CC, ("grant_type", "password"), ("scope", "read")])),
        ("scope twice", form(&[CC, ("scope", "read"), ("scope", "read")])),
        ("scope twice, different values", form(&[CC, ("scope", "read"), ("scope", "write")])),
    ];
    for (case, body) in cases {
        let resp = post_form(&app, &token_url(&app, "acme"), Some(("svc", &secret)), body).await;
        assert_oauth_error(resp, 400, "invalid_request", None, case).await;
    }
}

/// Scopes the client may not have, no scope and no defaults, and malformed scopes.
async fn invalid_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    let secret = app.create_client("acme", "svc", &["read", "write"]).await;
    for (case, scope) in [
        ("scope not allowed", Some("admin")),
        ("one of two scopes not allowed", Some("read admin")),
        ("no scope, no client or realm defaults", None),
        ("double quote", Some("re\"ad")),
        ("backslash", Some("re\\ad")),
        ("non-ASCII", Some("lecture-é")),
        ("two spaces between scopes", Some("read  write")),
        ("leading space", Some(" read")),
    ] {
        let resp = app.token_request("acme", "svc", &secret, scope).await;
        assert_oauth_error(resp, 400, "invalid_scope", None, case).await;
    }
    let ok = assert_token(app.token_request("acme", "svc", &secret, Some("read write")).await, "allowed scopes").await;
    assert_eq!(ok["scope"], "read write");
}

/// An unknown realm is 404 at every endpoint, with the RFC 6749 body shape.
async fn unknown_realm(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for endpoint in ["access_token", "introspect", "token/revoke"] {
        let url = format!("{}/{endpoint}", app.issuer("nope"));
        let body = form(&[CC, ("token", "x")]);
        let resp =
            post_form(&app, &url, Some((crate::helpers::OPERATOR_ID, crate::helpers::OPERATOR_SECRET)), body).await;
        assert_oauth_error(resp, 404, "not_found", None, endpoint).await;
    }
    let resp =
        app.http.get(format!("{}/tokeninfo", app.issuer("nope"))).bearer_auth(&app.admin_token).send().await.unwrap();
    assert_oauth_error(resp, 404, "not_found", None, "tokeninfo").await;
    for endpoint in ["connect/jwk_uri", ".well-known/openid-configuration"] {
        let resp = app.http.get(format!("{}/{endpoint}", app.issuer("nope"))).send().await.unwrap();
        assert_eq!(resp.status(), 404, "{endpoint}");
        assert_eq!(resp.json::<Value>().await.unwrap()["error"], "not_found", "{endpoint}");
    }
}

/// The token endpoint takes a form, never JSON.
async fn json_body_is_415(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    let secret = app.create_client("acme", "svc", &["read"]).await;
    let resp = app
        .http
        .post(token_url(&app, "acme"))
        .basic_auth("svc", Some(&secret))
        .json(&json!({"grant_type": "client_credentials", "scope": "read"}))
        .send()
        .await
        .unwrap();
    assert_oauth_error(resp, 415, "invalid_request", None, "JSON body").await;
    let resp = app
        .http
        .post(token_url(&app, "acme"))
        .basic_auth("svc", Some(&secret))
        .body("grant_type=client_credentials&scope=read")
        .send()
        .await
        .unwrap();
    assert_oauth_error(resp, 415, "invalid_request", None, "no content type").await;
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding, and decoded by the server.
async fn basic_credentials_are_form_urlencoded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    let id = "svc~sync.job";
    let secret = "p@ss:w+rd/%&=é long-enough";
    let created = create_app(
        &app,
        "acme",
        json!({"client_id": id, "client_secret": secret, "grant_types": ["client_credentials"], "allowed_scopes": ["read"]}),
    )
    .await;
    assert_eq!(created["client_secret"], secret);
    assert_ne!(form_encode(id), id, "the id must need encoding for this test to mean anything");
    let resp = app
        .http
        .post(token_url(&app, "acme"))
        .basic_auth(form_encode(id), Some(form_encode(secret)))
        .form(&[CC, ("scope", "read")])
        .send()
        .await
        .unwrap();
    let body = assert_token(resp, "form-urlencoded Basic").await;
    assert_eq!(jwt_parts(body["access_token"].as_str().unwrap()).1["client_id"], id);
}

/// A client registered with client_secret_post authenticates in the body, special characters included.
async fn client_secret_post(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    let secret = "p@ss:w+rd/%&=é long-enough";
    create_app(
        &app,
        "acme",
        json!({"client_id": "poster", "client_secret": secret, "grant_types": ["client_credentials"],
               "allowed_scopes": ["read"], "token_endpoint_auth_method": "client_secret_post"}),
    )
    .await;
    let resp = app
        .http
        .post(token_url(&app, "acme"))
        .form(&[CC, ("scope", "read"), ("client_id", "poster"), ("client_secret", secret)])
        .send()
        .await
        .unwrap();
    let body = assert_token(resp, "client_secret_post").await;
    assert_eq!(body["scope"], "read");
    assert_eq!(jwt_parts(body["access_token"].as_str().unwrap()).1["client_id"], "poster");
}

/// Without `scope`: the client's default scopes, else the realm provider's.
async fn default_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    let with_defaults = create_app(
        &app,
        "acme",
        json!({"client_id": "with-defaults", "grant_types": ["client_credentials"],
               "allowed_scopes": ["read", "write", "audit"], "default_scopes": ["read", "audit"]}),
    )
    .await["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain = app.create_client("acme", "plain", &["read", "write"]).await;

    let body =
        assert_token(app.token_request("acme", "with-defaults", &with_defaults, None).await, "client defaults").await;
    assert_eq!(body["scope"], "read audit");
    assert_eq!(jwt_parts(body["access_token"].as_str().unwrap()).1["scope"], "read audit");
    let resp = app.token_request("acme", "plain", &plain, None).await;
    assert_oauth_error(resp, 400, "invalid_scope", None, "no defaults anywhere").await;

    let provider = app
        .admin_call(Method::PATCH, "/realms/acme/oauth2-provider", Some(json!({"default_scopes": ["write"]})), 200)
        .await;
    assert_eq!(provider["default_scopes"], json!(["write"]));
    let body = assert_token(app.token_request("acme", "plain", &plain, None).await, "realm defaults").await;
    assert_eq!(body["scope"], "write");
    assert_eq!(jwt_parts(body["access_token"].as_str().unwrap()).1["scope"], "write");
    // The client's own defaults still win over the realm's.
    let body =
        assert_token(app.token_request("acme", "with-defaults", &with_defaults, None).await, "client wins").await;
    assert_eq!(body["scope"], "read audit");
    // An explicit scope wins over both.
    let body = assert_token(app.token_request("acme", "plain", &plain, Some("read")).await, "explicit").await;
    assert_eq!(body["scope"], "read");
}

/// The lifetime is the client's override, else the realm provider's, and shows in expires_in and exp - iat.
async fn access_token_lifetime(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    let short = create_app(
        &app,
        "acme",
        json!({"client_id": "short", "grant_types": ["client_credentials"], "allowed_scopes": ["read"], "access_token_lifetime": 120}),
    )
    .await;
    assert_eq!(short["access_token_lifetime"], 120);
    let short = short["client_secret"].as_str().unwrap().to_owned();
    let plain = app.create_client("acme", "plain", &["read"]).await;

    let check = |body: &Value, lifetime: i64, case: &str| {
        assert_eq!(body["expires_in"], lifetime, "{case}");
        let claims = jwt_parts(body["access_token"].as_str().unwrap()).1;
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), lifetime, "{case}");
    };
    check(
        &assert_token(app.token_request("acme", "short", &short, Some("read")).await, "override").await,
        120,
        "override",
    );
    check(
        &assert_token(app.token_request("acme", "plain", &plain, Some("read")).await, "default").await,
        3600,
        "default",
    );

    app.admin_call(Method::PATCH, "/realms/acme/oauth2-provider", Some(json!({"access_token_lifetime": 900})), 200)
        .await;
    check(
        &assert_token(app.token_request("acme", "plain", &plain, Some("read")).await, "realm").await,
        900,
        "realm lifetime",
    );
    check(
        &assert_token(app.token_request("acme", "short", &short, Some("read")).await, "override").await,
        120,
        "override wins",
    );
}

/// Cache-Control: no-store and Pragma: no-cache on a success and on each kind of error.
async fn no_store_everywhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    let secret = app.create_client("acme", "svc", &["read"]).await;
    let url = token_url(&app, "acme");
    let secret = secret.as_str();
    let cases: Vec<(u16, Option<(&str, &str)>, String)> = vec![
        (200, Some(("svc", secret)), form(&[CC, ("scope", "read")])),
        (401, Some(("svc", "wrong-secret-value")), form(&[CC, ("scope", "read")])),
        (400, Some(("svc", secret)), form(&[("grant_type", "foo")])),
        (400, Some(("svc", secret)), form(&[CC, ("scope", "admin")])),
        (400, Some(("svc", secret)), form(&[CC, CC])),
    ];
    for (status, auth, body) in cases {
        let resp = post_form(&app, &url, auth, body.clone()).await;
        assert_eq!(resp.status(), status, "{body}");
        assert_eq!(resp.headers()[CACHE_CONTROL], "no-store", "{body}");
        assert_eq!(resp.headers()[PRAGMA], "no-cache", "{body}");
    }
    let resp = post_form(&app, &token_url(&app, "nope"), Some(("svc", secret)), form(&[CC])).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(resp.headers()[PRAGMA], "no-cache");
}

/// Introspection and revocation authenticate their caller like the token endpoint does.
async fn introspection_and_revocation_auth(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    let secret = app.create_client("acme", "svc", &["read"]).await;
    let token = app.token("acme", "svc", &secret, Some("read")).await;
    let challenge = "Basic realm=\"acme\"";
    for endpoint in ["introspect", "token/revoke"] {
        let url = format!("{}/{endpoint}", app.issuer("acme"));
        let resp = post_form(&app, &url, None, form(&[("token", &token)])).await;
        assert_oauth_error(resp, 401, "invalid_client", Some(challenge), &format!("{endpoint}: no credentials")).await;
        let resp = post_form(&app, &url, Some(("svc", "wrong-secret-value")), form(&[("token", &token)])).await;
        assert_oauth_error(resp, 401, "invalid_client", Some(challenge), &format!("{endpoint}: wrong secret")).await;
        let resp = post_form(&app, &url, Some(("svc", &secret)), form(&[("token_type_hint", "access_token")])).await;
        assert_oauth_error(resp, 400, "invalid_request", None, &format!("{endpoint}: no token")).await;
        let resp = post_form(&app, &url, Some(("svc", &secret)), form(&[("token", &token), ("token", &token)])).await;
        assert_oauth_error(resp, 400, "invalid_request", None, &format!("{endpoint}: token twice")).await;
    }
    // None of the failed calls revoked the token.
    assert_eq!(app.introspect("acme", "svc", &secret, &token).await["active"], true);
}

/// A known endpoint with the wrong method is 405 with `Allow`; an unknown path is a JSON 404.
async fn wrong_method_and_unknown_path(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let iss = app.issuer("root");
    for (method, path, allow) in [
        (Method::GET, format!("{iss}/access_token"), "POST"),
        (Method::PUT, format!("{iss}/introspect"), "POST"),
        (Method::GET, format!("{iss}/token/revoke"), "POST"),
        (Method::POST, format!("{iss}/connect/jwk_uri"), "GET"),
        (Method::DELETE, format!("{iss}/.well-known/openid-configuration"), "GET"),
        (Method::POST, format!("{iss}/tokeninfo"), "GET"),
        (Method::GET, app.url("/am/oauth2/realms/root/access_token"), "POST"),
    ] {
        let resp = app.http.request(method.clone(), &path).send().await.unwrap();
        assert_eq!(resp.status(), 405, "{method} {path}");
        assert_eq!(resp.headers()["allow"], allow, "{method} {path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{method} {path}");
    }
    let resp = app.http.get(app.url("/no/such/thing")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "not_found");
    let resp = app.admin(Method::GET, "/no-such-collection").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"]["code"], "not_found");
}

both_backends!(
    wrong_method_and_unknown_path,
    invalid_client,
    unsupported_grant_type,
    unauthorized_client,
    invalid_request,
    invalid_scope,
    unknown_realm,
    json_body_is_415,
    basic_credentials_are_form_urlencoded,
    client_secret_post,
    default_scopes,
    access_token_lifetime,
    no_store_everywhere,
    introspection_and_revocation_auth,
);
