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

/// Parses an RFC 3339 timestamp (`2026-11-26T07:00:00Z`, `…T08:00:00.5+01:00`; `t`/`z` and a
/// space for `T` accepted) into unix milliseconds, fractions beyond milliseconds dropped.
/// Only instants from 1970 to 9999 are accepted.
pub fn unix_millis_from_rfc3339(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u64> {
        let part = text.get(range)?;
        (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' {
        return None;
    }
    if !matches!(bytes[10], b'T' | b't' | b' ') || bytes[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &fraction[..len.min(3)]);
        millis = padded.parse::<u64>().ok()?;
        rest = &fraction[len..];
    }
    let offset_minutes: i64 = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let b = rest.as_bytes();
            if rest.len() != 6 || b[3] != b':' {
                return None;
            }
            let (h, m) = (
                rest[1..3].parse::<i64>().ok()?,
                rest[4..6].parse::<i64>().ok()?,
            );
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 60 + m)
        }
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let valid = (1970..=9999).contains(&year)
        && (1..=12).contains(&month)
        && day >= 1
        && day <= month_days[(month - 1) as usize]
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let local = ((days * 24 + hour as i64) * 60 + minute as i64) * 60 + second as i64;
    let utc_seconds = local - offset_minutes * 60;
    u64::try_from(utc_seconds)
        .ok()
        .map(|seconds| seconds * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
fn days_from_civil(year: u64, month: u64, day: u64) -> i64 {
    let year = year as i64 - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = month as i64;
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
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

    #[test]
    fn rfc3339_text_parses_to_the_same_instants() {
        for (text, want) in [
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2024-02-29T23:59:59.123Z", Some(1_709_251_199_123)),
            ("2024-02-29T23:59:59.1234567Z", Some(1_709_251_199_123)),
            ("2024-03-01T00:59:59.123+01:00", Some(1_709_251_199_123)),
            ("2024-02-29t22:59:59.5-01:00", Some(1_709_251_199_500)),
            ("2100-03-01 00:00:00Z", Some(4_107_542_400_000)),
            ("2023-02-29T00:00:00Z", None),
            ("2024-13-01T00:00:00Z", None),
            ("2024-01-01T00:00:00", None),
            ("2024-01-01T00:00:00+0100", None),
            ("1969-12-31T23:59:59Z", None),
            ("2024-01-01T00:00:00.Z", None),
            ("yesterday", None),
        ] {
            assert_eq!(unix_millis_from_rfc3339(text), want, "{text}");
            if let Some(millis) = want {
                let round = rfc3339_utc_from_unix_millis(millis);
                assert_eq!(unix_millis_from_rfc3339(&round), Some(millis), "{round}");
            }
        }
    }
}
