//! `cargo xtask schemathesis`: Schemathesis (pinned, from PyPI, in a virtualenv of its own)
//! against a fresh `latchkey serve` on SQLite, reading the server's own API description at
//! `/admin/v1/openapi.json`. Every phase runs: the documented examples, coverage of the schema's
//! edges, random fuzzing, and stateful sequences along the links Schemathesis infers (create a
//! realm, then read, change and delete it). Every check runs: no 5xx, status codes, content types,
//! headers and bodies as documented, invalid input refused, valid input accepted, missing
//! credentials refused. Admin calls carry an operator's admin token (e2e/schemathesis's hooks).
//! Then `check_answers.py` fails the task unless every documented operation was called and
//! answered with a success at least once (one only ever refused had its logic go untested).
//! Any failure fails the task; the reports (JUnit, and a pytest file reproducing each failure)
//! go to `schemathesis/` under cargo's target directory, the server log beside them.

use crate::e2e::{Server, wait_ready};
use crate::{project_root, status};
use anyhow::{Context, bail};
use std::fs;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

const SCHEMATHESIS: &str = "schemathesis==4.32.5";
const OPERATOR_ID: &str = "schemathesis-operator";
const OPERATOR_SECRET: &str = "schemathesis-operator-secret-0123";
const CLIENT_ID: &str = "schemathesis-client";
const CLIENT_SECRET: &str = "schemathesis-client-secret-0123456";
const USAGE: &str = "usage: cargo xtask schemathesis [--max-examples N] [--seed N]";

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let (mut max_examples, mut seed) = ("25".to_owned(), None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = it.next().with_context(|| format!("{arg} needs a value\n{USAGE}"))?;
        match arg.as_str() {
            "--max-examples" => max_examples = value.clone(),
            "--seed" => seed = Some(value.clone()),
            _ => bail!("unknown argument `{arg}`\n{USAGE}"),
        }
    }
    let bin = ensure_installed()?;
    crate::build_server_binary(&[])?;
    let binary = crate::server_binary()?;
    let out = crate::target_dir()?.join("schemathesis");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out)?;

    let data = std::env::temp_dir().join(format!("latchkey-schemathesis-{}", std::process::id()));
    let _ = fs::remove_dir_all(&data);
    fs::create_dir_all(&data)?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let url = format!("http://127.0.0.1:{port}");
    let log_path = out.join("server.log");
    let log = fs::File::create(&log_path)?;
    let server = Server(
        Command::new(&binary)
            .arg("serve")
            .env("LATCHKEY_BIND", format!("127.0.0.1:{port}"))
            .env("LATCHKEY_DATA_DIR", &data)
            .env("LATCHKEY_BOOTSTRAP_CLIENT_ID", OPERATOR_ID)
            .env("LATCHKEY_BOOTSTRAP_CLIENT_SECRET", OPERATOR_SECRET)
            .env_remove("LATCHKEY_DATABASE_URL")
            .env_remove("LATCHKEY_MASTER_KEY")
            .env_remove("LATCHKEY_PUBLIC_URL")
            .env("RUST_LOG", "warn")
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?,
    );
    wait_ready(port).with_context(|| format!("the server did not start; see {}", log_path.display()))?;

    let mut c = Command::new(bin.join("schemathesis"));
    let config = project_root().join("e2e/schemathesis/schemathesis.toml");
    c.arg("--config-file")
        .arg(config)
        .args(["--no-color", "run"])
        .arg(format!("{url}/admin/v1/openapi.json"))
        .args(["--url", &url, "--checks", "all", "--max-examples", &max_examples, "--workers", "1"])
        .args(["--request-timeout", "30", "--report", "junit,pytest", "--report-dir"])
        .arg(&out)
        // Its cache (`.schemathesis/`) goes beside the reports, not into the checkout.
        .current_dir(&out)
        .env("PYTHONPATH", project_root().join("e2e/schemathesis"))
        .env("SCHEMATHESIS_HOOKS", "latchkey_hooks")
        .env("LATCHKEY_ST_URL", &url)
        .env("LATCHKEY_ST_OPERATOR_ID", OPERATOR_ID)
        .env("LATCHKEY_ST_OPERATOR_SECRET", OPERATOR_SECRET)
        .env("LATCHKEY_ST_CLIENT_ID", CLIENT_ID)
        .env("LATCHKEY_ST_CLIENT_SECRET", CLIENT_SECRET);
    if let Some(seed) = &seed {
        c.args(["--seed", seed]);
    }
    let result = status(c).and_then(|()| {
        let mut check = Command::new(bin.join("python"));
        check
            .arg(project_root().join("e2e/schemathesis/check_answers.py"))
            .arg(project_root().join("crates/latchkey-server/src/openapi.json"))
            .arg(out.join("responses.json"));
        status(check).context("every operation reached")
    });
    drop(server);
    let _ = fs::remove_dir_all(&data);
    eprintln!("xtask: Schemathesis reports and the server log in {}", out.display());
    result.context("Schemathesis against /admin/v1/openapi.json")
}

/// Schemathesis in a virtualenv of its own; returns its `bin` directory.
fn ensure_installed() -> anyhow::Result<PathBuf> {
    crate::python_tools("schemathesis", &[SCHEMATHESIS])
}
