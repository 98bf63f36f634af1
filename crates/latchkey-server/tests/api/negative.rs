//! The negative suite: malformed requests at the OAuth2 endpoints and hostile values in every
//! admin field, each with its exact status and error, and proof that nothing was half-done.

use crate::admin::assert_envelope;
use crate::errors::{assert_oauth_error, assert_token};
use crate::helpers::{Backend, TestApp, form_encode};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};

const FORM: &str = "application/x-www-form-urlencoded";

/// How a case authenticates.
#[derive(Clone)]
enum Auth {
    /// client_secret_basic with the test client's id and secret.
    Good,
    /// This exact `Authorization` header value, bytes as given.
    Raw(Vec<u8>),
}

/// What a case expects: a token, or an RFC 6749 §5.2 error.
enum Expect {
    Token { scope: &'static str },
    Error { status: u16, error: &'static str },
}

struct Case {
    name: &'static str,
    content_type: Option<&'static str>,
    auth: Auth,
    body: Vec<u8>,
    expect: Expect,
}

fn basic(id: &str, secret: &str) -> Vec<u8> {
    format!("Basic {}", STANDARD.encode(format!("{}:{}", form_encode(id), form_encode(secret)))).into_bytes()
}

fn case(name: &'static str, body: impl Into<Vec<u8>>, expect: Expect) -> Case {
    Case { name, content_type: Some(FORM), auth: Auth::Good, body: body.into(), expect }
}

fn error(status: u16, error: &'static str) -> Expect {
    Expect::Error { status, error }
}

const TOKEN: Expect = Expect::Token { scope: "read" };

/// Every malformed token request of the table, with the status and error RFC 6749 gives it.
async fn token_endpoint_table(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    // The table fails more often than the default failure budget allows.
    let body = json!({"rate_limits": {"failed_auth": 1000}});
    app.admin_call(Method::PATCH, "/realms/acme/oauth2-provider", Some(body), 200).await;
    let secret = app.create_client("acme", "svc", &["read", "write"]).await;
    let url = format!("{}/access_token", app.issuer("acme"));
    let cc = "grant_type=client_credentials";
    let many_scopes = (0..101).map(|i| format!("s{i}")).collect::<Vec<_>>().join("+");
    let raw = |v: &[u8]| Auth::Raw(v.to_vec());

    let mut cases = vec![
        // The body itself.
        case(
            "a body over 16 KiB",
            format!("{cc}&scope=read&pad={}", "a".repeat(17 * 1024)),
            error(413, "invalid_request"),
        ),
        case(
            "invalid UTF-8 in the body",
            [b"grant_type=client_credentials&scope=re".as_slice(), b"\xff\xfead"].concat(),
            error(400, "invalid_request"),
        ),
        case("percent-encoded invalid UTF-8 in a scope", format!("{cc}&scope=re%FFad"), error(400, "invalid_scope")),
        case("an empty body", "", error(400, "invalid_request")),
        case("only separators", "&&&=&", error(400, "invalid_request")),
        case("a parameter without a value", format!("{cc}&scope"), error(400, "invalid_scope")),
        case("grant_type twice", format!("{cc}&{cc}&scope=read"), error(400, "invalid_request")),
        case(
            "grant_type in capitals",
            "grant_type=CLIENT_CREDENTIALS&scope=read",
            error(400, "unsupported_grant_type"),
        ),
        case(
            "grant_type with a trailing space",
            "grant_type=client_credentials+&scope=read",
            error(400, "unsupported_grant_type"),
        ),
        case(
            "grant_type with a NUL",
            "grant_type=client_credentials%00&scope=read",
            error(400, "unsupported_grant_type"),
        ),
        case(
            "grant_type of 10 KiB",
            format!("grant_type={}&scope=read", "x".repeat(10 * 1024)),
            error(400, "unsupported_grant_type"),
        ),
        // Scopes (RFC 6749 §3.3: NQCHAR tokens separated by single spaces).
        case("a NUL in a scope", format!("{cc}&scope=read%00"), error(400, "invalid_scope")),
        case("a newline between scopes", format!("{cc}&scope=read%0Awrite"), error(400, "invalid_scope")),
        case("a tab between scopes", format!("{cc}&scope=read%09write"), error(400, "invalid_scope")),
        case("a DEL in a scope", format!("{cc}&scope=read%7F"), error(400, "invalid_scope")),
        case("a scope of 257 characters", format!("{cc}&scope={}", "r".repeat(257)), error(400, "invalid_scope")),
        case("a scope of 10 KiB", format!("{cc}&scope={}", "r".repeat(10 * 1024)), error(400, "invalid_scope")),
        case("101 scopes", format!("{cc}&scope={many_scopes}"), error(400, "invalid_scope")),
        case("SQL in a scope", format!("{cc}&scope={}", form_encode("read' OR '1'='1")), error(400, "invalid_scope")),
        case("a trailing space after the scope", format!("{cc}&scope=read+"), error(400, "invalid_scope")),
        // What must still work.
        case("unknown parameters are ignored (RFC 6749 §3.2)", format!("{cc}&scope=read&foo=bar&x=%FF%FE"), TOKEN),
        case("a pair without `=` is an empty, ignored parameter", format!("{cc}&scope=read&garbage"), TOKEN),
        case("percent-encoded names and values", "grant%5Ftype=client%5Fcredentials&scope=r%65ad", TOKEN),
        case("`+` is a space between scopes", format!("{cc}&scope=read+write"), Expect::Token { scope: "read write" }),
        case("the same scope twice is one", format!("{cc}&scope=read+read"), TOKEN),
    ];
    for (name, content_type, expect) in [
        ("no content type", None, error(415, "invalid_request")),
        ("text/plain", Some("text/plain"), error(415, "invalid_request")),
        ("multipart/form-data", Some("multipart/form-data; boundary=x"), error(415, "invalid_request")),
        ("JSON", Some("application/json"), error(415, "invalid_request")),
        ("a form content type with a charset", Some("application/x-www-form-urlencoded; charset=UTF-8"), TOKEN),
        ("the form content type in capitals", Some("APPLICATION/X-WWW-FORM-URLENCODED"), TOKEN),
    ] {
        cases.push(Case { name, content_type, auth: Auth::Good, body: format!("{cc}&scope=read").into(), expect });
    }
    let invalid_client = || error(401, "invalid_client");
    for (name, auth, expect) in [
        ("Basic with no credentials", raw(b"Basic"), invalid_client()),
        ("Basic with an empty value", raw(b"Basic "), invalid_client()),
        ("Basic that is not base64", raw(b"Basic !!!not-base64!!!"), invalid_client()),
        ("Basic without a colon", raw(format!("Basic {}", STANDARD.encode("svc")).as_bytes()), invalid_client()),
        (
            "Basic decoding to invalid UTF-8",
            raw(format!("Basic {}", STANDARD.encode(b"svc:\xff\xfe")).as_bytes()),
            invalid_client(),
        ),
        ("Basic with bytes that are not ASCII", raw(b"Basic \xc3\xa9\xc3\xa9"), invalid_client()),
        ("a Bearer token instead of Basic", raw(b"Bearer abc.def.ghi"), invalid_client()),
        ("an unknown scheme", raw(b"Digest username=\"svc\""), invalid_client()),
        ("a broken percent-encoding in the id", raw(&basic("svc%ZZ", "x")), invalid_client()),
        ("a client id of 10 KiB", raw(&basic(&"c".repeat(10 * 1024), "secret-value")), invalid_client()),
        ("a secret of 10 KiB", raw(&basic("svc", &"s".repeat(10 * 1024))), invalid_client()),
        ("a NUL in the client id", raw(&basic("svc\0", &secret)), invalid_client()),
        ("the right secret with a trailing space", raw(&basic("svc", &format!("{secret} "))), invalid_client()),
        ("SQL in the client id", raw(&basic("svc' OR '1'='1", &secret)), invalid_client()),
        ("the scheme in lower case", raw(&[b"basic".as_slice(), &basic("svc", &secret)[5..]].concat()), TOKEN),
        (
            "credentials sent raw (not form-urlencoded) still decode when they need no encoding",
            raw(format!("Basic {}", STANDARD.encode(format!("svc:{secret}"))).as_bytes()),
            TOKEN,
        ),
    ] {
        cases.push(Case { name, content_type: Some(FORM), auth, body: format!("{cc}&scope=read").into(), expect });
    }

    for c in cases {
        let mut req = app.http.post(&url).body(c.body);
        if let Some(ct) = c.content_type {
            req = req.header(CONTENT_TYPE, ct);
        }
        req = match &c.auth {
            Auth::Good => req.basic_auth("svc", Some(&secret)),
            Auth::Raw(v) => req.header(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap()),
        };
        let resp = req.send().await.unwrap();
        match c.expect {
            Expect::Token { scope } => {
                let body = assert_token(resp, c.name).await;
                assert_eq!(body["scope"], scope, "{}", c.name);
            }
            Expect::Error { status, error } => {
                let challenge = (status == 401).then_some("Basic realm=\"acme\"");
                let body = assert_oauth_error(resp, status, error, challenge, c.name).await;
                let text = body.to_string();
                assert!(!text.contains(&secret), "{}: the secret is echoed: {text}", c.name);
                assert!(text.len() < 1024, "{}: the error echoes the input: {text}", c.name);
            }
        }
    }
    // The attempts are in the audit log, the one with a NUL too (it could have failed its batch).
    let path = "/realms/acme/audit?action=client.authentication_failed&per_page=200";
    let failed = app.admin_call(Method::GET, path, None, 200).await;
    let actors: Vec<&str> = failed["items"].as_array().unwrap().iter().map(|e| e["actor"].as_str().unwrap()).collect();
    assert!(actors.contains(&"svc\u{fffd}"), "{actors:?}");
    assert!(actors.contains(&"svc' OR '1'='1"), "{actors:?}");
    // The client still works: none of the failures locked it out or changed it.
    assert_token(app.token_request("acme", "svc", &secret, Some("read")).await, "afterwards").await;
}

/// Whatever is presented as a token to introspection is an inactive token, never an error; to
/// tokeninfo and the admin API, a 401 with `invalid_token`.
async fn presented_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    let secret = app.create_client("acme", "svc", &["read"]).await;
    let good = app.token("acme", "svc", &secret, Some("read")).await;
    let (header, rest) = good.split_once('.').unwrap();
    let (claims, _signature) = rest.split_once('.').unwrap();
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    let hs_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"at+jwt"}"#);
    let cases: Vec<(&str, String)> = vec![
        ("not a JWT", "not-a-jwt".into()),
        ("two parts", format!("{header}.{claims}")),
        ("four parts", format!("{good}.extra")),
        ("alg none without a signature", format!("{none_header}.{claims}.")),
        (
            "alg none with the original signature",
            format!("{none_header}.{claims}.{}", good.rsplit('.').next().unwrap()),
        ),
        (
            "HS256 signed with the public key's text",
            format!("{hs_header}.{claims}.{}", URL_SAFE_NO_PAD.encode([7u8; 32])),
        ),
        ("the signature cut off", good[..good.len() - 4].to_owned()),
        ("base64 that is not JSON", format!("{}.{claims}.AAAA", URL_SAFE_NO_PAD.encode(b"\xff\xfe"))),
        ("a header that is a JSON array", format!("{}.{claims}.AAAA", URL_SAFE_NO_PAD.encode(b"[1,2]"))),
        ("14 KiB of dots", ".".repeat(14 * 1024)),
        ("control characters", "abc\u{1}\u{7f}def".into()),
        ("unicode", "токен-🙂".into()),
    ];
    let url = format!("{}/introspect", app.issuer("acme"));
    for (case, token) in &cases {
        let resp = app
            .http
            .post(&url)
            .basic_auth("svc", Some(&secret))
            .header(CONTENT_TYPE, FORM)
            .body(format!("token={}", form_encode(token)))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "introspection of {case}");
        assert_eq!(resp.json::<Value>().await.unwrap(), json!({"active": false}), "introspection of {case}");

        let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) else { continue };
        let resp = app
            .http
            .get(format!("{}/tokeninfo", app.issuer("acme")))
            .header(AUTHORIZATION, value.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "tokeninfo with {case}");
        let challenge = resp.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.contains("error=\"invalid_token\""), "tokeninfo with {case}: {challenge}");
        let resp = app.http.get(app.url("/admin/v1/realms")).header(AUTHORIZATION, value).send().await.unwrap();
        assert_envelope(resp, 401, "unauthorized", None, &format!("admin API with {case}")).await;
    }
    // An unknown hint does not hide a valid token (RFC 7662 §2.1: the server extends its search).
    let resp = app
        .http
        .post(&url)
        .basic_auth("svc", Some(&secret))
        .form(&[("token", good.as_str()), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["active"], true);
}

/// Values that break naive SQL, JSON or display code, in every admin text field: free text is
/// stored and returned exactly; a constrained field refuses with its name; nothing is written
/// by a refused request.
async fn admin_fields_table(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    let hostile_text = [
        "'; DROP TABLE realms; --",
        "\" OR \"1\"=\"1",
        "Robert'); DELETE FROM applications WHERE ('1'='1",
        "{\"$gt\": \"\"}",
        "\"}], \"enabled\": false, \"x\": [{\"",
        "back\\slash \\0 and %00 and %s %n",
        "<script>alert(1)</script>",
        "Zoë Ünïcödé — 東京 — שלום — 🙂👩‍💻",
        "e\u{301} combining and \u{202e}RTL override",
        "",
    ];
    let over_255 = "é".repeat(256);

    // Free text: realm display name, application name and description, person names.
    for (i, text) in hostile_text.iter().enumerate() {
        let name = format!("r{i}");
        let realm =
            app.admin_call(Method::POST, "/realms", Some(json!({"name": name, "display_name": text})), 201).await;
        assert_eq!(realm["display_name"], *text);
        let got = app.admin_call(Method::GET, &format!("/realms/{name}"), None, 200).await;
        assert_eq!(got["display_name"], *text, "stored exactly");

        let client_name = if text.is_empty() { "named" } else { text };
        let body = json!({"client_id": format!("app-{i}"), "client_name": client_name, "description": text,
                          "application_type": "web", "grant_types": ["client_credentials"], "allowed_scopes": ["read"]});
        app.admin_call(Method::POST, "/realms/acme/applications", Some(body), 201).await;
        let got = app.admin_call(Method::GET, &format!("/realms/acme/applications/app-{i}"), None, 200).await;
        assert_eq!((&got["client_name"], &got["description"]), (&json!(client_name), &json!(text)));

        let body = json!({"username": format!("user{i}"), "given_name": text, "family_name": text});
        app.admin_call(Method::POST, "/realms/acme/users", Some(body), 201).await;
        let got = app.admin_call(Method::GET, &format!("/realms/acme/users/user{i}"), None, 200).await;
        assert_eq!((&got["given_name"], &got["family_name"]), (&json!(text), &json!(text)));
    }

    // Refused, with the field at fault.
    let app_body = |field: &str, value: Value| {
        let mut body = json!({"client_id": "refused", "client_name": "refused", "application_type": "web",
                              "grant_types": ["client_credentials"], "allowed_scopes": ["read"]});
        body[field] = value;
        body
    };
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        ("/realms", "name", json!({"name": "x'; DROP TABLE realms; --"}), "name"),
        ("/realms", "name", json!({"name": "Ünïcode"}), "name"),
        ("/realms", "name", json!({"name": "a".repeat(64)}), "name"),
        ("/realms", "name", json!({"name": ""}), "name"),
        ("/realms", "name", json!({"name": "a\u{0}b"}), "name"),
        ("/realms", "display_name", json!({"name": "ok-name", "display_name": over_255}), "display_name"),
        ("/realms", "display_name", json!({"name": "ok-name", "display_name": "line\nbreak"}), "display_name"),
        ("/realms/acme/applications", "client_id", app_body("client_id", json!("a b")), "client_id"),
        ("/realms/acme/applications", "client_id", app_body("client_id", json!("x'--")), "client_id"),
        ("/realms/acme/applications", "client_id", app_body("client_id", json!("c".repeat(129))), "client_id"),
        ("/realms/acme/applications", "client_id", app_body("client_id", json!("🙂")), "client_id"),
        ("/realms/acme/applications", "client_name", app_body("client_name", json!(over_255)), "client_name"),
        ("/realms/acme/applications", "client_name", app_body("client_name", json!("tab\there")), "client_name"),
        ("/realms/acme/applications", "description", app_body("description", json!("d".repeat(1025))), "description"),
        (
            "/realms/acme/applications",
            "allowed_scopes",
            app_body("allowed_scopes", json!(["re\"ad"])),
            "allowed_scopes",
        ),
        (
            "/realms/acme/applications",
            "allowed_scopes",
            app_body("allowed_scopes", json!(["a".repeat(257)])),
            "allowed_scopes",
        ),
        (
            "/realms/acme/applications",
            "redirect_uris",
            app_body("redirect_uris", json!(["javascript:alert(1)"])),
            "redirect_uris",
        ),
        (
            "/realms/acme/applications",
            "redirect_uris",
            app_body("redirect_uris", json!(["https://a.example/cb#frag"])),
            "redirect_uris",
        ),
        (
            "/realms/acme/applications",
            "redirect_uris",
            app_body("redirect_uris", json!(["https://a.example/c\0b"])),
            "redirect_uris",
        ),
        (
            "/realms/acme/applications",
            "redirect_uris",
            app_body("redirect_uris", json!(["https://a.example/a b"])),
            "redirect_uris",
        ),
        ("/realms/acme/applications", "description", app_body("description", json!("a\0b")), "description"),
        ("/realms/acme/applications", "owners", app_body("owners", json!(["a\0b"])), "owners"),
        ("/realms/acme/users", "username", json!({"username": "x' OR 1=1 --"}), "username"),
        ("/realms/acme/users", "username", json!({"username": "u".repeat(129)}), "username"),
        ("/realms/acme/users", "username", json!({"username": "ünïcode"}), "username"),
        ("/realms/acme/users", "given_name", json!({"username": "ok", "given_name": over_255}), "given_name"),
        ("/realms/acme/users", "email", json!({"username": "ok", "email": "a b@example.com"}), "email"),
        ("/realms/acme/users", "password", json!({"username": "ok", "password": "short"}), "password"),
        ("/realms/acme/users", "password", json!({"username": "ok", "password": "p".repeat(1025)}), "password"),
    ];
    let before = counts(&app).await;
    for (path, what, body, field) in cases {
        let resp = app.admin(Method::POST, path).json(&body).send().await.unwrap();
        let case = format!("POST {path} with a bad {what}");
        let status = resp.status().as_u16();
        let code = if status == 400 { "invalid_body" } else { "invalid_field" };
        assert!(status == 422 || status == 400, "{case}: {status}");
        assert_envelope(resp, status, code, Some(field), &case).await;
    }
    // Not JSON, or JSON that does not fit.
    for (case, body, field) in [
        ("a JSON string where an object goes", "\"name\"".to_owned(), None),
        ("a number where a string goes", r#"{"name": 5}"#.to_owned(), Some("name")),
        ("an unknown member", r#"{"name": "fine-name", "is_admin": true}"#.to_owned(), Some("is_admin")),
        ("two JSON values", r#"{"name": "a"}{"name": "b"}"#.to_owned(), None),
        ("a lone surrogate", r#"{"name": "a\udc80"}"#.to_owned(), Some("name")),
        ("an array where an object goes", r#"[{"name": "in-an-array"}]"#.to_owned(), None),
        ("nesting 10,000 deep", format!(r#"{{"name": {}{}}}"#, "[".repeat(10_000), "]".repeat(10_000)), Some("name")),
    ] {
        let resp = app
            .admin(Method::POST, "/realms")
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_envelope(resp, 400, "invalid_body", field, case).await;
    }
    let resp = app
        .admin(Method::POST, "/realms")
        .header(CONTENT_TYPE, "application/json")
        .body(vec![b'{'; 65 * 1024])
        .send()
        .await
        .unwrap();
    assert_envelope(resp, 413, "payload_too_large", None, "a body over 64 KiB").await;
    let resp = app
        .admin(Method::POST, "/realms")
        .header(CONTENT_TYPE, "application/json")
        .body(b"{\"name\": \"a\xff\"}".to_vec())
        .send()
        .await
        .unwrap();
    assert_envelope(resp, 400, "invalid_body", Some("name"), "raw invalid UTF-8").await;
    // NUL names nothing (PostgreSQL text cannot hold it): not found, never a 500.
    for path in ["/realms/a%00b", "/realms/acme/applications/a%00b", "/realms/acme/users/a%00b"] {
        let resp = app.admin(Method::GET, path).send().await.unwrap();
        assert_envelope(resp, 404, "not_found", None, &format!("GET {path}")).await;
        let resp = app.admin(Method::DELETE, path).send().await.unwrap();
        assert_envelope(resp, 404, "not_found", None, &format!("DELETE {path}")).await;
    }
    for path in ["/realms?search=a%00", "/realms/acme/applications?search=%00", "/realms/acme/audit?actor=a%00b"] {
        let page = app.admin_call(Method::GET, path, None, 200).await;
        assert_eq!(page["total"], 0, "GET {path}: {page}");
    }
    let body = json!({"username": "ad\0min", "password": "whatever-password"});
    let resp = app.http.post(app.url("/admin/v1/session")).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 401, "console sign-in with a NUL in the username");
    assert_eq!(counts(&app).await, before, "no refused request wrote anything");
}

/// Realms, and applications and users of `acme`.
/// What the API description says about types and methods holds at the server (Schemathesis
/// found each of these disagreeing): `null` is refused where the description allows none, a
/// whole number written `300.0` is the integer 300 (JSON Schema's `integer`), a page past the
/// last one the description allows is refused instead of overflowing into a panic, and a
/// documented path asked with a method it does not answer is 405 with `Allow`.
async fn description_types_and_methods(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("acme").await;
    app.admin_call(Method::POST, "/realms/acme/users", Some(json!({"username": "u", "email": "u@example.com"})), 201)
        .await;
    let provider_before = app.admin_call(Method::GET, "/realms/acme/oauth2-provider", None, 200).await;
    for (path, body, field) in [
        ("/realms/acme", json!({"enabled": null}), "enabled"),
        ("/realms/acme", json!({"display_name": null}), "display_name"),
        ("/realms/acme/oauth2-provider", json!({"cors_origins": null}), "cors_origins"),
        ("/realms/acme/oauth2-provider", json!({"access_token_lifetime": null}), "access_token_lifetime"),
        ("/realms/acme/oauth2-provider", json!({"rate_limits": {"per_client": null}}), "rate_limits.per_client"),
        ("/realms/acme/oauth2-provider", json!({"access_token_lifetime": 300.5}), "access_token_lifetime"),
        ("/realms/acme/oauth2-provider", json!({"access_token_lifetime": "300"}), "access_token_lifetime"),
        ("/realms/acme/oauth2-provider", json!({"rate_limits": {"per_client": -1}}), "rate_limits.per_client"),
        (
            "/realms/acme/oauth2-provider",
            json!({"rate_limits": {"per_client": 4294967296u64}}),
            "rate_limits.per_client",
        ),
        ("/realms/acme/users/u", json!({"enabled": null}), "enabled"),
        ("/realms/acme/users/u", json!({"password": null}), "password"),
    ] {
        let resp = app.admin(Method::PATCH, path).json(&body).send().await.unwrap();
        assert_envelope(resp, 400, "invalid_body", Some(field), &format!("PATCH {path} {body}")).await;
    }
    let realm = app.admin_call(Method::GET, "/realms/acme", None, 200).await;
    assert_eq!(realm["enabled"], true, "nothing changed");
    let provider = app.admin_call(Method::GET, "/realms/acme/oauth2-provider", None, 200).await;
    assert_eq!(provider, provider_before, "nothing changed");
    // Nullable fields still clear with null.
    let user = app.admin_call(Method::PATCH, "/realms/acme/users/u", Some(json!({"email": null})), 200).await;
    assert!(user.get("email").is_none(), "{user}");

    let body = json!({"access_token_lifetime": 300.0, "rate_limits": {"per_client": 50.0}});
    let provider = app.admin_call(Method::PATCH, "/realms/acme/oauth2-provider", Some(body), 200).await;
    assert_eq!((&provider["access_token_lifetime"], &provider["rate_limits"]["per_client"]), (&json!(300), &json!(50)));
    let body = json!({"client_id": "whole", "grant_types": ["client_credentials"], "access_token_lifetime": 600.0});
    let created = app.admin_call(Method::POST, "/realms/acme/applications", Some(body), 201).await;
    assert_eq!(created["access_token_lifetime"], 600);

    for list in ["/realms/acme/users", "/realms/acme/applications", "/realms/acme/audit", "/realms"] {
        for page in ["0", "1000001", "9223372036854775808", "18446744073709551616"] {
            let path = format!("{list}?page={page}");
            let resp = app.admin(Method::GET, &path).send().await.unwrap();
            assert_envelope(resp, 400, "invalid_query", Some("page"), &format!("GET {path}")).await;
        }
        let got = app.admin_call(Method::GET, &format!("{list}?page=1000000"), None, 200).await;
        assert_eq!(got["items"], json!([]), "the last page allowed is an empty one here");
    }

    for (method, path, allow) in [
        ("TRACE", "/admin/v1/realms", "GET, POST"),
        ("PUT", "/admin/v1/realms/acme", "GET, PATCH, DELETE"),
        ("DELETE", "/admin/v1/realms/acme/oauth2-provider", "GET, PATCH"),
        ("GET", "/admin/v1/realms/acme/keys/rotate", "POST"),
    ] {
        let resp = app.admin(Method::from_bytes(method.as_bytes()).unwrap(), path.strip_prefix("/admin/v1").unwrap());
        let resp = resp.send().await.unwrap();
        assert_eq!(resp.headers()["allow"], allow, "{method} {path}");
        assert_envelope(resp, 405, "method_not_allowed", None, &format!("{method} {path}")).await;
    }
    for (method, path) in [("PUT", "/health/live"), ("POST", "/health/ready"), ("DELETE", "/metrics")] {
        let resp =
            app.http.request(Method::from_bytes(method.as_bytes()).unwrap(), app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 405, "{method} {path}");
        assert_eq!(resp.headers()["allow"], "GET", "{method} {path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "method_not_allowed", "{method} {path}");
    }
    let resp = app.admin(Method::GET, "/nowhere").send().await.unwrap();
    assert_envelope(resp, 404, "not_found", None, "an undocumented path").await;
}

async fn counts(app: &TestApp) -> (usize, usize, usize) {
    let total = |v: Value| v["total"].as_u64().unwrap() as usize;
    (
        total(app.admin_call(Method::GET, "/realms", None, 200).await),
        total(app.admin_call(Method::GET, "/realms/acme/applications", None, 200).await),
        total(app.admin_call(Method::GET, "/realms/acme/users", None, 200).await),
    )
}

both_backends!(token_endpoint_table, presented_tokens, admin_fields_table, description_types_and_methods);
