//! Persistence of users, refresh tokens, API keys and the audit log through
//! `crm_platform::db` (the same SQL on SQLite and PostgreSQL, `$n` placeholders).

pub mod api_keys;
pub mod audit;
pub mod refresh_tokens;
pub mod users;

use crm_platform::db::DbError;
pub use crm_platform::db::{opt_text, text};

/// A decode error for `column`, for values the schema should have prevented.
pub fn undecodable(column: &str, reason: impl ToString) -> DbError {
    DbError::Decode {
        column: column.to_owned(),
        reason: reason.to_string(),
    }
}
