//! `crm-host build`: run each component's `build.command`, like `spin build`.

use crate::app::manifest::Manifest;
use anyhow::{Context, bail};
use std::path::Path;
use std::process::Command;

/// Make sure the wasm32-wasip2 target is installed (machines set
/// `RUSTUP_AUTO_INSTALL=0`, so nothing else installs it).
pub fn ensure_wasm_target(dir: &Path) -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(dir)
        .output();
    let Ok(installed) = installed else {
        return Ok(()); // no rustup: the toolchain is managed some other way
    };
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == "wasm32-wasip2")
    {
        return Ok(());
    }
    println!("Installing the wasm32-wasip2 target (rustup target add wasm32-wasip2)");
    let status = Command::new("rustup")
        .args(["target", "add", "wasm32-wasip2"])
        .current_dir(dir)
        .status()
        .context("Failed to run rustup")?;
    if !status.success() {
        bail!("`rustup target add wasm32-wasip2` failed");
    }
    Ok(())
}

/// Build every component (or only `only`) that declares a build command.
pub fn build(manifest_path: &Path, only: &[String]) -> anyhow::Result<()> {
    let manifest = Manifest::load(manifest_path)?;
    ensure_wasm_target(&manifest.base_dir)?;
    for (id, component) in &manifest.components {
        if !only.is_empty() && !only.contains(id) {
            continue;
        }
        let Some(build) = &component.build else {
            println!("{id}: no build command, skipping");
            continue;
        };
        let workdir = match &build.workdir {
            Some(dir) => manifest.base_dir.join(dir),
            None => manifest.base_dir.clone(),
        };
        println!("Building component {id} with `{}`", build.command);
        let status = Command::new("sh")
            .args(["-c", &build.command])
            .current_dir(&workdir)
            .status()
            .with_context(|| format!("component `{id}`: failed to start the build command"))?;
        if !status.success() {
            bail!(
                "component `{id}`: build command `{}` failed ({status})",
                build.command
            );
        }
    }
    println!("Finished building all components");
    Ok(())
}
