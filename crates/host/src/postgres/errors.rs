//! Driver errors as `spin:postgres/postgres@4.0.0` `error`s, shaped as Spin shapes
//! them (`factor-outbound-pg/src/client.rs`, `query_failed`).

use crate::bindings::spin::postgres::postgres as pg;

/// A driver error as `query-failed`: structured when the server reported it
/// (SQLSTATE in `code`, e.g. `23505` for a unique violation), else text.
pub fn query_failed(error: tokio_postgres::Error) -> pg::Error {
    let as_text = format!("{error:?}");
    pg::Error::QueryFailed(match error.as_db_error() {
        None => pg::QueryError::Text(as_text),
        Some(db) => pg::QueryError::DbError(pg::DbError {
            as_text,
            severity: db.severity().to_owned(),
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
            detail: db.detail().map(str::to_owned),
            extras: extras(db),
        }),
    })
}

/// A result value that has no WIT form, as `query-failed` text.
pub fn conversion_failed(error: tokio_postgres::Error) -> pg::Error {
    pg::Error::QueryFailed(pg::QueryError::Text(format!("{error:?}")))
}

/// The report's optional fields, by name, in a fixed order.
fn extras(db: &tokio_postgres::error::DbError) -> Vec<(String, String)> {
    let line = db.line().map(|l| l.to_string());
    [
        ("column", db.column()),
        ("constraint", db.constraint()),
        ("routine", db.routine()),
        ("hint", db.hint()),
        ("table", db.table()),
        ("datatype", db.datatype()),
        ("schema", db.schema()),
        ("file", db.file()),
        ("line", line.as_deref()),
        ("where_", db.where_()),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v.to_owned())))
    .collect()
}
