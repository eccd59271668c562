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
mod sqlite;
mod state;
pub mod variables;

use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

pub use app::LoadOptions;
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
}

/// A server that is accepting requests.
pub struct RunningServer {
    pub local_addr: SocketAddr,
    pub pooling: bool,
    services: Arc<app::AppServices>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Stop accepting, let in-flight requests finish, then return.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Gauges of every PostgreSQL pool opened so far (addresses without passwords).
    pub fn postgres_pool_stats(&self) -> Vec<PgPoolStats> {
        self.services.postgres.stats()
    }
}

/// Load the app and start serving it on `options.listen`.
pub async fn start(options: UpOptions) -> anyhow::Result<RunningServer> {
    // Bind first: a taken port fails fast, before any compilation.
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                anyhow::anyhow!(
                    "cannot listen on {}: the address is already in use",
                    options.listen
                )
            }
            _ => anyhow::Error::new(e),
        })
        .with_context(|| format!("Failed to listen on {}", options.listen))?;
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
    };
    let app = tokio::task::spawn_blocking(move || app::App::load(&load, engine)).await??;
    let services = app.services.clone();
    let local_addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(http::listener::serve(Arc::new(app), listener, stopped));
    Ok(RunningServer {
        local_addr,
        pooling: info.pooling,
        services,
        stop,
        task,
    })
}

/// Routes of a manifest as `(route, component)` pairs, for the start-up banner.
pub fn describe_routes(manifest_path: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let manifest = app::manifest::Manifest::load(manifest_path)?;
    Ok(manifest
        .http_triggers
        .iter()
        .filter_map(|t| {
            t.route
                .as_ref()
                .map(|r| (r.as_str().to_owned(), t.component.clone()))
        })
        .collect())
}
