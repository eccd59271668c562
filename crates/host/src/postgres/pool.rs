//! One deadpool connection pool per distinct PostgreSQL address, shared by the
//! whole application: at most [`MAX_POOLS`] of them (least recently used evicted),
//! a bounded wait for a free connection, TLS as Spin chooses it, connections reset as
//! Spin resets them (and rolled back first when a guest may have left a transaction
//! open), and gauges for metrics.

use crate::postgres::lru::LruMap;
use crate::postgres::{label, tls};
use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_postgres::{ClientWrapper, Manager, ManagerConfig, RecyclingMethod, Runtime};
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The pool of one address, lending [`Object`]s.
pub type Pool = managed::Pool<TrackedManager>;
/// A pooled connection lent to a guest.
pub type Object = managed::Object<TrackedManager>;
type PoolError = managed::PoolError<tokio_postgres::Error>;

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
            recycling_method: RecyclingMethod::Clean,
        };
        let manager = if tls::offers_tls(&config) {
            Manager::from_config(config, tls::connector()?, manager_config)
        } else {
            Manager::from_config(config, tokio_postgres::NoTls, manager_config)
        };
        Pool::builder(TrackedManager(manager))
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
            PoolError::Timeout(managed::TimeoutType::Wait) => format!(
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

/// deadpool-postgres' manager, with a flag on every connection telling whether a guest
/// may have left a transaction open on it ([`TrackedClient::statement_starting`]).
///
/// Before a connection is lent again it gets deadpool's `Clean` reset (cursors, session
/// settings, listeners, advisory locks, temporary tables, sequences), as on Spin. When
/// the flag is set it gets a `ROLLBACK` first: crm-host is deliberately safer than Spin
/// here. `Clean`'s statements are legal inside a transaction block, so on Spin a
/// connection returned while a transaction is open (a guest that trapped between `BEGIN`
/// and `COMMIT`) is lent to the next request still inside that transaction, which then
/// sees, and may commit, the other request's uncommitted work. The `ROLLBACK` is not run
/// on every connection: outside a transaction it is a server WARNING (`there is no
/// transaction in progress`), written to the server's log on every request and costing
/// about as much as the reset itself.
pub struct TrackedManager(Manager);

/// A pooled client and whether a transaction may be open on it.
pub struct TrackedClient {
    client: ClientWrapper,
    in_transaction: AtomicBool,
}

impl TrackedClient {
    /// Called before the guest's `statement` runs: one that may open a transaction sets
    /// the flag now, so that a statement cut short (its guest stopped at the deadline)
    /// still counts. Returns the statement's effect for [`Self::statement_finished`].
    pub fn statement_starting(&self, statement: &str) -> TransactionEffect {
        let effect = transaction_effect(statement);
        if effect == TransactionEffect::Opens {
            self.in_transaction.store(true, Ordering::Relaxed);
        }
        effect
    }

    /// Called when the statement has run: only one that ends a transaction and that the
    /// server accepted clears the flag.
    pub fn statement_finished(&self, effect: TransactionEffect, succeeded: bool) {
        if effect == TransactionEffect::Ends && succeeded {
            self.in_transaction.store(false, Ordering::Relaxed);
        }
    }
}

impl Deref for TrackedClient {
    type Target = ClientWrapper;

    fn deref(&self) -> &ClientWrapper {
        &self.client
    }
}

impl managed::Manager for TrackedManager {
    type Type = TrackedClient;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<TrackedClient, tokio_postgres::Error> {
        Ok(TrackedClient {
            client: self.0.create().await?,
            in_transaction: AtomicBool::new(false),
        })
    }

    async fn recycle(
        &self,
        tracked: &mut TrackedClient,
        metrics: &Metrics,
    ) -> RecycleResult<tokio_postgres::Error> {
        if tracked.in_transaction.load(Ordering::Relaxed) {
            tracked
                .client
                .batch_execute("ROLLBACK")
                .await
                .map_err(RecycleError::Backend)?;
            tracked.in_transaction.store(false, Ordering::Relaxed);
        }
        self.0.recycle(&mut tracked.client, metrics).await
    }

    fn detach(&self, tracked: &mut TrackedClient) {
        self.0.detach(&mut tracked.client)
    }
}

/// What one statement does to a session's transaction state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionEffect {
    /// `BEGIN`, `START TRANSACTION`, `COMMIT AND CHAIN`, …
    Opens,
    /// `COMMIT`, `END`, `ROLLBACK`, `ABORT`, `PREPARE TRANSACTION`.
    Ends,
    /// Everything else (savepoints included).
    None,
}

/// Classifies a statement by its leading keywords. A guest statement is always a
/// single statement (the extended query protocol allows no more), so its first keyword
/// decides; leading comments are skipped. `ROLLBACK TO [SAVEPOINT]` and `RELEASE` keep
/// the transaction; `… AND CHAIN` starts the next one at once; `COMMIT PREPARED` and
/// `ROLLBACK PREPARED` run outside any transaction.
pub fn transaction_effect(statement: &str) -> TransactionEffect {
    let mut words = keywords(statement);
    // Most statements are decided by their first word alone (this runs on every one).
    let first = words.next().unwrap_or_default();
    if !matches!(
        first.as_str(),
        "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "ABORT" | "PREPARE"
    ) {
        return TransactionEffect::None;
    }
    let rest: Vec<String> = words.take(7).collect();
    let second = rest.first().map(String::as_str).unwrap_or_default();
    let chained = rest
        .windows(2)
        .any(|pair| pair[0] == "AND" && pair[1] == "CHAIN");
    match first.as_str() {
        "BEGIN" | "START" => TransactionEffect::Opens,
        "PREPARE" if second == "TRANSACTION" => TransactionEffect::Ends,
        "PREPARE" => TransactionEffect::None,
        _ if second == "PREPARED" || rest.iter().any(|w| w == "TO") => TransactionEffect::None,
        _ if chained => TransactionEffect::Opens,
        _ => TransactionEffect::Ends,
    }
}

/// The statement's words, upper-cased, skipping whitespace, `--` and `/* */` comments
/// (nested, as PostgreSQL allows) and punctuation; a quote ends the scan (keywords that
/// matter here come before any literal).
fn keywords(statement: &str) -> impl Iterator<Item = String> + '_ {
    let bytes = statement.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        loop {
            let rest = &bytes[at..];
            if rest.is_empty() || matches!(rest[0], b'\'' | b'"' | b'$') {
                return None;
            }
            if rest.starts_with(b"--") {
                at += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            } else if rest.starts_with(b"/*") {
                let mut depth = 0usize;
                let mut i = 0;
                while i < rest.len() {
                    if rest[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if rest[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                at += i;
            } else if rest[0].is_ascii_alphabetic() || rest[0] == b'_' {
                let len = rest
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                    .unwrap_or(rest.len());
                at += len;
                return Some(String::from_utf8_lossy(&rest[..len]).to_ascii_uppercase());
            } else {
                at += 1;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_classified_by_their_effect_on_the_transaction() {
        use TransactionEffect::{Ends, None, Opens};
        let cases = [
            ("BEGIN", Opens),
            ("  begin isolation level serializable;", Opens),
            ("START TRANSACTION READ ONLY", Opens),
            ("-- note\n/* a /* nested */ comment */ Begin", Opens),
            ("COMMIT", Ends),
            ("commit work", Ends),
            ("END", Ends),
            ("ROLLBACK", Ends),
            ("abort transaction", Ends),
            ("PREPARE TRANSACTION 'x'", Ends),
            ("COMMIT AND CHAIN", Opens),
            ("ROLLBACK AND NO CHAIN", Ends),
            ("ROLLBACK TO SAVEPOINT s", None),
            ("rollback work to s", None),
            ("COMMIT PREPARED 'x'", None),
            ("SAVEPOINT s", None),
            ("RELEASE SAVEPOINT s", None),
            ("PREPARE q AS SELECT 1", None),
            ("SELECT 'BEGIN'", None),
            ("WITH x AS (SELECT 1) SELECT * FROM x", None),
            ("", None),
            ("/* unterminated", None),
        ];
        for (statement, effect) in cases {
            assert_eq!(transaction_effect(statement), effect, "{statement:?}");
        }
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
