//! The audit log: what each admin change and OAuth2 event records (and never: secrets or
//! hashes), the list's filters, pagination and tenancy, retention, and the batched writer.

use crate::helpers::{ADMIN_PASSWORD, ADMIN_USERNAME, Backend, OPERATOR_ID, TestApp, form_encode, test_settings};
use latchkey_server::Application;
use reqwest::Method;
use reqwest::header::COOKIE;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use std::time::Duration;

/// The whole log of `realm` (newest first), as the API answers it.
async fn audit(app: &TestApp, realm: &str, query: &str) -> Value {
    app.admin_call(Method::GET, &format!("/realms/{realm}/audit?per_page=200{query}"), None, 200).await
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().unwrap()
}

/// The newest event of `action` in `page`; panics when there is none.
fn find<'a>(page: &'a Value, action: &str) -> &'a Value {
    items(page).iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("no {action} event in {page:#}"))
}

fn actions(page: &Value) -> Vec<String> {
    items(page).iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

async fn db(app: &TestApp) -> DatabaseConnection {
    Database::connect(app.database_url()).await.unwrap()
}

/// The first column of the first row of `sql`, as text.
async fn scalar(db: &DatabaseConnection, sql: &str) -> Option<String> {
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap()?;
    row.try_get_by_index::<Option<String>>(0)
        .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| Some(n.to_string())))
        .or_else(|_| row.try_get_by_index::<i32>(0).map(|n| Some(n.to_string())))
        .unwrap()
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    scalar(db, sql).await.unwrap().parse().unwrap()
}

/// Each admin change is recorded with its actor, action, client and before/after values; no
/// secret, password or hash appears anywhere in the log.
async fn admin_changes_are_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let conn = db(&app).await;
    app.create_realm("tenant").await;
    let root = audit(&app, "root", "").await;
    let e = find(&root, "realm.create");
    assert_eq!(e["actor"], OPERATOR_ID);
    assert_eq!(e["actor_type"], "client");
    assert_eq!(e["source"], "127.0.0.1");
    assert_eq!(e["after"]["name"], "tenant");
    assert!(e.get("before").is_none(), "{e}");
    let t = e["occurred_at"].as_i64().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((now - 60..=now + 1).contains(&t), "occurred_at {t} is now ({now})");

    // Applications: create (with a secret), update, rotate the secret.
    let secret = "first-secret-of-the-client";
    app.admin_call(
        Method::POST,
        "/realms/tenant/applications",
        Some(json!({"client_id": "app", "client_secret": secret, "client_name": "Before", "allowed_scopes": ["read"]})),
        201,
    )
    .await;
    let first_hash = scalar(&conn, "SELECT secret_hash FROM applications WHERE client_id = 'app'").await.unwrap();
    app.admin_call(Method::PATCH, "/realms/tenant/applications/app", Some(json!({"client_name": "After"})), 200).await;
    let rotated = app.admin_call(Method::POST, "/realms/tenant/applications/app/secret", None, 200).await;
    let rotated = rotated["client_secret"].as_str().unwrap().to_owned();
    let rotated_hash = scalar(&conn, "SELECT secret_hash FROM applications WHERE client_id = 'app'").await.unwrap();

    // Identities: create with a password, reset it, update, delete.
    let password = "first-password-of-ada";
    let new_password = "second-password-of-ada";
    app.admin_call(
        Method::POST,
        "/realms/tenant/users",
        Some(json!({"username": "ada", "password": password, "email": "ada@example.com"})),
        201,
    )
    .await;
    let first_pw_hash = scalar(&conn, "SELECT password_hash FROM users WHERE username = 'ada'").await.unwrap();
    app.admin_call(Method::PATCH, "/realms/tenant/users/ada", Some(json!({"password": new_password})), 200).await;
    let second_pw_hash = scalar(&conn, "SELECT password_hash FROM users WHERE username = 'ada'").await.unwrap();
    app.admin_call(Method::PATCH, "/realms/tenant/users/ada", Some(json!({"given_name": "Ada"})), 200).await;
    app.admin_call(Method::DELETE, "/realms/tenant/users/ada", None, 204).await;

    // The provider, the keys, the realm itself, and deleting the application.
    app.admin_call(Method::PATCH, "/realms/tenant/oauth2-provider", Some(json!({"access_token_lifetime": 600})), 200)
        .await;
    app.admin_call(Method::POST, "/realms/tenant/keys/rotate", None, 201).await;
    app.admin_call(Method::PATCH, "/realms/tenant", Some(json!({"display_name": "Tenant Two"})), 200).await;
    app.admin_call(Method::DELETE, "/realms/tenant/applications/app", None, 204).await;

    let log = audit(&app, "tenant", "").await;
    assert_eq!(
        actions(&log),
        [
            "application.delete",
            "realm.update",
            "key.rotate",
            "provider.update",
            "user.delete",
            "user.update",
            "user.update",
            "user.create",
            "application.secret_rotate",
            "application.update",
            "application.create",
        ],
        "newest first: {log:#}"
    );
    for e in items(&log) {
        assert_eq!(e["actor"], OPERATOR_ID, "{e}");
        assert_eq!(e["actor_type"], "client", "{e}");
        assert!(e["summary"].as_str().is_some_and(|s| !s.is_empty()), "{e}");
    }
    let e = find(&log, "application.create");
    assert_eq!(e["client_id"], "app");
    assert_eq!(e["after"]["client_name"], "Before");
    assert_eq!(e["after"]["allowed_scopes"], json!(["read"]));
    let e = find(&log, "application.update");
    assert_eq!((&e["before"]["client_name"], &e["after"]["client_name"]), (&json!("Before"), &json!("After")));
    let e = find(&log, "application.secret_rotate");
    assert_eq!(e["client_id"], "app");
    assert!(e.get("before").is_none() && e.get("after").is_none(), "{e}");
    let e = find(&log, "application.delete");
    assert_eq!(e["before"]["client_name"], "After");
    let e = find(&log, "user.create");
    assert_eq!(e["after"]["username"], "ada");
    assert_eq!(e["after"]["has_password"], true);
    let updates: Vec<&Value> = items(&log).iter().filter(|e| e["action"] == "user.update").collect();
    assert!(updates[1]["summary"].as_str().unwrap().contains("password changed"), "{}", updates[1]);
    assert!(!updates[0]["summary"].as_str().unwrap().contains("password"), "{}", updates[0]);
    assert_eq!(
        (&updates[0]["before"]["given_name"], &updates[0]["after"]["given_name"]),
        (&Value::Null, &json!("Ada"))
    );
    let e = find(&log, "user.delete");
    assert_eq!(e["before"]["email"], "ada@example.com");
    let e = find(&log, "provider.update");
    assert_eq!(
        (&e["before"]["access_token_lifetime"], &e["after"]["access_token_lifetime"]),
        (&json!(3600), &json!(600))
    );
    let e = find(&log, "key.rotate");
    assert_eq!(e["after"]["status"], "active");
    let e = find(&log, "realm.update");
    assert_eq!((&e["before"]["display_name"], &e["after"]["display_name"]), (&json!("tenant"), &json!("Tenant Two")));

    // Deleting the realm is recorded in root's log.
    app.admin_call(Method::DELETE, "/realms/tenant", None, 204).await;
    let root = audit(&app, "root", "").await;
    let e = find(&root, "realm.delete");
    assert_eq!(e["before"]["name"], "tenant");
    assert_eq!(e["actor"], OPERATOR_ID);

    // Nothing secret anywhere: neither in the answers nor in the table itself.
    let stored: Vec<String> = {
        let rows = conn
            .query_all_raw(Statement::from_string(
                conn.get_database_backend(),
                r#"SELECT summary, COALESCE("before", ''), COALESCE("after", '') FROM audit_events"#.to_owned(),
            ))
            .await
            .unwrap();
        rows.iter().flat_map(|r| (0..3).map(move |i| r.try_get_by_index::<String>(i).unwrap())).collect()
    };
    let everything = format!("{log} {root} {}", stored.join(" "));
    for (what, text) in [
        ("client secret", secret),
        ("rotated secret", rotated.as_str()),
        ("secret hash", first_hash.as_str()),
        ("rotated secret hash", rotated_hash.as_str()),
        ("password", password),
        ("new password", new_password),
        ("password hash", first_pw_hash.as_str()),
        ("new password hash", second_pw_hash.as_str()),
        ("argon2 PHC prefix", "$argon2"),
    ] {
        assert!(!everything.contains(text), "the {what} is in the audit log");
    }
    for key in ["client_secret", "secret_hash", "password", "password_hash"] {
        assert!(!everything.contains(&format!("\"{key}\"")), "a `{key}` member is in the audit log");
    }
}

/// A change made in the console is recorded under the administrator's username.
async fn console_changes_name_the_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let resp = app
        .http
        .post(app.url("/admin/v1/session"))
        .json(&json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("latchkey_session="))
        .unwrap();
    let csrf = resp.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_owned();
    let resp = app
        .http
        .post(app.url("/admin/v1/realms/root/users"))
        .header(COOKIE, &cookie)
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"username": "bob"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    // The console reads the log with its session too.
    let resp = app
        .http
        .get(app.url("/admin/v1/realms/root/audit?action=user.create"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let log: Value = resp.json().await.unwrap();
    assert_eq!(items(&log).len(), 1, "{log:#}");
    let e = &items(&log)[0];
    assert_eq!(e["actor"], ADMIN_USERNAME);
    assert_eq!(e["actor_type"], "user");
    assert_eq!(e["after"]["username"], "bob");
}

/// Token issuance, failed client authentication (known and unknown ids, no credentials) and
/// revocation are recorded with the client and the source address.
async fn oauth_events_are_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("tenant").await;
    let secret = app.create_client("tenant", "svc", &["read", "write"]).await;
    let token = app.token("tenant", "svc", &secret, Some("write")).await;
    let resp = app.token_request("tenant", "svc", "wrong-secret-of-svc", None).await;
    assert_eq!(resp.status(), 401);
    let resp = app.token_request("tenant", "ghost", "whatever-secret", None).await;
    assert_eq!(resp.status(), 401);
    let resp = app
        .http
        .post(format!("{}/introspect", app.issuer("tenant")))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = app
        .http
        .post(format!("{}/token/revoke", app.issuer("tenant")))
        .basic_auth(form_encode("svc"), Some(form_encode(&secret)))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let log = audit(&app, "tenant", "").await;
    let e = find(&log, "token.issue");
    assert_eq!((&e["actor"], &e["actor_type"], &e["client_id"]), (&json!("svc"), &json!("client"), &json!("svc")));
    assert_eq!(e["source"], "127.0.0.1");
    assert_eq!(e["after"]["scope"], "write");
    assert_eq!(e["after"]["grant_type"], "client_credentials");
    assert_eq!(e["after"]["expires_in"], 3600);

    let failures: Vec<&Value> = items(&log).iter().filter(|e| e["action"] == "client.authentication_failed").collect();
    let who: Vec<(&Value, &Value)> = failures.iter().map(|e| (&e["actor"], &e["client_id"])).collect();
    assert_eq!(
        who,
        [(&json!("anonymous"), &Value::Null), (&json!("ghost"), &json!("ghost")), (&json!("svc"), &json!("svc"))],
        "newest first: {log:#}"
    );
    for e in &failures {
        assert_eq!(e["source"], "127.0.0.1", "{e}");
    }
    assert!(failures[0]["summary"].as_str().unwrap().contains("introspect"), "{}", failures[0]);
    assert!(failures[1]["summary"].as_str().unwrap().contains("access_token"), "{}", failures[1]);

    let claims = crate::helpers::jwt_parts(&token).1;
    let e = find(&log, "token.revoke");
    assert_eq!((&e["actor"], &e["client_id"]), (&json!("svc"), &json!("svc")));
    assert_eq!(e["before"]["jti"], claims["jti"]);
    // The token itself is never in the log, nor the wrong secret.
    let text = log.to_string();
    assert!(!text.contains(&token) && !text.contains(&secret) && !text.contains("wrong-secret-of-svc"));
}

/// Filters (time range, actor, action, client), newest-first paging, and 400 `invalid_query`
/// naming the bad filter.
async fn filters_and_pagination(backend: Backend) {
    // One usage window for the whole test: alpha's three tokens are one event that counts them.
    let app = TestApp::spawn_with(backend, |s| s.audit.usage_every = Duration::from_secs(3600)).await;
    app.create_realm("tenant").await;
    let a = app.create_client("tenant", "alpha", &["read"]).await;
    let b = app.create_client("tenant", "beta", &["read"]).await;
    for _ in 0..3 {
        app.token("tenant", "alpha", &a, Some("read")).await;
    }
    app.token("tenant", "beta", &b, Some("read")).await;
    let all = audit(&app, "tenant", "").await;
    assert_eq!(all["total"], 4, "{all:#}");
    let ids: Vec<i64> = items(&all).iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    let got = audit(&app, "tenant", "&action=token.issue").await;
    assert_eq!(got["total"], 2);
    let counts: Vec<&Value> = items(&got).iter().map(|e| &e["after"]["count"]).collect();
    assert_eq!(counts, [&json!(1), &json!(3)], "beta's one token, then alpha's three: {got:#}");
    let got = audit(&app, "tenant", "&action=token.issue&client=alpha").await;
    assert_eq!(got["total"], 1);
    assert_eq!(items(&got)[0]["summary"], "3 access tokens issued for scope `read`");
    let got = audit(&app, "tenant", "&client=beta").await;
    assert_eq!(actions(&got), ["token.issue", "application.create"]);
    let got = audit(&app, "tenant", &format!("&actor={OPERATOR_ID}")).await;
    assert_eq!(actions(&got), ["application.create", "application.create"]);
    let got = audit(&app, "tenant", "&actor=beta&action=application.create").await;
    assert_eq!(got["total"], 0);
    assert_eq!(items(&got).len(), 0);

    // The time range is inclusive at both ends.
    let newest = items(&all)[0]["occurred_at"].as_i64().unwrap();
    let oldest = items(&all)[3]["occurred_at"].as_i64().unwrap();
    let got = audit(&app, "tenant", &format!("&since={oldest}&until={newest}")).await;
    assert_eq!(got["total"], 4);
    let got = audit(&app, "tenant", &format!("&since={}", newest + 1)).await;
    assert_eq!(got["total"], 0);
    let got = audit(&app, "tenant", &format!("&until={}", oldest - 1)).await;
    assert_eq!(got["total"], 0);
    // Empty filters filter nothing (the console sends its empty inputs).
    let got = audit(&app, "tenant", "&actor=&action=&client=&since=&until=").await;
    assert_eq!(got["total"], 4);

    // Paging: 4 events by 3.
    let p1 = app.admin_call(Method::GET, "/realms/tenant/audit?per_page=3", None, 200).await;
    let p2 = app.admin_call(Method::GET, "/realms/tenant/audit?per_page=3&page=2", None, 200).await;
    assert_eq!((&p1["page"], &p1["per_page"], &p1["total"]), (&json!(1), &json!(3), &json!(4)));
    assert_eq!((&p2["page"], &p2["total"]), (&json!(2), &json!(4)));
    let paged: Vec<i64> = items(&p1).iter().chain(items(&p2)).map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(paged, ids);

    for (query, field) in [
        ("since=yesterday", "since"),
        ("until=1.5", "until"),
        ("since=200&until=100", "until"),
        ("action=token.steal", "action"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("colour=red", "colour"),
    ] {
        let resp = app.admin(Method::GET, &format!("/realms/tenant/audit?{query}")).send().await.unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_query", "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
}

/// A realm's log shows only its own events; an unknown realm is 404; the log needs an admin;
/// deleting a realm deletes its events.
async fn logs_are_per_realm(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("one").await;
    app.create_realm("two").await;
    let s1 = app.create_client("one", "client-one", &["read"]).await;
    app.create_client("two", "client-two", &["read"]).await;
    app.token("one", "client-one", &s1, Some("read")).await;

    let one = audit(&app, "one", "").await;
    let two = audit(&app, "two", "").await;
    assert_eq!(actions(&one), ["token.issue", "application.create"]);
    assert_eq!(actions(&two), ["application.create"]);
    assert_eq!(items(&two)[0]["client_id"], "client-two");
    // Filtering by another realm's client finds nothing.
    assert_eq!(audit(&app, "two", "&client=client-one").await["total"], 0);
    // Realm creation is root's.
    let root = audit(&app, "root", "&action=realm.create").await;
    assert_eq!(root["total"], 2);
    assert!(actions(&one).iter().all(|a| a != "realm.create"));

    let resp = app.admin(Method::GET, "/realms/nowhere/audit").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let resp = app.http.get(app.url("/admin/v1/realms/one/audit")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = app
        .http
        .get(app.url("/admin/v1/realms/one/audit"))
        .bearer_auth(app.token("one", "client-one", &s1, Some("read")).await)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    let conn = db(&app).await;
    let one_id = scalar(&conn, "SELECT id FROM realms WHERE name = 'one'").await.unwrap();
    assert!(count(&conn, &format!("SELECT COUNT(*) FROM audit_events WHERE realm_id = {one_id}")).await >= 2);
    app.admin_call(Method::DELETE, "/realms/one", None, 204).await;
    app.admin_call(Method::GET, "/realms/root/audit", None, 200).await; // flushes
    assert_eq!(count(&conn, &format!("SELECT COUNT(*) FROM audit_events WHERE realm_id = {one_id}")).await, 0);
    assert_eq!(audit(&app, "two", "").await["total"], 1);
}

/// Events older than the retention are pruned, younger ones kept.
async fn old_events_are_pruned(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.audit.retention_days = 30;
        s.audit.prune_every = Duration::from_millis(100);
    })
    .await;
    let conn = db(&app).await;
    let root = scalar(&conn, "SELECT id FROM realms WHERE name = 'root'").await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let day = 86_400;
    for (summary, age) in [("too old", 31 * day), ("old enough", 29 * day)] {
        conn.execute_raw(Statement::from_string(
            conn.get_database_backend(),
            format!(
                "INSERT INTO audit_events (realm_id, occurred_at, actor, actor_type, action, summary) \
                 VALUES ({root}, {}, 'someone', 'client', 'realm.update', '{summary}')",
                now - age
            ),
        ))
        .await
        .unwrap();
    }
    // Pruning runs in the background: wait for it, up to 20 s.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while count(&conn, "SELECT COUNT(*) FROM audit_events WHERE summary = 'too old'").await > 0 {
        assert!(std::time::Instant::now() < deadline, "the event past the retention was not pruned");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM audit_events WHERE summary = 'old enough'").await, 1);
    let log = audit(&app, "root", "&actor=someone").await;
    assert_eq!(items(&log).iter().map(|e| e["summary"].as_str().unwrap()).collect::<Vec<_>>(), ["old enough"]);
}

/// The token endpoint only queues its event: with the writer's batch interval an hour long,
/// the token is answered and the row is not in the database until something flushes (here
/// the audit list, which flushes before it reads).
async fn token_requests_only_queue_their_event(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.audit.batch_every = Duration::from_secs(3600)).await;
    let conn = db(&app).await;
    let issued = "SELECT COUNT(*) FROM audit_events WHERE action = 'token.issue'";
    // The test kit's admin token is issued already: nothing written yet.
    assert_eq!(count(&conn, issued).await, 0);
    let secret = app.create_client("root", "svc", &["read"]).await;
    app.token("root", "svc", &secret, Some("read")).await;
    assert_eq!(count(&conn, issued).await, 0, "a token request wrote its audit row itself");
    let log = audit(&app, "root", "&action=token.issue").await;
    assert_eq!(log["total"], 2);
    assert_eq!(count(&conn, issued).await, 2);
}

/// Usage records wait for their window to close: the writer's batches go on meanwhile (an
/// admin change is written) without them, and the audit list's flush closes the window.
async fn usage_records_wait_for_their_window(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.audit.batch_every = Duration::from_millis(50);
        s.audit.usage_every = Duration::from_secs(3600);
    })
    .await;
    let conn = db(&app).await;
    let secret = app.create_client("root", "svc", &["read"]).await;
    for _ in 0..2 {
        app.token("root", "svc", &secret, Some("read")).await;
    }
    app.create_client("root", "later", &["read"]).await;
    let created = "SELECT COUNT(*) FROM audit_events WHERE action = 'application.create' AND client_id = 'later'";
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while count(&conn, created).await == 0 {
        assert!(std::time::Instant::now() < deadline, "the writer's batch did not write the admin change");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let issued = "SELECT COUNT(*) FROM audit_events WHERE action = 'token.issue' AND client_id = 'svc'";
    assert_eq!(count(&conn, issued).await, 0, "a batch wrote an open window's usage record");
    let log = audit(&app, "root", "&action=token.issue&client=svc").await;
    assert_eq!(log["total"], 1, "{log:#}");
    assert_eq!(items(&log)[0]["after"]["count"], 2);
}

/// The writer closes the usage window on its own, with nobody reading the log.
async fn the_writer_closes_usage_windows_itself(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.audit.usage_every = Duration::from_millis(200)).await;
    let conn = db(&app).await;
    let secret = app.create_client("root", "svc", &["read"]).await;
    app.token("root", "svc", &secret, Some("read")).await;
    let issued = "SELECT COUNT(*) FROM audit_events WHERE action = 'token.issue' AND client_id = 'svc'";
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while count(&conn, issued).await == 0 {
        assert!(std::time::Instant::now() < deadline, "the usage record was never written");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Stopping the server writes the events still queued.
async fn shutdown_flushes_the_queue(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let test_db = crate::helpers::TestDb::new(backend, dir.path()).await;
    let mut settings = test_settings(&test_db.url, dir.path());
    settings.audit.batch_every = Duration::from_secs(3600);
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());
    let resp = reqwest::Client::new()
        .post(format!("{base}/oauth2/realms/root/access_token"))
        .basic_auth(OPERATOR_ID, Some(crate::helpers::OPERATOR_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let conn = Database::connect(&test_db.url).await.unwrap();
    let issued = "SELECT COUNT(*) FROM audit_events WHERE action = 'token.issue'";
    assert_eq!(count(&conn, issued).await, 0);
    handle.stop(true).await;
    server.await.unwrap().unwrap();
    assert_eq!(count(&conn, issued).await, 1);
    conn.close().await.ok();
}

/// The writer tells a refused row (an event of a realm deleted meanwhile), after which it writes
/// the batch's other events one by one, from a database it cannot reach, where it gives up:
/// the classification it relies on, on both backends.
async fn a_refused_row_is_told_from_an_unreachable_database(backend: Backend) {
    use latchkey_realms::RealmId;
    use latchkey_storage::{NewAuditEvent, Store};
    let app = TestApp::spawn(backend).await;
    let store = Store::connect(app.database_url()).await.unwrap();
    let event = |realm| NewAuditEvent {
        realm: RealmId(realm),
        occurred_at: 1,
        actor: "svc".into(),
        actor_type: "client",
        action: "token.issue",
        client_id: None,
        source: None,
        summary: "refused".into(),
        before: None,
        after: None,
    };
    let root = scalar(&db(&app).await, "SELECT id FROM realms WHERE name = 'root'").await.unwrap();
    let root: i32 = root.parse().unwrap();
    let e = store.insert_audit_events(&[event(root), event(999_999)]).await.unwrap_err();
    assert!(e.is_constraint_violation(), "{e:?}");
    assert_eq!(
        count(&db(&app).await, "SELECT COUNT(*) FROM audit_events WHERE summary = 'refused'").await,
        0,
        "all or nothing"
    );
    assert_eq!(store.insert_audit_events(&[event(root)]).await.unwrap(), 1);

    store.clone().close().await.unwrap();
    let e = store.insert_audit_events(&[event(root)]).await.unwrap_err();
    assert!(!e.is_constraint_violation(), "{e:?}");
}

both_backends!(
    a_refused_row_is_told_from_an_unreachable_database,
    admin_changes_are_audited,
    console_changes_name_the_user,
    oauth_events_are_audited,
    filters_and_pagination,
    logs_are_per_realm,
    old_events_are_pruned,
    token_requests_only_queue_their_event,
    usage_records_wait_for_their_window,
    the_writer_closes_usage_windows_itself,
    shutdown_flushes_the_queue,
);
