//! Faults: the process killed (SIGKILL) in the middle of admin writes loses no acknowledged
//! write and leaves no half-created realm or application.

use crate::helpers::{Backend, TestDb};
use crate::process::{Server, access_token, admin, free_port, introspect};
use reqwest::Method;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const OPERATOR_SECRET: &str = "Operator-Secret-for-faults";

/// What a writer got a 2xx for: realms, and applications with their secret.
#[derive(Default)]
struct Acknowledged {
    realms: Vec<String>,
    applications: Vec<(String, String, String)>,
    users: Vec<(String, String)>,
}

/// Four writers create realms (realm, provider and first key in one transaction), applications
/// with an owner (application and owner rows in one) and identities until the process is
/// killed. After a restart every acknowledged write is there and works, and the database holds
/// no realm without its provider and active key, and no application without its owner.
async fn sigkill_during_admin_writes(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend, dir.path()).await;
    let env = vec![
        ("LATCHKEY_BIND", format!("127.0.0.1:{}", free_port())),
        ("LATCHKEY_DATA_DIR", dir.path().display().to_string()),
        ("LATCHKEY_DATABASE_URL", db.url.clone()),
        ("LATCHKEY_BOOTSTRAP_CLIENT_ID", "automation".into()),
        ("LATCHKEY_BOOTSTRAP_CLIENT_SECRET", OPERATOR_SECRET.into()),
        ("LATCHKEY_BOOTSTRAP_ADMIN_USERNAME", "admin".into()),
        ("LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD", "Admin-Password-for-faults".into()),
    ];
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let server = Arc::new(Server::start(&env));
    let token = access_token(&http, &server, "root", "automation", OPERATOR_SECRET, "admin").await;
    let acked = Arc::new(Mutex::new(Acknowledged::default()));

    let mut writers = Vec::new();
    for w in 0..4 {
        let (http, token, acked) = (http.clone(), token.clone(), acked.clone());
        let base = server.base.clone();
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let realm = format!("w{w}-r{i}");
                let call = |method: Method, path: String, body: serde_json::Value| {
                    http.request(method, format!("{base}/admin/v1{path}")).bearer_auth(&token).json(&body).send()
                };
                let Ok(r) = call(Method::POST, "/realms".into(), json!({"name": realm})).await else { return };
                if r.status() != 201 {
                    return;
                }
                acked.lock().unwrap().realms.push(realm.clone());
                let path = format!("/realms/{realm}/users");
                let Ok(r) = call(Method::POST, path, json!({"username": "owner"})).await else { return };
                if r.status() != 201 {
                    return;
                }
                acked.lock().unwrap().users.push((realm.clone(), "owner".into()));
                let body = json!({"client_id": "svc", "allowed_scopes": ["read"], "owners": ["owner"]});
                let Ok(r) = call(Method::POST, format!("/realms/{realm}/applications"), body).await else { return };
                if r.status() != 201 {
                    return;
                }
                let Ok(created) = r.json::<serde_json::Value>().await else { return };
                let secret = created["client_secret"].as_str().unwrap().to_owned();
                acked.lock().unwrap().applications.push((realm, "svc".into(), secret));
            }
        }));
    }
    // Let the writers get going, then kill the process mid-write.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.signal("KILL");
    for w in writers {
        w.await.unwrap();
    }
    let server = Arc::into_inner(server).expect("the writers are done with it");
    drop(server);

    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(acked.realms.len() >= 4, "the writers wrote before the kill: {} realms", acked.realms.len());

    // The database is whole: checked on the rows themselves, before the restart touches them.
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    let count = |sql: &str| {
        let conn = &conn;
        let sql = sql.to_owned();
        async move {
            let row =
                conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql.clone())).await.unwrap();
            row.unwrap().try_get_by_index::<i64>(0).unwrap()
        }
    };
    let orphans = [
        (
            "realms without a provider",
            "SELECT COUNT(*) FROM realms r WHERE NOT EXISTS (SELECT 1 FROM oauth2_providers p WHERE p.realm_id = r.id)",
        ),
        (
            "realms without exactly one active key",
            "SELECT COUNT(*) FROM realms r WHERE (SELECT COUNT(*) FROM signing_keys k WHERE k.realm_id = r.id AND k.status = 'active') <> 1",
        ),
        (
            // The writers' applications (the operator's client has no owner).
            "the writers' applications without their owner",
            "SELECT COUNT(*) FROM applications a JOIN realms r ON r.id = a.realm_id \
             WHERE r.name LIKE 'w%' AND NOT EXISTS (SELECT 1 FROM application_owners o WHERE o.application_id = a.id)",
        ),
    ];
    for (what, sql) in orphans {
        assert_eq!(count(sql).await, 0, "{what}");
    }
    conn.close().await.unwrap();

    // Restarted, it has every acknowledged write, and each works.
    let server = Server::start(&env);
    let token = access_token(&http, &server, "root", "automation", OPERATOR_SECRET, "admin").await;
    for realm in &acked.realms {
        let (s, keys) = admin(&http, &server, &token, Method::GET, &format!("/realms/{realm}/keys"), None).await;
        assert_eq!(s, 200, "acknowledged realm {realm} is there");
        let active = keys["items"].as_array().unwrap().iter().filter(|k| k["status"] == "active").count();
        assert_eq!(active, 1, "{realm}: {keys}");
    }
    for (realm, username) in &acked.users {
        let (s, _) =
            admin(&http, &server, &token, Method::GET, &format!("/realms/{realm}/users/{username}"), None).await;
        assert_eq!(s, 200, "acknowledged identity {realm}/{username}");
    }
    for (realm, client_id, secret) in &acked.applications {
        let (s, app) =
            admin(&http, &server, &token, Method::GET, &format!("/realms/{realm}/applications/{client_id}"), None)
                .await;
        assert_eq!(s, 200, "acknowledged application {realm}/{client_id}");
        assert_eq!(app["owners"], json!(["owner"]), "{realm}/{client_id}");
        let issued = access_token(&http, &server, realm, client_id, secret, "read").await;
        assert_eq!(introspect(&http, &server, realm, client_id, secret, &issued).await["active"], true);
    }
    // And it takes writes again.
    let (s, _) = admin(&http, &server, &token, Method::POST, "/realms", Some(json!({"name": "after-the-kill"}))).await;
    assert_eq!(s, 201);
    server.stop();
}

both_backends!(sigkill_during_admin_writes);

/// A PostgreSQL cluster of the test's own (initdb as user `postgres`, on a free port), which the
/// test may stop and start without touching the shared server the other tests use.
struct OwnPostgres {
    dir: tempfile::TempDir,
    port: u16,
    bin: std::path::PathBuf,
}

impl OwnPostgres {
    fn start() -> OwnPostgres {
        let versions = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server binaries in /usr/lib/postgresql (Debian's postgresql package)");
        let mut versions: Vec<_> = versions.map(|e| e.unwrap().path()).collect();
        versions.sort();
        let bin = versions.pop().expect("a PostgreSQL version").join("bin");
        let dir = tempfile::tempdir().unwrap();
        let pg = OwnPostgres { port: free_port(), bin, dir };
        if is_root() {
            run("chown", &["-R", "postgres", &pg.dir.path().display().to_string()]);
        }
        let data = pg.data();
        pg.as_postgres("initdb", &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"]);
        pg.pg_ctl("start");
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl start|stop`, waiting until it is done; `stop` is a fast shutdown, which ends every
    /// session at once, like a restart by an operator.
    fn pg_ctl(&self, action: &str) {
        let options =
            format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, self.dir.path().display());
        let log = self.dir.path().join("postgres.log").display().to_string();
        let data = self.data();
        let mut args = vec!["-D", &data, "-w", "-l", &log, "-o", &options, action];
        if action == "stop" {
            args.extend(["-m", "fast"]);
        }
        self.as_postgres("pg_ctl", &args);
    }

    /// Runs a PostgreSQL tool: as `postgres` when the test runs as root (initdb refuses root),
    /// else as the user the test runs as.
    fn as_postgres(&self, tool: &str, args: &[&str]) {
        let tool = self.bin.join(tool).display().to_string();
        if is_root() {
            let mut all = vec!["-u", "postgres", "--", tool.as_str()];
            all.extend(args);
            run("runuser", &all);
        } else {
            run(&tool, args);
        }
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.data();
        let tool = self.bin.join("pg_ctl").display().to_string();
        let mut c = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--", &tool]);
            c
        } else {
            std::process::Command::new(&tool)
        };
        let _ = c.args(["-D", &data, "-m", "immediate", "stop"]).output();
    }
}

fn is_root() -> bool {
    std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn run(program: &str, args: &[&str]) {
    let out = std::process::Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One request of the load: what it was, its status and error code, and how long it took.
struct Outcome {
    what: &'static str,
    status: u16,
    error: String,
    took: Duration,
}

/// PostgreSQL restarted (a fast shutdown, then a start) under token and admin load: during the
/// outage requests fail with 503 and the right error within the configured timeout, never hang
/// and never 500; the server recovers by itself; no acknowledged admin write is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_under_load() {
    let pg = OwnPostgres::start();
    let dir = tempfile::tempdir().unwrap();
    let timeout = Duration::from_secs(1);
    let env = vec![
        ("LATCHKEY_BIND", format!("127.0.0.1:{}", free_port())),
        ("LATCHKEY_DATA_DIR", dir.path().display().to_string()),
        ("LATCHKEY_DATABASE_URL", pg.url()),
        ("LATCHKEY_DATABASE_TIMEOUT", timeout.as_secs().to_string()),
        ("LATCHKEY_BOOTSTRAP_CLIENT_ID", "automation".into()),
        ("LATCHKEY_BOOTSTRAP_CLIENT_SECRET", OPERATOR_SECRET.into()),
        ("LATCHKEY_BOOTSTRAP_ADMIN_USERNAME", "admin".into()),
        ("LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD", "Admin-Password-for-faults".into()),
    ];
    // A hang would show as this client's timeout, far past the server's.
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let server = Server::start(&env);
    let token = access_token(&http, &server, "root", "automation", OPERATOR_SECRET, "admin").await;
    let (s, created) = admin(&http, &server, &token, Method::POST, "/realms", Some(json!({"name": "steady"}))).await;
    assert_eq!(s, 201, "{created}");
    let (s, created) = admin(
        &http,
        &server,
        &token,
        Method::POST,
        "/realms/steady/applications",
        Some(json!({"client_id": "svc", "allowed_scopes": ["read"]})),
    )
    .await;
    assert_eq!(s, 201);
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    access_token(&http, &server, "steady", "svc", &secret, "read").await;

    let outcomes = Arc::new(Mutex::new(Vec::<Outcome>::new()));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for w in 0..2 {
        let (http, token, secret, base) = (http.clone(), token.clone(), secret.clone(), server.base.clone());
        let (outcomes, acknowledged, stop) = (outcomes.clone(), acknowledged.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let started = Instant::now();
                let username = format!("w{w}-u{i}");
                let (what, resp) = if i % 2 == 0 {
                    let req = http
                        .post(format!("{base}/oauth2/realms/steady/access_token"))
                        .basic_auth("svc", Some(&secret))
                        .form(&[("grant_type", "client_credentials"), ("scope", "read")]);
                    ("token", req.send().await)
                } else {
                    let req = http
                        .post(format!("{base}/admin/v1/realms/steady/users"))
                        .bearer_auth(&token)
                        .json(&json!({"username": username}));
                    ("admin write", req.send().await)
                };
                let resp = resp.unwrap_or_else(|e| panic!("{what}: no answer ({e}): a hang or a dropped connection"));
                let status = resp.status().as_u16();
                let body: serde_json::Value = resp.json().await.unwrap_or_default();
                let error = match &body["error"] {
                    serde_json::Value::String(code) => code.clone(),
                    e => e["code"].as_str().unwrap_or_default().to_owned(),
                };
                if what == "admin write" && status == 201 {
                    acknowledged.lock().unwrap().push(username);
                }
                outcomes.lock().unwrap().push(Outcome { what, status, error, took: started.elapsed() });
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    let count = |pred: &dyn Fn(&Outcome) -> bool| outcomes.lock().unwrap().iter().filter(|o| pred(o)).count();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(count(&|o| o.status == 200) > 0 && count(&|o| o.status == 201) > 0, "the load runs before the outage");

    pg.pg_ctl("stop");
    let down = outcomes.lock().unwrap().len();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let during: Vec<(u16, String)> =
        outcomes.lock().unwrap()[down..].iter().map(|o| (o.status, o.error.clone())).collect();
    pg.pg_ctl("start");
    let up = outcomes.lock().unwrap().len();
    // It recovers by itself: a token and an admin write succeed again.
    let mut recovered = false;
    for _ in 0..150 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let after = &outcomes.lock().unwrap()[up..];
        let ok = |what: &str, status: u16| after.iter().any(|o| o.what == what && o.status == status);
        if ok("token", 200) && ok("admin write", 201) {
            recovered = true;
            break;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    assert!(recovered, "the server did not recover within 15 s of PostgreSQL's start");

    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let errors: String =
        server.log.lock().unwrap().lines().filter(|l| l.contains("ERROR")).take(5).collect::<Vec<_>>().join("\n");
    let unavailable = |o: &Outcome| match o.what {
        "token" => o.status == 503 && o.error == "temporarily_unavailable",
        _ => o.status == 503 && o.error == "unavailable",
    };
    for o in &outcomes {
        assert!(
            matches!(o.status, 200 | 201) || unavailable(o),
            "{}: {} {} (only success or 503 with its error); the server logged:\n{errors}",
            o.what,
            o.status,
            o.error
        );
        // Waiting for a connection is bounded by the timeout; what else a request does is far
        // below it. A hang would be the client's 30 s.
        assert!(o.took < timeout * 5, "{}: took {:?} with a {timeout:?} database timeout", o.what, o.took);
    }
    assert!(during.iter().filter(|(s, _)| *s == 503).count() >= 2, "the outage was felt: {during:?}");
    for what in ["token", "admin write"] {
        assert!(outcomes.iter().any(|o| o.what == what && unavailable(o)), "{what}: a 503 during the outage");
    }

    // Every acknowledged write is there.
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    assert!(!acknowledged.is_empty());
    for username in &acknowledged {
        let (s, _) =
            admin(&http, &server, &token, Method::GET, &format!("/realms/steady/users/{username}"), None).await;
        assert_eq!(s, 200, "acknowledged user {username}");
    }
    // And so is its audit event: events the writer could not write during the outage waited.
    let mut audited = std::collections::HashSet::new();
    for page in 1.. {
        let path = format!("/realms/steady/audit?action=user.create&per_page=200&page={page}");
        let (s, events) = admin(&http, &server, &token, Method::GET, &path, None).await;
        assert_eq!(s, 200);
        let items = events["items"].as_array().unwrap();
        audited.extend(items.iter().map(|e| e["after"]["username"].as_str().unwrap().to_owned()));
        if items.len() < 200 {
            break;
        }
    }
    let missing: Vec<&String> = acknowledged.iter().filter(|u| !audited.contains(*u)).collect();
    assert!(missing.is_empty(), "acknowledged writes without their audit event: {missing:?}");
    server.stop();
}

/// SQLite's disk full (the server's file-size limit lowered to 4 KiB, so every write past it
/// fails as on a full disk) and a read-only database file (`chattr +i` on the database and its
/// WAL), each on a fresh server: admin writes fail with 503 `unavailable` saying why, reads and
/// tokens go on; once the fault is gone, writes succeed again without a restart; and the database
/// passes SQLite's integrity check holding every acknowledged write and no refused one. (Before
/// the pool's `BEGIN` check on acquire, a write after the fault could answer 201 unstored.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_full_or_read_only() {
    for fault in ["a full disk", "a read-only database file"] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("latchkey.db");
        let env = vec![
            ("LATCHKEY_BIND", format!("127.0.0.1:{}", free_port())),
            ("LATCHKEY_DATA_DIR", dir.path().display().to_string()),
            ("LATCHKEY_DATABASE_URL", format!("sqlite://{}?mode=rwc", db.display())),
            ("LATCHKEY_BOOTSTRAP_CLIENT_ID", "automation".into()),
            ("LATCHKEY_BOOTSTRAP_CLIENT_SECRET", OPERATOR_SECRET.into()),
            ("LATCHKEY_BOOTSTRAP_ADMIN_USERNAME", "admin".into()),
            ("LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD", "Admin-Password-for-faults".into()),
        ];
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        let server = Server::start(&env);
        let pid = server.child.id().to_string();
        let token = access_token(&http, &server, "root", "automation", OPERATOR_SECRET, "admin").await;
        let body = json!({"client_id": "svc", "allowed_scopes": ["read"]});
        let (s, created) = admin(&http, &server, &token, Method::POST, "/realms/root/applications", Some(body)).await;
        assert_eq!(s, 201);
        let secret = created["client_secret"].as_str().unwrap().to_owned();
        access_token(&http, &server, "root", "svc", &secret, "read").await;
        let body = json!({"username": "before"});
        let (s, _) = admin(&http, &server, &token, Method::POST, "/realms/root/users", Some(body)).await;
        assert_eq!(s, 201);

        let files = [db.display().to_string(), format!("{}-wal", db.display())];
        let set = |on: bool| match (fault, on) {
            ("a full disk", true) => run("prlimit", &["--pid", &pid, "--fsize=4096:unlimited"]),
            ("a full disk", false) => run("prlimit", &["--pid", &pid, "--fsize=unlimited:unlimited"]),
            (_, on) => files.iter().for_each(|f| run("chattr", &[if on { "+i" } else { "-i" }, f])),
        };
        set(true);
        let (mut stored, mut refused) = (vec!["before".to_owned()], vec![]);
        for i in 0..3 {
            let name = format!("during-{i}");
            let body = json!({"username": name});
            let (s, answer) = admin(&http, &server, &token, Method::POST, "/realms/root/users", Some(body)).await;
            assert_eq!(s, 503, "{fault}: {answer}");
            assert_eq!(answer["error"]["code"], "unavailable", "{fault}: {answer}");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains("disk full or read-only"), "{fault}: {message}");
            refused.push(name);
        }
        // Reads and tokens go on.
        let (s, users) = admin(&http, &server, &token, Method::GET, "/realms/root/users", None).await;
        assert_eq!(s, 200, "{fault}: a read");
        let names: Vec<&str> =
            users["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["admin", "before"], "{fault}");
        let issued = access_token(&http, &server, "root", "svc", &secret, "read").await;
        assert_eq!(introspect(&http, &server, "root", "svc", &secret, &issued).await["active"], true, "{fault}");
        set(false);
        // It takes writes again by itself, without a restart: a connection opened while the file
        // was read-only serves reads for a second before it is replaced, so a write may still be
        // refused (503, not stored) for a moment; each is retried for at most 10 s.
        for i in 0..5 {
            let deadline = Instant::now() + Duration::from_secs(10);
            for attempt in 0.. {
                let name = format!("after-{i}-{attempt}");
                let body = json!({"username": name});
                let (s, answer) = admin(&http, &server, &token, Method::POST, "/realms/root/users", Some(body)).await;
                if s == 201 {
                    stored.push(name);
                    break;
                }
                assert_eq!(answer["error"]["code"], "unavailable", "{fault}, then room again: {answer}");
                assert!(Instant::now() < deadline, "{fault}: still no write 10 s after the fault ended: {answer}");
                refused.push(name);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        let log = server.stop();
        assert!(log.contains("the database cannot store changes"), "{fault}: the operator is told why");

        // Whole, with every acknowledged write and none of the refused ones.
        let conn = sea_orm::Database::connect(format!("sqlite://{}", db.display())).await.unwrap();
        let backend = conn.get_database_backend();
        let check = conn.query_one_raw(Statement::from_string(backend, "PRAGMA integrity_check")).await.unwrap();
        assert_eq!(check.unwrap().try_get_by_index::<String>(0).unwrap(), "ok", "{fault}");
        let rows = conn.query_all_raw(Statement::from_string(backend, "SELECT username FROM users")).await.unwrap();
        let present: Vec<String> = rows.iter().map(|r| r.try_get_by_index(0).unwrap()).collect();
        let lost: Vec<&String> = stored.iter().filter(|n| !present.contains(n)).collect();
        assert!(lost.is_empty(), "{fault}: acknowledged writes not stored: {lost:?}");
        let kept: Vec<&String> = refused.iter().filter(|n| present.contains(n)).collect();
        assert!(kept.is_empty(), "{fault}: refused writes stored: {kept:?}");
        conn.close().await.unwrap();
    }
}
