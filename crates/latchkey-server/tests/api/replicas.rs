//! Two Latchkey processes on one database, sharing no memory: what one is told, the other
//! enforces within a second (the change log; see `latchkey_storage`'s `hot` module). Each test
//! first warms the second replica, so that it holds the old state in its cache.

use crate::helpers::{Backend, TestApp, jwt_parts};
use reqwest::Method;
use serde_json::{Value, json};
use std::future::Future;
use std::time::{Duration, Instant};

/// How late a replica may learn a change.
const WITHIN: Duration = Duration::from_secs(1);

/// Asks `probe` until it answers `true`. A probe *started* later than [`WITHIN`] after `since`
/// that still answers `false` fails the test: the replica served stale state past the bound.
async fn enforced_within<F, Fut>(since: Instant, what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    loop {
        let asked_at = since.elapsed();
        if probe().await {
            return;
        }
        assert!(asked_at < WITHIN, "{what}: still not enforced {asked_at:?} after the change");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A realm with one confidential client on the first app; returns the client's secret. The
/// failure budget is raised: probes that are refused count as failed authentications.
async fn realm_with_client(a: &TestApp) -> String {
    a.create_realm("shop").await;
    let limits = json!({"rate_limits": {"failed_auth": 100_000}});
    a.admin_call(Method::PATCH, "/realms/shop/oauth2-provider", Some(limits), 200).await;
    a.create_client("shop", "svc", &["read"]).await
}

async fn token_status(app: &TestApp, secret: &str) -> u16 {
    app.token_request("shop", "svc", secret, Some("read")).await.status().as_u16()
}

async fn tokens_cross_replicas_and_revocations_reach_both(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    let secret = realm_with_client(&a).await;
    let b = a.replica().await;

    let token = b.token("shop", "svc", &secret, Some("read")).await;
    assert_eq!(a.introspect("shop", "svc", &secret, &token).await["active"], true, "issued by B, checked at A");
    assert_eq!(b.introspect("shop", "svc", &secret, &token).await["active"], true, "B caches it as not revoked");

    let revoke = a
        .http
        .post(format!("{}/token/revoke", a.issuer("shop")))
        .basic_auth("svc", Some(&secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    let revoked = Instant::now();
    assert_eq!(a.introspect("shop", "svc", &secret, &token).await["active"], false, "at once where revoked");
    enforced_within(revoked, "revocation at A, introspection at B", || async {
        b.introspect("shop", "svc", &secret, &token).await["active"] == false
    })
    .await;
}

async fn rotated_secrets_and_disabled_clients_reach_both(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    let old = realm_with_client(&a).await;
    let b = a.replica().await;
    assert_eq!(token_status(&b, &old).await, 200, "B has verified the old secret and cached the client");

    let rotated = a.admin_call(Method::POST, "/realms/shop/applications/svc/secret", None, 200).await;
    let new = rotated["client_secret"].as_str().unwrap().to_owned();
    let at = Instant::now();
    enforced_within(at, "secret rotated at A, old secret at B", || async { token_status(&b, &old).await == 401 }).await;
    assert_eq!(token_status(&b, &new).await, 200, "the new secret works at B");

    a.admin_call(Method::PATCH, "/realms/shop/applications/svc", Some(json!({"enabled": false})), 200).await;
    let at = Instant::now();
    enforced_within(at, "client disabled at A, token at B", || async { token_status(&b, &new).await == 401 }).await;

    a.admin_call(Method::PATCH, "/realms/shop/applications/svc", Some(json!({"enabled": true})), 200).await;
    let at = Instant::now();
    enforced_within(at, "client enabled at A, token at B", || async { token_status(&b, &new).await == 200 }).await;
    a.admin_call(Method::PATCH, "/realms/shop", Some(json!({"enabled": false})), 200).await;
    let at = Instant::now();
    enforced_within(at, "realm disabled at A, token at B", || async { token_status(&b, &new).await == 401 }).await;
}

async fn provider_changes_reach_both(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    let secret = realm_with_client(&a).await;
    let b = a.replica().await;
    assert_eq!(token_status(&b, &secret).await, 200);

    a.admin_call(Method::PATCH, "/realms/shop/oauth2-provider", Some(json!({"access_token_lifetime": 120})), 200).await;
    let at = Instant::now();
    enforced_within(at, "token lifetime changed at A, token at B", || async {
        let resp = b.token_request("shop", "svc", &secret, Some("read")).await;
        resp.json::<Value>().await.unwrap()["expires_in"] == 120
    })
    .await;

    a.admin_call(Method::PATCH, "/realms/shop/oauth2-provider", Some(json!({"grant_types": []})), 200).await;
    let at = Instant::now();
    enforced_within(at, "grant disallowed at A, token at B", || async {
        let resp = b.token_request("shop", "svc", &secret, Some("read")).await;
        resp.status() == 400 && resp.json::<Value>().await.unwrap()["error"] == "unsupported_grant_type"
    })
    .await;
}

async fn rotated_keys_reach_both(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    let secret = realm_with_client(&a).await;
    let b = a.replica().await;
    let before = b.token("shop", "svc", &secret, Some("read")).await;
    let old_kid = jwt_parts(&before).0["kid"].as_str().unwrap().to_owned();
    assert_eq!(jwks_kids(&b).await, std::slice::from_ref(&old_kid), "B caches the key set");

    let rotated = a.admin_call(Method::POST, "/realms/shop/keys/rotate", None, 201).await;
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    let at = Instant::now();
    assert!(jwks_kids(&a).await.contains(&new_kid));
    enforced_within(at, "key rotated at A, JWKS at B", || async {
        let kids = jwks_kids(&b).await;
        kids.contains(&new_kid) && kids.contains(&old_kid)
    })
    .await;
    enforced_within(at, "key rotated at A, signing at B", || async {
        let token = b.token("shop", "svc", &secret, Some("read")).await;
        jwt_parts(&token).0["kid"] == new_kid.as_str()
    })
    .await;
    let after = b.token("shop", "svc", &secret, Some("read")).await;
    assert_eq!(a.introspect("shop", "svc", &secret, &after).await["active"], true, "signed by B's new key");
    assert_eq!(b.introspect("shop", "svc", &secret, &before).await["active"], true, "the retired key still verifies");
}

/// The admin lists' totals, which each replica keeps in memory, follow the realms and
/// applications created and deleted at the other one within a second, and at once where the
/// change was made.
async fn list_totals_reach_both(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    realm_with_client(&a).await;
    let b = a.replica().await;
    let realms = || async { b.admin_call(Method::GET, "/realms", None, 200).await["total"].as_u64().unwrap() };
    let apps = || async { b.admin_call(Method::GET, "/realms/shop/applications", None, 200).await["total"].clone() };
    let at_a = &a;
    let total =
        |path: &'static str| async move { at_a.admin_call(Method::GET, path, None, 200).await["total"].clone() };
    let before = realms().await;
    assert_eq!(apps().await, 1, "B caches the application total");

    a.create_realm("bank").await;
    let at = Instant::now();
    assert_eq!(total("/realms").await, before + 1, "at once where created");
    enforced_within(at, "realm created at A, realm total at B", || async { realms().await == before + 1 }).await;

    a.create_client("shop", "web", &["read"]).await;
    let at = Instant::now();
    assert_eq!(total("/realms/shop/applications").await, 2, "at once where created");
    enforced_within(at, "application created at A, total at B", || async { apps().await == 2 }).await;

    a.admin_call(Method::DELETE, "/realms/shop/applications/svc", None, 204).await;
    let at = Instant::now();
    assert_eq!(total("/realms/shop/applications").await, 1, "at once where deleted");
    enforced_within(at, "application deleted at A, total at B", || async { apps().await == 1 }).await;

    a.admin_call(Method::DELETE, "/realms/bank", None, 204).await;
    let at = Instant::now();
    assert_eq!(total("/realms").await, before, "at once where deleted");
    enforced_within(at, "realm deleted at A, realm total at B", || async { realms().await == before }).await;
    let searched = b.admin_call(Method::GET, "/realms?search=shop", None, 200).await;
    assert_eq!(searched["total"], 1, "a search counts in the database");
}

/// The kids a replica's JWKS publishes.
async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let jwks = app.get_json(&format!("{}/connect/jwk_uri", app.issuer("shop")), None).await;
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

both_backends!(
    tokens_cross_replicas_and_revocations_reach_both,
    rotated_secrets_and_disabled_clients_reach_both,
    provider_changes_reach_both,
    rotated_keys_reach_both,
    list_totals_reach_both,
);
