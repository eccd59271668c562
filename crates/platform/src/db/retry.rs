//! Bounded retries with exponential backoff for transient connection failures.

use super::DbError;
use std::time::Duration;

/// Attempts in all, including the first.
const ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

/// The pause before retry number `attempt` (1-based): 50 ms, 100 ms, 200 ms, …
pub fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF * 2u32.saturating_pow(attempt.saturating_sub(1))
}

/// Run `op`, retrying only `DbError::Unavailable`, at most `ATTEMPTS` times.
pub fn with_retries<T>(mut op: impl FnMut() -> Result<T, DbError>) -> Result<T, DbError> {
    let mut attempt = 1;
    loop {
        match op() {
            Err(DbError::Unavailable(_)) if attempt < ATTEMPTS => {
                std::thread::sleep(backoff(attempt));
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_fifty_milliseconds() {
        assert_eq!(backoff(1), Duration::from_millis(50));
        assert_eq!(backoff(2), Duration::from_millis(100));
        assert_eq!(backoff(3), Duration::from_millis(200));
    }

    #[test]
    fn only_unavailable_errors_are_retried_and_only_a_bounded_number_of_times() {
        let mut calls = 0;
        let result: Result<(), DbError> = with_retries(|| {
            calls += 1;
            Err(DbError::Unavailable("down".into()))
        });
        assert!(matches!(result, Err(DbError::Unavailable(_))));
        assert_eq!(calls, ATTEMPTS);

        let mut calls = 0;
        let result: Result<(), DbError> = with_retries(|| {
            calls += 1;
            Err(DbError::Query("syntax".into()))
        });
        assert!(matches!(result, Err(DbError::Query(_))));
        assert_eq!(calls, 1, "query errors are not retried");
    }
}
