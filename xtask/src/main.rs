//! `cargo xtask`: Latchkey's one task runner.
//!
//! - `cargo xtask run [ARGS…]`: build the console and start `latchkey serve` on the embedded
//!   database.
//! - `cargo xtask console`: build the console (wasm) into `frontend/dist`.
//! - `cargo xtask test`: every test: unit, integration on SQLite and PostgreSQL, browser, and
//!   every fuzz target for 60 s.
//! - `cargo xtask e2e [ARGS…]`: the browser tests only, against a fresh server.
//! - `cargo xtask tidy`: architecture boundaries, clippy, formatting and the docker files.
//! - `cargo xtask compose-check`: the docker files only (docker-compose.yml, Dockerfile).
//! - `cargo xtask dist`: the release server binary and the console into `dist/` (the Dockerfile
//!   runs it).
//! - `cargo xtask fuzz [--seconds N] [--merge] [TARGET…]`: the fuzz targets in `fuzz/`, 60 s each.
//! - `cargo xtask ci`: what `.ci/run` runs (tidy, dist, then test).
//! - `cargo xtask bench [--quick] [--only NAME] [--backend sqlite|postgres|both] [--memory-minutes N]`:
//!   the load benchmark (wrk) of Latchkey beside a peer (oidc-provider) and a floor (bare actix).
//!
//! Everything that runs the server builds the release profile, so CI compiles one profile only.

mod bench;
mod compose;
mod console;
mod dist;
mod e2e;
mod fuzz;
mod schemathesis;

use anyhow::{Context, bail};
use std::env;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn main() -> anyhow::Result<()> {
    ensure_own_build()?;
    let mut args = env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match task.as_str() {
        "run" => run(&rest),
        "console" => console::build(),
        "test" => test(&rest),
        "e2e" => e2e::run(&rest),
        "tidy" => tidy(),
        "compose-check" => compose::check(),
        "dist" => dist::build(),
        "bench" => bench::run(&rest),
        "soak" => bench::soak::run(&rest),
        "fuzz" => fuzz::run(&rest),
        "schemathesis" => schemathesis::run(&rest),
        "ci" => {
            tidy()?;
            // The docker image's build command, so that CI proves it works.
            dist::build()?;
            test(&rest)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <run|console|test|e2e|tidy|compose-check|dist|ci|schemathesis|fuzz|bench|soak>"
            );
            eprintln!(
                "  run      build the console and start `latchkey serve` (console and endpoints on SQLite in ./data)"
            );
            eprintln!("  console  build the console into frontend/dist");
            eprintln!(
                "  test     every test: Rust on SQLite and PostgreSQL (which must be reachable), then the browser tests, Schemathesis against the API description and 60 s of each fuzz target"
            );
            eprintln!("  e2e      the browser tests only, against a fresh server");
            eprintln!("  tidy     architecture boundaries, clippy, formatting and compose-check");
            eprintln!(
                "  compose-check  docker-compose.yml (Compose schema and our rules) and the Dockerfile (hadolint)"
            );
            eprintln!("  dist     the release server binary and the console into dist/: what the Dockerfile runs");
            eprintln!("  ci       tidy, dist, then test: what .ci/run runs");
            eprintln!(
                "  schemathesis  Schemathesis against /admin/v1/openapi.json: every phase and check [--max-examples N] [--seed N]"
            );
            eprintln!("  fuzz     every fuzz target 60 s (libFuzzer) [--seconds N] [--merge] [TARGET…]");
            eprintln!(
                "  bench    load benchmark against a peer and a floor [--quick] [--only NAME] [--backend sqlite|postgres|both] [--memory-minutes N] [--no-peer]"
            );
            eprintln!(
                "  soak     10 minutes of mixed load (tokens, introspection, admin reads and writes): no error, memory and fds flat [--minutes N] [--backend sqlite|postgres]"
            );
            bail!("unknown task `{task}`")
        }
    }
}

/// Packages built for the host: every one but the wasm console.
const HOST: [&str; 3] = ["--workspace", "--exclude", "frontend"];

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

/// Clones that share one target directory share `target/debug/xtask`, and cargo does not copy a
/// fresh build over another clone's binary. If this binary was built from another clone, make
/// this clone's xtask out of date and run it through cargo instead (once).
fn ensure_own_build() -> anyhow::Result<()> {
    let root = project_root();
    if Path::new(env!("CARGO_MANIFEST_DIR")) == root.join("xtask") || env::var_os("XTASK_REBUILT").is_some() {
        return Ok(());
    }
    touch(&root.join("xtask/src/main.rs"))?;
    let s = cargo()
        .args(["xtask"])
        .args(env::args().skip(1))
        .env("XTASK_REBUILT", "1")
        .status()
        .context("re-running this clone's xtask")?;
    std::process::exit(s.code().unwrap_or(1));
}

/// Sets a file's modification time to now, so that cargo rebuilds what it belongs to.
fn touch(path: &Path) -> anyhow::Result<()> {
    let f = std::fs::File::options().write(true).open(path).with_context(|| format!("opening {}", path.display()))?;
    f.set_modified(std::time::SystemTime::now())?;
    Ok(())
}

/// Builds the release `latchkey` binary and makes sure `target/release/latchkey` is this
/// clone's: with a target directory shared between clones, cargo would leave another clone's
/// binary there. Release, like the tests (`--cargo-profile release`): CI builds one profile.
fn build_server_binary(extra: &[&str]) -> anyhow::Result<()> {
    touch(&project_root().join("crates/latchkey-server/src/main.rs"))?;
    let mut c = cargo();
    c.args(["build", "--quiet", "--release", "-p", "latchkey-server", "--bin", "latchkey"]).args(extra);
    status(c)
}

/// The `latchkey` binary [`build_server_binary`] builds.
fn server_binary() -> anyhow::Result<std::path::PathBuf> {
    Ok(target_dir()?.join("release/latchkey"))
}

/// Cargo's target directory (honours CARGO_TARGET_DIR).
fn target_dir() -> anyhow::Result<std::path::PathBuf> {
    let out = cargo().args(["metadata", "--format-version", "1", "--no-deps"]).output()?;
    let meta = String::from_utf8(out.stdout)?;
    let key = "\"target_directory\":\"";
    let start = meta.find(key).context("cargo metadata has no target_directory")? + key.len();
    let end = start + meta[start..].find('"').context("unterminated target_directory")?;
    Ok(std::path::PathBuf::from(&meta[start..end]))
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
    console::build()?;
    build_server_binary(&[])?;
    let mut c = Command::new(server_binary()?);
    c.arg("serve").args(args).current_dir(project_root());
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
    // The process tests run target/release/latchkey (CARGO_BIN_EXE_latchkey of this profile).
    build_server_binary(&[])?;
    // Doc tests first (nextest does not run them), so that nextest's summary closes the output.
    let mut c = cargo();
    c.args(["test", "--doc", "--quiet", "--release"]).args(HOST);
    status(c)?;
    let mut c = cargo();
    c.args(["nextest", "run", "--no-fail-fast", "--cargo-profile", "release"]).args(HOST).args(args);
    let rust = status(c);
    // The browser tests, Schemathesis and the fuzz targets run even when a Rust test failed, so
    // one run reports everything.
    let browser = e2e::run(&[]);
    let api = schemathesis::run(&[]);
    let fuzzing = fuzz::run(&[]);
    rust.and(browser).and(api).and(fuzzing)
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
    console::ensure_wasm_target()?;
    let mut c = cargo();
    c.args(["check", "--quiet", "-p", "latchkey-api-types", "--target", "wasm32-unknown-unknown"]);
    status(c)?;
    let mut c = cargo();
    c.args(["clippy", "--all-targets", "--quiet"]).args(HOST).args(["--", "-D", "warnings"]);
    status(c).context("clippy")?;
    let mut c = cargo();
    c.args(["clippy", "--quiet", "-p", "frontend", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"]);
    status(c).context("clippy (console)")?;
    let mut c = cargo();
    c.args(["fmt", "--all", "--check"]);
    status(c).context("formatting: run `cargo fmt --all`")?;
    // The fuzz targets are a workspace of their own.
    let mut c = cargo();
    c.args(["fmt", "--check", "--manifest-path", "fuzz/Cargo.toml"]);
    status(c).context("formatting: run `cargo fmt --manifest-path fuzz/Cargo.toml`")?;
    compose::check()?;
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

/// Python tools pinned from PyPI in a virtualenv of their own under
/// `~/.cache/latchkey-tools/{name}`, installed once per set of pins; returns its `bin` directory.
fn python_tools(name: &str, pins: &[&str]) -> anyhow::Result<std::path::PathBuf> {
    let home = env::var_os("HOME").context("HOME is not set")?;
    let venv = std::path::PathBuf::from(home).join(".cache/latchkey-tools").join(name);
    let (bin, stamp) = (venv.join("bin"), venv.join("latchkey-pins"));
    let wanted = pins.join(" ");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return Ok(bin);
    }
    eprintln!("xtask: installing {wanted} from PyPI into {} (one time)", venv.display());
    let _ = std::fs::remove_dir_all(&venv);
    let mut c = Command::new("python3");
    c.args(["-m", "venv"]).arg(&venv);
    status(c).context("creating a Python virtualenv (on Debian: apt-get install -y python3-venv)")?;
    let mut c = Command::new(bin.join("pip"));
    c.args(["install", "--quiet", "--disable-pip-version-check"]).args(pins);
    status(c).with_context(|| format!("installing {wanted} from PyPI"))?;
    std::fs::write(&stamp, wanted)?;
    Ok(bin)
}
