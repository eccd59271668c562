//! crm-host: a wasmtime host that serves a Spin application (spin.toml) with
//! Spin's routing, headers and interfaces — for local runs and tests.
//!
//! `unsafe` is forbidden; wasmtime's own unsafe stays inside wasmtime.
#![forbid(unsafe_code)]

pub mod allowed_hosts;
pub mod app;
mod bindings;
pub mod engine;
pub mod http;
mod key_value;
mod log;
pub mod migrate;
mod postgres;
pub mod schedule;
mod sqlite;
mod state;
pub mod variables;

use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

pub use app::LoadOptions;
pub use http::limits::{Limits, parse_duration, parse_size};
pub use log::{capture_output, captured_output};
pub use postgres::pool::{PgPoolSettings, PgPoolStats};
pub use variables::VariableSources;

/// Options of `crm-host up`, usable in-process by tests.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub manifest_path: PathBuf,
    pub listen: SocketAddr,
    pub runtime_config_file: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub variables: VariableSources,
    /// Compiled-module cache; `None` disables it.
    pub cache_dir: Option<PathBuf>,
    /// Most connections each PostgreSQL address's pool holds (default 16).
    pub pg_pool_size: usize,
    /// How long a request waits for a free PostgreSQL connection (default 5 s).
    pub pg_pool_wait: std::time::Duration,
    /// Timeouts and caps of the HTTP listener (`--request-timeout`, `--max-connections`, ...).
    pub limits: Limits,
    /// Where to serve `GET /metrics`; `None` serves it nowhere.
    pub admin_listen: Option<SocketAddr>,
    /// Requests sent to the app itself at fixed intervals (`--schedule`).
    pub schedules: Vec<schedule::Schedule>,
}

/// A server that is accepting requests.
pub struct RunningServer {
    pub local_addr: SocketAddr,
    /// The admin listener's address, when one was asked for.
    pub admin_addr: Option<SocketAddr>,
    pub pooling: bool,
    services: Arc<app::AppServices>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    admin_task: Option<tokio::task::JoinHandle<()>>,
    schedule_tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// Stop accepting, let in-flight requests finish, then return.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.schedule_tasks {
            let _ = task.await;
        }
        let _ = self.task.await;
        if let Some(admin) = self.admin_task {
            let _ = admin.await;
        }
    }

    /// Gauges of every PostgreSQL pool opened so far (addresses without passwords).
    pub fn postgres_pool_stats(&self) -> Vec<PgPoolStats> {
        self.services.postgres.stats()
    }
}

/// Bind `addr`, saying clearly when it is taken.
async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                anyhow::anyhow!("cannot listen on {addr}: the address is already in use")
            }
            _ => anyhow::Error::new(e),
        })
        .with_context(|| format!("Failed to listen on {addr}"))
}

/// Load the app and start serving it on `options.listen`.
pub async fn start(options: UpOptions) -> anyhow::Result<RunningServer> {
    // Bind first: a taken port fails fast, before any compilation.
    let listener = bind(options.listen).await?;
    let admin = match options.admin_listen {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let local_addr = listener.local_addr()?;
    let (engine, info) = engine::build_engine(options.cache_dir.as_deref())?;
    let load = LoadOptions {
        manifest_path: options.manifest_path.clone(),
        runtime_config_file: options.runtime_config_file.clone(),
        state_dir: options.state_dir.clone(),
        variables: options.variables.clone(),
        postgres: PgPoolSettings {
            max_size: options.pg_pool_size,
            wait: options.pg_pool_wait,
        },
        limits: options.limits.clone(),
        self_addr: local_addr,
    };
    let app = Arc::new(tokio::task::spawn_blocking(move || app::App::load(&load, engine)).await??);
    let services = app.services.clone();
    let (stop, stopped) = watch::channel(false);
    let mut schedule_tasks = Vec::new();
    for schedule in options.schedules {
        let bearer = match &schedule.bearer_variable {
            Some(name) => Some(
                services
                    .variables
                    .get(name)
                    .filter(|value| !value.is_empty())
                    .with_context(|| {
                        format!("--schedule: the variable `{name}` is not set or is empty")
                    })?
                    .to_owned(),
            ),
            None => None,
        };
        // A little more than a guest may take, so the answer (or the 500) arrives.
        let timeout = app.limits.request_timeout + std::time::Duration::from_secs(5);
        schedule_tasks.push(tokio::spawn(schedule::run(
            schedule,
            local_addr,
            bearer,
            timeout,
            stopped.clone(),
        )));
    }
    let admin_addr = admin.as_ref().map(|l| l.local_addr()).transpose()?;
    let admin_task =
        admin.map(|l| tokio::spawn(http::admin::serve(app.clone(), l, stopped.clone())));
    let task = tokio::spawn(http::listener::serve(app, listener, stopped));
    Ok(RunningServer {
        local_addr,
        admin_addr,
        pooling: info.pooling,
        services,
        stop,
        task,
        admin_task,
        schedule_tasks,
    })
}

/// Routes of a manifest as `(route, component)` pairs, for the start-up banner.
pub fn describe_routes(manifest_path: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let manifest = app::manifest::Manifest::load(manifest_path)?;
    Ok(manifest
        .http_triggers
        .iter()
        .filter_map(|t| t.route.as_ref().map(|r| (r.clone(), t.component.clone())))
        .collect())
}
