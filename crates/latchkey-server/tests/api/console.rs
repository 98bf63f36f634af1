//! The console's server side: sign-in sessions (cookie, CSRF, throttling, sign-out, expiry),
//! searching the lists, and serving the built console at `/console`.

use crate::helpers::{ADMIN_PASSWORD, ADMIN_USERNAME, Backend, TestApp};
use latchkey_server::settings::SessionSettings;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, RETRY_AFTER, SET_COOKIE, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const SESSION_COOKIE: &str = "latchkey_session";
const CSRF_HEADER: &str = "X-CSRF-Token";

/// A `Set-Cookie` header: name, value, and its attributes with lowercased names.
#[derive(Debug)]
struct SetCookie {
    name: String,
    value: String,
    attrs: Vec<(String, String)>,
}

impl SetCookie {
    fn parse(header: &str) -> SetCookie {
        let mut parts = header.split(';').map(str::trim);
        let (name, value) = parts.next().and_then(|p| p.split_once('=')).expect("name=value");
        let attrs = parts
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), v.trim().to_owned()),
                None => (p.to_ascii_lowercase(), String::new()),
            })
            .collect();
        SetCookie { name: name.to_owned(), value: value.to_owned(), attrs }
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }
}

/// The one `Set-Cookie` of the session cookie in `resp`; panics unless there is exactly one.
fn session_set_cookie(resp: &Response) -> SetCookie {
    let cookies: Vec<SetCookie> = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| SetCookie::parse(v.to_str().unwrap()))
        .filter(|c| c.name == SESSION_COOKIE)
        .collect();
    assert_eq!(cookies.len(), 1, "one {SESSION_COOKIE} cookie expected: {cookies:?}");
    cookies.into_iter().next().unwrap()
}

fn has_set_cookie(resp: &Response) -> bool {
    resp.headers().get(SET_COOKIE).is_some()
}

/// A signed-in console: the cookie value (the session token) and its CSRF token.
struct Console {
    token: String,
    csrf: String,
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> Response {
    app.http
        .post(app.url("/admin/v1/session"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

/// Signs the bootstrap administrator in; panics unless it works.
async fn signed_in(app: &TestApp) -> Console {
    let resp = sign_in(app, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), 200);
    let token = session_set_cookie(&resp).value;
    let body: Value = resp.json().await.unwrap();
    Console { token, csrf: body["csrf_token"].as_str().unwrap().to_owned() }
}

/// A request under `/admin/v1` that carries only the session cookie `token`.
fn with_cookie(app: &TestApp, method: Method, path: &str, token: &str) -> RequestBuilder {
    app.http.request(method, app.url(&format!("/admin/v1{path}"))).header(COOKIE, format!("{SESSION_COOKIE}={token}"))
}

/// Status and JSON body (Null when empty).
async fn status_json(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

/// Status and error code of an admin error answer.
async fn status_code(resp: Response) -> (u16, String) {
    let (status, body) = status_json(resp).await;
    (status, body["error"]["code"].as_str().unwrap_or_else(|| panic!("not an error envelope: {body}")).to_owned())
}

async fn session_status(app: &TestApp, token: &str) -> u16 {
    with_cookie(app, Method::GET, "/session", token).send().await.unwrap().status().as_u16()
}

async fn realms_status(app: &TestApp, token: &str) -> u16 {
    with_cookie(app, Method::GET, "/realms", token).send().await.unwrap().status().as_u16()
}

fn header(resp: &Response, name: reqwest::header::HeaderName) -> &str {
    resp.headers().get(&name).unwrap_or_else(|| panic!("no {name} header")).to_str().unwrap()
}

/// Sign-in sets an HttpOnly, SameSite=Strict cookie for `/admin/v1` that lives as long as the
/// session, answers the Session, and the token itself is never stored.
async fn sign_in_sets_the_session_cookie(backend: Backend) {
    let lifetime = 4321;
    let app = TestApp::spawn_with(backend, |s| s.sessions = SessionSettings { idle_timeout: 600, lifetime }).await;
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let resp = sign_in(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, CACHE_CONTROL), "no-store");
    assert!(header(&resp, CONTENT_TYPE).starts_with("application/json"));
    let cookie = session_set_cookie(&resp);
    assert!(cookie.value.len() >= 32, "an unguessable token: {cookie:?}");
    assert!(cookie.has("httponly"), "{cookie:?}");
    assert_eq!(cookie.attr("samesite").map(str::to_ascii_lowercase).as_deref(), Some("strict"), "{cookie:?}");
    assert_eq!(cookie.attr("path"), Some("/admin/v1"), "{cookie:?}");
    assert_eq!(cookie.attr("max-age"), Some(lifetime.to_string().as_str()), "{cookie:?}");
    assert!(!cookie.has("secure"), "plain http: no Secure: {cookie:?}");
    assert!(!cookie.has("domain"), "a host-only cookie: {cookie:?}");
    let text = resp.text().await.unwrap();
    assert!(!text.contains(&cookie.value), "the body must not repeat the session token: {text}");
    let session: Value = serde_json::from_str(&text).unwrap();
    let mut keys: Vec<&str> = session.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["csrf_token", "expires_at", "idle_timeout", "username"], "{session}");
    assert_eq!(session["username"], ADMIN_USERNAME);
    assert_eq!(session["idle_timeout"], 600);
    let expires_at = session["expires_at"].as_i64().unwrap();
    assert!((before + lifetime..=before + lifetime + 5).contains(&expires_at), "{expires_at} vs {before}");
    let csrf = session["csrf_token"].as_str().unwrap();
    assert!(csrf.len() >= 32 && csrf != cookie.value, "{session}");

    // The cookie alone opens the admin API for reading, and tells the console who it is.
    let resp = with_cookie(&app, Method::GET, "/realms", &cookie.value).send().await.unwrap();
    let (status, realms) = status_json(resp).await;
    assert_eq!(status, 200, "{realms}");
    assert_eq!(realms["items"][0]["name"], "root");
    let resp = with_cookie(&app, Method::GET, "/session", &cookie.value).send().await.unwrap();
    assert_eq!(header(&resp, CACHE_CONTROL), "no-store");
    let (status, current) = status_json(resp).await;
    assert_eq!(status, 200, "{current}");
    assert_eq!(current, session, "the same session, with the same CSRF token");

    // No cookie, or one that names no session: 401.
    let resp = app.http.get(app.url("/admin/v1/session")).send().await.unwrap();
    assert_eq!(status_code(resp).await, (401, "unauthorized".to_owned()));
    let forged = "A".repeat(cookie.value.len());
    assert_eq!(status_code(with_cookie(&app, Method::GET, "/session", &forged).send().await.unwrap()).await.0, 401);
    assert_eq!(realms_status(&app, &forged).await, 401);
    assert_eq!(realms_status(&app, "").await, 401);

    // The database holds a digest of the token, never the token (nor the CSRF token).
    use sea_orm::ConnectionTrait;
    let db = sea_orm::Database::connect(app.database_url()).await.unwrap();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT token_digest FROM admin_sessions",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one session stored");
    let stored: String = rows[0].try_get("", "token_digest").unwrap();
    assert!(!stored.is_empty());
    assert!(!stored.contains(&cookie.value) && !cookie.value.contains(&stored), "the raw token is stored");
    assert_ne!(stored, csrf, "the CSRF token is not the stored digest");
    db.close().await.unwrap();
}

/// Behind an https public URL the cookie is `Secure`.
async fn session_cookie_is_secure_over_https(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.public_url = Some("https://latchkey.example".into())).await;
    let resp = sign_in(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), 200);
    let cookie = session_set_cookie(&resp);
    assert!(cookie.has("secure"), "{cookie:?}");
    assert!(cookie.has("httponly"), "{cookie:?}");
    assert_eq!(cookie.attr("samesite").map(str::to_ascii_lowercase).as_deref(), Some("strict"), "{cookie:?}");
    assert_eq!(cookie.attr("path"), Some("/admin/v1"), "{cookie:?}");
}

/// A state-changing request that only the cookie authenticates needs the session's CSRF token.
async fn cookie_requests_need_the_csrf_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let me = signed_in(&app).await;
    let other = signed_in(&app).await;
    assert_ne!(me.csrf, other.csrf, "each session has its own CSRF token");
    let create = |name: &str| with_cookie(&app, Method::POST, "/realms", &me.token).json(&json!({"name": name}));

    let resp = create("no-header").send().await.unwrap();
    assert_eq!(status_code(resp).await, (403, "csrf".to_owned()), "no header");
    app.admin_call(Method::GET, "/realms/no-header", None, 404).await;
    for (case, value) in [("wrong", "nope"), ("empty", ""), ("another session's", other.csrf.as_str())] {
        let resp = create("bad-header").header(CSRF_HEADER, value).send().await.unwrap();
        assert_eq!(status_code(resp).await, (403, "csrf".to_owned()), "{case} header");
    }
    app.admin_call(Method::GET, "/realms/bad-header", None, 404).await;

    let resp = create("with-header").header(CSRF_HEADER, &me.csrf).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    app.admin_call(Method::GET, "/realms/with-header", None, 200).await;

    // DELETE is guarded the same way.
    let resp = with_cookie(&app, Method::DELETE, "/realms/with-header", &me.token).send().await.unwrap();
    assert_eq!(status_code(resp).await, (403, "csrf".to_owned()), "DELETE without the header");
    app.admin_call(Method::GET, "/realms/with-header", None, 200).await;
    let resp =
        with_cookie(&app, Method::DELETE, "/realms/with-header", &me.token).header(CSRF_HEADER, &me.csrf).send().await;
    assert_eq!(resp.unwrap().status(), 204);
    app.admin_call(Method::GET, "/realms/with-header", None, 404).await;

    // A bearer token needs no CSRF token: no browser sends it on its own.
    let resp = app.admin(Method::POST, "/realms").json(&json!({"name": "by-bearer"})).send().await.unwrap();
    assert_eq!(resp.status(), 201);
}

/// Unknown username, wrong password, a non-administrator, another realm's look-alike and a
/// disabled administrator all get the very same answer. Empty fields and unknown members are
/// rejected before any of that.
async fn failed_sign_ins_look_the_same(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let post = |body: Value| app.http.post(app.url("/admin/v1/session")).json(&body).send();
    for (body, status, code, field) in [
        (json!({"username": "", "password": ADMIN_PASSWORD}), 422, "invalid_field", "username"),
        (json!({"username": ADMIN_USERNAME, "password": ""}), 422, "invalid_field", "password"),
        (
            json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD, "realm": "root"}),
            400,
            "invalid_body",
            "realm",
        ),
        (json!({"username": ADMIN_USERNAME}), 400, "invalid_body", "password"),
    ] {
        let resp = post(body.clone()).await.unwrap();
        assert!(!has_set_cookie(&resp), "{body}");
        let (got, err) = status_json(resp).await;
        assert_eq!(
            (got, &err["error"]["code"], &err["error"]["field"]),
            (status, &json!(code), &json!(field)),
            "{body}"
        );
    }

    app.admin_call(
        Method::POST,
        "/realms/root/users",
        Some(json!({"username": "plain", "password": "plain-password-123"})),
        201,
    )
    .await;
    app.create_realm("tenant").await;
    app.admin_call(
        Method::POST,
        "/realms/tenant/users",
        Some(json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})),
        201,
    )
    .await;
    // The right credentials work, so each failure below is for the reason it names.
    assert_eq!(sign_in(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await.status(), 200);

    let expected = json!({"error": {"code": "invalid_credentials", "message": "wrong username or password"}});
    let mut challenge = None;
    let mut check = async |case: &str, username: &str, password: &str| {
        let resp = sign_in(&app, username, password).await;
        assert!(!has_set_cookie(&resp), "{case}: no cookie on failure");
        let www = resp.headers().get(WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(*challenge.get_or_insert_with(|| www.clone()), www, "{case}: the same challenge");
        let (status, body) = status_json(resp).await;
        assert_eq!((status, &body), (401, &expected), "{case}");
    };
    check("unknown username", "nobody", ADMIN_PASSWORD).await;
    check("wrong password", ADMIN_USERNAME, "wrong-password-123").await;
    check("not an administrator", "plain", "plain-password-123").await;
    // The root administrator's password changes; the tenant's `admin` still has the old one.
    let new_password = "the-new-admin-password";
    app.admin_call(Method::PATCH, "/realms/root/users/admin", Some(json!({"password": new_password})), 200).await;
    check("another realm's identity named like the admin", ADMIN_USERNAME, ADMIN_PASSWORD).await;
    // A success clears the failures counted so far (five would start throttling).
    assert_eq!(sign_in(&app, ADMIN_USERNAME, new_password).await.status(), 200);
    app.admin_call(Method::PATCH, "/realms/root/users/admin", Some(json!({"enabled": false})), 200).await;
    check("disabled administrator", ADMIN_USERNAME, new_password).await;
}

/// Five failures for a username slow further attempts down, even with the right password, and
/// the source address is slowed down too, whatever username it tries next.
async fn failed_sign_ins_are_throttled(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for i in 1..=5 {
        let resp = sign_in(&app, ADMIN_USERNAME, "wrong-password-123").await;
        assert_eq!(status_code(resp).await, (401, "invalid_credentials".to_owned()), "failure {i}");
    }
    let mut waits = Vec::new();
    for (case, username, password) in
        [("right password", ADMIN_USERNAME, ADMIN_PASSWORD), ("another username", "someone-else", "whatever-123")]
    {
        let resp = sign_in(&app, username, password).await;
        assert!(!has_set_cookie(&resp), "{case}");
        let retry_after: u64 = header(&resp, RETRY_AFTER).parse().unwrap();
        assert!(retry_after >= 1, "{case}: Retry-After {retry_after}");
        waits.push(retry_after);
        assert_eq!(status_code(resp).await, (429, "too_many_attempts".to_owned()), "{case}");
    }
    // Once the wait is over, the right password works again.
    tokio::time::sleep(Duration::from_secs(*waits.iter().max().unwrap()) + Duration::from_millis(100)).await;
    assert_eq!(sign_in(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await.status(), 200);
}

/// Sign-out needs the CSRF token, ends the session on the server and clears the cookie.
async fn sign_out_ends_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let me = signed_in(&app).await;

    let resp = with_cookie(&app, Method::DELETE, "/session", &me.token).send().await.unwrap();
    assert_eq!(status_code(resp).await, (403, "csrf".to_owned()));
    assert_eq!(session_status(&app, &me.token).await, 200, "a refused sign-out leaves the session");

    let resp = with_cookie(&app, Method::DELETE, "/session", &me.token).header(CSRF_HEADER, &me.csrf).send().await;
    let resp = resp.unwrap();
    assert_eq!(resp.status(), 204);
    let cleared = session_set_cookie(&resp);
    assert!(cleared.value.is_empty(), "{cleared:?}");
    assert_eq!(cleared.attr("path"), Some("/admin/v1"), "the same path, or the browser keeps the cookie");
    let expired = cleared.attr("max-age") == Some("0")
        || cleared.attr("expires").is_some_and(|e| {
            // A date in the past: the year is enough (cookie dates look like `Thu, 01 Jan 1970 …`).
            e.split_whitespace().filter_map(|w| w.parse::<u32>().ok()).any(|y| (1970..2020).contains(&y))
        });
    assert!(expired, "the cookie is not cleared: {cleared:?}");

    // The old cookie, replayed, opens nothing.
    assert_eq!(status_code(with_cookie(&app, Method::GET, "/session", &me.token).send().await.unwrap()).await.0, 401);
    assert_eq!(realms_status(&app, &me.token).await, 401);
}

/// A session unused for its idle timeout ends.
async fn idle_sessions_expire(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.sessions = SessionSettings { idle_timeout: 2, lifetime: 600 }).await;
    let me = signed_in(&app).await;
    assert_eq!(session_status(&app, &me.token).await, 200);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(session_status(&app, &me.token).await, 401);
    assert_eq!(realms_status(&app, &me.token).await, 401);
}

/// Activity keeps a session past its idle timeout, but never past its lifetime.
async fn sessions_end_at_their_lifetime(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.sessions = SessionSettings { idle_timeout: 2, lifetime: 5 }).await;
    let me = signed_in(&app).await;
    let signed_in_at = Instant::now();
    // Times are whole seconds on the server: polling every 0.4 s keeps the session active.
    loop {
        let alive_for = signed_in_at.elapsed();
        assert_eq!(session_status(&app, &me.token).await, 200, "alive after {alive_for:?}");
        if alive_for > Duration::from_millis(2200) {
            break; // longer than the idle timeout: activity kept it alive
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    while signed_in_at.elapsed() < Duration::from_millis(5200) {
        let _ = session_status(&app, &me.token).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert_eq!(session_status(&app, &me.token).await, 401);
    assert_eq!(realms_status(&app, &me.token).await, 401);
}

/// Disabling the administrator ends its live session for good.
async fn disabling_the_administrator_ends_its_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let me = signed_in(&app).await;
    assert_eq!(session_status(&app, &me.token).await, 200);
    app.admin_call(Method::PATCH, "/realms/root/users/admin", Some(json!({"enabled": false})), 200).await;
    assert_eq!(session_status(&app, &me.token).await, 401);
    assert_eq!(realms_status(&app, &me.token).await, 401);
    app.admin_call(Method::PATCH, "/realms/root/users/admin", Some(json!({"enabled": true})), 200).await;
    assert_eq!(session_status(&app, &me.token).await, 401, "re-enabling does not revive the session");
}

/// The names on a list page, under `key`, and its total.
async fn search(app: &TestApp, path: &str, key: &str) -> (Vec<String>, u64) {
    let list = app.admin_call(Method::GET, path, None, 200).await;
    let names = list["items"].as_array().unwrap().iter().map(|i| i[key].as_str().unwrap().to_owned()).collect();
    (names, list["total"].as_u64().unwrap())
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// `?search=` narrows the realm, application and user lists: a case-insensitive substring of
/// their names, where `%` and `_` are plain characters; `total` counts the matches; paging applies.
async fn lists_can_be_searched(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.admin_call(Method::POST, "/realms", Some(json!({"name": "acme", "display_name": "ACME Corp"})), 201).await;
    app.admin_call(Method::POST, "/realms", Some(json!({"name": "globex", "display_name": "Globex Corporation"})), 201)
        .await;
    app.admin_call(Method::POST, "/realms", Some(json!({"name": "initech", "display_name": "Initech"})), 201).await;
    let realm_cases: &[(&str, &[&str], u64)] = &[
        ("corp", &["acme", "globex"], 2),
        ("CORP", &["acme", "globex"], 2),
        ("corp&per_page=1", &["acme"], 2),
        ("corp&per_page=1&page=2", &["globex"], 2),
        ("ROO", &["root"], 1),
        ("", &["acme", "globex", "initech", "root"], 4),
        ("%25", &[], 0),
        ("_", &[], 0),
        ("zzz", &[], 0),
    ];
    for (q, names, total) in realm_cases {
        let got = search(&app, &format!("/realms?search={q}"), "name").await;
        assert_eq!(got, (strings(names), *total), "realms ?search={q}");
    }

    let apps = [
        ("billing-api", "Billing API"),
        ("reports", "Quarterly Reports"),
        ("web_app", "Storefront"),
        ("growth", "Growth 100% Plan"),
        ("bxl", "Bxl"),
    ];
    for (client_id, client_name) in apps {
        let body = json!({"client_id": client_id, "client_name": client_name});
        app.admin_call(Method::POST, "/realms/acme/applications", Some(body), 201).await;
    }
    let app_cases: &[(&str, &[&str], u64)] = &[
        ("billing", &["billing-api"], 1),
        ("QUARTERLY", &["reports"], 1),
        ("report", &["reports"], 1),
        ("%25", &["growth"], 1),
        ("_", &["web_app"], 1),
        ("b_l", &[], 0),
        ("b%25l", &[], 0),
        ("%5C", &[], 0),
        ("R", &["growth", "reports", "web_app"], 3),
        ("r&per_page=2&page=2", &["web_app"], 3),
        ("", &["billing-api", "bxl", "growth", "reports", "web_app"], 5),
    ];
    for (q, ids, total) in app_cases {
        let got = search(&app, &format!("/realms/acme/applications?search={q}"), "client_id").await;
        assert_eq!(got, (strings(ids), *total), "applications ?search={q}");
    }
    // The search is within the realm.
    assert_eq!(search(&app, "/realms/globex/applications?search=billing", "client_id").await, (vec![], 0));

    let users = [
        json!({"username": "ada", "email": "ada@lovelace.example"}),
        json!({"username": "grace", "given_name": "Grace", "family_name": "Hopper", "email": "gh@navy.example"}),
        json!({"username": "linus", "given_name": "Linus", "family_name": "Torvalds"}),
        json!({"username": "ken_t", "family_name": "Thompson 100%"}),
    ];
    for u in users {
        app.admin_call(Method::POST, "/realms/acme/users", Some(u), 201).await;
    }
    let user_cases: &[(&str, &[&str], u64)] = &[
        ("LOVELACE", &["ada"], 1),
        ("hopper", &["grace"], 1),
        ("navy", &["grace"], 1),
        ("torv", &["linus"], 1),
        ("linus", &["linus"], 1),
        ("%25", &["ken_t"], 1),
        ("_", &["ken_t"], 1),
        ("a", &["ada", "grace", "linus"], 3),
        ("a&per_page=2&page=2", &["linus"], 3),
        ("nobody", &[], 0),
    ];
    for (q, names, total) in user_cases {
        let got = search(&app, &format!("/realms/acme/users?search={q}"), "username").await;
        assert_eq!(got, (strings(names), *total), "users ?search={q}");
    }
}

/// One raw HTTP/1.1 GET, with the path sent exactly as given (an HTTP client would normalise
/// `..`). Returns the status and the whole response.
async fn raw_get(app: &TestApp, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = app.base.trim_start_matches("http://").to_owned();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status line");
        (status, response)
    })
    .await
    .unwrap()
}

/// Without a built console, every console page says how to build it, and is not cached.
async fn console_not_built_says_how_to_build_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in ["/console", "/console/", "/console/login", "/console/realms/x/applications"] {
        let resp = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 503, "{path}");
        assert_eq!(header(&resp, CACHE_CONTROL), "no-store", "{path}");
        assert!(header(&resp, CONTENT_TYPE).starts_with("text/html"), "{path}");
        let body = resp.text().await.unwrap();
        assert!(body.contains("cargo xtask console"), "{path}: {body}");
    }
}

/// The built console: every page is `index.html` (never cached), assets are cached for good,
/// and nothing outside the assets directory is served.
async fn console_serves_the_app_and_its_assets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Written after the server started: it reads the console per request.
    let console = app.dir().join("console");
    std::fs::create_dir_all(console.join("assets")).unwrap();
    let index =
        "<!doctype html><title>Latchkey console</title><script src=\"/console/assets/app-0123abcd.js\"></script>";
    let script = "console.log('latchkey console 0123abcd');";
    std::fs::write(console.join("index.html"), index).unwrap();
    std::fs::write(console.join("assets/app-0123abcd.js"), script).unwrap();
    // A file next to the console directory that traversal would reach.
    let outside = "outside-the-assets-dir-5f3e";
    std::fs::write(app.dir().join("Cargo.toml"), outside).unwrap();

    for path in [
        "/console",
        "/console/",
        "/console/login",
        "/console/realms/demo/applications",
        "/console/realms/demo/applications/my-client/general",
    ] {
        let resp = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(header(&resp, CACHE_CONTROL), "no-store", "{path}");
        assert!(header(&resp, CONTENT_TYPE).starts_with("text/html"), "{path}");
        assert_eq!(resp.text().await.unwrap(), index, "{path}");
    }

    let resp = app.http.get(app.url("/console/assets/app-0123abcd.js")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, CACHE_CONTROL), "public, max-age=31536000, immutable");
    assert!(header(&resp, CONTENT_TYPE).contains("javascript"), "{}", header(&resp, CONTENT_TYPE));
    assert_eq!(resp.text().await.unwrap(), script);

    // A missing asset is a 404 that nobody may keep: it may exist after the next deployment.
    let resp = app.http.get(app.url("/console/assets/app-missing.js")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let cache = resp.headers().get(CACHE_CONTROL).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(!cache.contains("max-age=31536000"), "a 404 cached for a year: {cache}");

    for path in [
        "/console/assets/..%2Findex.html",
        "/console/assets/../index.html",
        "/console/assets/%2e%2e/index.html",
        "/console/assets/../../Cargo.toml",
        "/console/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/console/assets/..%2F..%2FCargo.toml",
    ] {
        let (status, response) = raw_get(&app, path).await;
        assert!((400..500).contains(&status), "{path}: {response}");
        assert!(!response.contains(outside) && !response.contains("Latchkey console</title>"), "{path}: {response}");
    }
}

/// `v`, or what its `$ref` (`#/components/…`) points to.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str().and_then(|r| r.strip_prefix("#/")) {
        Some(path) => path.split('/').fold(doc, |at, part| &at[part]),
        None => v,
    }
}

/// The OpenAPI document describes console sessions: the session routes, the cookie scheme
/// next to the bearer one on every admin operation, the CSRF header, and `search` on lists.
async fn openapi_documents_console_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = app.get_json(&app.url("/admin/v1/openapi.json"), None).await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["adminSession"]["type"], "apiKey");
    assert_eq!(schemes["adminSession"]["in"], "cookie");
    assert_eq!(schemes["adminSession"]["name"], SESSION_COOKIE);
    for schema in ["SignIn", "Session"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "no {schema} schema");
    }
    let session = &doc["paths"]["/admin/v1/session"];
    for m in ["get", "post", "delete"] {
        assert!(session[m].is_object(), "/admin/v1/session lacks {m}");
    }
    let too_many = resolve(&doc, &session["post"]["responses"]["429"]);
    assert!(too_many["headers"]["Retry-After"].is_object(), "{too_many}");
    for (method, status) in [("post", "401"), ("post", "422"), ("get", "401"), ("delete", "403")] {
        assert!(resolve(&doc, &session[method]["responses"][status]).is_object(), "{method} {status}");
    }
    for code in ["invalid_credentials", "too_many_attempts", "csrf"] {
        assert!(doc["components"]["schemas"]["ErrorEnvelope"].to_string().contains(code), "code {code}");
    }

    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths.iter().filter(|(p, _)| p.starts_with("/admin/v1/realms")) {
        for (method, op) in item.as_object().unwrap().iter().filter(|(m, _)| *m != "parameters") {
            operations += 1;
            let security = op["security"].to_string();
            assert!(security.contains("adminBearer") && security.contains("adminSession"), "{method} {path}");
            if method != "get" {
                let header_ref = op["parameters"].to_string();
                assert!(header_ref.contains("csrf"), "{method} {path} documents no X-CSRF-Token: {header_ref}");
            }
        }
    }
    assert!(operations >= 20, "{operations} admin operations");
    let csrf = &doc["components"]["parameters"]["csrf"];
    assert_eq!((&csrf["name"], &csrf["in"]), (&json!(CSRF_HEADER), &json!("header")));
    for list in ["/admin/v1/realms", "/admin/v1/realms/{realm}/applications", "/admin/v1/realms/{realm}/users"] {
        let params = doc["paths"][list]["get"]["parameters"].to_string();
        assert!(params.contains("#/components/parameters/search"), "{list} lacks search: {params}");
    }
    assert_eq!(doc["components"]["parameters"]["search"]["in"], "query");
}

both_backends!(
    sign_in_sets_the_session_cookie,
    session_cookie_is_secure_over_https,
    cookie_requests_need_the_csrf_token,
    failed_sign_ins_look_the_same,
    failed_sign_ins_are_throttled,
    sign_out_ends_the_session,
    idle_sessions_expire,
    sessions_end_at_their_lifetime,
    disabling_the_administrator_ends_its_session,
    lists_can_be_searched,
    console_not_built_says_how_to_build_it,
    console_serves_the_app_and_its_assets,
    openapi_documents_console_sessions,
);
