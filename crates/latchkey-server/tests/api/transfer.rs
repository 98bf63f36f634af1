//! `latchkey realm export` and `latchkey realm import`, run as the real binary against the
//! databases of test servers: round trips, idempotence, dry runs, bad files, `--secrets none`.

use crate::helpers::{Backend, TestApp};
use latchkey_oauth2::MasterKey;
use reqwest::Method;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};

/// The master key of the importing servers, so that the key an import generates is theirs.
const MASTER_KEY: &str = "qdzVdzcvOfAw4XW9p2SbwlhcqZhsGIkTG/OiwKD7wg8=";

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |s| s.master_key = MasterKey::from_base64(MASTER_KEY).unwrap()).await
}

/// Runs `latchkey realm ARGS` against `app`'s database, in `app`'s data dir.
fn realm_cli(app: &TestApp, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .arg("realm")
        .args(args)
        .env("LATCHKEY_DATABASE_URL", app.database_url())
        .env("LATCHKEY_DATA_DIR", app.dir())
        .env("LATCHKEY_MASTER_KEY", MASTER_KEY)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Runs and expects success; returns stdout.
fn ok(app: &TestApp, args: &[&str]) -> String {
    let out = realm_cli(app, args);
    assert!(
        out.status.success(),
        "latchkey realm {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `latchkey realm import /dev/stdin` with `input` on standard input; expects success.
fn import_stdin(app: &TestApp, input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["realm", "import", "/dev/stdin"])
        .env("LATCHKEY_DATABASE_URL", app.database_url())
        .env("LATCHKEY_DATA_DIR", app.dir())
        .env("LATCHKEY_MASTER_KEY", MASTER_KEY)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "import from stdin failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs and expects failure; returns stderr.
fn fails(app: &TestApp, args: &[&str]) -> String {
    let out = realm_cli(app, args);
    assert!(!out.status.success(), "latchkey realm {args:?} succeeded:\n{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Seeds realm `acme`: provider changes, two identities with passwords, a confidential client
/// and a public one, with owners, scopes and redirect URIs. Returns the confidential secret.
async fn seed(app: &TestApp) -> String {
    let call = |m: Method, p: &'static str, b: Value, s: u16| app.admin_call(m, p, Some(b), s);
    call(Method::POST, "/realms", json!({"name": "acme", "display_name": "Acme Corp"}), 201).await;
    call(
        Method::PATCH,
        "/realms/acme/oauth2-provider",
        json!({
            "access_token_lifetime": 900, "default_scopes": ["read"], "signing_alg": "ES256",
            "rate_limits": {"per_client": 100}, "cors_origins": ["https://app.example.com"],
        }),
        200,
    )
    .await;
    for (u, extra) in [
        ("ada", json!({"email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace"})),
        ("bob", json!({"enabled": false})),
    ] {
        let mut body = json!({"username": u, "password": format!("{u}-password-1234")});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        call(Method::POST, "/realms/acme/users", body, 201).await;
    }
    let created = call(
        Method::POST,
        "/realms/acme/applications",
        json!({
            "client_id": "svc", "client_name": "Service", "application_type": "web",
            "grant_types": ["client_credentials"], "allowed_scopes": ["read", "write"],
            "default_scopes": ["read"], "redirect_uris": ["https://svc.example.com/cb"],
            "owners": ["bob", "ada"], "access_token_lifetime": 300,
        }),
        201,
    )
    .await;
    call(
        Method::POST,
        "/realms/acme/applications",
        json!({
            "client_id": "spa-app", "client_name": "Browser app", "description": "The SPA",
            "application_type": "spa", "allowed_scopes": ["read"],
            "redirect_uris": ["https://app.example.com/callback", "http://localhost:3000/cb"],
            "owners": ["ada"],
        }),
        201,
    )
    .await;
    created["client_secret"].as_str().unwrap().to_owned()
}

/// Export, import into a fresh database, export again: the same bytes, in JSON and YAML. The
/// client secret and password hashes travel, so the imported client gets tokens with its old
/// secret. A second import changes nothing.
async fn export_import_export_is_identical(backend: Backend) {
    let src = TestApp::spawn(backend).await;
    let secret = seed(&src).await;
    let dir = tempfile::tempdir().unwrap();
    let json_file = dir.path().join("acme.json");
    let yaml_file = dir.path().join("acme.yaml");
    ok(&src, &["export", "acme", "--identities", "--output", path(&json_file)]);
    let stdout_yaml = ok(&src, &["export", "acme", "--identities", "--format", "yaml"]);
    std::fs::write(&yaml_file, &stdout_yaml).unwrap();
    let exported = std::fs::read_to_string(&json_file).unwrap();
    let doc: Value = serde_json::from_str(&exported).unwrap();
    // What the document holds, and in which order.
    assert_eq!(doc["realm"], json!({"name": "acme", "display_name": "Acme Corp", "enabled": true}));
    assert_eq!(doc["provider"]["access_token_lifetime"], 900);
    assert_eq!(doc["provider"]["default_scopes"], json!(["read"]));
    assert_eq!(doc["provider"]["signing_alg"], "ES256");
    assert_eq!(doc["provider"]["rate_limits"]["per_client"], 100);
    assert_eq!(doc["provider"]["cors_origins"], json!(["https://app.example.com"]));
    let apps = doc["applications"].as_array().unwrap();
    assert_eq!(apps.iter().map(|a| a["client_id"].as_str().unwrap()).collect::<Vec<_>>(), ["spa-app", "svc"]);
    assert_eq!(apps[1]["owners"], json!(["ada", "bob"]), "owners sorted");
    assert_eq!(apps[1]["allowed_scopes"], json!(["read", "write"]));
    assert!(apps[1]["secret_hash"].as_str().unwrap().starts_with("$argon2id$"));
    assert!(apps[0].get("secret_hash").is_none(), "a public client has no secret");
    let ids = doc["identities"].as_array().unwrap();
    assert_eq!(ids[0]["username"], "ada");
    assert_eq!(ids[0]["email"], "ada@example.com");
    assert_eq!(ids[1]["enabled"], false);
    assert!(ids.iter().all(|i| i["password_hash"].as_str().unwrap().starts_with("$argon2id$")));
    assert!(!exported.contains("created_at") && !exported.contains("kid"), "no timestamps, no keys");
    assert!(!exported.contains(&secret), "only the hash of the secret");
    // Exporting twice gives the same bytes.
    assert_eq!(ok(&src, &["export", "acme", "--identities"]), exported);

    for (file, format) in [(&json_file, "json"), (&yaml_file, "yaml")] {
        let dst = spawn(backend).await;
        dst.admin_call(Method::GET, "/realms/acme", None, 404).await;
        let report = ok(&dst, &["import", path(file)]);
        assert!(report.contains("+ realm acme"), "{report}");
        assert!(report.contains("+ application svc") && report.contains("+ identity ada"), "{report}");
        assert!(!report.contains("client_secret"), "hashes travel: no secret is generated:\n{report}");
        let again = ok(&dst, &["export", "acme", "--identities", "--format", format]);
        let original = std::fs::read_to_string(file).unwrap();
        assert_eq!(again, original, "{format} round trip");
        // The client secret still works, and the new realm signs with its fresh key.
        let token = dst.token("acme", "svc", &secret, Some("write")).await;
        let info = dst.introspect("acme", "svc", &secret, &token).await;
        assert_eq!(info["active"], true, "{info}");
        assert!(dst.token_request("acme", "svc", "wrong-secret", None).await.status() == 401);
        // A second import changes nothing; nor would a dry run.
        let dry = ok(&dst, &["import", path(file), "--dry-run"]);
        assert!(dry.contains("no changes") && dry.contains("nothing was written"), "{dry}");
        assert!(!dry.lines().any(|l| l.starts_with('+') || l.starts_with('~')), "{dry}");
        assert!(dry.contains("= identity ada (unchanged)") && dry.contains("= application svc (unchanged)"), "{dry}");
        let before = dst.admin_call(Method::GET, "/realms/acme/applications/svc", None, 200).await;
        let second = ok(&dst, &["import", path(file)]);
        assert!(second.contains("imported: no changes"), "{second}");
        let after = dst.admin_call(Method::GET, "/realms/acme/applications/svc", None, 200).await;
        assert_eq!(before, after, "not even updated_at moves");
        assert_eq!(ok(&dst, &["export", "acme", "--identities", "--format", format]), original);
    }
}

/// A dry run reports the difference and writes nothing; the real import then makes exactly it.
async fn dry_run_reports_differences_and_writes_nothing(backend: Backend) {
    let src = TestApp::spawn(backend).await;
    seed(&src).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("acme.json");
    ok(&src, &["export", "acme", "--output", path(&file)]);

    let dst = spawn(backend).await;
    // Without --identities the owners must exist in the realm already.
    let err = fails(&dst, &["import", path(&file), "--dry-run"]);
    assert!(err.contains("applications[0].owners[0]") && err.contains("nothing was written"), "{err}");
    let err = fails(&dst, &["import", path(&file)]);
    assert!(err.contains("applications[0].owners[0]") && err.contains("nothing was written"), "{err}");
    dst.admin_call(Method::GET, "/realms/acme", None, 404).await;

    // With the owners in the file, a dry run says what it would do and does nothing.
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    doc["identities"] = json!([{"username": "ada", "enabled": true}, {"username": "bob", "enabled": true}]);
    std::fs::write(&file, serde_json::to_string(&doc).unwrap()).unwrap();
    let dry = ok(&dst, &["import", path(&file), "--dry-run"]);
    assert!(dry.contains("+ realm acme") && dry.contains("+ application spa-app"), "{dry}");
    assert!(!dry.contains("client secret is generated"), "hashes travel:\n{dry}");
    assert!(dry.contains("dry run: ") && dry.contains("nothing was written"), "{dry}");
    dst.admin_call(Method::GET, "/realms/acme", None, 404).await;
    // The import applies; then a changed file shows its differences.
    let out = ok(&dst, &["import", path(&file)]);
    assert!(out.contains("+ identity ada (without a password)"), "{out}");
    doc["realm"]["display_name"] = json!("Acme Inc");
    doc["provider"]["access_token_lifetime"] = json!(1200);
    doc["provider"]["signing_alg"] = json!("EdDSA");
    doc["applications"][1]["allowed_scopes"] = json!(["read", "write", "admin"]);
    doc["applications"][1]["owners"] = json!(["ada"]);
    doc["identities"][1]["email"] = json!("bob@example.com");
    std::fs::write(&file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let dry = ok(&dst, &["import", path(&file), "--dry-run"]);
    for line in [
        r#"~ realm acme: display_name "Acme Corp" -> "Acme Inc""#,
        r#"~ provider: access_token_lifetime 900 -> 1200; signing_alg "ES256" -> "EdDSA" (the realm rotates to a new signing key)"#,
        r#"~ application svc: allowed_scopes ["read","write"] -> ["read","write","admin"]; owners ["ada","bob"] -> ["ada"]"#,
        "= application spa-app (unchanged)",
        "= identity ada (unchanged)",
        r#"~ identity bob: email null -> "bob@example.com""#,
        "dry run: 4 change(s); nothing was written",
    ] {
        assert!(dry.lines().any(|l| l == line), "missing `{line}` in:\n{dry}");
    }
    let realm = dst.admin_call(Method::GET, "/realms/acme", None, 200).await;
    assert_eq!(realm["display_name"], "Acme Corp", "the dry run wrote nothing");
    let out = ok(&dst, &["import", path(&file)]);
    assert!(out.contains("imported: 4 change(s); nothing was deleted"), "{out}");
    let app = dst.admin_call(Method::GET, "/realms/acme/applications/svc", None, 200).await;
    assert_eq!(app["allowed_scopes"], json!(["read", "write", "admin"]));
    assert_eq!(app["owners"], json!(["ada"]));
    let provider = dst.admin_call(Method::GET, "/realms/acme/oauth2-provider", None, 200).await;
    assert_eq!(provider["access_token_lifetime"], 1200);
    let keys = dst.admin_call(Method::GET, "/realms/acme/keys", None, 200).await;
    let active: Vec<&Value> = keys["items"].as_array().unwrap().iter().filter(|k| k["status"] == "active").collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["alg"], "EdDSA", "{keys}");
    // Things in the realm but not in the file are kept, and said so.
    dst.create_client("acme", "extra", &["read"]).await;
    let dry = ok(&dst, &["import", path(&file), "--dry-run"]);
    assert!(dry.contains("! application extra is in the realm, not in the file: kept"), "{dry}");
    assert!(dry.contains("dry run: no changes"), "{dry}");
}

/// A bad file fails naming the field at fault and writes nothing.
async fn bad_files_fail_naming_the_field(backend: Backend) {
    let src = TestApp::spawn(backend).await;
    seed(&src).await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    ok(&src, &["export", "acme", "--identities", "--output", path(&good)]);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&good).unwrap()).unwrap();
    let dst = spawn(backend).await;
    let cases: Vec<(&str, Box<dyn Fn(&mut Value)>, &str)> = vec![
        (
            "bad redirect URI",
            Box::new(|d| d["applications"][0]["redirect_uris"][1] = json!("not a uri")),
            "applications[0].redirect_uris[1]",
        ),
        (
            "unknown owner",
            Box::new(|d| d["applications"][1]["owners"] = json!(["ada", "zed"])),
            "applications[1].owners[1]",
        ),
        (
            "bad client id",
            Box::new(|d| d["applications"][1]["client_id"] = json!("no spaces")),
            "applications[1].client_id",
        ),
        (
            "settings rule",
            Box::new(|d| d["applications"][1]["default_scopes"] = json!(["other"])),
            "applications[1].default_scopes",
        ),
        (
            "bad hash",
            Box::new(|d| d["applications"][1]["secret_hash"] = json!("plaintext-secret")),
            "applications[1].secret_hash",
        ),
        ("bad username", Box::new(|d| d["identities"][0]["username"] = json!("a d a")), "identities[0].username"),
        ("wrong type", Box::new(|d| d["applications"][0]["enabled"] = json!("yes")), "applications[0].enabled"),
        ("unknown field", Box::new(|d| d["provider"]["colour"] = json!("red")), "provider"),
        (
            "provider rule",
            Box::new(|d| d["provider"]["access_token_lifetime"] = json!(0)),
            "provider.access_token_lifetime",
        ),
        ("bad realm name", Box::new(|d| d["realm"]["name"] = json!("Acme!")), "realm.name"),
        ("wrong format", Box::new(|d| d["format"] = json!("something-else")), "format"),
    ];
    for (what, change, field) in cases {
        let mut bad = doc.clone();
        change(&mut bad);
        let file = dir.path().join("bad.json");
        std::fs::write(&file, serde_json::to_string_pretty(&bad).unwrap()).unwrap();
        let err = fails(&dst, &["import", path(&file)]);
        assert!(err.contains(field), "{what}: the error does not name {field}:\n{err}");
        let dry = fails(&dst, &["import", path(&file), "--dry-run"]);
        assert!(dry.contains(field), "{what}: dry run:\n{dry}");
    }
    dst.admin_call(Method::GET, "/realms/acme", None, 404).await;
    // The same in YAML: the path of a type error is named too.
    let yaml = dir.path().join("bad.yaml");
    let text = ok(&src, &["export", "acme", "--identities", "--format", "yaml"]);
    std::fs::write(&yaml, text.replacen("enabled: true", "enabled: maybe", 1)).unwrap();
    let err = fails(&dst, &["import", path(&yaml)]);
    assert!(err.contains("realm.enabled"), "{err}");
    dst.admin_call(Method::GET, "/realms/acme", None, 404).await;
}

/// `--secrets none` writes no secret material. Importing such a file keeps the secret of an
/// existing client, and generates (and prints once) one for a new confidential client.
async fn secrets_none_leaves_no_secret_material(backend: Backend) {
    let src = TestApp::spawn(backend).await;
    let secret = seed(&src).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("acme.yaml");
    ok(&src, &["export", "acme", "--identities", "--secrets", "none", "--output", path(&file)]);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("client_id: svc") && text.contains("username: ada"), "{text}");
    assert!(!text.contains("$argon2") && !text.contains("_hash"), "{text}");

    // Into the source itself: nothing changes, the old secret still works.
    let same = ok(&src, &["import", path(&file)]);
    assert!(same.contains("imported: no changes"), "{same}");
    src.token("acme", "svc", &secret, None).await;

    // Into a fresh database: a new secret for svc, printed once, and it works.
    // (From standard input, as `docker compose exec -T` would pass it: YAML detected by content.)
    let dst = spawn(backend).await;
    let out = import_stdin(&dst, &text);
    let printed = out
        .lines()
        .find_map(|l| l.strip_prefix("client_secret of application svc (shown only this once): "))
        .unwrap_or_else(|| panic!("no generated secret:\n{out}"))
        .to_owned();
    assert!(!out.contains("client_secret of application spa-app"), "public clients get none:\n{out}");
    dst.token("acme", "svc", &printed, Some("read")).await;
    assert_eq!(dst.token_request("acme", "svc", &secret, None).await.status(), 401);
    let again = ok(&dst, &["import", path(&file)]);
    assert!(again.contains("imported: no changes") && !again.contains("client_secret"), "{again}");
    dst.token("acme", "svc", &printed, Some("read")).await;
    let exported = ok(&dst, &["export", "acme", "--identities"]);
    let doc: Value = serde_json::from_str(&exported).unwrap();
    assert!(doc["identities"].as_array().unwrap().iter().all(|i| i.get("password_hash").is_none()), "{exported}");
}

/// Several files in one invocation: each is applied in its own transaction, in order, with its
/// own report. A bad file stops the command, names itself, and leaves the files before it applied.
async fn several_files_import_in_one_invocation(backend: Backend) {
    let src = TestApp::spawn(backend).await;
    let secret = seed(&src).await;
    let dir = tempfile::tempdir().unwrap();
    let acme = dir.path().join("acme.json");
    ok(&src, &["export", "acme", "--identities", "--output", path(&acme)]);
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&acme).unwrap()).unwrap();
    doc["realm"]["name"] = json!("beta");
    let beta = dir.path().join("beta.json");
    std::fs::write(&beta, serde_json::to_string_pretty(&doc).unwrap()).unwrap();

    let dst = spawn(backend).await;
    let out = ok(&dst, &["import", path(&acme), path(&beta)]);
    let acme_at = out.find(&format!("== {}", path(&acme))).unwrap_or_else(|| panic!("no header for acme:\n{out}"));
    let beta_at = out.find(&format!("== {}", path(&beta))).unwrap_or_else(|| panic!("no header for beta:\n{out}"));
    assert!(acme_at < beta_at && out[acme_at..beta_at].contains("+ realm acme"), "{out}");
    assert!(out[beta_at..].contains("+ realm beta") && out[beta_at..].contains("+ application svc"), "{out}");
    assert_eq!(out.matches("imported: ").count(), 2, "{out}");
    for realm in ["acme", "beta"] {
        let token = dst.token(realm, "svc", &secret, Some("read")).await;
        assert_eq!(dst.introspect(realm, "svc", &secret, &token).await["active"], true);
    }

    // A bad file after a good one: the good one is applied, the error names the bad one.
    doc["realm"]["name"] = json!("gamma");
    let gamma = dir.path().join("gamma.json");
    std::fs::write(&gamma, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    doc["realm"]["name"] = json!("delta");
    doc["applications"][1]["client_id"] = json!("no spaces");
    let bad = dir.path().join("delta.json");
    std::fs::write(&bad, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let err = fails(&dst, &["import", path(&gamma), path(&bad)]);
    assert!(err.contains(path(&bad)) && err.contains("the 1 file(s) before it were applied"), "{err}");
    assert!(err.contains("applications[1].client_id"), "{err}");
    dst.admin_call(Method::GET, "/realms/gamma", None, 200).await;
    dst.admin_call(Method::GET, "/realms/delta", None, 404).await;
}

/// The apply is one transaction: when a write fails midway (here an owner that does not
/// exist, which validation would have caught), nothing of the realm remains.
async fn a_failed_apply_leaves_nothing(backend: Backend) {
    use latchkey_applications::{
        ApplicationSettings, ApplicationType, ClientId, SignInMethod, TokenEndpointAuthMethod,
    };
    use latchkey_core::{GrantType, ScopeSet};
    use latchkey_identities::Username;
    use latchkey_oauth2::{NewSigningKey, ProviderSettings, SigningAlg};
    use latchkey_storage::{ImportApplication, ImportUser, RealmImport, Store};
    let app = spawn(backend).await;
    let store = Store::connect(app.database_url()).await.unwrap();
    let master = MasterKey::from_base64(MASTER_KEY).unwrap();
    let user = |name: &str| Username::parse(name).unwrap();
    let import = RealmImport {
        name: latchkey_realms::RealmName::parse("atomic").unwrap(),
        new_key: Some(NewSigningKey::generate(SigningAlg::ES256, &master).unwrap()),
        realm: Some(("Atomic".into(), true)),
        provider: Some(ProviderSettings::new_realm()),
        users: vec![ImportUser {
            username: user("ada"),
            email: None,
            given_name: None,
            family_name: None,
            enabled: true,
            password_hash: None,
        }],
        applications: vec![ImportApplication {
            client_id: ClientId::parse("svc").unwrap(),
            settings: ApplicationSettings {
                client_name: "svc".into(),
                description: None,
                sign_in_method: SignInMethod::Oidc,
                application_type: ApplicationType::Web,
                grant_types: vec![GrantType::ClientCredentials],
                redirect_uris: vec![],
                allowed_scopes: ScopeSet::new(),
                default_scopes: ScopeSet::new(),
                token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
                access_token_lifetime: None,
                enabled: true,
            },
            secret_hash: None,
            owners: vec![user("ada"), user("ghost")],
        }],
    };
    assert!(store.apply_realm_import(import).await.is_err());
    assert!(store.find_realm("atomic").await.unwrap().is_none(), "the realm was rolled back");
    app.admin_call(Method::GET, "/realms/atomic", None, 404).await;
    store.close().await.unwrap();
}

both_backends!(
    export_import_export_is_identical,
    dry_run_reports_differences_and_writes_nothing,
    bad_files_fail_naming_the_field,
    secrets_none_leaves_no_secret_material,
    several_files_import_in_one_invocation,
    a_failed_apply_leaves_nothing,
);
