//! `cargo xtask e2e`: the browser tests in `e2e/` (Playwright driving Debian's Chromium) against
//! a real `latchkey serve` on a fresh SQLite database, with a freshly built console.

use crate::{console, project_root, status};
use anyhow::{Context, bail};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const ADMIN_USERNAME: &str = "admin";
const ADMIN_PASSWORD: &str = "e2e-admin-password";
const OPERATOR_ID: &str = "e2e-operator";
const OPERATOR_SECRET: &str = "e2e-operator-secret";

/// Stops the server however the run ends.
pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run(playwright_args: &[String]) -> anyhow::Result<()> {
    let root = project_root();
    let e2e = root.join("e2e");
    if !Path::new(CHROMIUM).exists() {
        bail!("the browser tests need Debian's chromium at {CHROMIUM}: apt-get install -y chromium");
    }
    console::build()?;
    crate::build_server_binary(&[])?;
    let binary = crate::server_binary()?;
    if !e2e.join("node_modules/.bin/playwright").exists() {
        let mut c = Command::new("npm");
        c.args(["ci", "--no-audit", "--no-fund"]).current_dir(&e2e);
        status(c).context("installing the browser test packages (npm ci in e2e/)")?;
    }

    let data = std::env::temp_dir().join(format!("latchkey-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data)?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let url = format!("http://127.0.0.1:{port}");
    let log_path = e2e.join("server.log");
    let log = std::fs::File::create(&log_path)?;
    let server = Server(
        Command::new(&binary)
            .arg("serve")
            .env("LATCHKEY_BIND", format!("127.0.0.1:{port}"))
            .env("LATCHKEY_DATA_DIR", &data)
            .env("LATCHKEY_CONSOLE_DIR", root.join("frontend/dist"))
            .env("LATCHKEY_BOOTSTRAP_ADMIN_USERNAME", ADMIN_USERNAME)
            .env("LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("LATCHKEY_BOOTSTRAP_CLIENT_ID", OPERATOR_ID)
            .env("LATCHKEY_BOOTSTRAP_CLIENT_SECRET", OPERATOR_SECRET)
            .env_remove("LATCHKEY_DATABASE_URL")
            .env_remove("LATCHKEY_MASTER_KEY")
            .env_remove("LATCHKEY_PUBLIC_URL")
            .env("RUST_LOG", "info")
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?,
    );
    wait_ready(port).with_context(|| format!("the server did not start; see {}", log_path.display()))?;

    let mut c = Command::new(e2e.join("node_modules/.bin/playwright"));
    c.arg("test")
        .args(playwright_args)
        .current_dir(&e2e)
        .env("LATCHKEY_E2E_URL", &url)
        .env("LATCHKEY_E2E_ADMIN_USERNAME", ADMIN_USERNAME)
        .env("LATCHKEY_E2E_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("LATCHKEY_E2E_OPERATOR_ID", OPERATOR_ID)
        .env("LATCHKEY_E2E_OPERATOR_SECRET", OPERATOR_SECRET);
    let result = status(c);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    eprintln!("xtask: browser test artifacts (screenshots, traces) in e2e/test-results, server log in e2e/server.log");
    result.context("browser tests")
}

pub(crate) fn wait_ready(port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            write!(s, "GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("/health/ready did not answer 200 within 60 s")
}
