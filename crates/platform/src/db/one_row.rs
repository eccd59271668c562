//! A PostgreSQL row query that always returns at least one row.
//!
//! Spin 4.0 and 4.1 never answer a `spin:postgres` `query` whose result has no rows:
//! `factor-outbound-pg`'s `query_stream` sends the column list with the first row, and
//! `query` waits for it while the row stream that holds the sender is still alive (found
//! running the app on Spin 4.1.0-pre0; 4.0.2 has the same code, 3.6.3 does not). So every
//! row query is wrapped to return at least one row, with the real row count and each row's
//! place in two extra columns, and unwrapped again here: callers see the plain result.

use super::{DbError, Rows, Value};

/// The extra column holding the number of rows the statement returned.
const ROWS_COLUMN: &str = "__crm_rows";
/// The extra column holding each row's place in the statement's own order.
const PLACE_COLUMN: &str = "__crm_place";

/// `statement` (a SELECT, or a DML statement with RETURNING) wrapped in a CTE so that the
/// result has at least one row: the statement's rows in order, or one row of NULLs when it
/// has none; `__crm_rows` tells which.
pub fn wrap(statement: &str) -> String {
    let statement = statement.trim().trim_end_matches(';');
    format!(
        "WITH __crm_q AS ({statement}), \
         __crm_n AS (SELECT __crm_q.*, row_number() OVER () AS {PLACE_COLUMN} FROM __crm_q) \
         SELECT __crm_n.*, (SELECT count(*) FROM __crm_q) AS {ROWS_COLUMN} \
         FROM (SELECT 1) AS __crm_one LEFT JOIN __crm_n ON true \
         ORDER BY __crm_n.{PLACE_COLUMN}"
    )
}

/// The statement's own result from the wrapped one.
pub fn unwrap(wrapped: Rows) -> Result<Rows, DbError> {
    let position = |name: &str| {
        wrapped
            .columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| DbError::Decode {
                column: name.to_owned(),
                reason: "the row-count wrapper's column is missing".into(),
            })
    };
    let (rows_at, place_at) = (position(ROWS_COLUMN)?, position(PLACE_COLUMN)?);
    let count = match wrapped.values.first().map(|row| &row[rows_at]) {
        Some(Value::Int(count)) => *count,
        other => {
            return Err(DbError::Decode {
                column: ROWS_COLUMN.to_owned(),
                reason: format!("expected a row count, got {other:?}"),
            });
        }
    };
    let keep = |index: usize| index != rows_at && index != place_at;
    let columns = wrapped
        .columns
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, c)| c.clone())
        .collect();
    let values = if count == 0 {
        Vec::new()
    } else {
        wrapped
            .values
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .enumerate()
                    .filter(|(i, _)| keep(*i))
                    .map(|(_, v)| v)
                    .collect()
            })
            .collect()
    };
    Ok(Rows { columns, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(rows: &[(&str, i64)], count: i64) -> Rows {
        let columns = ["name", PLACE_COLUMN, ROWS_COLUMN]
            .iter()
            .map(|c| c.to_string())
            .collect();
        let values = if rows.is_empty() {
            vec![vec![Value::Null, Value::Null, Value::Int(count)]]
        } else {
            rows.iter()
                .map(|(name, place)| {
                    vec![
                        Value::Text((*name).into()),
                        Value::Int(*place),
                        Value::Int(count),
                    ]
                })
                .collect()
        };
        Rows { columns, values }
    }

    #[test]
    fn the_wrapper_keeps_the_statement_whole_and_orders_by_its_own_order() {
        let sql = wrap("INSERT INTO t (a) VALUES ($1) RETURNING id;");
        assert!(
            sql.starts_with("WITH __crm_q AS (INSERT INTO t (a) VALUES ($1) RETURNING id), "),
            "{sql}"
        );
        assert!(sql.ends_with("ORDER BY __crm_n.__crm_place"), "{sql}");
    }

    #[test]
    fn an_empty_result_comes_back_empty_with_its_columns() {
        let rows = unwrap(wrapped(&[], 0)).unwrap();
        assert_eq!(rows.columns, ["name"]);
        assert!(rows.values.is_empty());
    }

    #[test]
    fn rows_come_back_without_the_extra_columns() {
        let rows = unwrap(wrapped(&[("a", 1), ("b", 2)], 2)).unwrap();
        assert_eq!(rows.columns, ["name"]);
        assert_eq!(
            rows.values,
            vec![vec![Value::Text("a".into())], vec![Value::Text("b".into())]]
        );
    }

    #[test]
    fn a_result_without_the_wrapper_columns_is_a_decode_error() {
        let plain = Rows {
            columns: vec!["name".into()],
            values: vec![],
        };
        assert!(unwrap(plain).is_err());
    }
}
