//! The admin REST API: bearer protection, the error envelope, Location, pagination, secrets, PATCH and DELETE semantics, OpenAPI.

use crate::helpers::{Backend, TestApp};
use reqwest::header::{CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

/// Asserts the admin error envelope: status, `code`, and `field` (or its absence). Returns the body.
pub(crate) async fn assert_envelope(resp: Response, status: u16, code: &str, field: Option<&str>, case: &str) -> Value {
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "{case}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{case}: not JSON ({e}): {text}"));
    assert_eq!(body.as_object().unwrap().len(), 1, "{case}: only `error` at the top: {body}");
    let err = &body["error"];
    assert_eq!(err["code"], code, "{case}: {body}");
    assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()), "{case}: a message: {body}");
    assert_eq!(err.get("field").and_then(Value::as_str), field, "{case}: field in {body}");
    for k in err.as_object().unwrap().keys() {
        assert!(["code", "message", "field"].contains(&k.as_str()), "{case}: unexpected member `{k}` in {body}");
    }
    body
}

async fn send(req: RequestBuilder, body: Option<Value>) -> Response {
    match body {
        Some(b) => req.json(&b),
        None => req,
    }
    .send()
    .await
    .unwrap()
}

/// Every object key anywhere in `v`.
fn member_names(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                member_names(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| member_names(v, out)),
        _ => {}
    }
}

/// Asserts `body` has none of `keys` at any depth and nowhere contains `text`.
fn assert_hidden(body: &Value, keys: &[&str], text: &str, case: &str) {
    let mut names = Vec::new();
    member_names(body, &mut names);
    for k in keys {
        assert!(!names.iter().any(|n| n == k), "{case}: `{k}` in {body}");
    }
    assert!(!body.to_string().contains(text), "{case}: the secret text is in {body}");
}

fn list_names(list: &Value, key: &str) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|i| i[key].as_str().unwrap().to_owned()).collect()
}

/// No token or a bad one: 401; a good token without scope admin, or of another realm: 403.
async fn admin_auth(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = app.url("/admin/v1/realms");

    let resp = app.http.get(&url).send().await.unwrap();
    // RFC 6750 §3.1: no authentication attempted, so no error code in the challenge.
    assert_eq!(resp.headers()[WWW_AUTHENTICATE], "Bearer realm=\"latchkey-admin\"");
    assert_envelope(resp, 401, "unauthorized", None, "no token").await;
    // The denial holds for writes too: nothing is created.
    let resp = app.http.post(&url).json(&json!({"name": "sneaky"})).send().await.unwrap();
    assert_envelope(resp, 401, "unauthorized", None, "no token, POST").await;

    for (case, auth) in [
        ("garbage bearer", "Bearer garbage".to_owned()),
        ("empty bearer", "Bearer ".to_owned()),
        (
            "Basic credentials",
            format!("Basic {}", base64_basic(crate::helpers::OPERATOR_ID, crate::helpers::OPERATOR_SECRET)),
        ),
    ] {
        let resp = app.http.get(&url).header(reqwest::header::AUTHORIZATION, auth).send().await.unwrap();
        let challenge = resp.headers()[WWW_AUTHENTICATE].to_str().unwrap().to_owned();
        assert!(challenge.starts_with("Bearer realm=\"latchkey-admin\""), "{case}: {challenge}");
        if case == "garbage bearer" {
            assert!(challenge.ends_with("error=\"invalid_token\""), "{case}: {challenge}");
        }
        assert_envelope(resp, 401, "unauthorized", None, case).await;
    }

    // A root client without the admin scope.
    let no_admin = app.create_client("root", "not-admin", &["other"]).await;
    let token = app.token("root", "not-admin", &no_admin, Some("other")).await;
    let resp = app.http.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_envelope(resp, 403, "forbidden", None, "root token without admin").await;

    // Another realm's client with a scope named admin.
    app.create_realm("tenant").await;
    let tenant = app.create_client("tenant", "tenant-admin", &["admin"]).await;
    let token = app.token("tenant", "tenant-admin", &tenant, Some("admin")).await;
    let resp = app.http.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_envelope(resp, 403, "forbidden", None, "other realm's admin token").await;
    let resp = app.http.post(&url).bearer_auth(&token).json(&json!({"name": "sneaky"})).send().await.unwrap();
    assert_envelope(resp, 403, "forbidden", None, "other realm's admin token, POST").await;

    // The operator's token works, and none of the refused calls created anything.
    let list = app.admin_call(Method::GET, "/realms", None, 200).await;
    assert_eq!(list_names(&list, "name"), ["root", "tenant"]);
}

fn base64_basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
}

/// One envelope for every error, with a stable code and the field at fault.
async fn error_envelope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("dup").await;
    app.admin_call(
        Method::POST,
        "/realms/dup/users",
        Some(json!({"username": "ada", "password": "correct horse battery"})),
        201,
    )
    .await;
    app.create_client("dup", "taken", &["read"]).await;
    let apps = "/realms/dup/applications";
    let cases: Vec<(&str, Method, &str, Value, u16, &str, Option<&str>)> = vec![
        ("bad realm name", Method::POST, "/realms", json!({"name": "Bad Name"}), 422, "invalid_field", Some("name")),
        (
            "realm name too long",
            Method::POST,
            "/realms",
            json!({"name": "a".repeat(64)}),
            422,
            "invalid_field",
            Some("name"),
        ),
        ("duplicate realm", Method::POST, "/realms", json!({"name": "dup"}), 409, "conflict", Some("name")),
        (
            "unknown field",
            Method::POST,
            "/realms",
            json!({"name": "fresh", "colour": "red"}),
            400,
            "invalid_body",
            Some("colour"),
        ),
        (
            "wrong type",
            Method::POST,
            "/realms",
            json!({"name": "fresh", "enabled": "yes"}),
            400,
            "invalid_body",
            Some("enabled"),
        ),
        ("missing field", Method::POST, "/realms", json!({"display_name": "Fresh"}), 400, "invalid_body", Some("name")),
        (
            "root cannot be disabled",
            Method::PATCH,
            "/realms/root",
            json!({"enabled": false}),
            422,
            "invalid_field",
            Some("enabled"),
        ),
        (
            "http redirect URI",
            Method::POST,
            apps,
            json!({"client_id": "a1", "redirect_uris": ["http://evil.example.com/cb"]}),
            422,
            "invalid_field",
            Some("redirect_uris"),
        ),
        (
            "redirect URI with a fragment",
            Method::POST,
            apps,
            json!({"client_id": "a1", "redirect_uris": ["https://x.example.com/cb#frag"]}),
            422,
            "invalid_field",
            Some("redirect_uris"),
        ),
        (
            "relative redirect URI",
            Method::POST,
            apps,
            json!({"client_id": "a1", "redirect_uris": ["/cb"]}),
            422,
            "invalid_field",
            Some("redirect_uris"),
        ),
        (
            "default scopes outside allowed",
            Method::POST,
            apps,
            json!({"client_id": "a1", "allowed_scopes": ["read"], "default_scopes": ["write"]}),
            422,
            "invalid_field",
            Some("default_scopes"),
        ),
        (
            "unknown owner",
            Method::POST,
            apps,
            json!({"client_id": "a1", "owners": ["nobody"]}),
            422,
            "invalid_field",
            Some("owners"),
        ),
        ("duplicate client_id", Method::POST, apps, json!({"client_id": "taken"}), 409, "conflict", Some("client_id")),
        ("bad client_id", Method::POST, apps, json!({"client_id": "bad id!"}), 422, "invalid_field", Some("client_id")),
        (
            "unknown application_type",
            Method::POST,
            apps,
            json!({"client_id": "a1", "application_type": "desktop"}),
            422,
            "invalid_field",
            Some("application_type"),
        ),
        (
            "short secret",
            Method::POST,
            apps,
            json!({"client_id": "a1", "client_secret": "short"}),
            422,
            "invalid_field",
            Some("client_secret"),
        ),
        (
            "public client with a secret",
            Method::POST,
            apps,
            json!({"client_id": "a1", "application_type": "spa", "client_secret": "long-enough-secret"}),
            422,
            "invalid_field",
            Some("client_secret"),
        ),
        (
            "unknown grant type",
            Method::POST,
            apps,
            json!({"client_id": "a1", "grant_types": ["magic"]}),
            422,
            "invalid_field",
            Some("grant_types"),
        ),
        (
            "lifetime out of range",
            Method::POST,
            apps,
            json!({"client_id": "a1", "access_token_lifetime": 0}),
            422,
            "invalid_field",
            Some("access_token_lifetime"),
        ),
        (
            "unknown field in application",
            Method::POST,
            apps,
            json!({"client_id": "a1", "secret": "x"}),
            400,
            "invalid_body",
            Some("secret"),
        ),
        (
            "wrong type in application",
            Method::POST,
            apps,
            json!({"client_id": "a1", "redirect_uris": "https://a.example.com/cb"}),
            400,
            "invalid_body",
            Some("redirect_uris"),
        ),
        (
            "unknown signing alg",
            Method::PATCH,
            "/realms/dup/oauth2-provider",
            json!({"signing_alg": "HS256"}),
            422,
            "invalid_field",
            Some("signing_alg"),
        ),
        (
            "duplicate user",
            Method::POST,
            "/realms/dup/users",
            json!({"username": "ada"}),
            409,
            "conflict",
            Some("username"),
        ),
    ];
    for (case, method, path, body, status, code, field) in cases {
        let resp = send(app.admin(method, path), Some(body)).await;
        assert_envelope(resp, status, code, field, case).await;
    }

    // Without a field at fault.
    let no_body_cases: Vec<(&str, Method, &str, u16, &str, Option<&str>)> = vec![
        ("unknown application", Method::GET, "/realms/dup/applications/nope", 404, "not_found", None),
        ("unknown application, DELETE", Method::DELETE, "/realms/dup/applications/nope", 404, "not_found", None),
        ("unknown realm", Method::GET, "/realms/nope", 404, "not_found", None),
        ("unknown realm's applications", Method::GET, "/realms/nope/applications", 404, "not_found", None),
        ("unknown user", Method::GET, "/realms/dup/users/nobody", 404, "not_found", None),
        ("delete root", Method::DELETE, "/realms/root", 409, "conflict", Some("name")),
        ("per_page=0", Method::GET, "/realms?per_page=0", 400, "invalid_query", Some("per_page")),
        ("per_page=201", Method::GET, "/realms/dup/applications?per_page=201", 400, "invalid_query", Some("per_page")),
        ("page=0", Method::GET, "/realms/dup/users?page=0", 400, "invalid_query", Some("page")),
        ("unknown query parameter", Method::GET, "/realms?size=2", 400, "invalid_query", Some("size")),
    ];
    for (case, method, path, status, code, field) in no_body_cases {
        assert_envelope(send(app.admin(method, path), None).await, status, code, field, case).await;
    }

    // Bodies that are not JSON.
    let resp = app
        .admin(Method::POST, "/realms")
        .header(CONTENT_TYPE, "text/plain")
        .body(r#"{"name":"fresh"}"#)
        .send()
        .await
        .unwrap();
    assert_envelope(resp, 415, "unsupported_media_type", None, "text/plain").await;
    let resp = app.admin(Method::POST, "/realms").form(&[("name", "fresh")]).send().await.unwrap();
    assert_envelope(resp, 415, "unsupported_media_type", None, "a form").await;

    // None of the refused requests changed anything.
    let realms = app.admin_call(Method::GET, "/realms", None, 200).await;
    assert_eq!(list_names(&realms, "name"), ["dup", "root"]);
    let root = app.admin_call(Method::GET, "/realms/root", None, 200).await;
    assert_eq!(root["enabled"], true);
    let list = app.admin_call(Method::GET, apps, None, 200).await;
    assert_eq!(list_names(&list, "client_id"), ["taken"]);
    let provider = app.admin_call(Method::GET, "/realms/dup/oauth2-provider", None, 200).await;
    assert_eq!(provider["signing_alg"], "RS256");
}

/// JSON that does not parse is 400 `invalid_body` and names no field: there is none at fault.
async fn malformed_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut wrong = Vec::new();
    for body in ["{", "not json", r#"{"name": "fresh""#, r#"{"name": "fresh"} trailing"#] {
        let resp = app
            .admin(Method::POST, "/realms")
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let answer: Value = resp.json().await.unwrap();
        let err = &answer["error"];
        let message_ok = err["message"].as_str().is_some_and(|m| !m.is_empty());
        if status != 400 || err["code"] != "invalid_body" || !message_ok || err.get("field").is_some() {
            wrong.push(format!("{body:?} answered {status} {answer}"));
        }
    }
    assert!(wrong.is_empty(), "malformed JSON must be 400 invalid_body without a field:\n{}", wrong.join("\n"));
    let realms = app.admin_call(Method::GET, "/realms", None, 200).await;
    assert_eq!(list_names(&realms, "name"), ["root"]);
}

/// GETs a Location header (absolute or relative) with the admin token.
async fn follow(app: &TestApp, resp: &Response) -> Value {
    let loc = resp
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("201 without Location: {:?}", resp.url()))
        .to_str()
        .unwrap();
    let url = reqwest::Url::parse(&app.base).unwrap().join(loc).unwrap();
    let got = app.http.get(url.clone()).bearer_auth(&app.admin_token).send().await.unwrap();
    assert_eq!(got.status(), 200, "GET {url}");
    got.json().await.unwrap()
}

/// Every create answers 201 with a Location that GET answers.
async fn location_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let resp = send(app.admin(Method::POST, "/realms"), Some(json!({"name": "loc", "display_name": "Location"}))).await;
    assert_eq!(resp.status(), 201);
    let at = follow(&app, &resp).await;
    let created: Value = resp.json().await.unwrap();
    assert_eq!(at, created);
    assert_eq!(at["name"], "loc");
    assert_eq!(at["display_name"], "Location");

    let resp = send(
        app.admin(Method::POST, "/realms/loc/users"),
        Some(json!({"username": "ada", "password": "correct horse battery"})),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let at = follow(&app, &resp).await;
    let created: Value = resp.json().await.unwrap();
    assert_eq!(at, created);
    assert_eq!(at["username"], "ada");

    let resp = send(
        app.admin(Method::POST, "/realms/loc/applications"),
        Some(json!({"client_id": "app", "allowed_scopes": ["read"], "owners": ["ada"]})),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let at = follow(&app, &resp).await;
    let mut created: Value = resp.json().await.unwrap();
    created.as_object_mut().unwrap().remove("client_secret").expect("a secret on create");
    assert_eq!(at, created);

    // A generated client_id has a Location too.
    let resp =
        send(app.admin(Method::POST, "/realms/loc/applications"), Some(json!({"client_name": "No id given"}))).await;
    assert_eq!(resp.status(), 201);
    let at = follow(&app, &resp).await;
    let created: Value = resp.json().await.unwrap();
    assert_eq!(at["client_id"], created["client_id"]);
    assert!(!created["client_id"].as_str().unwrap().is_empty());

    let resp = app.admin(Method::POST, "/realms/loc/keys/rotate").send().await.unwrap();
    assert_eq!(resp.status(), 201);
    follow(&app, &resp).await;
}

/// Lists are paginated with a total across pages.
async fn pagination(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for r in ["r1", "r2", "r3"] {
        app.create_realm(r).await;
    }
    let mut seen = Vec::new();
    for (page, expected) in [(1, 2), (2, 2), (3, 0)] {
        let list = app.admin_call(Method::GET, &format!("/realms?per_page=2&page={page}"), None, 200).await;
        assert_eq!(list["items"].as_array().unwrap().len(), expected, "page {page}: {list}");
        assert_eq!(list["total"], 4, "page {page}");
        assert_eq!(list["page"], page);
        assert_eq!(list["per_page"], 2);
        seen.extend(list_names(&list, "name"));
    }
    seen.sort();
    assert_eq!(seen, ["r1", "r2", "r3", "root"], "pages cover every realm once");
    let all = app.admin_call(Method::GET, "/realms", None, 200).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
    assert_eq!(all["total"], 4);

    // Applications and users page the same way.
    for id in ["a", "b", "c"] {
        app.create_client("r1", id, &[]).await;
        app.admin_call(Method::POST, "/realms/r1/users", Some(json!({"username": format!("user-{id}")})), 201).await;
    }
    for path in ["/realms/r1/applications", "/realms/r1/users"] {
        let p1 = app.admin_call(Method::GET, &format!("{path}?per_page=2"), None, 200).await;
        let p2 = app.admin_call(Method::GET, &format!("{path}?per_page=2&page=2"), None, 200).await;
        assert_eq!((p1["items"].as_array().unwrap().len(), p2["items"].as_array().unwrap().len()), (2, 1), "{path}");
        assert_eq!((&p1["total"], &p2["total"]), (&json!(3), &json!(3)), "{path}");
    }
}

/// Every page of the realm list, walked at `per_page` until an empty one; each page's total is
/// `expected`.
async fn realm_pages(app: &TestApp, per_page: usize, expected: usize) -> Vec<String> {
    let mut names = Vec::new();
    for page in 1.. {
        let list = app.admin_call(Method::GET, &format!("/realms?per_page={per_page}&page={page}"), None, 200).await;
        assert_eq!(list["total"], expected, "per_page {per_page}, page {page}");
        let got = list_names(&list, "name");
        if got.is_empty() {
            return names;
        }
        assert!(got.len() == per_page || names.len() + got.len() == expected, "per_page {per_page}, page {page}");
        names.extend(got);
    }
    unreachable!()
}

/// Deep realm list pages start at the cached mark before them (every 64th name in list order):
/// at page sizes on and off the marks, they still cover every realm once, in name order, and
/// creating and deleting realms moves the marks with them.
async fn deep_realm_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Created out of name order, so that the marks are not the creation order.
    let mut names: Vec<String> = (0..150).map(|i| format!("t{:03}", (i * 37) % 150)).collect();
    for name in &names {
        app.create_realm(name).await;
    }
    names.push("root".into());
    names.sort();
    for per_page in [1, 7, 50, 64, 65, 200] {
        assert_eq!(realm_pages(&app, per_page, names.len()).await, names, "per_page {per_page}");
    }
    // One realm before every mark, one removed after the first: every mark moves.
    app.create_realm("a-first").await;
    app.admin_call(Method::DELETE, "/realms/t100", None, 204).await;
    names.retain(|n| n != "t100");
    names.insert(0, "a-first".into());
    for per_page in [50, 64] {
        assert_eq!(realm_pages(&app, per_page, names.len()).await, names, "after the changes, per_page {per_page}");
    }
}

/// Client secrets appear only in the create and rotate answers; rotation replaces the secret.
async fn client_secrets_never_returned(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("sec").await;
    let secret = "a-very-secret-value-123";
    let created = app
        .admin_call(
            Method::POST,
            "/realms/sec/applications",
            Some(json!({"client_id": "svc", "client_secret": secret, "grant_types": ["client_credentials"], "allowed_scopes": ["read"]})),
            201,
        )
        .await;
    assert_eq!(created["client_secret"], secret);

    let read = app.admin_call(Method::GET, "/realms/sec/applications/svc", None, 200).await;
    assert_hidden(&read, &["client_secret", "secret_hash", "client_secret_hash"], secret, "GET");
    assert_eq!(read["client_id"], "svc");
    let list = app.admin_call(Method::GET, "/realms/sec/applications", None, 200).await;
    assert_hidden(&list, &["client_secret", "secret_hash", "client_secret_hash"], secret, "list");
    assert_eq!(list_names(&list, "client_id"), ["svc"]);
    let patched = app
        .admin_call(Method::PATCH, "/realms/sec/applications/svc", Some(json!({"client_name": "Renamed"})), 200)
        .await;
    assert_hidden(&patched, &["client_secret", "secret_hash", "client_secret_hash"], secret, "PATCH");
    assert_eq!(patched["client_name"], "Renamed");
    // The hash format never leaks either.
    assert!(!list.to_string().contains("$argon2"), "{list}");

    assert_eq!(app.token_request("sec", "svc", secret, Some("read")).await.status(), 200);
    let rotated = app.admin_call(Method::POST, "/realms/sec/applications/svc/secret", None, 200).await;
    assert_eq!(rotated["client_id"], "svc");
    let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert!(new_secret.len() >= 32, "a generated secret is long: {new_secret}");

    let resp = app.token_request("sec", "svc", secret, Some("read")).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_client");
    assert_eq!(app.token_request("sec", "svc", &new_secret, Some("read")).await.status(), 200);
    let read = app.admin_call(Method::GET, "/realms/sec/applications/svc", None, 200).await;
    assert_hidden(&read, &["client_secret"], &new_secret, "GET after rotation");

    // A generated secret on create is returned once, and works.
    let generated = app.create_client("sec", "gen", &["read"]).await;
    assert!(generated.len() >= 32);
    assert_eq!(app.token_request("sec", "gen", &generated, Some("read")).await.status(), 200);
    let list = app.admin_call(Method::GET, "/realms/sec/applications", None, 200).await;
    assert_hidden(&list, &["client_secret"], &generated, "list with a generated secret");
    assert_hidden(&list, &["client_secret"], &new_secret, "list after rotation");

    // A public client has no secret to rotate.
    app.admin_call(
        Method::POST,
        "/realms/sec/applications",
        Some(json!({"client_id": "spa", "application_type": "spa", "grant_types": ["authorization_code"],
                    "redirect_uris": ["https://spa.example.com/cb"]})),
        201,
    )
    .await;
    let resp = app.admin(Method::POST, "/realms/sec/applications/spa/secret").send().await.unwrap();
    assert_envelope(resp, 422, "invalid_field", Some("application_type"), "rotate a public client's secret").await;
    assert_envelope(
        app.admin(Method::POST, "/realms/sec/applications/nope/secret").send().await.unwrap(),
        404,
        "not_found",
        None,
        "rotate unknown",
    )
    .await;
}

/// Passwords are never returned, in any form.
async fn passwords_never_returned(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("sec").await;
    let password = "correct horse battery staple";
    let hidden = ["password", "password_hash", "hash"];
    let created = app
        .admin_call(
            Method::POST,
            "/realms/sec/users",
            Some(json!({"username": "ada", "password": password, "email": "ada@example.com"})),
            201,
        )
        .await;
    assert_hidden(&created, &hidden, password, "create");
    assert_eq!(created["has_password"], true);
    let read = app.admin_call(Method::GET, "/realms/sec/users/ada", None, 200).await;
    assert_hidden(&read, &hidden, password, "GET");
    let list = app.admin_call(Method::GET, "/realms/sec/users", None, 200).await;
    assert_hidden(&list, &hidden, password, "list");
    assert!(!list.to_string().contains("$argon2"), "{list}");
    let new_password = "another long passphrase";
    let patched = app
        .admin_call(
            Method::PATCH,
            "/realms/sec/users/ada",
            Some(json!({"password": new_password, "given_name": "Ada"})),
            200,
        )
        .await;
    assert_hidden(&patched, &hidden, new_password, "PATCH");
    assert_hidden(&patched, &hidden, password, "PATCH");
    assert_eq!(patched["given_name"], "Ada");
    assert_eq!(patched["has_password"], true);
    let list = app.admin_call(Method::GET, "/realms/sec/users", None, 200).await;
    assert_hidden(&list, &hidden, new_password, "list after PATCH");
}

/// PATCH changes what it names, clears what it sets to null, and refuses a change of type.
async fn patch_semantics(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("p").await;
    let secret = app.create_client("p", "svc", &["read"]).await;
    let path = "/realms/p/applications/svc";

    let set = app.admin_call(Method::PATCH, path, Some(json!({"description": "Nightly sync"})), 200).await;
    assert_eq!(set["description"], "Nightly sync");
    assert_eq!(app.admin_call(Method::GET, path, None, 200).await["description"], "Nightly sync");
    // Absent means unchanged.
    let other = app.admin_call(Method::PATCH, path, Some(json!({"client_name": "Sync"})), 200).await;
    assert_eq!(other["description"], "Nightly sync");
    assert_eq!(other["client_name"], "Sync");
    // null clears.
    let cleared = app.admin_call(Method::PATCH, path, Some(json!({"description": null})), 200).await;
    assert!(cleared["description"].is_null(), "{cleared}");
    let read = app.admin_call(Method::GET, path, None, 200).await;
    assert!(read["description"].is_null(), "{read}");
    assert_eq!(read["client_name"], "Sync");

    // The lifetime override: set, used, cleared with null, and the realm's lifetime is back.
    let set = app.admin_call(Method::PATCH, path, Some(json!({"access_token_lifetime": 120})), 200).await;
    assert_eq!(set["access_token_lifetime"], 120);
    let body: Value = app.token_request("p", "svc", &secret, Some("read")).await.json().await.unwrap();
    assert_eq!(body["expires_in"], 120);
    let cleared = app.admin_call(Method::PATCH, path, Some(json!({"access_token_lifetime": null})), 200).await;
    assert!(cleared["access_token_lifetime"].is_null(), "{cleared}");
    assert!(app.admin_call(Method::GET, path, None, 200).await["access_token_lifetime"].is_null());
    let body: Value = app.token_request("p", "svc", &secret, Some("read")).await.json().await.unwrap();
    assert_eq!(body["expires_in"], 3600);

    // The type cannot change; naming the current type is fine.
    let before = app.admin_call(Method::GET, path, None, 200).await;
    for t in ["spa", "native"] {
        let resp = send(app.admin(Method::PATCH, path), Some(json!({"application_type": t}))).await;
        assert_envelope(resp, 422, "invalid_field", Some("application_type"), t).await;
    }
    assert_eq!(app.admin_call(Method::GET, path, None, 200).await, before);
    let same = app.admin_call(Method::PATCH, path, Some(json!({"application_type": "web"})), 200).await;
    assert_eq!(same["application_type"], "web");

    // A refused PATCH changes nothing, even the valid parts of it.
    let resp = send(
        app.admin(Method::PATCH, path),
        Some(json!({"client_name": "Half", "redirect_uris": ["http://evil.example.com/cb"]})),
    )
    .await;
    assert_envelope(resp, 422, "invalid_field", Some("redirect_uris"), "half-valid PATCH").await;
    assert_eq!(app.admin_call(Method::GET, path, None, 200).await["client_name"], "Sync");

    // Realms patch the same way.
    let realm = app.admin_call(Method::PATCH, "/realms/p", Some(json!({"display_name": "Production"})), 200).await;
    assert_eq!(realm["display_name"], "Production");
    assert_eq!(realm["enabled"], true);
}

/// A page of the list carries each application's own owners (read for the whole page at once).
async fn list_shows_each_applications_owners(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("o").await;
    for u in ["ada", "bob", "cy"] {
        app.admin_call(Method::POST, "/realms/o/users", Some(json!({"username": u})), 201).await;
    }
    for (client_id, owners) in [("a", json!(["bob", "ada"])), ("b", json!([])), ("c", json!(["cy"]))] {
        let body = json!({"client_id": client_id, "grant_types": ["client_credentials"], "owners": owners});
        app.admin_call(Method::POST, "/realms/o/applications", Some(body), 201).await;
    }
    let list = app.admin_call(Method::GET, "/realms/o/applications", None, 200).await;
    let owners: Vec<(String, Value)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["client_id"].as_str().unwrap().to_owned(), i["owners"].clone()))
        .collect();
    assert_eq!(
        owners,
        [("a".into(), json!(["ada", "bob"])), ("b".into(), json!([])), ("c".into(), json!(["cy"]))],
        "{list}"
    );
}

/// Deleting an application ends its token requests; deleting a user removes it from owners.
async fn delete_semantics(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("d").await;
    for u in ["ada", "bob"] {
        app.admin_call(Method::POST, "/realms/d/users", Some(json!({"username": u})), 201).await;
    }
    let secret = app
        .admin_call(
            Method::POST,
            "/realms/d/applications",
            Some(json!({"client_id": "svc", "grant_types": ["client_credentials"], "allowed_scopes": ["read"], "owners": ["ada", "bob"]})),
            201,
        )
        .await["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let keep = app.create_client("d", "keep", &["read"]).await;
    assert_eq!(
        app.admin_call(Method::GET, "/realms/d/applications/svc", None, 200).await["owners"],
        json!(["ada", "bob"])
    );

    // The user.
    assert_eq!(app.admin_call(Method::DELETE, "/realms/d/users/ada", None, 204).await, Value::Null);
    assert_envelope(
        app.admin(Method::GET, "/realms/d/users/ada").send().await.unwrap(),
        404,
        "not_found",
        None,
        "deleted user",
    )
    .await;
    assert_eq!(app.admin_call(Method::GET, "/realms/d/applications/svc", None, 200).await["owners"], json!(["bob"]));
    let users = app.admin_call(Method::GET, "/realms/d/users", None, 200).await;
    assert_eq!(list_names(&users, "username"), ["bob"]);
    assert_envelope(
        app.admin(Method::DELETE, "/realms/d/users/ada").send().await.unwrap(),
        404,
        "not_found",
        None,
        "delete twice",
    )
    .await;

    // The application.
    assert_eq!(app.token_request("d", "svc", &secret, Some("read")).await.status(), 200);
    assert_eq!(app.admin_call(Method::DELETE, "/realms/d/applications/svc", None, 204).await, Value::Null);
    let resp = app.token_request("d", "svc", &secret, Some("read")).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()[WWW_AUTHENTICATE], "Basic realm=\"d\"");
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_client");
    assert_envelope(
        app.admin(Method::GET, "/realms/d/applications/svc").send().await.unwrap(),
        404,
        "not_found",
        None,
        "deleted app",
    )
    .await;
    assert_envelope(
        app.admin(Method::DELETE, "/realms/d/applications/svc").send().await.unwrap(),
        404,
        "not_found",
        None,
        "delete twice",
    )
    .await;
    let list = app.admin_call(Method::GET, "/realms/d/applications", None, 200).await;
    assert_eq!(list_names(&list, "client_id"), ["keep"]);
    assert_eq!(app.token_request("d", "keep", &keep, Some("read")).await.status(), 200);
    // Bob, who owned it, is still there.
    app.admin_call(Method::GET, "/realms/d/users/bob", None, 200).await;
}

/// Deleting a realm takes everything in it; the same name starts empty.
async fn realm_deletion_cascades(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("x").await;
    app.admin_call(Method::POST, "/realms/x/users", Some(json!({"username": "ada"})), 201).await;
    let secret = app
        .admin_call(
            Method::POST,
            "/realms/x/applications",
            Some(json!({"client_id": "svc", "grant_types": ["client_credentials"], "allowed_scopes": ["read"], "owners": ["ada"]})),
            201,
        )
        .await["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    app.admin_call(
        Method::PATCH,
        "/realms/x/oauth2-provider",
        Some(json!({"access_token_lifetime": 900, "default_scopes": ["read"], "signing_alg": "ES256"})),
        200,
    )
    .await;
    let old_kids: Vec<Value> = app.admin_call(Method::GET, "/realms/x/keys", None, 200).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(app.token_request("x", "svc", &secret, None).await.status(), 200);

    assert_eq!(app.admin_call(Method::DELETE, "/realms/x", None, 204).await, Value::Null);
    for path in
        ["/realms/x", "/realms/x/applications", "/realms/x/users", "/realms/x/oauth2-provider", "/realms/x/keys"]
    {
        assert_envelope(app.admin(Method::GET, path).send().await.unwrap(), 404, "not_found", None, path).await;
    }
    assert_envelope(
        app.admin(Method::DELETE, "/realms/x").send().await.unwrap(),
        404,
        "not_found",
        None,
        "delete twice",
    )
    .await;
    let realms = app.admin_call(Method::GET, "/realms", None, 200).await;
    assert_eq!(list_names(&realms, "name"), ["root"]);

    app.create_realm("x").await;
    let apps = app.admin_call(Method::GET, "/realms/x/applications", None, 200).await;
    assert_eq!(apps["items"], json!([]));
    assert_eq!(apps["total"], 0);
    let users = app.admin_call(Method::GET, "/realms/x/users", None, 200).await;
    assert_eq!(users["items"], json!([]));
    assert_eq!(users["total"], 0);
    let provider = app.admin_call(Method::GET, "/realms/x/oauth2-provider", None, 200).await;
    assert_eq!(provider["access_token_lifetime"], 3600);
    assert_eq!(provider["default_scopes"], json!([]));
    assert_eq!(provider["signing_alg"], "RS256");
    let keys = app.admin_call(Method::GET, "/realms/x/keys", None, 200).await;
    let keys = keys["items"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert!(!old_kids.contains(&keys[0]["kid"]), "the old realm's keys are gone");
    assert_eq!(app.token_request("x", "svc", &secret, Some("read")).await.status(), 401);
}

/// The OpenAPI document is public, OpenAPI 3.1, and lists every admin route and OAuth2 endpoint.
async fn openapi_document(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let resp = app.http.get(app.url("/admin/v1/openapi.json")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
    let doc: Value = serde_json::from_str(&resp.text().await.unwrap()).expect("valid JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let paths = doc["paths"].as_object().expect("paths");
    let routes: &[(&str, &[&str])] = &[
        ("/admin/v1/session", &["get", "post", "delete"]),
        ("/admin/v1/realms", &["get", "post"]),
        ("/admin/v1/realms/{realm}", &["get", "patch", "delete"]),
        ("/admin/v1/realms/{realm}/oauth2-provider", &["get", "patch"]),
        ("/admin/v1/realms/{realm}/keys", &["get"]),
        ("/admin/v1/realms/{realm}/keys/rotate", &["post"]),
        ("/admin/v1/realms/{realm}/applications", &["get", "post"]),
        ("/admin/v1/realms/{realm}/applications/{client_id}", &["get", "patch", "delete"]),
        ("/admin/v1/realms/{realm}/applications/{client_id}/secret", &["post"]),
        ("/admin/v1/realms/{realm}/users", &["get", "post"]),
        ("/admin/v1/realms/{realm}/users/{username}", &["get", "patch", "delete"]),
        ("/admin/v1/realms/{realm}/audit", &["get"]),
        ("/oauth2/realms/{realm}/access_token", &["post"]),
        ("/oauth2/realms/{realm}/introspect", &["post"]),
        ("/oauth2/realms/{realm}/token/revoke", &["post"]),
        ("/oauth2/realms/{realm}/tokeninfo", &["get"]),
        ("/oauth2/realms/{realm}/connect/jwk_uri", &["get"]),
        ("/oauth2/realms/{realm}/.well-known/openid-configuration", &["get"]),
    ];
    for (path, methods) in routes {
        let entry = paths.get(*path).unwrap_or_else(|| panic!("no path entry for {path}"));
        for m in *methods {
            assert!(entry.get(*m).is_some_and(Value::is_object), "{path} lacks {m}");
        }
    }
}

both_backends!(
    admin_auth,
    error_envelope,
    malformed_json,
    location_headers,
    pagination,
    deep_realm_pages,
    client_secrets_never_returned,
    passwords_never_returned,
    patch_semantics,
    delete_semantics,
    list_shows_each_applications_owners,
    realm_deletion_cascades,
    openapi_document,
);
