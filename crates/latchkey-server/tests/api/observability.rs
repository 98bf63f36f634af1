//! What an operator watches: `/metrics`, the JSON logs with request ids and without secrets,
//! and a graceful shutdown under load.

use crate::helpers::{Backend, TestApp, TestDb};
use crate::process::{Server, access_token, admin, console, console_sign_in, free_port, introspect};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const MASTER_KEY: &str = "qdzVdzcvOfAw4XW9p2SbwlhcqZhsGIkTG/OiwKD7wg8=";

/// Parses Prometheus' text format 0.0.4 strictly enough to catch a malformed line: every
/// sample is `name{label="value",…} number` of a family declared by `# TYPE` before it. Returns
/// each sample by its series (name and labels as written) and the families' types.
fn parse_exposition(text: &str) -> (BTreeMap<String, f64>, BTreeMap<String, String>) {
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()))
    };
    let mut samples = BTreeMap::new();
    let mut types = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut words = rest.splitn(3, ' ');
            let (kind, name, what) = (words.next().unwrap(), words.next().unwrap(), words.next().unwrap_or(""));
            assert!(is_name(name), "bad metric name in `{line}`");
            match kind {
                "TYPE" => {
                    assert!(["counter", "gauge", "histogram", "summary", "untyped"].contains(&what), "`{line}`");
                    assert!(types.insert(name.to_owned(), what.to_owned()).is_none(), "TYPE twice: `{line}`");
                }
                "HELP" => assert!(!what.is_empty(), "empty HELP: `{line}`"),
                _ => panic!("unknown comment `{line}`"),
            }
            continue;
        }
        assert!(!line.trim().is_empty(), "blank line in the exposition");
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value in `{line}`"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in `{line}`")),
        };
        let name = match series.split_once('{') {
            None => series,
            Some((name, labels)) => {
                let labels = labels.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels in `{line}`"));
                // label="value" pairs, values with \\, \" and \n escapes only.
                let mut rest = labels;
                while !rest.is_empty() {
                    let (label, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("bad label in `{line}`"));
                    assert!(is_name(label), "bad label name in `{line}`");
                    let mut chars = after.char_indices();
                    let end = loop {
                        match chars.next() {
                            Some((_, '\\')) => assert!(matches!(chars.next(), Some((_, '\\' | '"' | 'n'))), "`{line}`"),
                            Some((i, '"')) => break i,
                            Some(_) => {}
                            None => panic!("unterminated label value in `{line}`"),
                        }
                    };
                    rest = &after[end + 1..];
                    rest = rest.strip_prefix(',').unwrap_or(rest);
                }
                name
            }
        };
        assert!(is_name(name), "bad metric name in `{line}`");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| types.get(*f).is_some_and(|t| t == "histogram")))
            .unwrap_or(name);
        assert!(types.contains_key(family), "sample before its # TYPE: `{line}`");
        assert!(samples.insert(series.to_owned(), value).is_none(), "series twice: `{line}`");
    }
    (samples, types)
}

async fn scrape(app: &TestApp) -> BTreeMap<String, f64> {
    let resp = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    parse_exposition(&resp.text().await.unwrap()).0
}

const TOKEN_ROUTE: &str = "/oauth2/realms/{realm}/access_token";

fn http_count(route: &str, method: &str, status: u16) -> String {
    format!(r#"latchkey_http_request_duration_seconds_count{{route="{route}",method="{method}",status="{status}"}}"#)
}

fn tokens(realm: &str, grant: &str, outcome: &str) -> String {
    format!(r#"latchkey_tokens_total{{realm="{realm}",grant_type="{grant}",outcome="{outcome}"}}"#)
}

/// After good and bad token requests, each counter of the realm moved by exactly what was
/// done, the HTTP histogram is labelled by route pattern and status, and the pool is reported.
async fn metrics_count_requests_tokens_and_failures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("metered").await;
    let secret = app.create_client("metered", "meter", &["read"]).await;
    let before = scrape(&app).await;

    for _ in 0..2 {
        app.token("metered", "meter", &secret, Some("read")).await;
    }
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(app.token_request("metered", "meter", "not-the-secret", Some("read")).await), 401);
    assert_eq!(status(app.token_request("metered", "meter", &secret, Some("write")).await), 400);
    let form = |grant: &str| vec![("grant_type", grant.to_owned())];
    for grant in ["password", "made-up-grant"] {
        let resp = app
            .http
            .post(format!("{}/access_token", app.issuer("metered")))
            .basic_auth("meter", Some(&secret))
            .form(&form(grant))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
    }
    assert_eq!(status(app.token_request("no-such-realm", "meter", &secret, None).await), 404);
    // A failed authentication at introspection counts too.
    let info = app.http.post(format!("{}/introspect", app.issuer("metered"))).basic_auth("meter", Some("wrong"));
    assert_eq!(status(info.form(&[("token", "x")]).send().await.unwrap()), 401);
    // Every response names its request.
    let resp = app.http.get(app.url("/health/live")).send().await.unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    let after = scrape(&app).await;
    let delta = |series: &str| after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0);
    for (series, expected) in [
        (tokens("metered", "client_credentials", "issued"), 2.0),
        (tokens("metered", "client_credentials", "invalid_client"), 1.0),
        (tokens("metered", "client_credentials", "invalid_scope"), 1.0),
        (tokens("metered", "password", "unsupported_grant_type"), 1.0),
        (tokens("metered", "unknown", "unsupported_grant_type"), 1.0),
        (r#"latchkey_client_auth_failures_total{realm="metered"}"#.to_owned(), 2.0),
        (http_count(TOKEN_ROUTE, "POST", 200), 2.0),
        (http_count(TOKEN_ROUTE, "POST", 401), 1.0),
        (http_count(TOKEN_ROUTE, "POST", 400), 3.0),
        (http_count(TOKEN_ROUTE, "POST", 404), 1.0),
        (http_count("/oauth2/realms/{realm}/introspect", "POST", 401), 1.0),
        (http_count("/health/live", "GET", 200), 1.0),
        // The first scrape, seen by the second.
        (http_count("/metrics", "GET", 200), 1.0),
    ] {
        assert_eq!(delta(&series), expected, "{series}");
    }
    // Only existing realms get series; raw paths never become routes.
    assert!(after.keys().all(|k| !k.contains("no-such-realm") && !k.contains("/realms/metered")), "{after:#?}");
    // The histogram is cumulative and ends at +Inf = count.
    let bucket = |le: &str| {
        after[&format!(
            r#"latchkey_http_request_duration_seconds_bucket{{route="{TOKEN_ROUTE}",method="POST",status="200",le="{le}"}}"#
        )]
    };
    assert!(bucket("0.001") <= bucket("0.1") && bucket("0.1") <= bucket("+Inf"));
    assert_eq!(bucket("+Inf"), after[&http_count(TOKEN_ROUTE, "POST", 200)]);
    // The pool: at least the connection that served these requests, within the maximum.
    let idle = after[r#"latchkey_db_pool_connections{state="idle"}"#];
    let in_use = after[r#"latchkey_db_pool_connections{state="in_use"}"#];
    let max = after["latchkey_db_pool_max_connections"];
    assert!(idle + in_use >= 1.0 && idle + in_use <= max, "idle {idle}, in use {in_use}, max {max}");
    assert_eq!(max, if backend == Backend::Sqlite { 8.0 } else { 16.0 });
}

/// With LATCHKEY_METRICS_TOKEN, `/metrics` asks for it as a bearer token.
async fn metrics_token_guards_metrics(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.metrics_token = Some("metrics-scraper-token".to_owned().into())).await;
    let get = |token: Option<&str>| {
        let mut req = app.http.get(app.url("/metrics"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    for token in [None, Some("wrong"), Some(app.admin_token.as_str())] {
        let resp = get(token).await.unwrap();
        assert_eq!(resp.status(), 401, "{token:?}");
        assert_eq!(resp.headers()["www-authenticate"], "Bearer realm=\"metrics\"");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token");
    }
    let resp = get(Some("metrics-scraper-token")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let (samples, types) = parse_exposition(&resp.text().await.unwrap());
    assert_eq!(types["latchkey_http_request_duration_seconds"], "histogram");
    assert_eq!(types["latchkey_tokens_total"], "counter");
    assert_eq!(types["latchkey_client_auth_failures_total"], "counter");
    assert_eq!(types["latchkey_db_pool_connections"], "gauge");
    // The admin token of the test kit was issued by the root realm.
    assert_eq!(samples[&tokens("root", "client_credentials", "issued")], 1.0);
}

/// A full run of the real binary with JSON logs at debug level: every line is a JSON object,
/// every line logged while serving a request carries its request id, and no secret, password,
/// token or Authorization header used along the way appears anywhere in the log. SIGINT stops
/// it as gracefully as SIGTERM.
async fn json_logs_carry_request_ids_and_no_secrets(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend, dir.path()).await;
    let operator_secret = "Operator-Secret-json-7a1f";
    let admin_password = "Admin-Password-json-3c9e";
    let metrics_token = "Metrics-Token-json-5d2b";
    let server = Server::start(&[
        ("LATCHKEY_BIND", format!("127.0.0.1:{}", free_port())),
        ("LATCHKEY_DATA_DIR", dir.path().display().to_string()),
        ("LATCHKEY_DATABASE_URL", db.url.clone()),
        ("LATCHKEY_MASTER_KEY", MASTER_KEY.into()),
        ("LATCHKEY_BOOTSTRAP_CLIENT_ID", "automation".into()),
        ("LATCHKEY_BOOTSTRAP_CLIENT_SECRET", operator_secret.into()),
        ("LATCHKEY_BOOTSTRAP_ADMIN_USERNAME", "admin".into()),
        ("LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD", admin_password.into()),
        ("LATCHKEY_METRICS_TOKEN", metrics_token.into()),
        ("LATCHKEY_LOG_FORMAT", "json".into()),
        ("RUST_LOG", "debug".into()),
    ]);
    let http = reqwest::Client::new();
    let admin_token = access_token(&http, &server, "root", "automation", operator_secret, "admin").await;
    let (s, _) = admin(&http, &server, &admin_token, Method::POST, "/realms", Some(json!({"name": "logged"}))).await;
    assert_eq!(s, 201);
    let chosen_secret = "Chosen-Client-Secret-json-9b4e";
    let user_password = "User-Password-json-1e8d";
    let mut generated = Vec::new();
    for (path, body) in [
        ("/realms/logged/users", Some(json!({"username": "owner", "password": user_password}))),
        (
            "/realms/logged/applications",
            Some(json!({"client_id": "svc", "client_secret": chosen_secret, "allowed_scopes": ["read"]})),
        ),
        ("/realms/logged/applications", Some(json!({"client_id": "rs"}))),
        ("/realms/logged/applications/rs/secret", None),
    ] {
        let (status, body) = admin(&http, &server, &admin_token, Method::POST, path, body).await;
        assert!(status == 200 || status == 201, "{path}: {status} {body}");
        generated.extend(body["client_secret"].as_str().map(str::to_owned));
    }
    let (first_rs_secret, rs_secret) = (generated[1].clone(), generated[2].clone());
    let rs_id = "rs";
    let token = access_token(&http, &server, "logged", "svc", chosen_secret, "read").await;
    let revoked = access_token(&http, &server, "logged", "svc", chosen_secret, "read").await;
    assert_eq!(introspect(&http, &server, "logged", rs_id, &rs_secret, &token).await["active"], true);
    let revoke = http
        .post(format!("{}/token/revoke", server.issuer("logged")))
        .basic_auth("svc", Some(chosen_secret))
        .form(&[("token", revoked.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    let info = http.get(format!("{}/tokeninfo", server.issuer("logged"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(info.status(), 200);
    // A token in a query string is no secret from the log either.
    let _ = http.get(format!("{}/tokeninfo?access_token={token}", server.issuer("logged"))).send().await.unwrap();
    // Failures: a wrong client secret, a wrong console password.
    let wrong_secret = "Wrong-Client-Secret-json-6f3a";
    let denied = http
        .post(format!("{}/access_token", server.issuer("logged")))
        .basic_auth("svc", Some(wrong_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 401);
    let wrong_password = "Wrong-Password-json-2a7c";
    assert!(console_sign_in(&http, &server, "admin", wrong_password).await.is_none());
    let session = console_sign_in(&http, &server, "admin", admin_password).await.expect("console sign-in");
    let patch = Some(json!({"display_name": "Logged"}));
    assert_eq!(console(&http, &server, &session, Method::PATCH, "/realms/logged", patch).await, 200);
    let scraped = http.get(format!("{}/metrics", server.base)).bearer_auth(metrics_token).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    let request_id = scraped.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(console(&http, &server, &session, Method::DELETE, "/session", None).await, 204);
    let log = server.stop_with("INT");

    // Every line is one JSON object; every line inside a request names it.
    let mut request_ids = BTreeSet::new();
    let mut handler_lines = 0;
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["timestamp"].is_string() && v["level"].is_string() && v["message"].is_string(), "{line}");
        let spans = v["spans"].as_array().cloned().unwrap_or_default();
        if spans.iter().any(|s| s["name"] == "HTTP request") {
            assert_eq!(spans[0]["name"], "HTTP request", "the root span comes first: {line}");
            let id = v["request_id"].as_str().unwrap_or_else(|| panic!("no request id: {line}"));
            assert!(uuid::Uuid::parse_str(id).is_ok(), "{line}");
            assert_eq!(spans[0]["request_id"], id, "{line}");
            request_ids.insert(id.to_owned());
            handler_lines += usize::from(spans.len() > 1);
        } else {
            assert!(v.get("request_id").is_none(), "{line}");
        }
    }
    assert!(handler_lines > 0, "no line was logged inside a handler's span:\n{log}");
    assert!(request_ids.len() >= 15, "one id per request: {request_ids:?}");
    assert!(request_ids.contains(&request_id), "the X-Request-Id answered is the one logged");
    assert!(log.contains("\"signal\":\"SIGINT\"") && log.contains("shut down cleanly"), "{log}");

    use base64::Engine;
    let basic = |id: &str, secret: &str| base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    for (what, secret) in [
        ("operator secret", operator_secret.to_owned()),
        ("admin password", admin_password.to_owned()),
        ("metrics token", metrics_token.to_owned()),
        ("chosen client secret", chosen_secret.to_owned()),
        ("generated client secret", first_rs_secret.clone()),
        ("rotated client secret", rs_secret.clone()),
        ("identity password", user_password.to_owned()),
        ("wrong client secret", wrong_secret.to_owned()),
        ("wrong console password", wrong_password.to_owned()),
        ("admin token", admin_token.clone()),
        ("access token", token.clone()),
        ("access token signature", token.rsplit('.').next().unwrap().to_owned()),
        ("revoked token", revoked.clone()),
        ("console session token", session.0.clone()),
        ("console CSRF token", session.1.clone()),
        ("master key", MASTER_KEY.to_owned()),
        ("database URL", db.url.clone()),
        ("Basic credentials", basic("svc", chosen_secret)),
        ("Basic credentials", basic("automation", operator_secret)),
    ] {
        assert!(!log.contains(&secret), "the log contains the {what}");
    }
}

/// SIGTERM under load: the listener closes, every request the server accepted is answered
/// (200), later ones fail to connect, the database pool is closed and the process exits 0.
async fn sigterm_under_load_answers_every_accepted_request(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend, dir.path()).await;
    let server = Server::start(&[
        ("LATCHKEY_BIND", format!("127.0.0.1:{}", free_port())),
        ("LATCHKEY_DATA_DIR", dir.path().display().to_string()),
        ("LATCHKEY_DATABASE_URL", db.url.clone()),
        ("LATCHKEY_MASTER_KEY", MASTER_KEY.into()),
        ("LATCHKEY_BOOTSTRAP_CLIENT_ID", "automation".into()),
        ("LATCHKEY_BOOTSTRAP_CLIENT_SECRET", "automation-secret".into()),
        ("RUST_LOG", "info".into()),
    ]);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let url = format!("{}/access_token", server.issuer("root"));
    let completed = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    let signalled: Arc<std::sync::OnceLock<Instant>> = Arc::default();
    for _ in 0..8 {
        let (http, url, completed, signalled) = (http.clone(), url.clone(), completed.clone(), signalled.clone());
        load.push(tokio::spawn(async move {
            let mut answered_after_signal = 0;
            loop {
                let sent = http
                    .post(&url)
                    .basic_auth("automation", Some("automation-secret"))
                    .form(&[("grant_type", "client_credentials"), ("scope", "admin")])
                    .send()
                    .await;
                match sent {
                    Ok(resp) => {
                        let status = resp.status();
                        let body = resp.text().await.map_err(|e| format!("body cut off: {e:?}"))?;
                        if status != 200 {
                            return Err(format!("answered {status}: {body}"));
                        }
                        completed.fetch_add(1, Ordering::Relaxed);
                        answered_after_signal += usize::from(signalled.get().is_some());
                    }
                    // The listener is closed: the shutdown refused this one cleanly.
                    Err(e) if e.is_connect() && signalled.get().is_some() => return Ok(answered_after_signal),
                    Err(e) => return Err(format!("broken request: {e:?}")),
                }
            }
        }));
    }
    // Load for a while, then SIGTERM.
    let start = Instant::now();
    while completed.load(Ordering::Relaxed) < 16 && start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(completed.load(Ordering::Relaxed) >= 16, "the load did not get going");
    signalled.set(Instant::now()).unwrap();
    server.signal("TERM");
    let mut answered_after_signal = 0;
    for task in load {
        match tokio::time::timeout(Duration::from_secs(60), task).await {
            Ok(Ok(Ok(n))) => answered_after_signal += n,
            Ok(Ok(Err(e))) => panic!("{e}"),
            other => panic!("a load task did not finish: {other:?}"),
        }
    }
    // Requests in flight at the signal were answered, not dropped.
    assert!(answered_after_signal >= 1, "no request in flight was finished after the signal");
    let log = server.wait();
    assert!(log.contains("signal=\"SIGTERM\"") || log.contains("signal=SIGTERM"), "{log}");
    assert!(log.contains("shut down cleanly"), "{log}");
}

both_backends!(
    metrics_count_requests_tokens_and_failures,
    metrics_token_guards_metrics,
    json_logs_carry_request_ids_and_no_secrets,
    sigterm_under_load_answers_every_accepted_request
);
