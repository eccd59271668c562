//! The PostgreSQL side of `platform::db`, over `spin:postgres@4.0.0` (`spin_sdk::pg4`).

use super::{DbError, Rows, Value, one_row};
use spin_sdk::pg4::{Connection, DbValue, ParameterValue, PgError as Error, QueryError};

/// SQLSTATE of a unique violation.
const UNIQUE_VIOLATION: &str = "23505";

pub fn open(url: &str) -> Result<Connection, DbError> {
    Connection::open(url).map_err(map_error)
}

/// Run a row query (see `one_row`: wrapped so that Spin 4.x always answers).
pub fn query(conn: &Connection, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
    let params: Vec<ParameterValue> = params.iter().map(to_pg).collect();
    let result = conn
        .query(&one_row::wrap(sql), &params)
        .map_err(map_error)?;
    let columns: Vec<String> = result.columns.into_iter().map(|c| c.name).collect();
    let mut values = Vec::with_capacity(result.rows.len());
    for row in result.rows {
        let decoded = row
            .into_iter()
            .zip(&columns)
            .map(|(value, column)| from_pg(value, column))
            .collect::<Result<Vec<_>, _>>()?;
        values.push(decoded);
    }
    one_row::unwrap(Rows { columns, values })
}

pub fn execute(conn: &Connection, sql: &str, params: &[Value]) -> Result<u64, DbError> {
    let params: Vec<ParameterValue> = params.iter().map(to_pg).collect();
    conn.execute(sql, &params).map_err(map_error)
}

fn to_pg(value: &Value) -> ParameterValue {
    match value {
        Value::Null => ParameterValue::DbNull,
        Value::Bool(b) => ParameterValue::Boolean(*b),
        Value::Int(i) => ParameterValue::Int64(*i),
        Value::Real(f) => ParameterValue::Floating64(*f),
        Value::Text(s) => ParameterValue::Str(s.clone()),
        Value::Blob(b) => ParameterValue::Binary(b.clone()),
    }
}

/// Map PostgreSQL values onto the shared kinds; uuid, json, decimal and
/// timestamps arrive as text (timestamps as RFC 3339 UTC).
fn from_pg(value: DbValue, column: &str) -> Result<Value, DbError> {
    Ok(match value {
        DbValue::DbNull => Value::Null,
        DbValue::Boolean(b) => Value::Bool(b),
        DbValue::Int8(i) => Value::Int(i64::from(i)),
        DbValue::Int16(i) => Value::Int(i64::from(i)),
        DbValue::Int32(i) => Value::Int(i64::from(i)),
        DbValue::Int64(i) => Value::Int(i),
        DbValue::Floating32(f) => Value::Real(f64::from(f)),
        DbValue::Floating64(f) => Value::Real(f),
        DbValue::Str(s) | DbValue::Uuid(s) | DbValue::Decimal(s) => Value::Text(s),
        DbValue::Binary(b) => Value::Blob(b),
        DbValue::Jsonb(bytes) => {
            Value::Text(String::from_utf8(bytes).map_err(|e| DbError::Decode {
                column: column.to_owned(),
                reason: e.to_string(),
            })?)
        }
        DbValue::Datetime((y, mo, d, h, mi, s, ns)) => Value::Text(format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:06}Z",
            ns / 1000
        )),
        DbValue::Date((y, mo, d)) => Value::Text(format!("{y:04}-{mo:02}-{d:02}")),
        other => {
            return Err(DbError::Decode {
                column: column.to_owned(),
                reason: format!("unsupported PostgreSQL value {other:?}"),
            });
        }
    })
}

fn map_error(error: Error) -> DbError {
    match error {
        Error::ConnectionFailed(message) => DbError::Unavailable(message),
        Error::QueryFailed(QueryError::DbError(db)) if db.code == UNIQUE_VIOLATION => {
            let constraint = db
                .extras
                .iter()
                .find(|(k, _)| k == "constraint" || k == "constraint_name")
                .map(|(_, v)| v.clone());
            DbError::UniqueViolation { constraint }
        }
        Error::QueryFailed(QueryError::DbError(db)) => {
            DbError::Query(format!("{} ({})", db.message, db.code))
        }
        Error::QueryFailed(QueryError::Text(message)) => DbError::Query(message),
        Error::BadParameter(message) | Error::ValueConversionFailed(message) => {
            DbError::Query(message)
        }
        Error::Other(message) => DbError::Query(message),
    }
}
