//! The test kit: spawn the server against a fresh database, and talk to it like a client.

use actix_web::dev::ServerHandle;
use latchkey_oauth2::MasterKey;
use latchkey_server::settings::Credentials;
use latchkey_server::{Application, Settings};
use reqwest::Response;
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use serde_json::{Value, json};

/// Instantiates `async fn $name(backend: Backend)` once per backend as `sqlite::$name` and
/// `postgres::$name`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Backend::Postgres).await } )*
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const OPERATOR_ID: &str = "operator";
pub const OPERATOR_SECRET: &str = "operator-secret-for-tests";
pub const ADMIN_USERNAME: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

pub fn postgres_admin_url() -> String {
    std::env::var("LATCHKEY_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database that exists for one test: a temporary SQLite file, or a PostgreSQL database
/// created for the test and dropped (forcibly) when this value drops.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn new(backend: Backend, dir: &std::path::Path) -> TestDb {
        match backend {
            Backend::Sqlite => {
                TestDb { url: format!("sqlite://{}?mode=rwc", dir.join("latchkey.db").display()), pg_name: None }
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let admin = Database::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL is required for these tests and is unreachable: {e}"));
                let name = format!("latchkey_test_{}", uuid::Uuid::new_v4().simple());
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                admin.close().await.ok();
                let base = admin_url.rsplit_once('/').map(|(b, _)| b).expect("URL with a database");
                TestDb { url: format!("{base}/{name}"), pg_name: Some(name) }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else { return };
        // Drop runs outside any async context we can block on: use a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                if let Ok(admin) = Database::connect(&postgres_admin_url()).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// A running server and a client for it.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub admin_token: String,
    handle: ServerHandle,
    // Dropped after the server handle is told to stop.
    db: TestDb,
    tmp: tempfile::TempDir,
    /// Replicas must share it: it seals the signing keys in the database.
    master_key: MasterKey,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        // Stop without waiting: the database drop below forces connections closed anyway.
        drop(handle.stop(false));
    }
}

pub fn test_settings(database_url: &str, dir: &std::path::Path) -> Settings {
    Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        public_url: None,
        data_dir: dir.to_owned(),
        database_url: SecretString::from(database_url.to_owned()),
        database_timeout: latchkey_storage::DEFAULT_TIMEOUT,
        master_key: MasterKey::generate(),
        bootstrap_client: Some(Credentials { id: OPERATOR_ID.into(), secret: SecretString::from(OPERATOR_SECRET) }),
        bootstrap_admin: Some(Credentials { id: ADMIN_USERNAME.into(), secret: SecretString::from(ADMIN_PASSWORD) }),
        console_dir: dir.join("console"),
        sessions: Default::default(),
        audit: Default::default(),
        shutdown_timeout: std::time::Duration::from_secs(10),
        metrics_token: None,
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns with settings changed by `adjust` (the base URL stays `http://127.0.0.1:PORT`).
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = TestDb::new(backend, dir.path()).await;
        let mut settings = test_settings(&db.url, dir.path());
        adjust(&mut settings);
        Self::start(settings, db, dir).await
    }

    async fn start(settings: Settings, db: TestDb, dir: tempfile::TempDir) -> TestApp {
        let master_key = settings.master_key.clone();
        let app = Application::build(settings).await.expect("server builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut t = TestApp { base, http, admin_token: String::new(), handle, db, tmp: dir, master_key };
        t.admin_token = t.token("root", OPERATOR_ID, OPERATOR_SECRET, Some("admin")).await;
        t
    }

    /// A second server process on this one's database, sharing nothing in memory: another
    /// replica behind a load balancer, so with this one's public URL (its tokens' issuer). The
    /// database stays until this (first) app drops.
    pub async fn replica(&self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = TestDb { url: self.db.url.clone(), pg_name: None };
        let mut settings = test_settings(&db.url, dir.path());
        settings.master_key = self.master_key.clone();
        settings.public_url = Some(self.base.clone());
        Self::start(settings, db, dir).await
    }

    /// The server's temporary directory; the console is served from `{dir}/console`.
    pub fn dir(&self) -> &std::path::Path {
        self.tmp.path()
    }

    /// The master key that seals this server's signing keys.
    pub fn master_key(&self) -> &MasterKey {
        &self.master_key
    }

    /// The test database's URL, to look at what the server stored.
    pub fn database_url(&self) -> &str {
        &self.db.url
    }

    pub fn issuer(&self, realm: &str) -> String {
        format!("{}/oauth2/realms/{realm}", self.base)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GETs `url` (with a bearer token when given) and decodes the JSON body, whatever the status.
    pub async fn get_json(&self, url: &str, bearer: Option<&str>) -> Value {
        let mut req = self.http.get(url);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap().json().await.unwrap()
    }

    /// A client credentials token, by client_secret_basic; panics unless it is granted.
    pub async fn token(&self, realm: &str, id: &str, secret: &str, scope: Option<&str>) -> String {
        let resp = self.token_request(realm, id, secret, scope).await;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 200, "token request failed: {body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn token_request(&self, realm: &str, id: &str, secret: &str, scope: Option<&str>) -> Response {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        self.http
            .post(format!("{}/access_token", self.issuer(realm)))
            .basic_auth(form_encode(id), Some(form_encode(secret)))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Introspects `token` at `realm` as client `id`.
    pub async fn introspect(&self, realm: &str, id: &str, secret: &str, token: &str) -> Value {
        let resp = self
            .http
            .post(format!("{}/introspect", self.issuer(realm)))
            .basic_auth(form_encode(id), Some(form_encode(secret)))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }

    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(&format!("/admin/v1{path}"))).bearer_auth(&self.admin_token)
    }

    /// An admin call that must answer `expected`; returns the JSON body (Null when empty).
    pub async fn admin_call(&self, method: reqwest::Method, path: &str, body: Option<Value>, expected: u16) -> Value {
        let mut req = self.admin(method.clone(), path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert_eq!(status, expected, "{method} {path} answered {status}: {text}");
        if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() }
    }

    pub async fn create_realm(&self, name: &str) -> Value {
        self.admin_call(reqwest::Method::POST, "/realms", Some(json!({"name": name})), 201).await
    }

    /// Registers a confidential web client with client_credentials and the given scopes;
    /// returns its secret.
    pub async fn create_client(&self, realm: &str, client_id: &str, allowed: &[&str]) -> String {
        let body = json!({
            "client_id": client_id,
            "client_name": client_id,
            "application_type": "web",
            "grant_types": ["client_credentials"],
            "allowed_scopes": allowed,
        });
        let created =
            self.admin_call(reqwest::Method::POST, &format!("/realms/{realm}/applications"), Some(body), 201).await;
        created["client_secret"].as_str().unwrap().to_owned()
    }
}

/// RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
pub fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Decodes a JWT's header and claims without verifying anything.
pub fn jwt_parts(token: &str) -> (Value, Value) {
    use base64::Engine;
    let dec = |s: &str| -> Value {
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap()).unwrap()
    };
    let mut it = token.split('.');
    (dec(it.next().unwrap()), dec(it.next().unwrap()))
}

/// Verifies `token` with jsonwebtoken against the realm's published JWKS, as an outside
/// resource server would.
pub async fn verify_with_jwks(app: &TestApp, realm: &str, token: &str) -> Result<Value, String> {
    let jwks: jsonwebtoken::jwk::JwkSet =
        app.http.get(format!("{}/connect/jwk_uri", app.issuer(realm))).send().await.unwrap().json().await.unwrap();
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks.find(&kid).ok_or_else(|| format!("kid {kid} not in the JWKS"))?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_issuer(&[app.issuer(realm)]);
    v.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &key, &v).map(|d| d.claims).map_err(|e| e.to_string())
}
