//! `cargo xtask console`: the console's wasm build, with tools from crates.io only.
//!
//! 1. `cargo build -p frontend --target wasm32-unknown-unknown --profile console`
//! 2. `wasm-bindgen --target web` at exactly the version in Cargo.lock (installed from crates.io
//!    on first use)
//! 3. `wasm-opt -Oz` when wasm-opt 116 (the crates.io build) is on PATH; Debian's binaryen
//!    produces a broken app and is never used
//! 4. content-hashed names under `frontend/dist/assets/`, and an `index.html` that loads them
//!    with no inline script.

use crate::{cargo, project_root, status, target_dir};
use anyhow::{Context, bail};
use std::fs;
use std::path::Path;
use std::process::Command;

/// The wasm-opt release that works here (crates.io `wasm-opt` 0.116.x bundles binaryen 116).
const WASM_OPT_MAJOR: &str = "version 116";

pub fn build() -> anyhow::Result<()> {
    let root = project_root();
    ensure_wasm_target()?;
    let bindgen_version = locked_version(&root, "wasm-bindgen")?;
    ensure_wasm_bindgen(&bindgen_version)?;

    let mut c = cargo();
    c.args(["build", "--quiet", "-p", "frontend", "--target", "wasm32-unknown-unknown", "--profile", "console"]);
    status(c).context("building the console")?;
    let wasm = target_dir()?.join("wasm32-unknown-unknown/console/frontend.wasm");
    // The build id: the compiled wasm, the stylesheet and this build's own steps. When
    // frontend/dist was made from the same, it is up to date.
    let build_id = format!(
        "{:016x}-{:016x}-{}",
        fnv1a(&fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?),
        fnv1a(&fs::read(root.join("frontend/style.css"))?),
        has_wasm_opt()
    );
    let dist = root.join("frontend/dist");
    if fs::read_to_string(dist.join("build-id")).is_ok_and(|id| id == build_id) {
        eprintln!("xtask: the console in frontend/dist is up to date");
        return Ok(());
    }

    let staging = root.join("frontend/dist.tmp");
    let _ = fs::remove_dir_all(&staging);
    let mut c = Command::new("wasm-bindgen");
    c.args(["--target", "web", "--no-typescript", "--out-name", "frontend", "--out-dir"]).arg(&staging).arg(&wasm);
    status(c)?;

    let bg = staging.join("frontend_bg.wasm");
    if has_wasm_opt() {
        let mut c = Command::new("wasm-opt");
        c.arg("-Oz");
        for feature in
            ["bulk-memory", "nontrapping-float-to-int", "sign-ext", "mutable-globals", "reference-types", "multivalue"]
        {
            c.arg(format!("--enable-{feature}"));
        }
        c.arg("-o").arg(&bg).arg(&bg);
        status(c)?;
    } else {
        eprintln!(
            "xtask: wasm-opt 116 is not installed; the console works but is larger. For the small build: \
             cargo install wasm-opt --version 0.116.1 --locked"
        );
    }

    let assets = staging.join("assets");
    fs::create_dir_all(&assets)?;
    let wasm_name = hashed(&bg, &assets, "frontend", "_bg.wasm")?;
    let js_name = hashed(&staging.join("frontend.js"), &assets, "frontend", ".js")?;
    let css_name = hashed(&root.join("frontend/style.css"), &assets, "style", ".css")?;
    if staging.join("snippets").exists() {
        fs::rename(staging.join("snippets"), assets.join("snippets"))?;
    }
    let boot = staging.join("boot.js");
    fs::write(
        &boot,
        format!(
            "import init from \"./{js_name}\";\ninit({{ module_or_path: new URL(\"./{wasm_name}\", import.meta.url) }});\n"
        ),
    )?;
    let boot_name = hashed(&boot, &assets, "boot", ".js")?;
    fs::write(
        staging.join("index.html"),
        format!(
            r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Latchkey console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/{css_name}">
<link rel="modulepreload" href="/console/assets/{js_name}">
<script type="module" src="/console/assets/{boot_name}"></script>
</head>
<body><noscript>The Latchkey console needs JavaScript and WebAssembly.</noscript></body>
</html>
"#
        ),
    )?;

    fs::write(staging.join("build-id"), &build_id)?;
    let _ = fs::remove_dir_all(&dist);
    fs::rename(&staging, &dist).context("moving the build into frontend/dist")?;
    let wasm = dist.join("assets").join(&wasm_name);
    let raw = fs::metadata(&wasm)?.len();
    eprintln!(
        "xtask: console built into frontend/dist: {wasm_name} {} KiB, {} KiB gzipped",
        raw / 1024,
        gzipped_size(&wasm)? / 1024
    );
    Ok(())
}

/// Moves `file` into `assets` as `{stem}-{hash}{suffix}` and returns the new name.
fn hashed(file: &Path, assets: &Path, stem: &str, suffix: &str) -> anyhow::Result<String> {
    let bytes = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = format!("{stem}-{:016x}{suffix}", fnv1a(&bytes));
    fs::write(assets.join(&name), bytes)?;
    if file.starts_with(assets.parent().expect("assets has a parent")) {
        fs::remove_file(file)?;
    }
    Ok(name)
}

/// FNV-1a, 64 bits: a stable content hash for cache busting (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Bytes of `file` after `gzip -9`.
fn gzipped_size(file: &Path) -> anyhow::Result<u64> {
    let out = Command::new("gzip").args(["-9", "-c"]).arg(file).output().context("running gzip")?;
    if !out.status.success() {
        bail!("gzip failed on {}", file.display());
    }
    Ok(out.stdout.len() as u64)
}

pub fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"))
        .unwrap_or(false);
    if !installed {
        eprintln!("xtask: adding the wasm32-unknown-unknown target (one time)");
        let mut c = Command::new("rustup");
        c.args(["target", "add", "wasm32-unknown-unknown"]);
        status(c)?;
    }
    Ok(())
}

/// wasm-bindgen's CLI must be exactly the crate's version; installs it from crates.io if not.
fn ensure_wasm_bindgen(version: &str) -> anyhow::Result<()> {
    let current = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if current.as_deref() == Some(&format!("wasm-bindgen {version}")) {
        return Ok(());
    }
    eprintln!(
        "xtask: installing wasm-bindgen-cli {version} from crates.io (one time, a few minutes; found {:?})",
        current.unwrap_or_else(|| "none".into())
    );
    // Not --locked: its lock file pins a crate version that crates.io no longer has.
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.args(["install", "--quiet", "wasm-bindgen-cli", "--version", version]);
    // Its own target directory, not the workspace's shared one.
    c.env_remove("CARGO_TARGET_DIR");
    status(c).context("installing wasm-bindgen-cli")
}

fn has_wasm_opt() -> bool {
    Command::new("wasm-opt")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(WASM_OPT_MAJOR))
}

/// The version of `package` that Cargo.lock pins.
fn locked_version(root: &Path, package: &str) -> anyhow::Result<String> {
    let lock = fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"")
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    bail!("{package} is not in Cargo.lock")
}
