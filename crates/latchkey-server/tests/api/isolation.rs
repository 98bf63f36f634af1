//! Tenant isolation: realm A's clients, tokens and admin data never count in realm B.

use crate::helpers::{Backend, TestApp};
use reqwest::header::WWW_AUTHENTICATE;
use reqwest::{Method, Response};
use serde_json::{Value, json};

/// POSTs `token` to `realm`'s introspection endpoint as `id`; returns status and body.
async fn introspect_raw(app: &TestApp, realm: &str, id: &str, secret: &str, token: &str) -> (u16, Value) {
    let resp = app
        .http
        .post(format!("{}/introspect", app.issuer(realm)))
        .basic_auth(id, Some(secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

async fn tokeninfo(app: &TestApp, realm: &str, token: &str) -> Response {
    app.http.get(format!("{}/tokeninfo", app.issuer(realm))).bearer_auth(token).send().await.unwrap()
}

/// Asserts a 401 `invalid_client` with the realm's Basic challenge.
async fn assert_invalid_client(resp: Response, realm: &str, case: &str) {
    assert_eq!(resp.status(), 401, "{case}");
    assert_eq!(resp.headers()[WWW_AUTHENTICATE], format!("Basic realm=\"{realm}\""), "{case}");
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_client", "{case}");
}

/// Asserts a 404 admin envelope with code `not_found`.
async fn assert_admin_not_found(app: &TestApp, method: Method, path: &str, body: Option<Value>) {
    let mut req = app.admin(method.clone(), path);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 404, "{method} {path}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found", "{method} {path}: {body}");
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|i| i[key].as_str().unwrap().to_owned()).collect()
}

/// A client of realm A, whether B knows its client_id or not, fails at B's token endpoint.
async fn client_of_a_fails_at_b(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("tenant-a").await;
    app.create_realm("tenant-b").await;
    let only_a = app.create_client("tenant-a", "only-in-a", &["read"]).await;
    let svc_a = app.create_client("tenant-a", "svc", &["read"]).await;
    let svc_b = app.create_client("tenant-b", "svc", &["read"]).await;
    assert_ne!(svc_a, svc_b);

    // Each works in its own realm.
    assert_eq!(app.token_request("tenant-a", "only-in-a", &only_a, Some("read")).await.status(), 200);
    assert_eq!(app.token_request("tenant-a", "svc", &svc_a, Some("read")).await.status(), 200);
    assert_eq!(app.token_request("tenant-b", "svc", &svc_b, Some("read")).await.status(), 200);

    // A's credentials at B: unknown there, or a same-named client with another secret.
    assert_invalid_client(
        app.token_request("tenant-b", "only-in-a", &only_a, Some("read")).await,
        "tenant-b",
        "unknown at B",
    )
    .await;
    assert_invalid_client(
        app.token_request("tenant-b", "svc", &svc_a, Some("read")).await,
        "tenant-b",
        "same name at B",
    )
    .await;
    assert_invalid_client(
        app.token_request("tenant-a", "svc", &svc_b, Some("read")).await,
        "tenant-a",
        "B's secret at A",
    )
    .await;
    // And at B's introspection endpoint, as a caller.
    let resp = app
        .http
        .post(format!("{}/introspect", app.issuer("tenant-b")))
        .basic_auth("only-in-a", Some(&only_a))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_invalid_client(resp, "tenant-b", "A's client introspecting at B").await;
}

/// An A token is inactive at B's introspection and 401 at B's tokeninfo, though B's caller is valid.
async fn a_token_is_inactive_at_b(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("tenant-a").await;
    app.create_realm("tenant-b").await;
    let svc_a = app.create_client("tenant-a", "svc", &["read"]).await;
    let svc_b = app.create_client("tenant-b", "svc", &["read"]).await;
    let rs_a = app.create_client("tenant-a", "rs", &[]).await;
    let rs_b = app.create_client("tenant-b", "rs", &[]).await;
    let token_a = app.token("tenant-a", "svc", &svc_a, Some("read")).await;
    let token_b = app.token("tenant-b", "svc", &svc_b, Some("read")).await;

    // B's caller is valid: B's own token is active at B, and A's is active at A.
    let (status, own) = introspect_raw(&app, "tenant-b", "rs", &rs_b, &token_b).await;
    assert_eq!((status, &own["active"]), (200, &json!(true)), "{own}");
    let (status, at_a) = introspect_raw(&app, "tenant-a", "rs", &rs_a, &token_a).await;
    assert_eq!((status, &at_a["active"]), (200, &json!(true)), "{at_a}");

    // A's token at B (same client_id, same scope): exactly {"active": false}, and vice versa.
    let (status, body) = introspect_raw(&app, "tenant-b", "rs", &rs_b, &token_a).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"active": false}));
    let (status, body) = introspect_raw(&app, "tenant-a", "rs", &rs_a, &token_b).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"active": false}));

    // Tokeninfo: 200 at home, 401 invalid_token at the other realm.
    let home = tokeninfo(&app, "tenant-a", &token_a).await;
    assert_eq!(home.status(), 200);
    assert_eq!(home.json::<Value>().await.unwrap()["realm"], "/tenant-a");
    let away = tokeninfo(&app, "tenant-b", &token_a).await;
    assert_eq!(away.status(), 401);
    let challenge = away.headers()[WWW_AUTHENTICATE].to_str().unwrap().to_owned();
    assert!(challenge.starts_with("Bearer") && challenge.contains("invalid_token"), "{challenge}");
    assert_eq!(away.json::<Value>().await.unwrap()["error"], "invalid_token");

    // B's client "revoking" A's token at B changes nothing: the token is unknown there.
    let resp = app
        .http
        .post(format!("{}/token/revoke", app.issuer("tenant-b")))
        .basic_auth("svc", Some(&svc_b))
        .form(&[("token", token_a.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(app.introspect("tenant-a", "rs", &rs_a, &token_a).await["active"], true);
}

/// A's applications and identities never appear under B, and B's admin paths cannot reach them.
async fn admin_data_stays_in_its_realm(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("tenant-a").await;
    app.create_realm("tenant-b").await;
    for (realm, user) in [("tenant-a", "ada"), ("tenant-b", "bob")] {
        app.admin_call(
            Method::POST,
            &format!("/realms/{realm}/users"),
            Some(json!({"username": user, "password": "correct horse battery"})),
            201,
        )
        .await;
    }
    let a_secret = app
        .admin_call(
            Method::POST,
            "/realms/tenant-a/applications",
            Some(json!({"client_id": "a-app", "client_name": "A's app", "grant_types": ["client_credentials"],
                        "allowed_scopes": ["read"], "owners": ["ada"]})),
            201,
        )
        .await["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    app.create_client("tenant-b", "b-app", &["read"]).await;

    let a_app_before = app.admin_call(Method::GET, "/realms/tenant-a/applications/a-app", None, 200).await;
    let a_user_before = app.admin_call(Method::GET, "/realms/tenant-a/users/ada", None, 200).await;

    // Lists: each realm sees its own only.
    let apps_a = app.admin_call(Method::GET, "/realms/tenant-a/applications", None, 200).await;
    let apps_b = app.admin_call(Method::GET, "/realms/tenant-b/applications", None, 200).await;
    assert_eq!(names(&apps_a, "client_id"), ["a-app"]);
    assert_eq!(names(&apps_b, "client_id"), ["b-app"]);
    assert_eq!(apps_b["total"], 1);
    let users_a = app.admin_call(Method::GET, "/realms/tenant-a/users", None, 200).await;
    let users_b = app.admin_call(Method::GET, "/realms/tenant-b/users", None, 200).await;
    assert_eq!(names(&users_a, "username"), ["ada"]);
    assert_eq!(names(&users_b, "username"), ["bob"]);
    assert_eq!(users_b["total"], 1);

    // A's application and identity by name under B: 404 for every verb.
    assert_admin_not_found(&app, Method::GET, "/realms/tenant-b/applications/a-app", None).await;
    assert_admin_not_found(&app, Method::PATCH, "/realms/tenant-b/applications/a-app", Some(json!({"enabled": false})))
        .await;
    assert_admin_not_found(&app, Method::POST, "/realms/tenant-b/applications/a-app/secret", None).await;
    assert_admin_not_found(&app, Method::DELETE, "/realms/tenant-b/applications/a-app", None).await;
    assert_admin_not_found(&app, Method::GET, "/realms/tenant-b/users/ada", None).await;
    assert_admin_not_found(&app, Method::PATCH, "/realms/tenant-b/users/ada", Some(json!({"enabled": false}))).await;
    assert_admin_not_found(&app, Method::DELETE, "/realms/tenant-b/users/ada", None).await;

    // A's identity cannot own a B application.
    let resp = app
        .admin(Method::POST, "/realms/tenant-b/applications")
        .json(&json!({"client_id": "b-two", "owners": ["ada"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"]["field"], "owners");

    // A's data is untouched, and A's secret still works.
    assert_eq!(app.admin_call(Method::GET, "/realms/tenant-a/applications/a-app", None, 200).await, a_app_before);
    assert_eq!(app.admin_call(Method::GET, "/realms/tenant-a/users/ada", None, 200).await, a_user_before);
    assert_eq!(a_app_before["enabled"], true);
    assert_eq!(a_app_before["owners"], json!(["ada"]));
    assert_eq!(app.token_request("tenant-a", "a-app", &a_secret, Some("read")).await.status(), 200);
    let apps_b = app.admin_call(Method::GET, "/realms/tenant-b/applications", None, 200).await;
    assert_eq!(names(&apps_b, "client_id"), ["b-app"]);
}

/// Deleting realm A ends its endpoints and tokens, and leaves B as it was.
async fn deleting_a_realm_leaves_others(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("tenant-a").await;
    app.create_realm("tenant-b").await;
    let svc_a = app.create_client("tenant-a", "svc", &["read"]).await;
    let rs_a = app.create_client("tenant-a", "rs", &[]).await;
    let svc_b = app.create_client("tenant-b", "svc", &["read"]).await;
    let rs_b = app.create_client("tenant-b", "rs", &[]).await;
    let token_a = app.token("tenant-a", "svc", &svc_a, Some("read")).await;
    let token_b = app.token("tenant-b", "svc", &svc_b, Some("read")).await;
    assert_eq!(app.introspect("tenant-a", "rs", &rs_a, &token_a).await["active"], true);
    let b_realm = app.admin_call(Method::GET, "/realms/tenant-b", None, 200).await;
    let b_apps = app.admin_call(Method::GET, "/realms/tenant-b/applications", None, 200).await;
    let b_keys = app.admin_call(Method::GET, "/realms/tenant-b/keys", None, 200).await;

    app.admin_call(Method::DELETE, "/realms/tenant-a", None, 204).await;

    // The realm is gone: its endpoints answer 404.
    let (status, body) = introspect_raw(&app, "tenant-a", "rs", &rs_a, &token_a).await;
    assert_eq!((status, &body["error"]), (404, &json!("not_found")), "{body}");
    let resp = tokeninfo(&app, "tenant-a", &token_a).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "not_found");
    assert_eq!(app.token_request("tenant-a", "svc", &svc_a, Some("read")).await.status(), 404);
    assert_eq!(app.http.get(format!("{}/connect/jwk_uri", app.issuer("tenant-a"))).send().await.unwrap().status(), 404);

    // A's token is still nothing at B.
    let (status, body) = introspect_raw(&app, "tenant-b", "rs", &rs_b, &token_a).await;
    assert_eq!((status, body), (200, json!({"active": false})));

    // B is untouched.
    assert_eq!(app.introspect("tenant-b", "rs", &rs_b, &token_b).await["active"], true);
    assert_eq!(app.token_request("tenant-b", "svc", &svc_b, Some("read")).await.status(), 200);
    assert_eq!(app.admin_call(Method::GET, "/realms/tenant-b", None, 200).await, b_realm);
    assert_eq!(app.admin_call(Method::GET, "/realms/tenant-b/applications", None, 200).await, b_apps);
    assert_eq!(app.admin_call(Method::GET, "/realms/tenant-b/keys", None, 200).await, b_keys);

    // A realm re-created under the same name does not honour the old realm's tokens or clients.
    app.create_realm("tenant-a").await;
    let rs_new = app.create_client("tenant-a", "rs", &[]).await;
    let (status, body) = introspect_raw(&app, "tenant-a", "rs", &rs_new, &token_a).await;
    assert_eq!((status, body), (200, json!({"active": false})));
    assert_eq!(tokeninfo(&app, "tenant-a", &token_a).await.status(), 401);
    assert_invalid_client(app.token_request("tenant-a", "svc", &svc_a, Some("read")).await, "tenant-a", "old client")
        .await;
}

/// Every admin route of the OpenAPI document, every method, called on realm B's resources with
/// credentials that are not an admin's: realm A's token (with a scope named `admin`), B's own
/// client's token, a `root` token without `admin`, A's client by Basic, and nothing. Every cell
/// is 401 or 403 in the admin envelope, names nothing of B, and B is unchanged afterwards.
async fn every_admin_route_denies_everyone_but_admins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("alpha").await;
    app.admin_call(Method::POST, "/realms", Some(json!({"name": "bravo", "display_name": "Bravo Secret Corp"})), 201)
        .await;
    let a_secret = app.create_client("alpha", "a-app", &["admin", "read"]).await;
    let b_secret = app.create_client("bravo", "b-app", &["admin", "read"]).await;
    let body = json!({"username": "b-user", "email": "b-user@bravo.example"});
    app.admin_call(Method::POST, "/realms/bravo/users", Some(body), 201).await;
    let ro_secret = app.create_client("root", "ops-read-only", &["read"]).await;
    let a_token = app.token("alpha", "a-app", &a_secret, Some("admin")).await;
    let b_token = app.token("bravo", "b-app", &b_secret, Some("admin")).await;
    let ro_token = app.token("root", "ops-read-only", &ro_secret, Some("read")).await;

    let snapshot = || async {
        let mut all = Vec::new();
        for path in [
            "/realms/bravo",
            "/realms/bravo/oauth2-provider",
            "/realms/bravo/keys",
            "/realms/bravo/applications",
            "/realms/bravo/applications/b-app",
            "/realms/bravo/users",
            "/realms/bravo/users/b-user",
        ] {
            all.push(app.admin_call(Method::GET, path, None, 200).await);
        }
        all
    };
    let before = snapshot().await;
    let kid = before[2]["items"][0]["kid"].as_str().unwrap().to_owned();
    let leaks = ["b-app", "b-user", "bravo.example", "Bravo Secret Corp", kid.as_str()];

    let doc: Value = app.http.get(app.url("/admin/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut cells = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        // The document itself is public; the session routes are the console's sign-in.
        if !template.starts_with("/admin/v1/realms") {
            continue;
        }
        let path = template.replace("{realm}", "bravo").replace("{client_id}", "b-app").replace("{username}", "b-user");
        for method in ["get", "post", "patch", "delete"].into_iter().filter(|m| item.get(*m).is_some()) {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            // Bodies that would change B if they got through.
            let body = match (method.as_str(), template.as_str()) {
                ("POST", "/admin/v1/realms") => Some(json!({"name": "bravo-two"})),
                ("POST", t) if t.ends_with("/applications") => Some(json!({
                    "client_id": "evil", "application_type": "web", "grant_types": ["client_credentials"]})),
                ("POST", t) if t.ends_with("/users") => Some(json!({"username": "evil"})),
                ("PATCH", _) => Some(json!({"enabled": false})),
                _ => None,
            };
            for (who, auth) in [
                ("realm A's token with a scope named admin", Some(format!("Bearer {a_token}"))),
                ("realm B's own client's token", Some(format!("Bearer {b_token}"))),
                ("a root token without the admin scope", Some(format!("Bearer {ro_token}"))),
                ("realm A's client by Basic", Some(format!("Basic {}", basic("a-app", &a_secret)))),
                ("no credentials", None),
            ] {
                let mut req = app.http.request(method.clone(), app.url(&path));
                if let Some(a) = &auth {
                    req = req.header(reqwest::header::AUTHORIZATION, a);
                }
                if let Some(b) = &body {
                    req = req.json(b);
                }
                let resp = req.send().await.unwrap();
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap();
                let case = format!("{method} {path} with {who}");
                assert!(status == 401 || status == 403, "{case}: {status} {text}");
                let envelope: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{case}: {e}: {text}"));
                let code = if status == 401 { "unauthorized" } else { "forbidden" };
                assert_eq!(envelope["error"]["code"], code, "{case}: {text}");
                for leak in leaks {
                    assert!(!text.contains(leak), "{case}: the answer names {leak:?}: {text}");
                }
                cells += 1;
            }
        }
    }
    assert_eq!(cells, 5 * 21, "every route and method of the document was called");
    assert_eq!(snapshot().await, before, "nothing of B changed");
    let realms = app.admin_call(Method::GET, "/realms?search=bravo", None, 200).await;
    assert_eq!(realms["total"], 1, "no realm was created: {realms}");
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
}

both_backends!(
    every_admin_route_denies_everyone_but_admins,
    client_of_a_fails_at_b,
    a_token_is_inactive_at_b,
    admin_data_stays_in_its_realm,
    deleting_a_realm_leaves_others
);
