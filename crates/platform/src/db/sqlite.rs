//! The SQLite side of `platform::db`, over Spin's `fermyon:spin/sqlite`.

use super::sql::to_sqlite_placeholders;
use super::{DbError, Rows, Value};
use spin_sdk::sqlite::{Connection, Error, Value as SqlValue};

pub fn open(label: &str) -> Result<Connection, DbError> {
    Connection::open(label).map_err(map_error)
}

pub fn query(conn: &Connection, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
    let params: Vec<SqlValue> = params.iter().map(to_sqlite).collect();
    let result = conn
        .execute(&to_sqlite_placeholders(sql), &params)
        .map_err(map_error)?;
    Ok(Rows {
        columns: result.columns,
        values: result
            .rows
            .into_iter()
            .map(|row| row.values.into_iter().map(from_sqlite).collect())
            .collect(),
    })
}

/// Run a statement; SQLite's `changes()` tells how many rows it touched.
pub fn execute(conn: &Connection, sql: &str, params: &[Value]) -> Result<u64, DbError> {
    query(conn, sql, params)?;
    let changes = query(conn, "SELECT changes() AS changes", &[])?;
    Ok(changes
        .first()
        .map(|row| row.i64("changes"))
        .transpose()?
        .unwrap_or(0) as u64)
}

fn to_sqlite(value: &Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Int(i) => SqlValue::Integer(*i),
        Value::Real(f) => SqlValue::Real(*f),
        Value::Text(s) => SqlValue::Text(s.clone()),
        Value::Blob(b) => SqlValue::Blob(b.clone()),
    }
}

fn from_sqlite(value: SqlValue) -> Value {
    match value {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => Value::Int(i),
        SqlValue::Real(f) => Value::Real(f),
        SqlValue::Text(s) => Value::Text(s),
        SqlValue::Blob(b) => Value::Blob(b),
    }
}

fn map_error(error: Error) -> DbError {
    match error {
        Error::Io(message) => match message.split_once("UNIQUE constraint failed: ") {
            Some((_, constraint)) => DbError::UniqueViolation {
                constraint: Some(constraint.trim().to_owned()),
            },
            None => DbError::Query(message),
        },
        Error::InvalidConnection => DbError::Unavailable("invalid connection".into()),
        Error::DatabaseFull => DbError::Query("database full".into()),
        Error::NoSuchDatabase => DbError::Config("no such SQLite database".into()),
        Error::AccessDenied => DbError::Config("SQLite database not granted".into()),
    }
}
