//! One deadpool connection pool per distinct PostgreSQL address, shared by the
//! whole application, with a bounded wait for a free connection, TLS choice,
//! and gauges for metrics.

use crate::postgres::address;
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime, TimeoutType,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::config::SslMode;

/// How long opening one new server connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Sizing of every pool.
#[derive(Debug, Clone, Copy)]
pub struct PgPoolSettings {
    /// Most connections one address's pool holds.
    pub max_size: usize,
    /// How long a request waits for a free connection before failing.
    pub wait: Duration,
}

impl Default for PgPoolSettings {
    fn default() -> Self {
        PgPoolSettings {
            max_size: 16,
            wait: Duration::from_secs(5),
        }
    }
}

/// Gauges of one pool, labelled by the address without its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgPoolStats {
    pub address: String,
    pub max_size: usize,
    /// Open connections, idle or lent out.
    pub size: usize,
    /// Idle open connections.
    pub available: usize,
    /// Connections lent out to requests.
    pub in_use: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

/// The application's pools, created on first use of an address.
pub struct PgPools {
    settings: PgPoolSettings,
    pools: Mutex<HashMap<String, Pool>>,
}

impl PgPools {
    pub fn new(settings: PgPoolSettings) -> PgPools {
        PgPools {
            settings,
            pools: Mutex::new(HashMap::new()),
        }
    }

    /// A connection to `address` from its pool, waiting at most the configured time.
    pub async fn acquire(
        &self,
        address: &str,
        config: tokio_postgres::Config,
    ) -> Result<Object, String> {
        let pool = self.pool(address, config)?;
        pool.get().await.map_err(|e| self.describe(e))
    }

    fn pool(&self, address: &str, config: tokio_postgres::Config) -> Result<Pool, String> {
        let mut pools = self.pools.lock().map_err(|_| "pool registry poisoned")?;
        if let Some(pool) = pools.get(address) {
            return Ok(pool.clone());
        }
        let pool = self.build(config)?;
        pools.insert(address.to_owned(), pool.clone());
        Ok(pool)
    }

    fn build(&self, config: tokio_postgres::Config) -> Result<Pool, String> {
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Clean,
        };
        let manager = if uses_tls(&config) {
            Manager::from_config(config, tls_connector()?, manager_config)
        } else {
            Manager::from_config(config, tokio_postgres::NoTls, manager_config)
        };
        Pool::builder(manager)
            .max_size(self.settings.max_size.max(1))
            .wait_timeout(Some(self.settings.wait))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| format!("cannot build a connection pool: {e}"))
    }

    fn describe(&self, error: PoolError) -> String {
        match error {
            PoolError::Timeout(TimeoutType::Wait) => format!(
                "pool exhausted: waited {} ms for one of {} connections",
                self.settings.wait.as_millis(),
                self.settings.max_size
            ),
            PoolError::Timeout(_) => format!(
                "timed out after {} ms connecting to the server",
                CONNECT_TIMEOUT.as_millis()
            ),
            PoolError::Backend(e) => format!("{e:?}"),
            other => other.to_string(),
        }
    }

    /// Gauges of every pool, sorted by redacted address.
    pub fn stats(&self) -> Vec<PgPoolStats> {
        let Ok(pools) = self.pools.lock() else {
            return Vec::new();
        };
        let mut stats: Vec<PgPoolStats> = pools
            .iter()
            .map(|(address, pool)| {
                let status = pool.status();
                PgPoolStats {
                    address: address::redact(address),
                    max_size: status.max_size,
                    size: status.size,
                    available: status.available,
                    in_use: status.size.saturating_sub(status.available),
                    waiting: status.waiting,
                }
            })
            .collect();
        stats.sort_by(|a, b| a.address.cmp(&b.address));
        stats
    }
}

/// Plain TCP when TLS is off (`sslmode=disable`) or merely preferred on this
/// machine's loopback; rustls otherwise (`prefer` still falls back when the
/// server declines TLS).
fn uses_tls(config: &tokio_postgres::Config) -> bool {
    match config.get_ssl_mode() {
        SslMode::Disable => false,
        SslMode::Prefer => !address::is_loopback_only(config),
        _ => true,
    }
}

/// rustls with the ring provider and Mozilla's root certificates.
fn tls_connector() -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}
