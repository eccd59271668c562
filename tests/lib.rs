//! Test support: build the guest components once, start crm-host in-process
//! on 127.0.0.1:0 with a temp state dir, and talk HTTP to it.

pub mod backends;
pub mod redis_server;

use anyhow::Context;
use crm_host::{RunningServer, UpOptions, VariableSources};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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
            .args(["-p", "health", "-p", "fixture-probe", "-p", "fixture-hello"])
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

/// Builder for a test app.
pub struct AppBuilder {
    manifest: Manifest,
    cli: Vec<(String, String)>,
    env: Vec<(String, String)>,
    dotenv: Option<String>,
    runtime_config: Option<String>,
    edit_manifest: Option<ManifestEdit>,
    pg_pool: crm_host::PgPoolSettings,
    limits: crm_host::Limits,
    admin: bool,
    /// Apply the repository's migrations before starting (the app manifest's default).
    migrate: bool,
    /// The PostgreSQL database the app is pointed at by `backends`, to migrate too.
    postgres_url: Option<String>,
}

/// A running crm-host and what the test needs to reach it.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The admin listener (`/metrics`), when the builder asked for one.
    pub admin_addr: Option<SocketAddr>,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    server: Option<RunningServer>,
}

/// The fixture app with its one required variable (`api_token`) set.
pub fn fixtures() -> AppBuilder {
    app(Manifest::Fixtures).variable("api_token", "t")
}

pub fn app(manifest: Manifest) -> AppBuilder {
    AppBuilder {
        manifest,
        cli: vec![],
        env: vec![],
        dotenv: None,
        runtime_config: None,
        edit_manifest: None,
        pg_pool: crm_host::PgPoolSettings::default(),
        limits: crm_host::Limits::default(),
        admin: false,
        migrate: matches!(manifest, Manifest::App),
        postgres_url: None,
    }
}

impl AppBuilder {
    /// `--variable name=value`.
    pub fn variable(mut self, name: &str, value: &str) -> Self {
        self.cli.push((name.into(), value.into()));
        self
    }

    /// An environment variable as the host would see it (e.g. `SPIN_VARIABLE_X`).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Contents of a `.env` file.
    pub fn dotenv(mut self, text: &str) -> Self {
        self.dotenv = Some(text.into());
        self
    }

    /// A runtime-config.toml, written beside the manifest.
    pub fn runtime_config(mut self, text: &str) -> Self {
        self.runtime_config = Some(text.into());
        self
    }

    /// Size and wait timeout of the PostgreSQL connection pools.
    pub fn pg_pool(mut self, max_size: usize, wait: std::time::Duration) -> Self {
        self.pg_pool = crm_host::PgPoolSettings { max_size, wait };
        self
    }

    /// Change the listener's limits (request timeout, caps, body size).
    pub fn limits(mut self, change: impl FnOnce(&mut crm_host::Limits)) -> Self {
        change(&mut self.limits);
        self
    }

    /// Also start the admin listener (`GET /metrics`) on an ephemeral port.
    pub fn admin(mut self) -> Self {
        self.admin = true;
        self
    }

    /// Grant the PostgreSQL server of `url`: the `host:port` of `url` goes into the
    /// variable the manifest templates into `allowed_outbound_hosts` (`pg_host` in the
    /// fixture app, `database_host` in the app). Every test that points an app at
    /// PostgreSQL grants it through here.
    pub fn postgres_grant(mut self, url: &str) -> Self {
        let variable = match self.manifest {
            Manifest::Fixtures | Manifest::Conformance => "SPIN_VARIABLE_PG_HOST",
            Manifest::App => "SPIN_VARIABLE_DATABASE_HOST",
        };
        self.env.push((variable.into(), backends::host_port(url)));
        self
    }

    /// Serve on `set`: for PostgreSQL + Redis, the app's `database_url` and
    /// `key_value_backend` variables, the grant of the server (`postgres_grant`) and a
    /// Redis runtime config.
    pub fn backends(mut self, set: &backends::BackendSet) -> Self {
        if let backends::BackendSet::PostgresRedis { db, redis_url } = set {
            self = self.postgres_grant(&db.url);
            self.postgres_url = Some(db.url.clone());
            self.env
                .push(("SPIN_VARIABLE_DATABASE_URL".into(), db.url.clone()));
            self.env
                .push(("SPIN_VARIABLE_KEY_VALUE_BACKEND".into(), "redis".into()));
            self.runtime_config = Some(format!(
                "[key_value_store.default]\ntype = \"redis\"\nurl = \"{redis_url}\"\n"
            ));
        }
        self
    }

    /// Start without applying migrations (as `spin up` would, on a database nobody migrated).
    pub fn without_migrations(mut self) -> Self {
        self.migrate = false;
        self
    }

    /// Change the manifest before it is served.
    pub fn edit_manifest(mut self, edit: impl FnOnce(&mut toml::Table) + 'static) -> Self {
        self.edit_manifest = Some(Box::new(edit));
        self
    }

    /// Start crm-host; panics with the cause if it cannot start.
    pub async fn start(self) -> TestApp {
        match self.try_start().await {
            Ok(app) => app,
            Err(e) => panic!("crm-host failed to start: {e:#}"),
        }
    }

    /// Start crm-host, returning the start-up error if any.
    pub async fn try_start(self) -> anyhow::Result<TestApp> {
        let wasm_dir = build_components().clone().map_err(anyhow::Error::msg)?;
        let dir = tempfile::tempdir()?;
        let manifest_path =
            write_manifest(self.manifest, &wasm_dir, dir.path(), self.edit_manifest)?;
        let runtime_config_file = match &self.runtime_config {
            Some(text) => {
                let path = dir.path().join("runtime-config.toml");
                std::fs::write(&path, text)?;
                Some(path)
            }
            None => None,
        };
        let dotenv = dir.path().join(".env");
        if let Some(text) = &self.dotenv {
            std::fs::write(&dotenv, text)?;
        }
        let options = UpOptions {
            manifest_path,
            listen: "127.0.0.1:0".parse()?,
            runtime_config_file,
            state_dir: Some(dir.path().join(".spin")),
            variables: VariableSources {
                cli: self.cli,
                env: self.env,
                dotenv: Some(dotenv),
            },
            cache_dir: Some(test_target_dir().join("module-cache")),
            pg_pool_size: self.pg_pool.max_size,
            pg_pool_wait: self.pg_pool.wait,
            limits: self.limits,
            admin_listen: self.admin.then(|| SocketAddr::from(([127, 0, 0, 1], 0))),
        };
        if self.migrate {
            migrate_app(
                &options.manifest_path,
                options.runtime_config_file.as_deref(),
                &dir.path().join(".spin"),
                self.postgres_url.as_deref(),
            )
            .await?;
        }
        let server = crm_host::start(options).await?;
        Ok(TestApp {
            addr: server.local_addr,
            admin_addr: server.admin_addr,
            client: reqwest::Client::new(),
            dir,
            server: Some(server),
        })
    }
}

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

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request failed")
    }

    /// GET `path` and parse the JSON body; asserts a 200.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        let status = response.status();
        let body = response.text().await.expect("body");
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"))
    }

    pub async fn post_json(&self, path: &str, body: &str) -> serde_json::Value {
        let response = self
            .client
            .post(self.url(path))
            .body(body.to_owned())
            .send()
            .await
            .expect("request failed");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert_eq!(status, 200, "POST {path}: {text}");
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("POST {path}: not JSON ({e}): {text}"))
    }

    /// The admin listener's `/metrics` text; panics when the app has no admin listener.
    pub async fn metrics(&self) -> String {
        let admin = self.admin_addr.expect("start the app with .admin()");
        let response = self
            .client
            .get(format!("http://{admin}/metrics"))
            .send()
            .await
            .expect("metrics request");
        assert_eq!(response.status(), 200);
        response.text().await.expect("metrics body")
    }

    /// Gauges of the host's PostgreSQL pools (`RunningServer::postgres_pool_stats`).
    pub fn postgres_pool_stats(&self) -> Vec<crm_host::PgPoolStats> {
        self.server
            .as_ref()
            .map(RunningServer::postgres_pool_stats)
            .unwrap_or_default()
    }

    /// Stop the server, letting in-flight requests finish.
    pub async fn shutdown(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}
