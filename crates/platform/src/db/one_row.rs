//! A PostgreSQL row query that always returns at least one row.
//!
//! Spin 4.0 and 4.1 never answer a `spin:postgres` `query` whose result has no rows:
//! `factor-outbound-pg`'s `query_stream` sends the column list with the first row, and
//! `query` waits for it while the row stream that holds the sender is still alive (found
//! running the app on Spin 4.1.0-pre0; 4.0.2 has the same code, 3.6.3 does not). So every
//! row query is wrapped to return at least one row: the statement's rows, each marked
//! present, or a single row of NULLs when it has none; unwrapped again here, callers see
//! the plain result.
//!
//! The wrapped statement is the outer side's only row joined `ON true` to the statement's
//! rows (a CTE, so that DML with RETURNING works too): PostgreSQL can run a join without a
//! join condition only as a nested loop, which yields the inner rows in the statement's
//! own order. (An earlier form numbered the rows with `row_number()` and counted them in a
//! subquery; it cost the server twice the plain statement, this one about 1.5×.)

use super::{DbError, Rows, Value};

/// The extra column that is `true` on each of the statement's rows and NULL on the filler.
const PRESENT_COLUMN: &str = "__crm_present";

/// `statement` (a SELECT, or a DML statement with RETURNING) wrapped so that the result
/// has at least one row (see the module documentation).
pub fn wrap(statement: &str) -> String {
    let statement = statement.trim().trim_end_matches(';');
    format!(
        "WITH __crm_q AS ({statement}) \
         SELECT __crm_n.* FROM (SELECT 1) AS __crm_one LEFT JOIN \
         (SELECT __crm_q.*, true AS {PRESENT_COLUMN} FROM __crm_q) AS __crm_n ON true"
    )
}

/// The statement's own result from the wrapped one.
pub fn unwrap(wrapped: Rows) -> Result<Rows, DbError> {
    let present_at = wrapped
        .columns
        .iter()
        .rposition(|c| c == PRESENT_COLUMN)
        .ok_or_else(|| DbError::Decode {
            column: PRESENT_COLUMN.to_owned(),
            reason: "the row wrapper's column is missing".into(),
        })?;
    let mut columns = wrapped.columns;
    columns.remove(present_at);
    let mut values = Vec::with_capacity(wrapped.values.len());
    for mut row in wrapped.values {
        match row.get(present_at) {
            Some(Value::Bool(true)) => {
                row.remove(present_at);
                values.push(row);
            }
            // The filler row of a statement without rows.
            Some(Value::Null) => {}
            other => {
                return Err(DbError::Decode {
                    column: PRESENT_COLUMN.to_owned(),
                    reason: format!("expected true or NULL, got {other:?}"),
                });
            }
        }
    }
    Ok(Rows { columns, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(rows: &[&str]) -> Rows {
        let columns = ["name", PRESENT_COLUMN]
            .iter()
            .map(|c| c.to_string())
            .collect();
        let values = if rows.is_empty() {
            vec![vec![Value::Null, Value::Null]]
        } else {
            rows.iter()
                .map(|name| vec![Value::Text((*name).into()), Value::Bool(true)])
                .collect()
        };
        Rows { columns, values }
    }

    #[test]
    fn the_wrapper_keeps_the_statement_whole() {
        let sql = wrap("INSERT INTO t (a) VALUES ($1) RETURNING id;");
        assert!(
            sql.starts_with("WITH __crm_q AS (INSERT INTO t (a) VALUES ($1) RETURNING id) "),
            "{sql}"
        );
        assert!(sql.ends_with("AS __crm_n ON true"), "{sql}");
    }

    #[test]
    fn an_empty_result_comes_back_empty_with_its_columns() {
        let rows = unwrap(wrapped(&[])).unwrap();
        assert_eq!(rows.columns, ["name"]);
        assert!(rows.values.is_empty());
    }

    #[test]
    fn rows_come_back_in_order_without_the_extra_column() {
        let rows = unwrap(wrapped(&["b", "a"])).unwrap();
        assert_eq!(rows.columns, ["name"]);
        assert_eq!(
            rows.values,
            vec![vec![Value::Text("b".into())], vec![Value::Text("a".into())]]
        );
    }

    #[test]
    fn a_result_without_the_wrapper_column_is_a_decode_error() {
        let plain = Rows {
            columns: vec!["name".into()],
            values: vec![],
        };
        assert!(unwrap(plain).is_err());
        let odd = Rows {
            columns: vec!["name".into(), PRESENT_COLUMN.into()],
            values: vec![vec![Value::Null, Value::Int(1)]],
        };
        assert!(unwrap(odd).is_err());
    }
}
