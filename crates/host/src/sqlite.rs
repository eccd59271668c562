//! `fermyon:spin/sqlite@2.0.0` on rusqlite: labelled databases, grants, value mapping.

use crate::app::runtime_config::StoreBackend;
use crate::bindings::fermyon::spin::sqlite as spin_sql;
use crate::state::RequestState;
use rusqlite::types::{ToSqlOutput, ValueRef};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::component::Resource;

/// Idle connections kept per database file for later guest `open`s.
const MAX_IDLE_PER_DATABASE: usize = 16;
/// How much of a database file connections map into memory (`PRAGMA mmap_size`).
const MMAP_BYTES: i64 = 1 << 30;
/// Prepared statements each connection keeps (the app's statements are a fixed set).
const STATEMENT_CACHE_CAPACITY: usize = 128;
/// How long a statement waits for another connection's lock (every SQLite connection
/// crm-host opens, databases and key-value stores).
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest a read runs on the request's own thread ([`try_inline_read`]) before it is
/// stopped and run again on the blocking pool: well under the 10 ms a guest itself runs
/// between epoch yields.
const INLINE_BUDGET: Duration = Duration::from_millis(2);
/// SQLite virtual-machine steps between two looks at the inline budget's clock.
const INLINE_PROGRESS_STEPS: i32 = 1000;

/// Runs a short read on the calling (async) thread when that cannot block it: the
/// connection is free (`try_lock`), holds no transaction, lock waits are off for the
/// attempt (busy timeout 0) and a progress handler stops the statement once
/// [`INLINE_BUDGET`] is spent. `read` returns `None` for a statement it will not run
/// inline. `None` (refused, busy, locked or over budget) means: run it on the blocking
/// pool as usual; an interrupted read has changed nothing, so running it again is safe.
///
/// Handing a statement to the blocking pool costs two thread wake-ups, more than the
/// statement itself for the point reads most requests make (a key-value `get`, a row by
/// id): inline, `GET /api/clients/{id}` on SQLite served 16–23 % more requests a second.
pub(crate) fn try_inline_read<T>(
    conn: &Mutex<rusqlite::Connection>,
    read: impl FnOnce(&rusqlite::Connection) -> Option<rusqlite::Result<T>>,
) -> Option<rusqlite::Result<T>> {
    let conn = conn.try_lock().ok()?;
    if !conn.is_autocommit() {
        return None;
    }
    conn.busy_timeout(Duration::ZERO).ok()?;
    let deadline = Instant::now() + INLINE_BUDGET;
    conn.progress_handler(
        INLINE_PROGRESS_STEPS,
        Some(move || Instant::now() >= deadline),
    );
    let outcome = read(&conn);
    conn.progress_handler(0, None::<fn() -> bool>);
    // Restoring the timeout cannot fail (sqlite3_busy_timeout only records it); if it
    // ever did, this connection would fail fast on locks rather than wait.
    let _ = conn.busy_timeout(BUSY_TIMEOUT);
    match outcome? {
        Err(error) if retry_off_thread(&error) => None,
        done => Some(done),
    }
}

/// Whether an inline attempt ended on the budget or on a lock (not on the statement).
fn retry_off_thread(error: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked, OperationInterrupted};
    matches!(
        error.sqlite_error_code(),
        Some(OperationInterrupted | DatabaseBusy | DatabaseLocked)
    )
}

/// An opened database, as the guest's `connection` resource. Dropping it (the guest's
/// `drop`, or the end of its instance) hands the connection back to the idle pool.
pub struct SqliteHandle {
    conn: Option<Arc<Mutex<rusqlite::Connection>>>,
    path: PathBuf,
    idle: Arc<IdleConnections>,
}

impl Drop for SqliteHandle {
    fn drop(&mut self) {
        // Still shared only while a statement of an aborted guest runs: then it just closes.
        let Some(conn) = self.conn.take().and_then(|arc| Arc::try_unwrap(arc).ok()) else {
            return;
        };
        if let Ok(conn) = conn.into_inner() {
            self.idle.put(&self.path, conn);
        }
    }
}

/// Connections no guest holds, per database file. Every guest `open` still gets a
/// connection of its own (as on Spin: its `BEGIN … COMMIT` is its own); reusing a closed
/// guest's connection only spares opening the file and parsing the schema again, which
/// dominated a request that runs one query. A connection comes back without a transaction
/// (an unfinished one is rolled back, as closing it would) and with foreign keys on.
#[derive(Default)]
struct IdleConnections {
    by_path: Mutex<HashMap<PathBuf, Vec<rusqlite::Connection>>>,
}

impl IdleConnections {
    fn take(&self, path: &Path) -> Option<rusqlite::Connection> {
        self.by_path.lock().ok()?.get_mut(path)?.pop()
    }

    fn put(&self, path: &Path, conn: rusqlite::Connection) {
        if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
            return;
        }
        if !conn.is_autocommit() || ensure_foreign_keys(&conn).is_err() {
            return;
        }
        let Ok(mut by_path) = self.by_path.lock() else {
            return;
        };
        let idle = by_path.entry(path.to_owned()).or_default();
        if idle.len() < MAX_IDLE_PER_DATABASE {
            idle.push(conn);
        }
    }
}

/// Foreign keys on, touching the flag only when a guest turned it off: `PRAGMA
/// foreign_keys = ON` expires every prepared statement of the connection even when the flag
/// is already on (SQLite's flag pragmas always emit `OP_Expire`), which made each reused
/// connection re-parse its cached statements on their next use; `sqlite3_db_config` expires
/// them only when the flag really changes.
fn ensure_foreign_keys(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_FKEY;
    if !conn.db_config(SQLITE_DBCONFIG_ENABLE_FKEY)? {
        conn.set_db_config(SQLITE_DBCONFIG_ENABLE_FKEY, true)?;
    }
    Ok(())
}

/// The application's labelled databases and their idle connections.
pub struct SqliteRegistry {
    backends: BTreeMap<String, StoreBackend>,
    idle: Arc<IdleConnections>,
}

impl SqliteRegistry {
    pub fn new(backends: BTreeMap<String, StoreBackend>) -> SqliteRegistry {
        SqliteRegistry {
            backends,
            idle: Arc::default(),
        }
    }

    /// A connection to the database behind `label` that no one else holds.
    async fn open(&self, label: &str) -> Result<SqliteHandle, spin_sql::Error> {
        let path = match self.backends.get(label) {
            Some(StoreBackend::SqliteFile(path)) => path.clone(),
            Some(StoreBackend::Redis { .. }) => {
                return Err(spin_sql::Error::Io("not a SQLite database".into()));
            }
            None => return Err(spin_sql::Error::NoSuchDatabase),
        };
        let conn = match self.idle.take(&path) {
            Some(conn) => conn,
            None => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || open_database(&path))
                    .await
                    .map_err(|e| spin_sql::Error::Io(e.to_string()))?
                    .map_err(|e| spin_sql::Error::Io(format!("{e:#}")))?
            }
        };
        Ok(SqliteHandle {
            conn: Some(Arc::new(Mutex::new(conn))),
            path,
            idle: self.idle.clone(),
        })
    }
}

fn open_database(path: &std::path::Path) -> anyhow::Result<rusqlite::Connection> {
    use anyhow::Context;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("Failed to create directory {}", dir.display()))?;
    }
    let conn = rusqlite::Connection::open(path)
        .with_context(|| format!("Failed to open SQLite database {}", path.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Opening is lazy in SQLite: touch the file now so a bad path fails here.
    conn.pragma_update(None, "journal_mode", "WAL")
        .with_context(|| format!("Failed to open SQLite database {}", path.display()))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    // Pages are read through one shared mapping instead of each connection's own small
    // cache filled by read(2): a search touching a few hundred rows of a 100k-client book
    // went from ~5 ms to ~1.5 ms. Address space only; SQLite falls back to reads past it.
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    Ok(conn)
}

fn execute(
    conn: &rusqlite::Connection,
    statement: &str,
    parameters: &[spin_sql::Value],
) -> rusqlite::Result<spin_sql::QueryResult> {
    run(conn.prepare_cached(statement)?, parameters)
}

/// [`execute`] on the calling thread when the statement is a read that returns rows (see
/// [`try_inline_read`]); `None` when it must go to the blocking pool.
fn execute_inline(
    conn: &Mutex<rusqlite::Connection>,
    statement: &str,
    parameters: &[spin_sql::Value],
) -> Option<rusqlite::Result<spin_sql::QueryResult>> {
    try_inline_read(conn, |conn| {
        let stmt = match conn.prepare_cached(statement) {
            Ok(stmt) => stmt,
            Err(error) => return Some(Err(error)),
        };
        // Writes, transaction control and settings (no result columns) wait for locks
        // and must not be interrupted: never inline.
        if !stmt.readonly() || stmt.column_count() == 0 {
            return None;
        }
        Some(run(stmt, parameters))
    })
}

fn run(
    mut stmt: rusqlite::CachedStatement<'_>,
    parameters: &[spin_sql::Value],
) -> rusqlite::Result<spin_sql::QueryResult> {
    let columns: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
    let params: Vec<ToSqlOutput<'_>> = parameters.iter().map(to_sql).collect();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            values.push(from_sql(row.get_ref(i)?));
        }
        out.push(spin_sql::RowResult { values });
    }
    Ok(spin_sql::QueryResult { columns, rows: out })
}

fn to_sql(value: &spin_sql::Value) -> ToSqlOutput<'_> {
    ToSqlOutput::Borrowed(match value {
        spin_sql::Value::Integer(i) => ValueRef::Integer(*i),
        spin_sql::Value::Real(f) => ValueRef::Real(*f),
        spin_sql::Value::Text(s) => ValueRef::Text(s.as_bytes()),
        spin_sql::Value::Blob(b) => ValueRef::Blob(b),
        spin_sql::Value::Null => ValueRef::Null,
    })
}

fn from_sql(value: ValueRef<'_>) -> spin_sql::Value {
    match value {
        ValueRef::Integer(i) => spin_sql::Value::Integer(i),
        ValueRef::Real(f) => spin_sql::Value::Real(f),
        ValueRef::Text(t) => spin_sql::Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => spin_sql::Value::Blob(b.to_vec()),
        ValueRef::Null => spin_sql::Value::Null,
    }
}

fn map_error(e: rusqlite::Error) -> spin_sql::Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => spin_sql::Error::DatabaseFull,
        _ => spin_sql::Error::Io(e.to_string()),
    }
}

type SqlResult<T> = wasmtime::Result<Result<T, spin_sql::Error>>;

impl spin_sql::Host for RequestState {}

impl spin_sql::HostConnection for RequestState {
    async fn open(&mut self, database: String) -> SqlResult<Resource<SqliteHandle>> {
        if !self.component.sqlite_databases.contains(&database) {
            return Ok(Err(spin_sql::Error::AccessDenied));
        }
        match self.app.sqlite.open(&database).await {
            Ok(handle) => Ok(Ok(self.table.push(handle)?)),
            Err(e) => {
                self.log_backend_error("sqlite", &database, &format!("{e:?}"));
                Ok(Err(e))
            }
        }
    }

    async fn execute(
        &mut self,
        this: Resource<SqliteHandle>,
        statement: String,
        parameters: Vec<spin_sql::Value>,
    ) -> SqlResult<spin_sql::QueryResult> {
        let Some(conn) = self.table.get(&this)?.conn.clone() else {
            return Ok(Err(spin_sql::Error::InvalidConnection));
        };
        if let Some(done) = execute_inline(&conn, &statement, &parameters) {
            return Ok(done.map_err(map_error));
        }
        let result = tokio::task::spawn_blocking(move || {
            let conn = conn
                .lock()
                .map_err(|_| spin_sql::Error::InvalidConnection)?;
            execute(&conn, &statement, &parameters).map_err(map_error)
        })
        .await?;
        Ok(result)
    }

    async fn drop(&mut self, this: Resource<SqliteHandle>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
