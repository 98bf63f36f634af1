//! The real `latchkey` binary as an operator runs it: settings from the environment,
//! bootstrap, restarts that keep everything, migrations, and logs that never hold a secret.

use crate::helpers::{Backend, TestDb, form_encode};
use latchkey_storage::Store;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running `latchkey serve` at log level debug, its stderr collected as it goes.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) log: Arc<Mutex<String>>,
    pub(crate) base: String,
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn latchkey() -> Command {
    Command::new(env!("CARGO_BIN_EXE_latchkey"))
}

impl Server {
    pub(crate) fn start(env: &[(&str, String)]) -> Server {
        let mut cmd = latchkey();
        cmd.arg("serve").env("RUST_LOG", "debug").stdout(Stdio::null()).stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start latchkey");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("Latchkey listening on ") {
                    // The URL ends at a space (text) or at the closing quote (JSON).
                    let rest = &line[i + "Latchkey listening on ".len()..];
                    let _ = tx.send(rest.split(|c: char| c.is_whitespace() || c == '"').next().unwrap().to_owned());
                }
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr.split_whitespace().next().unwrap().to_owned(),
            Err(_) => panic!("latchkey did not start:\n{}", log.lock().unwrap()),
        };
        Server { child, log, base }
    }

    /// SIGTERM, then wait: the graceful path an orchestrator takes. It must exit 0.
    pub(crate) fn stop(self) -> String {
        self.stop_with("TERM")
    }

    /// Sends the signal (`TERM`, `INT`), waits for the exit, which must be 0, and returns the log.
    pub(crate) fn stop_with(self, signal: &str) -> String {
        self.signal(signal);
        self.wait()
    }

    /// Waits for the process to exit, which must be with 0, and returns the log.
    pub(crate) fn wait(mut self) -> String {
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let log = self.log.lock().unwrap().clone();
        assert!(status.success(), "latchkey exited with {status}:\n{log}");
        log
    }

    pub(crate) fn signal(&self, signal: &str) {
        let sent = Command::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status().unwrap();
        assert!(sent.success(), "kill -{signal} failed");
    }

    pub(crate) fn issuer(&self, realm: &str) -> String {
        format!("{}/oauth2/realms/{realm}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn token(
    http: &reqwest::Client,
    s: &Server,
    realm: &str,
    id: &str,
    secret: &str,
    scope: &str,
) -> reqwest::Response {
    http.post(format!("{}/access_token", s.issuer(realm)))
        .basic_auth(form_encode(id), Some(form_encode(secret)))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap()
}

pub(crate) async fn access_token(
    http: &reqwest::Client,
    s: &Server,
    realm: &str,
    id: &str,
    secret: &str,
    scope: &str,
) -> String {
    let resp = token(http, s, realm, id, secret, scope).await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

pub(crate) async fn admin(
    http: &reqwest::Client,
    s: &Server,
    tok: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, format!("{}/admin/v1{path}", s.base)).bearer_auth(tok);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

pub(crate) async fn introspect(
    http: &reqwest::Client,
    s: &Server,
    realm: &str,
    id: &str,
    secret: &str,
    tok: &str,
) -> Value {
    http.post(format!("{}/introspect", s.issuer(realm)))
        .basic_auth(id, Some(secret))
        .form(&[("token", tok)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Signs in to the console; on success, the session token (the cookie's value) and CSRF token.
pub(crate) async fn console_sign_in(
    http: &reqwest::Client,
    s: &Server,
    username: &str,
    password: &str,
) -> Option<(String, String)> {
    let resp = http
        .post(format!("{}/admin/v1/session", s.base))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    if resp.status() != 200 {
        return None;
    }
    let token = resp
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .find_map(|v| v.to_str().unwrap().strip_prefix("latchkey_session=")?.split(';').next().map(str::to_owned))
        .expect("a session cookie");
    let body: Value = resp.json().await.unwrap();
    Some((token, body["csrf_token"].as_str().unwrap().to_owned()))
}

/// A console request with the session cookie and its CSRF token; returns the status.
pub(crate) async fn console(
    http: &reqwest::Client,
    s: &Server,
    (token, csrf): &(String, String),
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> u16 {
    let mut req = http
        .request(method, format!("{}/admin/v1{path}", s.base))
        .header(reqwest::header::COOKIE, format!("latchkey_session={token}"))
        .header("X-CSRF-Token", csrf);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap().status().as_u16()
}

/// Everything survives a restart of the process: realms, applications, identities, keys and
/// issued tokens. Bootstrap changes nothing the second time. No secret reaches the log.
async fn restart_keeps_everything_and_logs_no_secrets(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend, dir.path()).await;
    let port = free_port();
    let operator_secret = "Operator-Secret-4f9c2e".to_owned();
    let admin_password = "Admin-Password-8d1b7a".to_owned();
    let env = vec![
        ("LATCHKEY_BIND", format!("127.0.0.1:{port}")),
        ("LATCHKEY_DATA_DIR", dir.path().display().to_string()),
        ("LATCHKEY_DATABASE_URL", db.url.clone()),
        ("LATCHKEY_BOOTSTRAP_CLIENT_ID", "automation".into()),
        ("LATCHKEY_BOOTSTRAP_CLIENT_SECRET", operator_secret.clone()),
        ("LATCHKEY_BOOTSTRAP_ADMIN_USERNAME", "admin".into()),
        ("LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD", admin_password.clone()),
    ];
    let http = reqwest::Client::new();
    use reqwest::Method;

    let first = Server::start(&env);
    assert_eq!(first.base, format!("http://127.0.0.1:{port}"));
    let admin_token = access_token(&http, &first, "root", "automation", &operator_secret, "admin").await;
    let (s, _) = admin(&http, &first, &admin_token, Method::POST, "/realms", Some(json!({"name": "kept"}))).await;
    assert_eq!(s, 201);
    let (s, created) = admin(
        &http,
        &first,
        &admin_token,
        Method::POST,
        "/realms/kept/applications",
        Some(json!({"client_id": "svc", "allowed_scopes": ["write"]})),
    )
    .await;
    assert_eq!(s, 201);
    let client_secret = created["client_secret"].as_str().unwrap().to_owned();
    let (s, _) =
        admin(&http, &first, &admin_token, Method::POST, "/realms/kept/users", Some(json!({"username": "owner"})))
            .await;
    assert_eq!(s, 201);
    let issued = access_token(&http, &first, "kept", "svc", &client_secret, "write").await;
    let (_, keys_before) = admin(&http, &first, &admin_token, Method::GET, "/realms/kept/keys", None).await;
    let (_, operator_before) =
        admin(&http, &first, &admin_token, Method::GET, "/realms/root/applications/automation", None).await;
    let (_, admin_before) = admin(&http, &first, &admin_token, Method::GET, "/realms/root/users/admin", None).await;
    assert_eq!(admin_before["is_admin"], true);
    // The administrator uses the console: its session and CSRF tokens travel in headers.
    let session = console_sign_in(&http, &first, "admin", &admin_password).await.expect("console sign-in");
    assert_eq!(console(&http, &first, &session, Method::GET, "/session", None).await, 200);
    let patch = json!({"display_name": "Kept"});
    assert_eq!(console(&http, &first, &session, Method::PATCH, "/realms/kept", Some(patch)).await, 200);
    assert_eq!(console(&http, &first, &session, Method::DELETE, "/session", None).await, 204);
    let first_log = first.stop();

    // The master key was generated once into the data dir, private to its owner, with a warning.
    let key_file = dir.path().join("master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(first_log.contains("LATCHKEY_MASTER_KEY is not set"), "{first_log}");
    let master_key = std::fs::read_to_string(&key_file).unwrap();

    let second = Server::start(&env);
    // Tokens issued before the restart are still valid, and still revocable state is intact.
    let info = introspect(&http, &second, "kept", "svc", &client_secret, &issued).await;
    assert_eq!(info["active"], true, "{info}");
    let admin_token2 = access_token(&http, &second, "root", "automation", &operator_secret, "admin").await;
    // Pre-restart admin token still opens the admin API.
    let (s, _) = admin(&http, &second, &admin_token, Method::GET, "/realms/kept", None).await;
    assert_eq!(s, 200);
    let (_, keys_after) = admin(&http, &second, &admin_token2, Method::GET, "/realms/kept/keys", None).await;
    assert_eq!(keys_before, keys_after);
    let (s, user) = admin(&http, &second, &admin_token2, Method::GET, "/realms/kept/users/owner", None).await;
    assert_eq!((s, user["username"].as_str()), (200, Some("owner")));
    access_token(&http, &second, "kept", "svc", &client_secret, "write").await;
    // Bootstrap changed nothing the second time.
    let (_, operator_after) =
        admin(&http, &second, &admin_token2, Method::GET, "/realms/root/applications/automation", None).await;
    assert_eq!(operator_before, operator_after);
    let (_, admin_after) = admin(&http, &second, &admin_token2, Method::GET, "/realms/root/users/admin", None).await;
    assert_eq!(admin_before, admin_after);
    let (_, realms) = admin(&http, &second, &admin_token2, Method::GET, "/realms", None).await;
    assert_eq!(realms["total"], 2);
    let second_log = second.stop();
    assert!(!second_log.contains("LATCHKEY_MASTER_KEY is not set"), "the key is generated once");

    let log = format!("{first_log}{second_log}");
    assert!(log.contains("Latchkey listening on"), "the log is captured");
    for (what, secret) in [
        ("operator secret", operator_secret.as_str()),
        ("admin password", admin_password.as_str()),
        ("console session token", session.0.as_str()),
        ("console CSRF token", session.1.as_str()),
        ("client secret", client_secret.as_str()),
        ("access token", issued.as_str()),
        ("admin token", admin_token.as_str()),
        ("admin token", admin_token2.as_str()),
        ("master key", master_key.trim()),
        ("database URL", db.url.as_str()),
    ] {
        assert!(!log.contains(secret), "the log contains the {what}");
    }
    // A token's signature part alone must not leak either.
    assert!(!log.contains(issued.rsplit('.').next().unwrap()));
}

/// With no operator client and no administrator configured, the first start makes both and
/// prints their secrets once.
async fn first_start_generates_the_operator_client_and_admin(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend, dir.path()).await;
    let port = free_port();
    let env = vec![
        ("LATCHKEY_BIND", format!("127.0.0.1:{port}")),
        ("LATCHKEY_DATA_DIR", dir.path().display().to_string()),
        ("LATCHKEY_DATABASE_URL", db.url.clone()),
        ("LATCHKEY_MASTER_KEY", "qdzVdzcvOfAw4XW9p2SbwlhcqZhsGIkTG/OiwKD7wg8=".into()),
    ];
    let printed =
        |log: &str, label: &str| log.lines().find_map(|l| l.trim().strip_prefix(label)).map(|v| v.trim().to_owned());
    let http = reqwest::Client::new();
    let first = Server::start(&env);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = first.log.lock().unwrap().clone();
    let secret = printed(&log, "client_secret:").unwrap_or_else(|| panic!("no generated secret in the log:\n{log}"));
    assert!(log.contains("LATCHKEY_BOOTSTRAP_CLIENT_SECRET"), "says how to replace it");
    assert_eq!(printed(&log, "username:").as_deref(), Some("admin"), "{log}");
    let password = printed(&log, "password:").unwrap_or_else(|| panic!("no generated password in the log:\n{log}"));
    assert!(log.contains("LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD"), "says how to replace it");
    assert!(!dir.path().join("master.key").exists(), "a given master key is not written to disk");
    access_token(&http, &first, "root", "latchkey-operator", &secret, "admin").await;
    assert!(console_sign_in(&http, &first, "admin", &password).await.is_some(), "the printed password signs in");
    first.stop();

    let second = Server::start(&env);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = second.stop();
    for label in ["client_secret:", "username:", "password:"] {
        assert!(printed(&log, label).is_none(), "{label} printed once only:\n{log}");
    }
    assert!(!log.contains(&secret) && !log.contains(&password), "printed once only:\n{log}");
    let third = Server::start(&env);
    access_token(&http, &third, "root", "latchkey-operator", &secret, "admin").await;
    assert!(console_sign_in(&http, &third, "admin", &password).await.is_some(), "the password is kept");
    third.stop();
}

/// Migrations go up, down and up again on both backends.
async fn migrations_up_down_up(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend, dir.path()).await;
    let store = Store::connect(&db.url).await.unwrap();
    assert!(!store.pending_migrations().await.unwrap().is_empty());
    assert!(!store.ready().await.unwrap(), "not ready before migrations");
    store.migrate().await.unwrap();
    assert!(store.ready().await.unwrap());
    store.migrate_down_all().await.unwrap();
    assert!(!store.pending_migrations().await.unwrap().is_empty());
    store.migrate().await.unwrap();
    assert!(store.ready().await.unwrap());
    // Idempotent.
    store.migrate().await.unwrap();
    store.close().await.unwrap();

    // The schema holds at most one active signing key per realm.
    use sea_orm::ConnectionTrait;
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    conn.execute_unprepared(
        "INSERT INTO realms (name, display_name, enabled, created_at, updated_at) VALUES ('r', 'r', true, 0, 0)",
    )
    .await
    .unwrap();
    let key = |kid: &str, status: &str| {
        format!(
            "INSERT INTO signing_keys (kid, realm_id, alg, sealed_private_key, public_jwk, status, created_at) \
             SELECT '{kid}', id, 'RS256', {blob}, '{{}}', '{status}', 0 FROM realms WHERE name = 'r'",
            blob = if backend == Backend::Sqlite { "x'00'" } else { "'\\x00'::bytea" }
        )
    };
    conn.execute_unprepared(&key("k1", "active")).await.unwrap();
    conn.execute_unprepared(&key("k2", "retired")).await.unwrap();
    assert!(conn.execute_unprepared(&key("k3", "active")).await.is_err(), "two active keys in one realm");
    conn.close().await.unwrap();
}

/// `latchkey migrate` applies the migrations and exits.
async fn migrate_command(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend, dir.path()).await;
    let out = latchkey()
        .arg("migrate")
        .env("LATCHKEY_DATABASE_URL", &db.url)
        .env("LATCHKEY_DATA_DIR", dir.path())
        .env("LATCHKEY_MASTER_KEY", "qdzVdzcvOfAw4XW9p2SbwlhcqZhsGIkTG/OiwKD7wg8=")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store = Store::connect(&db.url).await.unwrap();
    assert!(store.ready().await.unwrap());
    store.close().await.unwrap();
}

/// `latchkey --help` documents every setting with its variable and default.
#[test]
fn help_documents_every_setting() {
    let out = latchkey().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "serve",
        "migrate",
        "LATCHKEY_BIND",
        "127.0.0.1:8080",
        "LATCHKEY_PUBLIC_URL",
        "LATCHKEY_DATA_DIR",
        "./data",
        "LATCHKEY_DATABASE_URL",
        "LATCHKEY_DATABASE_TIMEOUT",
        "LATCHKEY_MASTER_KEY",
        "LATCHKEY_BOOTSTRAP_CLIENT_ID",
        "LATCHKEY_BOOTSTRAP_CLIENT_SECRET",
        "LATCHKEY_BOOTSTRAP_ADMIN_USERNAME",
        "LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD",
        "LATCHKEY_LOG_FORMAT",
        "LATCHKEY_SHUTDOWN_TIMEOUT",
        "LATCHKEY_METRICS_TOKEN",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}

/// `latchkey healthcheck` (the docker image's HEALTHCHECK) exits 0 while the server at
/// LATCHKEY_BIND is ready, probing a wildcard bind on loopback, and fails once it is gone.
async fn healthcheck_command(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend, dir.path()).await;
    let port = free_port();
    let probe = |bind: String| {
        let out = latchkey().arg("healthcheck").env("LATCHKEY_BIND", bind).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let server = Server::start(&[
        ("LATCHKEY_BIND", format!("0.0.0.0:{port}")),
        ("LATCHKEY_PUBLIC_URL", format!("http://127.0.0.1:{port}")),
        ("LATCHKEY_DATA_DIR", dir.path().display().to_string()),
        ("LATCHKEY_DATABASE_URL", db.url.clone()),
        ("LATCHKEY_MASTER_KEY", "qdzVdzcvOfAw4XW9p2SbwlhcqZhsGIkTG/OiwKD7wg8=".into()),
    ]);
    assert_eq!(probe(format!("0.0.0.0:{port}")), (true, String::new()));
    assert!(probe(format!("127.0.0.1:{port}")).0);
    server.stop();
    let (healthy, why) = probe(format!("0.0.0.0:{port}"));
    assert!(!healthy && why.contains(&format!("127.0.0.1:{port}")), "{why}");
}

/// Bad settings fail fast with a clear message.
#[test]
fn bad_settings_fail_fast() {
    for (k, v, says) in [
        ("LATCHKEY_BIND", "not-an-address", "LATCHKEY_BIND"),
        ("LATCHKEY_MASTER_KEY", "c2hvcnQ=", "LATCHKEY_MASTER_KEY"),
        ("LATCHKEY_PUBLIC_URL", "ftp://x", "LATCHKEY_PUBLIC_URL"),
        ("LATCHKEY_BOOTSTRAP_CLIENT_ID", "only-the-id", "bootstrap client"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = latchkey().arg("serve").env("LATCHKEY_DATA_DIR", dir.path()).env(k, v).output().unwrap();
        assert!(!out.status.success(), "{k}={v} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{k}: {err}");
    }
}

both_backends!(
    restart_keeps_everything_and_logs_no_secrets,
    first_start_generates_the_operator_client_and_admin,
    migrations_up_down_up,
    migrate_command,
    healthcheck_command
);
