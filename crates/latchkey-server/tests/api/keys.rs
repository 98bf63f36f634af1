//! Token validity: revocation (RFC 7009), signing key rotation, per-realm algorithms, expiry and tampering.

use crate::helpers::{Backend, OPERATOR_ID, OPERATOR_SECRET, TestApp, form_encode, jwt_parts, verify_with_jwks};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::WWW_AUTHENTICATE;
use reqwest::{Method, Response};
use serde_json::{Value, json};

/// Revokes `token` at `realm` as client `id` by client_secret_basic.
async fn revoke(app: &TestApp, realm: &str, id: &str, secret: &str, token: &str) -> Response {
    app.http
        .post(format!("{}/token/revoke", app.issuer(realm)))
        .basic_auth(form_encode(id), Some(form_encode(secret)))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

/// Asserts the RFC 7009 success: 200 with an empty body.
async fn assert_revoked_ok(resp: Response, case: &str) {
    assert_eq!(resp.status(), 200, "{case}");
    assert_eq!(resp.text().await.unwrap(), "", "{case}: the body must be empty");
}

async fn tokeninfo(app: &TestApp, realm: &str, token: &str) -> Response {
    app.http.get(format!("{}/tokeninfo", app.issuer(realm))).bearer_auth(token).send().await.unwrap()
}

/// Asserts tokeninfo refuses `token`: 401 with an `invalid_token` Bearer challenge.
async fn assert_tokeninfo_401(app: &TestApp, realm: &str, token: &str, case: &str) {
    let resp = tokeninfo(app, realm, token).await;
    assert_eq!(resp.status(), 401, "{case}");
    let challenge = resp.headers().get(WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(challenge.starts_with("Bearer") && challenge.contains("invalid_token"), "{case}: {challenge:?}");
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_token", "{case}");
}

fn kid(token: &str) -> String {
    jwt_parts(token).0["kid"].as_str().unwrap().to_owned()
}

async fn jwks(app: &TestApp, realm: &str) -> Value {
    let resp = app.http.get(format!("{}/connect/jwk_uri", app.issuer(realm))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

fn jwks_kids(set: &Value) -> Vec<String> {
    let mut kids: Vec<String> =
        set["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect();
    kids.sort();
    kids
}

/// Every object key anywhere in `v`.
fn all_member_names(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                all_member_names(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| all_member_names(v, out)),
        _ => {}
    }
}

/// Asserts a JWKS carries public key material only.
fn assert_public_only(set: &Value) {
    let mut names = Vec::new();
    all_member_names(set, &mut names);
    for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        assert!(!names.iter().any(|n| n == private), "private member `{private}` in the JWKS: {set}");
    }
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

/// Replaces the character at `i` of `s` with another base64url character.
fn flip_char(s: &str, i: usize) -> String {
    let mut bytes = s.as_bytes().to_vec();
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// The owning client revokes its token: inactive everywhere, the client's other tokens unaffected.
async fn revocation_by_owner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("rev").await;
    let svc = app.create_client("rev", "svc", &["read"]).await;
    let rs = app.create_client("rev", "rs", &[]).await;
    let t1 = app.token("rev", "svc", &svc, Some("read")).await;
    let t2 = app.token("rev", "svc", &svc, Some("read")).await;
    assert_eq!(app.introspect("rev", "rs", &rs, &t1).await["active"], true);
    assert_eq!(tokeninfo(&app, "rev", &t1).await.status(), 200);

    assert_revoked_ok(revoke(&app, "rev", "svc", &svc, &t1).await, "revoke t1").await;
    assert_eq!(app.introspect("rev", "rs", &rs, &t1).await, json!({"active": false}));
    assert_tokeninfo_401(&app, "rev", &t1, "revoked t1").await;
    // Revoking again is still 200.
    assert_revoked_ok(revoke(&app, "rev", "svc", &svc, &t1).await, "revoke t1 again").await;

    // Only that token: the other one and new ones stay good.
    assert_eq!(app.introspect("rev", "rs", &rs, &t2).await["active"], true);
    assert_eq!(tokeninfo(&app, "rev", &t2).await.status(), 200);
    let t3 = app.token("rev", "svc", &svc, Some("read")).await;
    assert_eq!(app.introspect("rev", "rs", &rs, &t3).await["active"], true);

    // With the RFC 7009 hint.
    let resp = app
        .http
        .post(format!("{}/token/revoke", app.issuer("rev")))
        .basic_auth("svc", Some(&svc))
        .form(&[("token", t2.as_str()), ("token_type_hint", "access_token")])
        .send()
        .await
        .unwrap();
    assert_revoked_ok(resp, "revoke t2 with a hint").await;
    assert_eq!(app.introspect("rev", "rs", &rs, &t2).await, json!({"active": false}));
    assert_eq!(app.introspect("rev", "rs", &rs, &t3).await["active"], true);
}

/// A revoked admin token no longer opens the admin API.
async fn revoked_admin_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token("root", OPERATOR_ID, OPERATOR_SECRET, Some("admin")).await;
    let get = |t: String| {
        let req = app.http.get(app.url("/admin/v1/realms")).bearer_auth(t);
        async move { req.send().await.unwrap() }
    };
    assert_eq!(get(token.clone()).await.status(), 200);
    assert_revoked_ok(revoke(&app, "root", OPERATOR_ID, OPERATOR_SECRET, &token).await, "revoke the admin token").await;
    let resp = get(token.clone()).await;
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()[WWW_AUTHENTICATE].to_str().unwrap().starts_with("Bearer"));
    assert_eq!(resp.json::<Value>().await.unwrap()["error"]["code"], "unauthorized");
    // The operator's other token is unaffected.
    assert_eq!(get(app.admin_token.clone()).await.status(), 200);
}

/// Unknown, garbage and foreign tokens: 200 all the same (RFC 7009 §2.2), and nothing changes.
async fn revoke_unknown_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("rev").await;
    app.create_realm("elsewhere").await;
    let svc = app.create_client("rev", "svc", &["read"]).await;
    let other = app.create_client("elsewhere", "svc", &["read"]).await;
    let other_rs = app.create_client("elsewhere", "rs", &[]).await;
    let foreign = app.token("elsewhere", "svc", &other, Some("read")).await;
    let mine = app.token("rev", "svc", &svc, Some("read")).await;
    let unknown_jwt = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "RS256", "typ": "at+jwt", "kid": "nope"})),
        b64(&json!({"iss": "x"})),
        "c2ln"
    );
    for (case, token) in [
        ("garbage", "not-a-token-at-all".to_owned()),
        ("three dots of garbage", "a.b.c".to_owned()),
        ("unknown kid", unknown_jwt),
        ("another realm's token", foreign.clone()),
    ] {
        assert_revoked_ok(revoke(&app, "rev", "svc", &svc, &token).await, case).await;
    }
    assert_eq!(app.introspect("elsewhere", "rs", &other_rs, &foreign).await["active"], true);
    assert_eq!(tokeninfo(&app, "rev", &mine).await.status(), 200);
}

/// A client may not revoke another client's token: 400 unauthorized_client, and it stays active.
async fn revoke_someone_elses_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("rev").await;
    let owner = app.create_client("rev", "owner", &["read"]).await;
    let intruder = app.create_client("rev", "intruder", &["read"]).await;
    let rs = app.create_client("rev", "rs", &[]).await;
    let token = app.token("rev", "owner", &owner, Some("read")).await;
    let resp = revoke(&app, "rev", "intruder", &intruder, &token).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get(WWW_AUTHENTICATE).is_none());
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "unauthorized_client");
    assert_eq!(app.introspect("rev", "rs", &rs, &token).await["active"], true);
    assert_eq!(tokeninfo(&app, "rev", &token).await.status(), 200);
}

/// A client_secret_post client revokes with its credentials in the body (and not by Basic).
async fn revoke_with_client_secret_post(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("rev").await;
    let secret = app
        .admin_call(
            Method::POST,
            "/realms/rev/applications",
            Some(json!({"client_id": "poster", "grant_types": ["client_credentials"], "allowed_scopes": ["read"],
                        "token_endpoint_auth_method": "client_secret_post"})),
            201,
        )
        .await["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let rs = app.create_client("rev", "rs", &[]).await;
    let resp = app
        .http
        .post(format!("{}/access_token", app.issuer("rev")))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "read"),
            ("client_id", "poster"),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let token = resp.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();

    // By Basic, the method it did not register: refused, and the token stays active.
    let resp = revoke(&app, "rev", "poster", &secret, &token).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_client");
    assert_eq!(app.introspect("rev", "rs", &rs, &token).await["active"], true);

    let resp = app
        .http
        .post(format!("{}/token/revoke", app.issuer("rev")))
        .form(&[("token", token.as_str()), ("client_id", "poster"), ("client_secret", &secret)])
        .send()
        .await
        .unwrap();
    assert_revoked_ok(resp, "client_secret_post revocation").await;
    assert_eq!(app.introspect("rev", "rs", &rs, &token).await, json!({"active": false}));
}

/// Rotation: new tokens carry the new kid; old tokens stay valid; the JWKS publishes both, public parts only.
async fn key_rotation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("rot").await;
    let svc = app.create_client("rot", "svc", &["read"]).await;
    let rs = app.create_client("rot", "rs", &[]).await;
    let t1 = app.token("rot", "svc", &svc, Some("read")).await;
    let kid1 = kid(&t1);
    let t1_exp = jwt_parts(&t1).1["exp"].as_i64().unwrap();

    let keys = app.admin_call(Method::GET, "/realms/rot/keys", None, 200).await;
    let items = keys["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{keys}");
    assert_eq!(items[0]["kid"], kid1.as_str());
    assert_eq!(items[0]["status"], "active");
    assert_eq!(items[0]["alg"], "RS256");
    assert!(items[0].get("expires_at").is_none(), "an active key has no expiry: {keys}");

    let resp = app.admin(Method::POST, "/realms/rot/keys/rotate").send().await.unwrap();
    assert_eq!(resp.status(), 201);
    assert!(resp.headers().contains_key(reqwest::header::LOCATION));
    let new_key: Value = resp.json().await.unwrap();
    let kid2 = new_key["kid"].as_str().unwrap().to_owned();
    assert_ne!(kid2, kid1);
    assert_eq!(new_key["status"], "active");
    assert_eq!(new_key["alg"], "RS256");

    let keys = app.admin_call(Method::GET, "/realms/rot/keys", None, 200).await;
    let items = keys["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{keys}");
    let by_kid =
        |k: &str| items.iter().find(|i| i["kid"] == k).unwrap_or_else(|| panic!("{k} not listed: {keys}")).clone();
    let old = by_kid(&kid1);
    assert_eq!(old["status"], "retired");
    assert!(old["retired_at"].is_i64(), "{old}");
    let expires_at = old["expires_at"].as_i64().unwrap_or_else(|| panic!("a retired key has expires_at: {old}"));
    assert!(expires_at >= t1_exp, "the retired key must outlive its tokens: {expires_at} < {t1_exp}");
    let new = by_kid(&kid2);
    assert_eq!(new["status"], "active");
    assert!(new.get("expires_at").is_none(), "{new}");

    // New tokens carry the new kid; the old token still introspects and verifies.
    let t2 = app.token("rot", "svc", &svc, Some("read")).await;
    assert_eq!(kid(&t2), kid2);
    assert_eq!(app.introspect("rot", "rs", &rs, &t1).await["active"], true);
    assert_eq!(app.introspect("rot", "rs", &rs, &t2).await["active"], true);
    verify_with_jwks(&app, "rot", &t1).await.expect("the old token verifies against the JWKS");
    verify_with_jwks(&app, "rot", &t2).await.expect("the new token verifies against the JWKS");
    assert_eq!(tokeninfo(&app, "rot", &t1).await.status(), 200);

    let set = jwks(&app, "rot").await;
    let mut expected = vec![kid1.clone(), kid2.clone()];
    expected.sort();
    assert_eq!(jwks_kids(&set), expected);
    assert_public_only(&set);
    for k in set["keys"].as_array().unwrap() {
        assert_eq!(k["kty"], "RSA", "{k}");
        assert!(k["n"].is_string() && k["e"].is_string(), "{k}");
    }

    // Rotating root keeps the operator's current admin token working.
    app.admin_call(Method::POST, "/realms/root/keys/rotate", None, 201).await;
    app.admin_call(Method::GET, "/realms", None, 200).await;
    let fresh = app.token("root", OPERATOR_ID, OPERATOR_SECRET, Some("admin")).await;
    assert_ne!(kid(&fresh), kid(&app.admin_token));
}

/// ES256 and EdDSA per realm: new tokens use the new algorithm and key; earlier tokens stay valid.
async fn per_realm_algorithms(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("algs").await;
    app.create_realm("plain").await;
    let svc = app.create_client("algs", "svc", &["read"]).await;
    let rs = app.create_client("algs", "rs", &[]).await;
    let plain = app.create_client("plain", "svc", &["read"]).await;
    let t_rs = app.token("algs", "svc", &svc, Some("read")).await;
    assert_eq!(jwt_parts(&t_rs).0["alg"], "RS256");

    let mut earlier = vec![t_rs.clone()];
    let mut kids = vec![kid(&t_rs)];
    for (alg, kty, crv) in [("ES256", "EC", "P-256"), ("EdDSA", "OKP", "Ed25519")] {
        let provider =
            app.admin_call(Method::PATCH, "/realms/algs/oauth2-provider", Some(json!({"signing_alg": alg})), 200).await;
        assert_eq!(provider["signing_alg"], alg);
        let token = app.token("algs", "svc", &svc, Some("read")).await;
        let (header, _) = jwt_parts(&token);
        assert_eq!(header["alg"], alg);
        assert_eq!(header["typ"], "at+jwt");
        let new_kid = kid(&token);
        assert!(!kids.contains(&new_kid), "{alg}: a new key, not {kids:?}");
        let verified = verify_with_jwks(&app, "algs", &token).await.unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(verified["scope"], "read");
        assert_eq!(app.introspect("algs", "rs", &rs, &token).await["active"], true, "{alg}");

        let keys = app.admin_call(Method::GET, "/realms/algs/keys", None, 200).await;
        let active: Vec<&Value> =
            keys["items"].as_array().unwrap().iter().filter(|k| k["status"] == "active").collect();
        assert_eq!(active.len(), 1, "{keys}");
        assert_eq!(active[0]["kid"], new_kid.as_str());
        assert_eq!(active[0]["alg"], alg);

        let set = jwks(&app, "algs").await;
        assert_public_only(&set);
        let jwk = set["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == new_kid.as_str())
            .expect("new key in the JWKS")
            .clone();
        assert_eq!(jwk["kty"], kty, "{jwk}");
        assert_eq!(jwk["crv"], crv, "{jwk}");

        // Every earlier token, of every earlier algorithm, is still good.
        for t in &earlier {
            assert_eq!(app.introspect("algs", "rs", &rs, t).await["active"], true, "after switching to {alg}");
            verify_with_jwks(&app, "algs", t).await.unwrap_or_else(|e| panic!("after switching to {alg}: {e}"));
        }
        earlier.push(token);
        kids.push(new_kid);
    }
    let mut all = kids.clone();
    all.sort();
    assert_eq!(jwks_kids(&jwks(&app, "algs").await), all);

    // Another realm keeps its own algorithm.
    let other = app.token("plain", "svc", &plain, Some("read")).await;
    assert_eq!(jwt_parts(&other).0["alg"], "RS256");
    let provider = app.admin_call(Method::GET, "/realms/plain/oauth2-provider", None, 200).await;
    assert_eq!(provider["signing_alg"], "RS256");
}

/// An expired token is inactive at introspection and refused at tokeninfo.
async fn expired_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("exp").await;
    let short = app
        .admin_call(
            Method::POST,
            "/realms/exp/applications",
            Some(json!({"client_id": "short", "grant_types": ["client_credentials"], "allowed_scopes": ["read"], "access_token_lifetime": 1})),
            201,
        )
        .await["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let long = app.create_client("exp", "long", &["read"]).await;
    let rs = app.create_client("exp", "rs", &[]).await;
    let resp = app.token_request("exp", "short", &short, Some("read")).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["expires_in"], 1);
    let token = body["access_token"].as_str().unwrap().to_owned();
    let control = app.token("exp", "long", &long, Some("read")).await;
    assert_eq!(app.introspect("exp", "rs", &rs, &control).await["active"], true);
    // Active once, so remembered as verified: expiry must still be checked on every use.
    assert_eq!(app.introspect("exp", "rs", &rs, &token).await["active"], true, "before its expiry");

    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;

    assert_eq!(app.introspect("exp", "rs", &rs, &token).await, json!({"active": false}));
    assert_tokeninfo_401(&app, "exp", &token, "expired").await;
    assert_eq!(app.introspect("exp", "rs", &rs, &control).await["active"], true);
}

/// Tampered, unsigned and garbage tokens are inactive, and never open tokeninfo or the admin API.
async fn tampered_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_realm("tamper").await;
    let svc = app.create_client("tamper", "svc", &["read"]).await;
    let rs = app.create_client("tamper", "rs", &[]).await;
    let token = app.token("tamper", "svc", &svc, Some("read")).await;
    assert_eq!(app.introspect("tamper", "rs", &rs, &token).await["active"], true);

    let parts: Vec<&str> = token.split('.').collect();
    let (header, mut claims) = jwt_parts(&token);
    claims["scope"] = json!("read admin");
    let forged_claims = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    let mut none_header = header.clone();
    none_header["alg"] = json!("none");
    let alg_none = format!("{}.{}.", b64(&none_header), parts[1]);
    let mut hs_header = header.clone();
    hs_header["alg"] = json!("HS256");
    let alg_hs256 = format!("{}.{}.{}", b64(&hs_header), parts[1], parts[2]);
    let mut jwt_header = header.clone();
    jwt_header["typ"] = json!("JWT");
    let typ_jwt = format!("{}.{}.{}", b64(&jwt_header), parts[1], parts[2]);
    let cases = [
        ("payload character flipped", format!("{}.{}.{}", parts[0], flip_char(parts[1], parts[1].len() / 2), parts[2])),
        ("claims rewritten", forged_claims),
        (
            "signature character flipped",
            format!("{}.{}.{}", parts[0], parts[1], flip_char(parts[2], parts[2].len() / 2)),
        ),
        ("signature dropped", format!("{}.{}.", parts[0], parts[1])),
        ("alg none", alg_none),
        ("alg HS256", alg_hs256),
        ("typ JWT", typ_jwt),
        ("garbage", "garbage".to_owned()),
        ("garbage with dots", "e30.e30.e30".to_owned()),
    ];
    for (case, bad) in &cases {
        assert_ne!(bad, &token, "{case}");
        assert_eq!(app.introspect("tamper", "rs", &rs, bad).await, json!({"active": false}), "{case}");
        assert_tokeninfo_401(&app, "tamper", bad, case).await;
    }
    // The original is untouched by all that.
    assert_eq!(app.introspect("tamper", "rs", &rs, &token).await["active"], true);

    // A tampered admin token does not open the admin API.
    let admin_parts: Vec<&str> = app.admin_token.split('.').collect();
    let bad_admin =
        format!("{}.{}.{}", admin_parts[0], admin_parts[1], flip_char(admin_parts[2], admin_parts[2].len() / 2));
    let resp = app.http.get(app.url("/admin/v1/realms")).bearer_auth(bad_admin).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"]["code"], "unauthorized");
}

/// Everything the database holds, as its files or its dump: the SQLite file and its WAL, or
/// `pg_dump --data-only` of the PostgreSQL database.
fn raw_database(app: &TestApp, backend: Backend) -> Vec<u8> {
    match backend {
        Backend::Sqlite => {
            let mut raw = Vec::new();
            for file in ["latchkey.db", "latchkey.db-wal", "latchkey.db-journal"] {
                raw.extend(std::fs::read(app.dir().join(file)).unwrap_or_default());
            }
            assert!(raw.len() > 4096, "the SQLite file was read");
            raw
        }
        Backend::Postgres => {
            let out = std::process::Command::new("pg_dump")
                .args(["--data-only", "--dbname", app.database_url()])
                .output()
                .expect("pg_dump (PostgreSQL's client tools) runs");
            assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Signing keys are encrypted at rest: the raw database holds no private key, in any encoding,
/// for any algorithm; each sealed key opens only with the master key and its own kid.
async fn signing_keys_are_sealed_at_rest(backend: Backend) {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::spawn(backend).await;
    app.create_realm("algs").await;
    for alg in ["ES256", "EdDSA"] {
        app.admin_call(Method::PATCH, "/realms/algs/oauth2-provider", Some(json!({"signing_alg": alg})), 200).await;
    }
    app.admin_call(Method::POST, "/realms/root/keys/rotate", None, 201).await;

    let conn = sea_orm::Database::connect(app.database_url()).await.unwrap();
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT kid, alg, sealed_private_key FROM signing_keys",
        ))
        .await
        .unwrap();
    conn.close().await.unwrap();
    let keys: Vec<(String, String, Vec<u8>)> = rows
        .iter()
        .map(|r| {
            (r.try_get("", "kid").unwrap(), r.try_get("", "alg").unwrap(), r.try_get("", "sealed_private_key").unwrap())
        })
        .collect();
    let mut algs: Vec<&str> = keys.iter().map(|(_, alg, _)| alg.as_str()).collect();
    algs.sort();
    assert_eq!(algs, ["ES256", "EdDSA", "RS256", "RS256", "RS256"], "root's two keys and algs' three");

    let raw = raw_database(&app, backend);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    for (kid, alg, sealed) in &keys {
        use secrecy::ExposeSecret;
        let plain = app.master_key().open(kid, sealed).unwrap_or_else(|e| panic!("{alg} key {kid} opens: {e}"));
        let der = plain.expose_secret();
        assert!(der.len() >= 48, "{alg}: a PKCS#8 private key");
        assert!(app.master_key().open("another-kid", sealed).is_err(), "{alg}: the seal is bound to its kid");
        assert!(
            latchkey_oauth2::MasterKey::generate().open(kid, sealed).is_err(),
            "{alg}: another master key cannot open it"
        );
        // Every 16-byte piece of the key past its algorithm header: the private part is in one.
        for piece in der[32..].chunks(16).filter(|c| c.len() == 16) {
            assert!(!contains(&raw, piece), "{alg} key {kid}: private key bytes in the clear");
            assert!(!contains(&raw, hex(piece).as_bytes()), "{alg} key {kid}: private key bytes in hex");
        }
        for encoded in [base64::engine::general_purpose::STANDARD.encode(der), URL_SAFE_NO_PAD.encode(der)] {
            assert!(!contains(&raw, &encoded.as_bytes()[..64]), "{alg} key {kid}: the key in base64");
        }
    }
    assert!(!contains(&raw, b"PRIVATE KEY"), "no PEM private key");
}

both_backends!(
    signing_keys_are_sealed_at_rest,
    revocation_by_owner,
    revoked_admin_token,
    revoke_unknown_token,
    revoke_someone_elses_token,
    revoke_with_client_secret_post,
    key_rotation,
    per_realm_algorithms,
    expired_token,
    tampered_tokens,
);
