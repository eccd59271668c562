//! Database probes for health checks over Spin SQLite (`fermyon:spin/sqlite`).

use spin_sdk::sqlite::{Connection, Error, Value};

/// Opens database `label` and runs `SELECT 1`; the error is short and non-sensitive.
pub fn sqlite_ping(label: &str) -> Result<(), String> {
    let connection = Connection::open(label).map_err(|error| unavailable(&error))?;
    let result = connection
        .execute("SELECT 1", &[])
        .map_err(|error| unavailable(&error))?;
    match result.rows.first().and_then(|row| row.values.first()) {
        Some(Value::Integer(1)) => Ok(()),
        _ => Err("database answered SELECT 1 with an unexpected result".to_owned()),
    }
}

fn unavailable(error: &Error) -> String {
    format!("database unavailable: {}", sqlite_error_name(error))
}

/// The variant name of a SQLite error, without its (possibly sensitive) payload.
pub fn sqlite_error_name(error: &Error) -> &'static str {
    match error {
        Error::NoSuchDatabase => "NoSuchDatabase",
        Error::AccessDenied => "AccessDenied",
        Error::InvalidConnection => "InvalidConnection",
        Error::DatabaseFull => "DatabaseFull",
        Error::Io(_) => "Io",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_never_include_the_payload() {
        let error = Error::Io("/var/lib/secret/path.db: permission denied".to_owned());

        assert_eq!(unavailable(&error), "database unavailable: Io");
    }
}
