//! Test support: build the guest components once, start crm-host in-process
//! on 127.0.0.1:0 with a temp state dir (or as a `crm-host up` process), and talk HTTP to it.

pub mod app_process;
pub mod backends;
mod builder;
pub mod redis_server;
pub mod secrets;
mod test_app;

pub use builder::{AUTH_STORE_FILE, AppBuilder, app, fixtures};
pub use test_app::TestApp;

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `spin` from PATH, if there is one (the project never installs it; tests that need it
/// skip without it, even under `CI=true`).
pub fn spin_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("spin"))
        .find(|candidate| candidate.is_file())
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Where the tests build their .wasm files: a target dir of their own, so
/// the outer cargo's lock is never waited on.
pub fn test_target_dir() -> PathBuf {
    repo_root().join("target").join("test-wasm")
}

/// Build every guest package once per test process; cargo's own lock and
/// fingerprints make the later processes of a run no-ops.
pub fn build_components() -> &'static Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = std::process::Command::new(cargo)
            .current_dir(repo_root())
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "--target-dir",
            ])
            .arg(test_target_dir())
            .args([
                "-p",
                "health",
                "-p",
                "auth",
                "-p",
                "clients",
                "-p",
                "docs",
                "-p",
                "loops-sync",
            ])
            .args(["-p", "fixture-probe", "-p", "fixture-hello"])
            .output()
            .map_err(|e| format!("failed to run cargo: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "guest build failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(test_target_dir().join("wasm32-wasip2").join("release"))
    })
}

/// Which manifest to serve.
#[derive(Clone, Copy, Debug)]
pub enum Manifest {
    /// The application's own spin.toml.
    App,
    /// tests/fixtures/spin.toml: probe components for host behaviour.
    Fixtures,
    /// tests/conformance/spin.toml: the points where crm-host must answer as Spin does.
    Conformance,
}

/// A change to the manifest (as TOML) before it is served.
pub type ManifestEdit = Box<dyn FnOnce(&mut toml::Table)>;

/// Apply the repository's migrations to the databases the app will use: its `default`
/// SQLite database (as `crm-host up` does) and PostgreSQL when configured (as the deploy
/// step does).
async fn migrate_app(
    manifest_path: &Path,
    runtime_config_file: Option<&Path>,
    state_dir: &Path,
    postgres_url: Option<&str>,
) -> anyhow::Result<()> {
    use crm_host::migrate::{Database, Migrations};
    let sqlite = Database::app_default(manifest_path, runtime_config_file, Some(state_dir))?;
    let postgres = postgres_url.map(|url| Database::Postgres(url.to_owned()));
    for database in std::iter::once(sqlite).chain(postgres) {
        let dir = repo_root()
            .join("migrations")
            .join(database.dialect().dir_name());
        Migrations::load(&dir)
            .await?
            .up(&database, None)
            .await
            .with_context(|| format!("Failed to migrate {}", database.describe()))?;
    }
    Ok(())
}

/// Write `manifest` into `dir` as spin.toml, its component sources pointed at `wasm_dir`,
/// then changed by `edit`.
pub fn write_manifest(
    manifest: Manifest,
    wasm_dir: &Path,
    dir: &Path,
    edit: Option<ManifestEdit>,
) -> anyhow::Result<PathBuf> {
    let source = match manifest {
        Manifest::App => repo_root().join("spin.toml"),
        Manifest::Fixtures => repo_root().join("tests/fixtures/spin.toml"),
        Manifest::Conformance => repo_root().join("tests/conformance/spin.toml"),
    };
    let text = std::fs::read_to_string(&source)
        .with_context(|| format!("reading {}", source.display()))?;
    let mut table: toml::Table = toml::from_str(&text)?;
    if let Some(components) = table.get_mut("component").and_then(|c| c.as_table_mut()) {
        for (_, component) in components.iter_mut() {
            let Some(src) = component.get("source").and_then(|s| s.as_str()) else {
                continue;
            };
            let file = Path::new(src)
                .file_name()
                .context("source has no file name")?;
            let abs = wasm_dir.join(file).to_string_lossy().into_owned();
            component
                .as_table_mut()
                .context("component is a table")?
                .insert("source".into(), abs.into());
        }
    }
    if let Some(edit) = edit {
        edit(&mut table);
    }
    let path = dir.join("spin.toml");
    std::fs::write(&path, toml::to_string(&table)?)?;
    Ok(path)
}

/// The manifest edit of [`AppBuilder::with_probe`].
fn add_verifier_probe(manifest: &mut toml::Table) {
    let source = build_components()
        .as_ref()
        .map(|dir| dir.join("fixture_probe.wasm"))
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let probe: toml::Table = toml::from_str(&format!(
        "source = {source}\n\
         key_value_stores = [\"default\"]\n\
         allowed_outbound_hosts = [\"http://auth.spin.internal\"]\n\
         [variables]\n\
         jwt_issuer = \"{{{{ jwt_issuer }}}}\"\n\
         jwt_audience = \"{{{{ jwt_audience }}}}\"\n",
        source = toml::Value::String(source),
    ))
    .expect("the probe's manifest entry is TOML");
    if let Some(components) = manifest.get_mut("component").and_then(|c| c.as_table_mut()) {
        components.insert("probe".into(), probe.into());
    }
    let trigger: toml::Table =
        toml::from_str("route = \"/probe/...\"\ncomponent = \"probe\"\n").expect("TOML");
    if let Some(triggers) = manifest
        .get_mut("trigger")
        .and_then(|t| t.get_mut("http"))
        .and_then(|h| h.as_array_mut())
    {
        triggers.push(trigger.into());
    }
}
