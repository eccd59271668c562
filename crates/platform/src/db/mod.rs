//! One database API for every component: parameterised statements, transactions
//! and row decoding, on Spin's SQLite (`default` database) or on PostgreSQL
//! (`spin:postgres@4.0.0`), chosen by the `database_url` variable.
//!
//! SQL is written once with `$1, $2, …` placeholders; SQLite gets them as `?1, ?2, …`.

mod one_row;
mod postgres;
mod retry;
mod row;
mod sql;
mod sqlite;

pub use row::{Row, Rows};
pub use sql::to_sqlite_placeholders;

use std::time::Instant;

/// Spin variable naming the database: empty = SQLite `default`; `postgres://…` = PostgreSQL.
pub const DATABASE_URL_VARIABLE: &str = "database_url";
/// Spin variable: statements slower than this many milliseconds are logged (default 200).
pub const SLOW_QUERY_MS_VARIABLE: &str = "slow_query_ms";
const DEFAULT_SLOW_QUERY_MS: u64 = 200;
/// The SQLite database label used when `database_url` is empty.
pub const SQLITE_LABEL: &str = "default";

/// A parameter or column value, common to both databases.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A text parameter.
pub fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

/// A nullable text parameter.
pub fn opt_text(value: Option<&str>) -> Value {
    value.map_or(Value::Null, text)
}

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Why a statement failed. `UniqueViolation` is the one kind both databases share
/// for duplicate keys; `Unavailable` covers connection failures (retried first).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unique constraint violated")]
    UniqueViolation { constraint: Option<String> },
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("statement failed: {0}")]
    Query(String),
    #[error("cannot decode column `{column}`: {reason}")]
    Decode { column: String, reason: String },
    #[error("database configuration: {0}")]
    Config(String),
}

enum Driver {
    Sqlite(spin_sdk::sqlite::Connection),
    Postgres(spin_sdk::pg4::Connection),
}

/// An open connection.
pub struct Database {
    driver: Driver,
    slow_query_ms: u64,
}

impl Database {
    /// Open the database named by the `database_url` variable (retrying transient failures).
    pub fn open() -> Result<Database, DbError> {
        let url = spin_sdk::variables::get(DATABASE_URL_VARIABLE).unwrap_or_default();
        let slow_query_ms = spin_sdk::variables::get(SLOW_QUERY_MS_VARIABLE)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_SLOW_QUERY_MS);
        let url = url.trim();
        let driver = if url.is_empty() {
            Driver::Sqlite(sqlite::open(SQLITE_LABEL)?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Driver::Postgres(retry::with_retries(|| postgres::open(url))?)
        } else {
            return Err(DbError::Config(
                "`database_url` must be empty (SQLite) or a postgres:// URL".into(),
            ));
        };
        Ok(Database {
            driver,
            slow_query_ms,
        })
    }

    pub fn backend(&self) -> Backend {
        match self.driver {
            Driver::Sqlite(_) => Backend::Sqlite,
            Driver::Postgres(_) => Backend::Postgres,
        }
    }

    /// Run a query and return its rows.
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        self.timed(sql, || match &self.driver {
            Driver::Sqlite(conn) => sqlite::query(conn, sql, params),
            Driver::Postgres(conn) => retry::with_retries(|| postgres::query(conn, sql, params)),
        })
    }

    /// Run a statement and return how many rows it changed.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        self.timed(sql, || match &self.driver {
            Driver::Sqlite(conn) => sqlite::execute(conn, sql, params),
            Driver::Postgres(conn) => retry::with_retries(|| postgres::execute(conn, sql, params)),
        })
    }

    /// Run `work` in a transaction: committed when it returns Ok, rolled back otherwise.
    /// Statements inside are not retried (a retry could apply half a transaction twice).
    pub fn transaction<T>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.raw("BEGIN")?;
        match work(self) {
            Ok(value) => {
                self.raw("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.raw("ROLLBACK");
                Err(e)
            }
        }
    }

    fn raw(&self, sql: &str) -> Result<(), DbError> {
        match &self.driver {
            Driver::Sqlite(conn) => sqlite::execute(conn, sql, &[]).map(|_| ()),
            Driver::Postgres(conn) => postgres::execute(conn, sql, &[]).map(|_| ()),
        }
    }

    fn timed<T>(&self, sql: &str, run: impl FnOnce() -> Result<T, DbError>) -> Result<T, DbError> {
        let started = Instant::now();
        let result = run();
        let elapsed_ms = started.elapsed().as_millis() as u64;
        if elapsed_ms >= self.slow_query_ms {
            crate::log::emit(
                crm_domain::LogLine::new(crm_domain::Level::Warn, "platform::db", "slow query")
                    .field("backend", self.backend().as_str())
                    .field("duration_ms", elapsed_ms)
                    .field("statement", sql::summarize(sql)),
            );
        }
        result
    }
}
