//! `cargo xtask`: Latchkey's one task runner.
//!
//! - `cargo xtask run [ARGS…]`: build and start `latchkey serve` on the embedded database.
//! - `cargo xtask test`: every test: unit, integration on SQLite and PostgreSQL, boundaries.
//! - `cargo xtask tidy`: architecture boundaries, clippy and formatting.
//! - `cargo xtask ci`: what `.ci/run` runs (tidy, then test).

use anyhow::{Context, bail};
use std::env;
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

fn main() -> anyhow::Result<()> {
    let mut args = env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match task.as_str() {
        "run" => run(&rest),
        "test" => test(&rest),
        "tidy" => tidy(),
        "ci" => {
            tidy()?;
            test(&rest)
        }
        _ => {
            eprintln!("usage: cargo xtask <run|test|tidy|ci>");
            eprintln!("  run   build and start `latchkey serve` (console and endpoints on SQLite in ./data)");
            eprintln!("  test  every test, on SQLite and PostgreSQL (PostgreSQL must be reachable)");
            eprintln!("  tidy  architecture boundaries and formatting");
            eprintln!("  ci    tidy, then test: what .ci/run runs");
            bail!("unknown task `{task}`")
        }
    }
}

fn cargo() -> Command {
    let mut c = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(project_root());
    c
}

/// The workspace root, asked of cargo at run time: a path baked in at compile time would be
/// wrong when several clones share one target directory (as CI's does).
fn project_root() -> std::path::PathBuf {
    let out = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .output()
        .expect("cargo locate-project runs");
    let manifest = String::from_utf8(out.stdout).expect("a UTF-8 path");
    std::path::Path::new(manifest.trim()).parent().expect("Cargo.toml has a folder").to_owned()
}

fn status(mut c: Command) -> anyhow::Result<()> {
    let shown = format!("{c:?}");
    let s = c.status().with_context(|| format!("running {shown}"))?;
    if !s.success() {
        bail!("{shown} failed: {s}");
    }
    Ok(())
}

fn run(args: &[String]) -> anyhow::Result<()> {
    let mut c = cargo();
    c.args(["run", "--package", "latchkey-server", "--bin", "latchkey", "--", "serve"]).args(args);
    status(c)
}

/// Where the tests find PostgreSQL (the same default as the test kit).
fn postgres_reachable() -> bool {
    let addr = env::var("LATCHKEY_TEST_POSTGRES_ADDR").unwrap_or_else(|_| "127.0.0.1:5432".into());
    addr.parse().ok().is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
}

fn ensure_postgres() -> anyhow::Result<()> {
    if postgres_reachable() {
        return Ok(());
    }
    eprintln!("xtask: PostgreSQL is not answering on 127.0.0.1:5432; trying to start the local cluster");
    let _ = Command::new("sh")
        .arg("-c")
        .arg("pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -n1) main start")
        .status();
    for _ in 0..30 {
        if postgres_reachable() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    bail!(
        "PostgreSQL is unreachable at 127.0.0.1:5432. The PostgreSQL suite never skips: start PostgreSQL \
         (trust auth for user postgres) or point LATCHKEY_TEST_POSTGRES_URL at one."
    )
}

fn test(args: &[String]) -> anyhow::Result<()> {
    ensure_postgres()?;
    // Doc tests first (nextest does not run them), so that nextest's summary closes the output.
    let mut c = cargo();
    c.args(["test", "--workspace", "--doc", "--quiet"]);
    status(c)?;
    let mut c = cargo();
    c.args(["nextest", "run", "--workspace", "--no-fail-fast"]).args(args);
    status(c)
}

/// Crates that must not know HTTP or SQL.
const DOMAIN_CRATES: &[&str] =
    &["latchkey-core", "latchkey-realms", "latchkey-applications", "latchkey-identities", "latchkey-oauth2"];

fn tidy() -> anyhow::Result<()> {
    // Boundaries, as invariants checked on the real dependency graph.
    for krate in DOMAIN_CRATES.iter().chain(["latchkey-api-types"].iter()) {
        for forbidden in ["actix-web", "sea-orm", "sqlx"] {
            forbid_dependency(krate, forbidden)?;
        }
    }
    // Only the server knows HTTP.
    forbid_dependency("latchkey-storage", "actix-web")?;
    // The API types crate is serde only, so the wasm console can share it.
    let out = cargo()
        .args(["tree", "-p", "latchkey-api-types", "-e", "normal", "--depth", "1", "--prefix", "none"])
        .output()?;
    let tree = String::from_utf8(out.stdout)?;
    let deps: Vec<&str> = tree.lines().skip(1).map(|l| l.split_whitespace().next().unwrap_or("")).collect();
    if deps.iter().any(|d| *d != "serde") {
        bail!("latchkey-api-types may depend on serde only, found: {deps:?}");
    }
    let mut c = cargo();
    c.args(["check", "--quiet", "-p", "latchkey-api-types", "--target", "wasm32-unknown-unknown"]);
    if Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"))
        .unwrap_or(false)
    {
        status(c)?;
    } else {
        bail!("the wasm32-unknown-unknown target is missing: rustup target add wasm32-unknown-unknown");
    }
    let mut c = cargo();
    c.args(["clippy", "--workspace", "--all-targets", "--quiet", "--", "-D", "warnings"]);
    status(c).context("clippy")?;
    let mut c = cargo();
    c.args(["fmt", "--all", "--check"]);
    status(c).context("formatting: run `cargo fmt --all`")?;
    eprintln!("xtask: tidy passed");
    Ok(())
}

fn forbid_dependency(krate: &str, forbidden: &str) -> anyhow::Result<()> {
    let out = cargo().args(["tree", "-p", krate, "-e", "normal", "-i", forbidden, "--quiet"]).output()?;
    // `cargo tree -i` fails when the package is not in the graph at all: that is the good case.
    if out.status.success() && !out.stdout.is_empty() {
        bail!("{krate} must not depend on {forbidden}:\n{}", String::from_utf8_lossy(&out.stdout));
    }
    Ok(())
}
