//! `cargo xtask fuzz [--seconds N] [--merge] [TARGET…]`: runs the cargo-fuzz (libFuzzer)
//! targets in `fuzz/`, each for N seconds (60 by default), every parser of untrusted input.
//!
//! The committed corpus `fuzz/corpus/TARGET` seeds each run; what a run finds goes to a scratch
//! corpus under the target directory, so a run leaves the work tree as it was. `--merge` then
//! minimises the scratch corpus into the committed one (libFuzzer's `-merge=1`). A crash fails
//! the task, with the input that caused it in `fuzz/artifacts/TARGET/`.
//!
//! cargo-fuzz is installed from crates.io on first use. The stable toolchain builds the targets
//! (`RUSTC_BOOTSTRAP=1` lets it take cargo-fuzz's `-Z` flags); no sanitizer, since the code
//! under test is safe Rust, but with debug assertions, so that overflows are found too.

use crate::{project_root, status, target_dir};
use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

pub const TARGETS: [&str; 7] =
    ["oauth_form", "basic_credentials", "bearer_token", "scope", "redirect_uri", "jwt", "admin_json"];

const CARGO_FUZZ: &str = "0.13.2";

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut seconds = 60u64;
    let mut merge = false;
    let mut targets = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => seconds = it.next().context("--seconds N")?.parse().context("--seconds N")?,
            "--merge" => merge = true,
            t if TARGETS.contains(&t) => targets.push(t),
            other => bail!("unknown fuzz argument `{other}`; targets: {}", TARGETS.join(", ")),
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    ensure_cargo_fuzz()?;
    let root = project_root();
    let out = target_dir()?.join("fuzz");
    for target in targets {
        let scratch = out.join("corpus").join(target);
        std::fs::create_dir_all(&scratch)?;
        let seeds = root.join("fuzz/corpus").join(target);
        let mut c = cargo_fuzz(target, &out);
        c.arg(&scratch).arg(&seeds).arg("--").arg(format!("-max_total_time={seconds}")).args([
            "-max_len=16384",
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
        ]);
        let summary = run_logged(c, &out.join(format!("{target}.log")))
            .with_context(|| format!("fuzz target {target}: see fuzz/artifacts/{target}/ for the input"))?;
        eprintln!("xtask: fuzz {target}: {summary}, no crash");
        if merge {
            let mut c = cargo_fuzz(target, &out);
            c.arg(&seeds).arg(&scratch).args(["--", "-merge=1"]);
            c.stdout(Stdio::null()).stderr(Stdio::null());
            status(c)?;
        }
    }
    Ok(())
}

/// `cargo fuzz run TARGET` with the build options, its build in `out/build`.
fn cargo_fuzz(target: &str, out: &std::path::Path) -> Command {
    let mut c = crate::cargo();
    c.args(["fuzz", "run", target, "--sanitizer", "none", "--debug-assertions", "--target-dir"]).arg(out.join("build"));
    c.env("RUSTC_BOOTSTRAP", "1");
    c
}

/// Runs `c` (a `cargo fuzz run`) with its output in `log`; returns libFuzzer's final counts.
fn run_logged(mut c: Command, log: &std::path::Path) -> anyhow::Result<String> {
    let mut child = c.stderr(Stdio::piped()).stdout(Stdio::null()).spawn().context("running cargo fuzz")?;
    let mut file = std::fs::File::create(log)?;
    let (mut runs, mut time) = (String::new(), String::new());
    for line in BufReader::new(child.stderr.take().expect("piped")).lines() {
        let line = line?;
        use std::io::Write;
        writeln!(file, "{line}")?;
        if let Some(v) = line.strip_prefix("stat::number_of_executed_units: ") {
            runs = v.trim().to_owned();
        }
        if let Some(v) = line.strip_prefix("stat::average_exec_per_sec: ") {
            time = v.trim().to_owned();
        }
    }
    let s = child.wait()?;
    if !s.success() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        eprintln!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        bail!("cargo fuzz failed ({s}); the whole output is in {}", log.display());
    }
    Ok(format!("{runs} inputs ({time}/s)"))
}

fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    let found = Command::new("cargo").args(["fuzz", "--version"]).output();
    if found.is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(CARGO_FUZZ)) {
        return Ok(());
    }
    eprintln!("xtask: installing cargo-fuzz {CARGO_FUZZ} from crates.io (one time)");
    let mut c = Command::new("cargo");
    c.args(["install", "cargo-fuzz", "--version", CARGO_FUZZ, "--locked"]);
    status(c)
}
