//! `fermyon:spin/sqlite@2.0.0` on rusqlite: labelled databases, grants, value mapping.

use crate::app::runtime_config::StoreBackend;
use crate::bindings::fermyon::spin::sqlite as spin_sql;
use crate::state::RequestState;
use rusqlite::types::{ToSqlOutput, ValueRef};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use wasmtime::component::Resource;

/// An opened database, as the guest's `connection` resource.
pub struct SqliteHandle {
    conn: Arc<Mutex<rusqlite::Connection>>,
}

/// The application's labelled databases. Every guest `open` gets a connection
/// of its own (as on Spin), so a guest's `BEGIN … COMMIT` is its own.
pub struct SqliteRegistry {
    backends: BTreeMap<String, StoreBackend>,
}

impl SqliteRegistry {
    pub fn new(backends: BTreeMap<String, StoreBackend>) -> SqliteRegistry {
        SqliteRegistry { backends }
    }

    /// A new connection to the database behind `label`.
    async fn open(&self, label: &str) -> Result<Arc<Mutex<rusqlite::Connection>>, spin_sql::Error> {
        let path = match self.backends.get(label) {
            Some(StoreBackend::SqliteFile(path)) => path.clone(),
            Some(StoreBackend::Redis { .. }) => {
                return Err(spin_sql::Error::Io("not a SQLite database".into()));
            }
            None => return Err(spin_sql::Error::NoSuchDatabase),
        };
        let conn = tokio::task::spawn_blocking(move || open_database(&path))
            .await
            .map_err(|e| spin_sql::Error::Io(e.to_string()))?
            .map_err(|e| spin_sql::Error::Io(format!("{e:#}")))?;
        Ok(Arc::new(Mutex::new(conn)))
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
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Opening is lazy in SQLite: touch the file now so a bad path fails here.
    conn.pragma_update(None, "journal_mode", "WAL")
        .with_context(|| format!("Failed to open SQLite database {}", path.display()))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

fn execute(
    conn: &rusqlite::Connection,
    statement: &str,
    parameters: Vec<spin_sql::Value>,
) -> rusqlite::Result<spin_sql::QueryResult> {
    let mut stmt = conn.prepare(statement)?;
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
            Ok(conn) => Ok(Ok(self.table.push(SqliteHandle { conn })?)),
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
        let conn = self.table.get(&this)?.conn.clone();
        let result = tokio::task::spawn_blocking(move || {
            let conn = conn
                .lock()
                .map_err(|_| spin_sql::Error::InvalidConnection)?;
            execute(&conn, &statement, parameters).map_err(map_error)
        })
        .await?;
        Ok(result)
    }

    async fn drop(&mut self, this: Resource<SqliteHandle>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
