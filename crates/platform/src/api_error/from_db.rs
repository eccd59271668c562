//! `DbError` → `ApiError`: a duplicate is 409, an unreachable database 503, anything else
//! 500; the SQL and the driver's message are logged, never sent.

use super::ApiError;
use crate::db::DbError;

/// Detail of the 409 for a unique violation: generic, it never names the constraint.
const DUPLICATE_DETAIL: &str = "A resource with the same unique value already exists.";

/// Detail of the 503 for an unreachable database.
const DATABASE_UNAVAILABLE_DETAIL: &str = "The database is unavailable; try again later.";

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::UniqueViolation { .. } => ApiError::Conflict(DUPLICATE_DETAIL.to_owned()),
            DbError::Unavailable(_) => {
                ApiError::dependency_unavailable(DATABASE_UNAVAILABLE_DETAIL, error)
            }
            DbError::Query(_) | DbError::Decode { .. } | DbError::Config(_) => {
                ApiError::internal("Database operation failed", error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_database_error_kind_maps_to_its_status() {
        let cases = [
            (
                DbError::UniqueViolation {
                    constraint: Some("clients.email".into()),
                },
                409,
                "duplicate key",
            ),
            (
                DbError::Unavailable("connection refused".into()),
                503,
                "database down",
            ),
            (DbError::Query("syntax error".into()), 500, "bad statement"),
            (
                DbError::Decode {
                    column: "id".into(),
                    reason: "not an integer".into(),
                },
                500,
                "undecodable row",
            ),
            (
                DbError::Config("no such database".into()),
                500,
                "misconfiguration",
            ),
        ];
        for (db_error, status, reason) in cases {
            let error = ApiError::from(db_error);

            assert_eq!(error.status_code(), status, "{reason}");
            assert_eq!(error.to_problem().status(), status, "{reason}");
        }
    }

    #[test]
    fn client_facing_details_never_contain_the_database_message() {
        let cases = [
            (
                DbError::UniqueViolation {
                    constraint: Some("clients_email_key".into()),
                },
                "clients_email_key",
            ),
            (
                DbError::Unavailable("connect to 10.0.0.5:5432 failed".into()),
                "5432",
            ),
            (
                DbError::Query("INSERT INTO clients (email) VALUES ($1)".into()),
                "INSERT",
            ),
        ];
        for (db_error, secret) in cases {
            let problem = ApiError::from(db_error).to_problem();

            assert!(
                !problem.to_json().contains(secret),
                "{secret} leaked: {}",
                problem.to_json()
            );
        }
    }

    #[test]
    fn the_logged_cause_keeps_the_database_message() {
        let cases = [
            DbError::Unavailable("connection refused".into()),
            DbError::Query("no such table: clients".into()),
        ];
        for db_error in cases {
            let message = db_error.to_string();

            let logged = ApiError::from(db_error).to_string();

            assert!(logged.contains(&message), "{logged:?} lacks {message:?}");
        }
    }
}
