//! Rate limits and CORS of the OAuth2 endpoints (per realm, in the provider settings), and the
//! console's security headers.

use crate::helpers::{Backend, TestApp};
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, RETRY_AFTER, VARY,
};
use reqwest::{Method, Response};
use serde_json::{Value, json};

const ORIGIN_OK: &str = "https://app.example.com";

async fn set_provider(app: &TestApp, realm: &str, body: Value) -> Value {
    app.admin_call(Method::PATCH, &format!("/realms/{realm}/oauth2-provider"), Some(body), 200).await
}

/// Asserts a 429 with `Retry-After` and the OAuth error body, and that the OpenAPI document
/// describes that error for the endpoint (`access_token`, `introspect` or `token/revoke`).
async fn assert_limited(app: &TestApp, endpoint: &str, resp: Response, case: &str) {
    assert_eq!(resp.status(), 429, "{case}");
    let retry: u64 = resp.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1, "{case}: Retry-After {retry}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{case}: {body}");

    let doc: Value = app.http.get(app.url("/admin/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let documented = &doc["paths"][format!("/oauth2/realms/{{realm}}/{endpoint}")]["post"]["responses"]["429"]["content"]
        ["application/json"]["schema"]["properties"]["error"]["enum"];
    assert!(
        documented.as_array().is_some_and(|codes| codes.contains(&body["error"])),
        "{case}: the document's 429 at {endpoint} allows {documented}, the server said {body}"
    );
}

/// The provider shows the defaults, takes partial changes, and names the field at fault.
async fn limits_are_provider_settings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("shop").await;
    let p = app.admin_call(Method::GET, "/realms/shop/oauth2-provider", None, 200).await;
    assert_eq!(p["rate_limits"], json!({"per_client": 6000, "per_address": 12000, "failed_auth": 10}));
    assert_eq!(p["cors_origins"], json!([]));

    let p = set_provider(&app, "shop", json!({"rate_limits": {"failed_auth": 3}})).await;
    assert_eq!(p["rate_limits"], json!({"per_client": 6000, "per_address": 12000, "failed_auth": 3}));
    let p = set_provider(
        &app,
        "shop",
        json!({"cors_origins": ["https://b.example", "https://A.example:443/", "https://b.example"]}),
    )
    .await;
    assert_eq!(p["cors_origins"], json!(["https://a.example", "https://b.example"]), "normalised, sorted, once");
    let p = app.admin_call(Method::GET, "/realms/shop/oauth2-provider", None, 200).await;
    assert_eq!(p["rate_limits"]["failed_auth"], 3, "stored");
    assert_eq!(p["cors_origins"], json!(["https://a.example", "https://b.example"]), "stored");

    for (body, field) in [
        (json!({"rate_limits": {"failed_auth": 0}}), "rate_limits.failed_auth"),
        (json!({"rate_limits": {"per_client": 10_000_001}}), "rate_limits.per_client"),
        (json!({"cors_origins": ["https://x.example/path"]}), "cors_origins"),
        (json!({"cors_origins": ["app.example.com"]}), "cors_origins"),
    ] {
        let resp = app.admin(Method::PATCH, "/realms/shop/oauth2-provider").json(&body).send().await.unwrap();
        assert_eq!(resp.status(), 422, "{body}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
    }
    let resp = app
        .admin(Method::PATCH, "/realms/shop/oauth2-provider")
        .json(&json!({"rate_limits": {"per_minute": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "unknown rate limit field");
    let p = app.admin_call(Method::GET, "/realms/shop/oauth2-provider", None, 200).await;
    assert_eq!(p["rate_limits"]["failed_auth"], 3, "a refused change changes nothing");
}

/// Once the failure budget is spent, attempts are refused with 429 before the secret is even
/// checked (the right secret too), for that client id and from that address.
async fn failed_authentications_are_limited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("shop").await;
    let secret = app.create_client("shop", "svc", &["read"]).await;
    let other = app.create_client("shop", "other", &["read"]).await;
    set_provider(&app, "shop", json!({"rate_limits": {"failed_auth": 3}})).await;

    for i in 0..3 {
        let resp = app.token_request("shop", "svc", "wrong-secret", Some("read")).await;
        assert_eq!(resp.status(), 401, "failure {i} is an ordinary invalid_client");
    }
    assert_limited(
        &app,
        "access_token",
        app.token_request("shop", "svc", &secret, Some("read")).await,
        "right secret after 3 failures",
    )
    .await;
    assert_limited(
        &app,
        "access_token",
        app.token_request("shop", "other", &other, Some("read")).await,
        "another client from the same address",
    )
    .await;
    let resp = app
        .http
        .post(format!("{}/introspect", app.issuer("shop")))
        .basic_auth("other", Some(&other))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_limited(&app, "introspect", resp, "introspection shares the budgets").await;

    // Other realms keep their own budgets.
    app.create_realm("elsewhere").await;
    let s = app.create_client("elsewhere", "svc", &["read"]).await;
    assert_eq!(app.token_request("elsewhere", "svc", &s, Some("read")).await.status(), 200);
}

/// An authenticated client gets its per-minute budget of requests, then 429; others are not
/// affected. The source address has a budget of its own.
async fn request_budgets_are_per_client_and_per_address(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("shop").await;
    let a = app.create_client("shop", "a", &["read"]).await;
    let b = app.create_client("shop", "b", &["read"]).await;
    set_provider(&app, "shop", json!({"rate_limits": {"per_client": 2}})).await;
    for _ in 0..2 {
        assert_eq!(app.token_request("shop", "a", &a, Some("read")).await.status(), 200);
    }
    assert_limited(&app, "access_token", app.token_request("shop", "a", &a, Some("read")).await, "a's third request")
        .await;
    assert_eq!(app.token_request("shop", "b", &b, Some("read")).await.status(), 200, "b has its own budget");

    set_provider(&app, "shop", json!({"rate_limits": {"per_client": 0, "per_address": 2}})).await;
    app.create_realm("mall").await;
    let c = app.create_client("mall", "c", &["read"]).await;
    set_provider(&app, "mall", json!({"rate_limits": {"per_address": 2}})).await;
    for _ in 0..2 {
        assert_eq!(app.token_request("mall", "c", &c, Some("read")).await.status(), 200);
    }
    assert_limited(
        &app,
        "access_token",
        app.token_request("mall", "c", &c, Some("read")).await,
        "the address's third request",
    )
    .await;
    let resp = app
        .http
        .post(format!("{}/token/revoke", app.issuer("mall")))
        .basic_auth("c", Some(&c))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_limited(&app, "token/revoke", resp, "revocation shares the address budget").await;
}

async fn preflight(app: &TestApp, realm: &str, endpoint: &str, origin: &str) -> Response {
    app.http
        .request(Method::OPTIONS, format!("{}/{endpoint}", app.issuer(realm)))
        .header(ORIGIN, origin)
        .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .send()
        .await
        .unwrap()
}

/// CORS is off by default; a listed origin gets preflight answers and `Access-Control-Allow-Origin`
/// on the token and introspection endpoints, errors included; other origins get nothing.
async fn cors_follows_the_realm(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("shop").await;
    let secret = app.create_client("shop", "spa-backend", &["read"]).await;
    let token_with_origin = |origin: &'static str, secret: String| {
        let app = &app;
        async move {
            app.http
                .post(format!("{}/access_token", app.issuer("shop")))
                .header(ORIGIN, origin)
                .basic_auth("spa-backend", Some(secret))
                .form(&[("grant_type", "client_credentials"), ("scope", "read")])
                .send()
                .await
                .unwrap()
        }
    };

    // Off by default.
    let resp = token_with_origin(ORIGIN_OK, secret.clone()).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert_eq!(preflight(&app, "shop", "access_token", ORIGIN_OK).await.status(), 405);

    set_provider(&app, "shop", json!({"cors_origins": [ORIGIN_OK]})).await;
    for endpoint in ["access_token", "introspect"] {
        let resp = preflight(&app, "shop", endpoint, ORIGIN_OK).await;
        assert_eq!(resp.status(), 204, "{endpoint}");
        let h = resp.headers();
        assert_eq!(h[ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN_OK, "{endpoint}");
        assert_eq!(h[ACCESS_CONTROL_ALLOW_METHODS], "POST", "{endpoint}");
        assert!(h[ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap().contains("Authorization"), "{endpoint}");
        assert_eq!(h[VARY], "Origin", "{endpoint}");
        let other = preflight(&app, "shop", endpoint, "https://evil.example").await;
        assert!(other.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none(), "{endpoint}: unlisted origin");
    }
    let resp = token_with_origin(ORIGIN_OK, secret.clone()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN_OK);
    let resp = token_with_origin(ORIGIN_OK, "wrong".into()).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN_OK, "a page can read the error too");
    let resp = token_with_origin("https://evil.example", secret.clone()).await;
    assert_eq!(resp.status(), 200, "CORS is enforced by browsers, not by refusing");
    assert!(resp.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    // Another realm's list does not count here.
    app.create_realm("mall").await;
    assert_eq!(preflight(&app, "mall", "access_token", ORIGIN_OK).await.status(), 405);
}

/// The console is served with a policy that allows only its own assets, and no framing.
async fn console_security_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dir = app.dir().join("console");
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>console</title>").unwrap();
    std::fs::write(dir.join("assets/app-1.js"), "export {}").unwrap();
    for path in ["/console", "/console/realms/x", "/console/assets/app-1.js"] {
        let resp = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        for directive in ["default-src 'none'", "script-src 'self' 'wasm-unsafe-eval'", "frame-ancestors 'none'"] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
    }
}

/// The value of `latchkey_client_secret_checks_total{method="…"}` now.
async fn secret_checks(app: &TestApp, method: &str) -> u64 {
    metric(app, &format!("latchkey_client_secret_checks_total{{method=\"{method}\"}}")).await
}

/// The value of one series of `/metrics`.
async fn metric(app: &TestApp, series: &str) -> u64 {
    let text = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let prefix = format!("{series} ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
        .parse()
        .unwrap()
}

/// A client's repeat requests are checked against the fingerprint of its verified secret, not
/// by argon2id again; a wrong secret, a rotated secret or another client always take argon2id.
async fn repeat_requests_skip_argon2(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("shop").await;
    let secret = app.create_client("shop", "svc", &["read"]).await;
    let (hashed, cached) = (secret_checks(&app, "argon2id").await, secret_checks(&app, "cached").await);

    assert_eq!(app.token_request("shop", "svc", &secret, Some("read")).await.status(), 200);
    assert_eq!(secret_checks(&app, "argon2id").await, hashed + 1, "the first request hashes");
    for _ in 0..3 {
        assert_eq!(app.token_request("shop", "svc", &secret, Some("read")).await.status(), 200);
    }
    assert_eq!(secret_checks(&app, "argon2id").await, hashed + 1, "repeats do not hash");
    assert_eq!(secret_checks(&app, "cached").await, cached + 3);

    assert_eq!(app.token_request("shop", "svc", "wrong-secret", Some("read")).await.status(), 401);
    assert_eq!(secret_checks(&app, "argon2id").await, hashed + 2, "a wrong secret is hashed like any other");

    let rotated = app.admin_call(Method::POST, "/realms/shop/applications/svc/secret", None, 200).await;
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_eq!(app.token_request("shop", "svc", &secret, Some("read")).await.status(), 401, "the old secret");
    assert_eq!(secret_checks(&app, "argon2id").await, hashed + 3, "a rotated secret is not found in the cache");
    assert_eq!(app.token_request("shop", "svc", new_secret, Some("read")).await.status(), 200);
    assert_eq!(app.token_request("shop", "svc", new_secret, Some("read")).await.status(), 200);
    assert_eq!(secret_checks(&app, "argon2id").await, hashed + 4, "the new secret is hashed once");
    assert_eq!(secret_checks(&app, "cached").await, cached + 4);
}

/// An unknown client id, a public client presenting a secret and a disabled client each cost an
/// argon2id verification, like a wrong secret: which ids exist cannot be told by the work done.
/// (Counted, not timed.)
async fn unknown_clients_are_hashed_like_known_ones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("shop").await;
    app.admin_call(
        Method::PATCH,
        "/realms/shop/oauth2-provider",
        Some(json!({"rate_limits": {"failed_auth": 100}})),
        200,
    )
    .await;
    let secret = app.create_client("shop", "svc", &["read"]).await;
    let spa = json!({"client_id": "spa", "application_type": "spa", "token_endpoint_auth_method": "none",
                     "grant_types": ["authorization_code"], "redirect_uris": ["https://spa.example/cb"]});
    app.admin_call(Method::POST, "/realms/shop/applications", Some(spa), 201).await;
    let off = app.create_client("shop", "off", &["read"]).await;
    app.admin_call(Method::PATCH, "/realms/shop/applications/off", Some(json!({"enabled": false})), 200).await;

    for (case, id, secret) in [
        ("a wrong secret", "svc", "wrong-secret-value"),
        ("an unknown client", "nobody", "some-secret-value"),
        ("an unknown client with a NUL", "no\0body", "some-secret-value"),
        ("a public client with a secret", "spa", "some-secret-value"),
        ("a disabled client with its secret", "off", off.as_str()),
    ] {
        let before = secret_checks(&app, "argon2id").await;
        assert_eq!(app.token_request("shop", id, secret, Some("read")).await.status(), 401, "{case}");
        assert_eq!(secret_checks(&app, "argon2id").await, before + 1, "{case}: one argon2id verification");
    }
    assert_eq!(app.token_request("shop", "svc", &secret, Some("read")).await.status(), 200);
}

/// In steady state the token, introspection and JWKS endpoints read no row: realm, provider
/// settings, client, keys and revocations come from memory. A change refills what it touched.
async fn steady_state_reads_no_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("shop").await;
    let secret = app.create_client("shop", "svc", &["read"]).await;
    let jwks = format!("{}/connect/jwk_uri", app.issuer("shop"));
    let misses = || metric(&app, r#"latchkey_cache_lookups_total{result="miss"}"#);
    let hits = || metric(&app, r#"latchkey_cache_lookups_total{result="hit"}"#);
    let round = || async {
        let token = app.token("shop", "svc", &secret, Some("read")).await;
        assert_eq!(app.introspect("shop", "svc", &secret, &token).await["active"], true);
        assert_eq!(app.get_json(&jwks, None).await["keys"].as_array().unwrap().len(), 1);
    };
    let stale = || metric(&app, "latchkey_cache_stale_total");
    // A CPU-starved test machine can delay a poll past the staleness bound, which rightly sends
    // reads to the database: such an attempt is measured again.
    let mut attempts = 0;
    let missed = loop {
        attempts += 1;
        round().await;
        // Idle past the staleness bound: only a live poller keeps the cache answering.
        tokio::time::sleep(latchkey_storage::STALE_AFTER * 3 / 2).await;
        let (spells, missed, hit) = (stale().await, misses().await, hits().await);
        for _ in 0..3 {
            round().await;
        }
        if stale().await != spells && attempts < 5 {
            continue;
        }
        assert_eq!(misses().await, missed, "warm: no lookup went to the database");
        // Per round: token (realm, provider, client, key), introspection (realm, provider,
        // client, key, revocation: the token's realm is the one already read), JWKS (realm, keys).
        assert_eq!(hits().await, hit + 3 * 11, "every lookup answered from memory");
        break missed;
    };

    app.admin_call(Method::PATCH, "/realms/shop/applications/svc", Some(json!({"client_name": "Service"})), 200).await;
    round().await;
    // Read again by the token request, and only then: the poller skips the row this process
    // wrote and applied itself.
    assert_eq!(misses().await - missed, 1, "the changed client is read again, and only it");
}

/// Without a search, an admin list's total is read from memory once it has been counted: a
/// second list asks the database only for its page. The realm list also reads its page marks
/// from memory. A search's total and marks are never cached, so the same list with a search
/// shows what authentication and the realm lookup take alone.
async fn admin_list_totals_come_from_memory(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("shop").await;
    app.create_client("shop", "svc", &["read"]).await;
    let lookups = || async {
        let hit = metric(&app, r#"latchkey_cache_lookups_total{result="hit"}"#).await;
        (hit, metric(&app, r#"latchkey_cache_lookups_total{result="miss"}"#).await)
    };
    let stale = || metric(&app, "latchkey_cache_stale_total");
    // The lookups answered from memory that a list without a search adds: the total, and for
    // the realm list its marks.
    for (path, from_memory) in [("/realms", 2), ("/realms/shop/applications", 1)] {
        let searched = format!("{path}?search=s");
        // A CPU-starved test machine can let the cache go stale, which rightly sends lookups
        // to the database: such an attempt is measured again.
        for attempt in 1.. {
            app.admin_call(Method::GET, path, None, 200).await;
            app.admin_call(Method::GET, &searched, None, 200).await;
            let spells = stale().await;
            let before = lookups().await;
            app.admin_call(Method::GET, &searched, None, 200).await;
            let searched_once = lookups().await;
            app.admin_call(Method::GET, path, None, 200).await;
            let listed_once = lookups().await;
            if stale().await != spells && attempt < 5 {
                continue;
            }
            assert_eq!(listed_once.1, before.1, "{path}: warm, no lookup went to the database");
            assert_eq!(
                listed_once.0 - searched_once.0,
                searched_once.0 - before.0 + from_memory,
                "{path}: the total (and the marks) are lookups answered from memory"
            );
            break;
        }
    }
}

both_backends!(
    steady_state_reads_no_rows,
    admin_list_totals_come_from_memory,
    repeat_requests_skip_argon2,
    unknown_clients_are_hashed_like_known_ones,
    limits_are_provider_settings,
    failed_authentications_are_limited,
    request_budgets_are_per_client_and_per_address,
    cors_follows_the_realm,
    console_security_headers,
);
