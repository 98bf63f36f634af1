//! `cargo xtask dist`: the release build that ships, in one place. The Dockerfile's builder
//! stage runs exactly this command and copies `dist/` into the image; `cargo xtask ci` runs it
//! too, so CI proves the image's build commands on every run.
//!
//! `dist/latchkey` is the release server binary (`cargo build --release --locked`), and
//! `dist/console/` the console as `cargo xtask console` builds it.

use crate::{console, project_root};
use anyhow::Context;
use std::fs;
use std::path::Path;

pub fn build() -> anyhow::Result<()> {
    let root = project_root();
    console::build()?;
    crate::build_server_binary(&["--locked"])?;
    let dist = root.join("dist");
    let _ = fs::remove_dir_all(&dist);
    fs::create_dir_all(&dist)?;
    let binary = crate::server_binary()?;
    fs::copy(&binary, dist.join("latchkey")).with_context(|| format!("copying {}", binary.display()))?;
    copy_dir(&root.join("frontend/dist"), &dist.join("console"))?;
    // The build id is the console build's own bookkeeping, not an asset.
    let _ = fs::remove_file(dist.join("console/build-id"));
    eprintln!("xtask: dist/latchkey and dist/console are ready (what the docker image copies)");
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target).with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}
