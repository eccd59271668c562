//! `AppBuilder`: what a test app is served with (manifest and its edits, variables, runtime
//! config, backends, limits, a state dir to reuse), prepared in a temp dir and started.

use crate::backends::{self, BackendSet};
use crate::test_app::TestApp;
use crate::{Manifest, ManifestEdit, build_components, migrate_app, test_target_dir};
use crm_host::{UpOptions, VariableSources};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

/// The file, in the app's state dir, of the `auth` key-value store the builder configures
/// for the app manifest when the runtime config names none.
pub const AUTH_STORE_FILE: &str = "auth_key_value.db";

/// Builder for a test app.
pub struct AppBuilder {
    manifest: Manifest,
    cli: Vec<(String, String)>,
    pub(crate) env: Vec<(String, String)>,
    dotenv: Option<String>,
    runtime_config: Option<String>,
    edits: Vec<ManifestEdit>,
    pg_pool: crm_host::PgPoolSettings,
    limits: crm_host::Limits,
    admin: bool,
    /// Apply the repository's migrations before starting (the app manifest's default).
    migrate: bool,
    /// The PostgreSQL database the app is pointed at by `backends`, to migrate too.
    postgres_url: Option<String>,
    /// The temp dir of an earlier app, to serve from again (its `.spin` state included).
    state: Option<tempfile::TempDir>,
    /// The local address the test's client connects from (`spin-client-addr`).
    client_address: Option<IpAddr>,
    /// `--schedule` entries.
    schedules: Vec<crm_host::schedule::Schedule>,
}

/// An app written to its temp dir and migrated, ready to start.
pub(crate) struct Prepared {
    pub dir: tempfile::TempDir,
    pub options: UpOptions,
    pub client: reqwest::Client,
}

/// The fixture app with its one required variable (`api_token`) set.
pub fn fixtures() -> AppBuilder {
    app(Manifest::Fixtures).variable("api_token", "t")
}

/// The app manifest's rate limits, raised so far that no test but the rate limiter's own
/// (which set theirs with `variable`, which wins over the environment) meets them.
const UNLIMITED: [(&str, &str); 4] = [
    ("SPIN_VARIABLE_RATE_LIMIT_IP_LIMIT", "1000000000"),
    ("SPIN_VARIABLE_RATE_LIMIT_TIER_FREE", "1000000000"),
    ("SPIN_VARIABLE_RATE_LIMIT_TIER_STANDARD", "1000000000"),
    ("SPIN_VARIABLE_RATE_LIMIT_TIER_PREMIUM", "1000000000"),
];

pub fn app(manifest: Manifest) -> AppBuilder {
    let env = match manifest {
        Manifest::App => UNLIMITED
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
        _ => vec![],
    };
    AppBuilder {
        manifest,
        cli: vec![],
        env,
        dotenv: None,
        runtime_config: None,
        edits: vec![],
        pg_pool: crm_host::PgPoolSettings::default(),
        limits: crm_host::Limits::default(),
        admin: false,
        migrate: matches!(manifest, Manifest::App),
        postgres_url: None,
        schedules: vec![],
        state: None,
        client_address: None,
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

    /// A runtime-config.toml, written beside the manifest. For the app manifest, an
    /// `auth` store is added (a SQLite file in the state dir) when `text` names none.
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
    /// Redis runtime config: `default` on the test Redis, `auth` on its database 1 (as
    /// `deploy/runtime-config/postgres-redis.toml` does).
    pub fn backends(mut self, set: &BackendSet) -> Self {
        if let BackendSet::PostgresRedis { db, redis_url } = set {
            self = self.postgres_grant(&db.url);
            self.postgres_url = Some(db.url.clone());
            self.env
                .push(("SPIN_VARIABLE_DATABASE_URL".into(), db.url.clone()));
            self.env
                .push(("SPIN_VARIABLE_KEY_VALUE_BACKEND".into(), "redis".into()));
            let auth_url = backends::redis_database(redis_url, 1);
            self.runtime_config = Some(format!(
                "[key_value_store.default]\ntype = \"redis\"\nurl = \"{redis_url}\"\n\n\
                 [key_value_store.auth]\ntype = \"redis\"\nurl = \"{auth_url}\"\n"
            ));
        }
        self
    }

    /// Start without applying migrations (as `spin up` would, on a database nobody migrated).
    pub fn without_migrations(mut self) -> Self {
        self.migrate = false;
        self
    }

    /// Change the manifest before it is served (edits apply in the order given).
    pub fn edit_manifest(mut self, edit: impl FnOnce(&mut toml::Table) + 'static) -> Self {
        self.edits.push(Box::new(edit));
        self
    }

    /// Add the `probe` fixture to the app as the future `clients` component will verify
    /// callers: route `/probe/...`, the `default` store, `http://auth.spin.internal`, and
    /// the variables `jwt_issuer` / `jwt_audience` from the app's.
    pub fn with_probe(self) -> Self {
        self.edit_manifest(crate::add_verifier_probe)
    }

    /// Serve from `dir`, the temp dir of an app stopped with [`TestApp::stop`]: its
    /// SQLite database and key-value files are kept, as a restarted host would find them.
    pub fn reuse_state(mut self, dir: tempfile::TempDir) -> Self {
        self.state = Some(dir);
        self
    }

    /// Connect the test's client from `address` (a loopback address such as 127.0.0.7),
    /// so what the app keys by client address is the test's own.
    pub fn client_address(mut self, address: IpAddr) -> Self {
        self.client_address = Some(address);
        self
    }

    /// Send `spec` (`--schedule` syntax) to the app at its interval.
    pub fn schedule(mut self, spec: &str) -> Self {
        let schedule = crm_host::schedule::parse_schedule(spec).expect("a valid schedule");
        self.schedules.push(schedule);
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
        let prepared = self.prepare().await?;
        crm_host::capture_output();
        let server = crm_host::start(prepared.options).await?;
        Ok(TestApp::new(server, prepared.client, prepared.dir))
    }

    /// Write the manifest, runtime config and `.env` into the temp dir and migrate.
    pub(crate) async fn prepare(mut self) -> anyhow::Result<Prepared> {
        let wasm_dir = build_components().clone().map_err(anyhow::Error::msg)?;
        let dir = match self.state.take() {
            Some(dir) => dir,
            None => tempfile::tempdir()?,
        };
        let state_dir = dir.path().join(".spin");
        std::fs::create_dir_all(&state_dir)?;
        let edits = std::mem::take(&mut self.edits);
        let edit: ManifestEdit = Box::new(move |table| edits.into_iter().for_each(|e| e(table)));
        let manifest_path =
            crate::write_manifest(self.manifest, &wasm_dir, dir.path(), Some(edit))?;
        let runtime_config_file = match self.runtime_config_text(&state_dir)? {
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
        let client = match self.client_address {
            Some(address) => reqwest::Client::builder().local_address(address).build()?,
            None => reqwest::Client::new(),
        };
        let options = UpOptions {
            manifest_path,
            listen: "127.0.0.1:0".parse()?,
            runtime_config_file,
            state_dir: Some(state_dir.clone()),
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
            schedules: self.schedules,
        };
        if self.migrate {
            migrate_app(
                &options.manifest_path,
                options.runtime_config_file.as_deref(),
                &state_dir,
                self.postgres_url.as_deref(),
            )
            .await?;
        }
        Ok(Prepared {
            dir,
            options,
            client,
        })
    }

    /// The runtime config to write: the test's, plus for the app manifest an `auth` store
    /// (a SQLite file in the state dir) when it names none, since the app grants `auth` a
    /// store no default runtime config defines.
    fn runtime_config_text(&self, state_dir: &Path) -> anyhow::Result<Option<String>> {
        if !matches!(self.manifest, Manifest::App) {
            return Ok(self.runtime_config.clone());
        }
        let mut text = self.runtime_config.clone().unwrap_or_default();
        let table: toml::Table = toml::from_str(&text)?;
        let has_auth_store = table
            .get("key_value_store")
            .and_then(|stores| stores.get("auth"))
            .is_some();
        if !has_auth_store {
            let path = state_dir
                .join(AUTH_STORE_FILE)
                .to_string_lossy()
                .into_owned();
            let path = toml::Value::String(path);
            text.push_str(&format!(
                "\n[key_value_store.auth]\ntype = \"spin\"\npath = {path}\n"
            ));
        }
        Ok(Some(text))
    }
}
