//! Persistence of users, refresh tokens, API keys and the audit log through
//! `crm_platform::db` (the same SQL on SQLite and PostgreSQL, `$n` placeholders).

pub mod api_keys;
pub mod audit;
pub mod refresh_tokens;
pub mod users;

use crm_platform::db::{DbError, Value};

/// A text parameter.
pub fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

/// A nullable text parameter.
pub fn opt_text(value: Option<&str>) -> Value {
    value.map_or(Value::Null, text)
}

/// A decode error for `column`, for values the schema should have prevented.
pub fn undecodable(column: &str, reason: impl ToString) -> DbError {
    DbError::Decode {
        column: column.to_owned(),
        reason: reason.to_string(),
    }
}
