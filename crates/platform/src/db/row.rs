//! Result rows and typed column access, the same on both databases.

use super::{DbError, Value};

/// The rows of a query, with their column names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub values: Vec<Vec<Value>>,
}

/// One row, read by column name.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl Rows {
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.values.iter().map(|values| Row {
            columns: &self.columns,
            values,
        })
    }

    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl<'a> Row<'a> {
    /// The raw value of `column`.
    pub fn value(&self, column: &str) -> Result<&'a Value, DbError> {
        self.columns
            .iter()
            .position(|c| c == column)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| decode_error(column, "no such column"))
    }

    pub fn text(&self, column: &str) -> Result<String, DbError> {
        self.opt_text(column)?
            .ok_or_else(|| decode_error(column, "is NULL"))
    }

    pub fn opt_text(&self, column: &str) -> Result<Option<String>, DbError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            other => Err(decode_error(
                column,
                &format!("expected text, got {other:?}"),
            )),
        }
    }

    pub fn i64(&self, column: &str) -> Result<i64, DbError> {
        self.opt_i64(column)?
            .ok_or_else(|| decode_error(column, "is NULL"))
    }

    pub fn opt_i64(&self, column: &str) -> Result<Option<i64>, DbError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Int(i) => Ok(Some(*i)),
            other => Err(decode_error(
                column,
                &format!("expected an integer, got {other:?}"),
            )),
        }
    }

    /// Booleans: PostgreSQL `boolean`, or SQLite's 0/1 integers.
    pub fn bool(&self, column: &str) -> Result<bool, DbError> {
        match self.value(column)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            other => Err(decode_error(
                column,
                &format!("expected a boolean, got {other:?}"),
            )),
        }
    }
}

fn decode_error(column: &str, reason: &str) -> DbError {
    DbError::Decode {
        column: column.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Rows {
        Rows {
            columns: vec!["id".into(), "n".into(), "flag".into(), "gone".into()],
            values: vec![vec![
                Value::Text("a".into()),
                Value::Int(7),
                Value::Int(1),
                Value::Null,
            ]],
        }
    }

    #[test]
    fn columns_decode_by_name() {
        let rows = rows();
        let row = rows.first().unwrap();
        assert_eq!(row.text("id").unwrap(), "a");
        assert_eq!(row.i64("n").unwrap(), 7);
        assert!(row.bool("flag").unwrap());
        assert_eq!(row.opt_text("gone").unwrap(), None);
    }

    #[test]
    fn decoding_errors_name_the_column() {
        let rows = rows();
        let row = rows.first().unwrap();
        for (result, column, why) in [
            (row.text("n").map(|_| ()), "n", "integer read as text"),
            (row.i64("id").map(|_| ()), "id", "text read as integer"),
            (
                row.text("gone").map(|_| ()),
                "gone",
                "NULL read as required",
            ),
            (row.text("missing").map(|_| ()), "missing", "unknown column"),
        ] {
            match result {
                Err(DbError::Decode { column: c, .. }) => assert_eq!(c, column, "{why}"),
                other => panic!("{why}: {other:?}"),
            }
        }
    }
}
