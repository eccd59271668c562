//! Running one guest statement on a pooled client: binding its parameters, then
//! `query` (rows streamed under the result cap) or `execute` (affected rows).

use crate::bindings::spin::postgres::postgres as pg;
use crate::postgres::types::{self, SqlParameter};
use crate::postgres::{errors, result};
use tokio_postgres::types::ToSql;

/// `query`: the rows, or Spin's error for each failure (`bad-parameter` for a
/// parameter that cannot be bound).
pub async fn query(
    client: &tokio_postgres::Client,
    statement: &str,
    params: Vec<pg::ParameterValue>,
) -> Result<pg::RowSet, pg::Error> {
    let bound = bind(&params, pg::Error::BadParameter)?;
    let stream = client
        .query_raw(statement, as_refs(&bound))
        .await
        .map_err(errors::query_failed)?;
    result::collect(stream, result::MAX_RESULT_BYTES).await
}

/// `execute`: the number of rows affected (`value-conversion-failed` for a
/// parameter that cannot be bound, as on Spin).
pub async fn execute(
    client: &tokio_postgres::Client,
    statement: &str,
    params: Vec<pg::ParameterValue>,
) -> Result<u64, pg::Error> {
    let bound = bind(&params, pg::Error::ValueConversionFailed)?;
    client
        .execute(statement, &as_refs(&bound))
        .await
        .map_err(errors::query_failed)
}

/// Bind parameters; `malformed` picks the error case (Spin differs per function).
fn bind(
    params: &[pg::ParameterValue],
    malformed: fn(String) -> pg::Error,
) -> Result<Vec<SqlParameter>, pg::Error> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            types::parameter(p).map_err(|e| malformed(format!("parameter ${}: {e}", i + 1)))
        })
        .collect()
}

fn as_refs(params: &[SqlParameter]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}
