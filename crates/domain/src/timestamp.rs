//! RFC 3339 UTC timestamps from unix milliseconds, computed without a clock or a time crate.

/// Formats unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn rfc3339_utc_from_unix_millis(unix_millis: u64) -> String {
    let millis = unix_millis % 1000;
    let total_seconds = unix_millis / 1000;
    let days = total_seconds / 86_400;
    let seconds_of_day = total_seconds % 86_400;
    let (year, month, day) = civil_date_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        seconds_of_day / 3600,
        (seconds_of_day % 3600) / 60,
        seconds_of_day % 60,
    )
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`, restricted to non-negative day counts).
fn civil_date_from_days(days_since_epoch: u64) -> (u64, u64, u64) {
    let shifted = days_since_epoch + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_known_instants() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z", "unix epoch"),
            (999, "1970-01-01T00:00:00.999Z", "milliseconds are kept"),
            (
                951_782_400_000,
                "2000-02-29T00:00:00.000Z",
                "leap day of a 400-year leap year",
            ),
            (
                1_709_251_199_123,
                "2024-02-29T23:59:59.123Z",
                "last second of a leap day",
            ),
            (1_735_689_600_000, "2025-01-01T00:00:00.000Z", "new year"),
            (
                4_107_542_400_000,
                "2100-03-01T00:00:00.000Z",
                "2100 is not a leap year",
            ),
        ];
        for (unix_millis, expected, reason) in cases {
            assert_eq!(
                rfc3339_utc_from_unix_millis(unix_millis),
                expected,
                "{reason}"
            );
        }
    }
}
