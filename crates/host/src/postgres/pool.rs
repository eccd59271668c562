//! One deadpool connection pool per distinct PostgreSQL address, shared by the
//! whole application: at most [`MAX_POOLS`] of them (least recently used evicted),
//! a bounded wait for a free connection, TLS as Spin chooses it, connections rolled
//! back before reuse, and gauges for metrics.

use crate::postgres::lru::LruMap;
use crate::postgres::{label, tls};
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime, TimeoutType,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How long opening one new server connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long making a returned connection ready again (rollback, reset) may take.
const RECYCLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Most pools kept, as Spin's `CONNECTION_POOL_CACHE_CAPACITY`. Evicting a pool
/// closes its idle connections; connections lent out live on until returned, then
/// close.
pub const MAX_POOLS: usize = 16;

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

/// Gauges of one pool, labelled by its address without any password.
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

/// A pool and its password-free label.
#[derive(Clone)]
struct LabelledPool {
    pool: Pool,
    label: String,
}

/// The application's pools, created on first use of an address (the exact string,
/// as Spin keys them).
pub struct PgPools {
    settings: PgPoolSettings,
    pools: Mutex<LruMap<LabelledPool>>,
}

impl PgPools {
    pub fn new(settings: PgPoolSettings) -> PgPools {
        PgPools {
            settings,
            pools: Mutex::new(LruMap::new(MAX_POOLS)),
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
        if let Some(entry) = pools.get(address) {
            return Ok(entry.pool.clone());
        }
        let entry = LabelledPool {
            label: label::label(&config),
            pool: self.build(config)?,
        };
        let pool = entry.pool.clone();
        // The evicted pool (if any) is dropped here, closing its idle connections.
        drop(pools.insert(address.to_owned(), entry));
        Ok(pool)
    }

    fn build(&self, config: tokio_postgres::Config) -> Result<Pool, String> {
        let manager_config = ManagerConfig {
            recycling_method: recycling_method(),
        };
        let manager = if tls::offers_tls(&config) {
            Manager::from_config(config, tls::connector()?, manager_config)
        } else {
            Manager::from_config(config, tokio_postgres::NoTls, manager_config)
        };
        Pool::builder(manager)
            .max_size(self.settings.max_size.max(1))
            .wait_timeout(Some(self.settings.wait))
            .create_timeout(Some(CONNECT_TIMEOUT))
            // A connection whose abandoned query still runs (its guest stopped at the
            // deadline) would hold up the recycle: give up on it and try another.
            .recycle_timeout(Some(RECYCLE_TIMEOUT))
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

    /// Gauges of every pool, sorted by label. Two addresses with one label (say, two
    /// passwords for one user) are told apart by a ` #2`, ` #3` suffix, by age.
    pub fn stats(&self) -> Vec<PgPoolStats> {
        let Ok(pools) = self.pools.lock() else {
            return Vec::new();
        };
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut stats: Vec<PgPoolStats> = Vec::new();
        for entry in pools.values() {
            let twins = seen.entry(entry.label.as_str()).or_default();
            *twins += 1;
            let address = match *twins {
                1 => entry.label.clone(),
                n => format!("{} #{n}", entry.label),
            };
            let status = entry.pool.status();
            stats.push(PgPoolStats {
                address,
                max_size: status.max_size,
                size: status.size,
                available: status.available,
                in_use: status.size.saturating_sub(status.available),
                waiting: status.waiting,
            });
        }
        stats.sort_by(|a, b| a.address.cmp(&b.address));
        stats
    }
}

/// Run on a pooled connection before it is lent again: `ROLLBACK`, then the reset of
/// deadpool's `Clean` method (cursors, session settings, listeners, advisory locks,
/// temporary tables, sequences).
///
/// crm-host is deliberately safer than Spin here. Spin uses `Clean` alone, whose
/// statements are legal inside a transaction block, so a connection returned while a
/// transaction is open (a guest that trapped between `BEGIN` and `COMMIT`) is lent to
/// the next request still inside that transaction, which then sees, and may commit,
/// the other request's uncommitted work. `ROLLBACK` ends any such transaction (an
/// aborted one too, so the connection is kept rather than discarded); outside one it
/// is only a warning (`there is no transaction in progress`).
fn recycling_method() -> RecyclingMethod {
    let clean = RecyclingMethod::Clean.query().unwrap_or_default();
    RecyclingMethod::Custom(format!("ROLLBACK; {clean}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycling_rolls_back_before_the_clean_reset() {
        let RecyclingMethod::Custom(sql) = recycling_method() else {
            panic!("a custom recycling query");
        };

        assert!(sql.starts_with("ROLLBACK; CLOSE ALL;"), "{sql}");
        assert!(sql.ends_with("DISCARD SEQUENCES;"), "{sql}");
    }

    #[test]
    fn pools_that_share_a_label_are_told_apart() {
        let pools = PgPools::new(PgPoolSettings::default());
        for address in [
            "postgres://u:one@h/db?sslmode=disable",
            "postgres://u:two@h/db?sslmode=disable",
        ] {
            let config = address.parse().expect("a valid address");
            pools.pool(address, config).expect("a pool");
        }

        let labels: Vec<String> = pools.stats().into_iter().map(|s| s.address).collect();

        assert_eq!(
            labels,
            [
                "postgres://u@h:5432/db?sslmode=disable",
                "postgres://u@h:5432/db?sslmode=disable #2"
            ]
        );
    }
}
