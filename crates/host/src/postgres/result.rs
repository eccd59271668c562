//! Reading a query's rows as a `row-set`, streamed and capped as Spin caps them:
//! `MAX_HOST_BUFFERED_BYTES` (128 MiB, `crates/world/src/lib.rs`), counted as
//! `size_of::<RowSet>()` plus each value's `memory_size`, checked after every row.

use crate::bindings::spin::postgres::postgres::{self as pg, DbValue};
use crate::postgres::{errors, types};
use futures::TryStreamExt;
use std::mem::size_of;
use tokio_postgres::RowStream;

/// The most bytes of one result the host holds before refusing it (not configurable
/// on Spin either).
pub const MAX_RESULT_BYTES: usize = 128 << 20;

/// Rows of `stream` until it ends, or `query-failed` once they exceed `limit` bytes.
/// The stream is dropped at the first error, so the host stops reading there;
/// tokio-postgres discards the rest of the server's answer, keeping the connection
/// usable.
pub async fn collect(stream: RowStream, limit: usize) -> Result<pg::RowSet, pg::Error> {
    let mut stream = std::pin::pin!(stream);
    let mut budget = Budget::new(limit);
    let mut columns = None;
    let mut rows = Vec::new();
    while let Some(row) = stream.try_next().await.map_err(errors::query_failed)? {
        // Like Spin, columns are described from the first row: none without rows.
        if columns.is_none() {
            columns = Some(describe(&row));
        }
        let values = types::row_values(&row).map_err(errors::conversion_failed)?;
        budget.charge(&values)?;
        rows.push(values);
    }
    Ok(pg::RowSet {
        columns: columns.unwrap_or_default(),
        rows,
    })
}

fn describe(row: &tokio_postgres::Row) -> Vec<pg::Column> {
    row.columns()
        .iter()
        .map(|c| pg::Column {
            name: c.name().to_owned(),
            data_type: types::column_type(c.type_()),
        })
        .collect()
}

/// Bytes counted so far against the limit, Spin's way.
#[derive(Debug)]
struct Budget {
    used: usize,
    limit: usize,
}

impl Budget {
    fn new(limit: usize) -> Budget {
        Budget {
            used: size_of::<pg::RowSet>(),
            limit,
        }
    }

    /// Count one row; past the limit, the error Spin gives the guest.
    fn charge(&mut self, row: &[DbValue]) -> Result<(), pg::Error> {
        self.used += row.iter().map(memory_size).sum::<usize>();
        if self.used > self.limit {
            return Err(pg::Error::QueryFailed(pg::QueryError::Text(format!(
                "query result exceeds limit of {} bytes",
                self.limit
            ))));
        }
        Ok(())
    }
}

/// What a value counts against the limit: Spin's `DbValue::memory_size` — the
/// variant's size plus text and byte lengths (per element for arrays); fixed-size
/// cases, ranges included, count the variant only.
pub fn memory_size(value: &DbValue) -> usize {
    let base = size_of::<DbValue>();
    match value {
        DbValue::ArrayInt32(v) => base + v.len() * size_of::<Option<i32>>(),
        DbValue::ArrayInt64(v) => base + v.len() * size_of::<Option<i64>>(),
        DbValue::ArrayDecimal(v) | DbValue::ArrayStr(v) => {
            let element = |e: &Option<String>| {
                size_of::<Option<String>>() + e.as_ref().map_or(0, String::len)
            };
            base + v.iter().map(element).sum::<usize>()
        }
        DbValue::Str(s) | DbValue::Uuid(s) | DbValue::Decimal(s) => base + s.len(),
        DbValue::Jsonb(b) | DbValue::Binary(b) | DbValue::Unsupported(b) => base + b.len(),
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_count_their_variant_plus_their_contents() {
        let base = size_of::<DbValue>();
        let text = size_of::<Option<String>>();
        for (value, want, why) in [
            (DbValue::DbNull, base, "null"),
            (DbValue::Int64(7), base, "fixed size"),
            (DbValue::RangeInt32((None, None)), base, "ranges are fixed"),
            (DbValue::Str("abc".into()), base + 3, "text length"),
            (DbValue::Uuid("u".repeat(36)), base + 36, "uuid text"),
            (DbValue::Binary(vec![0; 10]), base + 10, "bytes"),
            (DbValue::Jsonb(b"{}".to_vec()), base + 2, "json bytes"),
            (
                DbValue::ArrayInt32(vec![Some(1), None]),
                base + 2 * size_of::<Option<i32>>(),
                "int array per element",
            ),
            (
                DbValue::ArrayStr(vec![Some("ab".into()), None]),
                base + 2 * text + 2,
                "text array per element and length",
            ),
        ] {
            assert_eq!(memory_size(&value), want, "{why}");
        }
    }

    #[test]
    fn the_budget_refuses_the_first_row_past_the_limit() {
        let row = vec![DbValue::Str("x".repeat(100))];
        let per_row = memory_size(&row[0]);
        let limit = size_of::<pg::RowSet>() + 2 * per_row;
        let mut budget = Budget::new(limit);

        let first = budget.charge(&row);
        let second = budget.charge(&row);
        let third = budget.charge(&row);

        assert!(first.is_ok(), "one row fits");
        assert!(second.is_ok(), "exactly at the limit still fits");
        let Err(pg::Error::QueryFailed(pg::QueryError::Text(text))) = third else {
            panic!("the third row must be refused: {third:?}");
        };
        assert_eq!(text, format!("query result exceeds limit of {limit} bytes"));
    }
}
