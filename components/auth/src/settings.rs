//! The component's tunables, read from its Spin variables (names as in spin.toml
//! `[component.auth.variables]`). The parsing is pure; only `from_variables` asks Spin.

use crm_platform::http_kit::ApiError;
use std::ops::RangeInclusive;

pub const ACCESS_TOKEN_TTL_SECONDS: &str = "access_token_ttl_seconds";
pub const REFRESH_TOKEN_TTL_DAYS: &str = "refresh_token_ttl_days";
pub const LOGIN_MAX_FAILURES_PER_ACCOUNT: &str = "login_max_failures_per_account";
pub const LOGIN_MAX_FAILURES_PER_ADDRESS: &str = "login_max_failures_per_address";
pub const LOGIN_FAILURE_WINDOW_SECONDS: &str = "login_failure_window_seconds";

/// What the variables say, with the documented defaults for blank ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub access_token_ttl_seconds: u64,
    pub refresh_token_ttl_days: u64,
    pub max_failures_per_account: i64,
    pub max_failures_per_address: i64,
    pub failure_window_seconds: u64,
}

/// One numeric variable: its name, default and accepted range.
struct Tunable {
    name: &'static str,
    default: u64,
    range: RangeInclusive<u64>,
}

const TUNABLES: [Tunable; 5] = [
    Tunable {
        name: ACCESS_TOKEN_TTL_SECONDS,
        default: 900,
        range: 30..=86_400,
    },
    Tunable {
        name: REFRESH_TOKEN_TTL_DAYS,
        default: 30,
        range: 1..=365,
    },
    Tunable {
        name: LOGIN_MAX_FAILURES_PER_ACCOUNT,
        default: 5,
        range: 1..=1_000,
    },
    Tunable {
        name: LOGIN_MAX_FAILURES_PER_ADDRESS,
        default: 20,
        range: 1..=100_000,
    },
    Tunable {
        name: LOGIN_FAILURE_WINDOW_SECONDS,
        default: 900,
        range: 1..=86_400,
    },
];

impl Settings {
    /// From the Spin variables; a value out of range is a 500 whose log names the variable.
    pub fn from_variables() -> Result<Settings, ApiError> {
        Settings::from_lookup(|name| spin_sdk::variables::get(name).ok())
            .map_err(|reason| ApiError::internal("Invalid auth configuration", reason))
    }

    /// From any lookup (`None` or blank: the default). The error names the bad variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let mut values = [0_u64; 5];
        for (value, tunable) in values.iter_mut().zip(&TUNABLES) {
            *value = read(&lookup, tunable)?;
        }
        let [access, refresh, per_account, per_address, window] = values;
        Ok(Settings {
            access_token_ttl_seconds: access,
            refresh_token_ttl_days: refresh,
            max_failures_per_account: i64::try_from(per_account).unwrap_or(i64::MAX),
            max_failures_per_address: i64::try_from(per_address).unwrap_or(i64::MAX),
            failure_window_seconds: window,
        })
    }
}

fn read(lookup: &impl Fn(&str) -> Option<String>, tunable: &Tunable) -> Result<u64, String> {
    let Some(text) = lookup(tunable.name).filter(|text| !text.trim().is_empty()) else {
        return Ok(tunable.default);
    };
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|value| tunable.range.contains(value))
        .ok_or_else(|| {
            format!(
                "variable `{}` must be an integer from {} to {}",
                tunable.name,
                tunable.range.start(),
                tunable.range.end()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup_of(pairs: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        let pairs = pairs.to_vec();
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn blank_or_missing_variables_take_the_documented_defaults() {
        let settings = Settings::from_lookup(lookup_of(&[(ACCESS_TOKEN_TTL_SECONDS, " ")]));

        assert_eq!(
            settings,
            Ok(Settings {
                access_token_ttl_seconds: 900,
                refresh_token_ttl_days: 30,
                max_failures_per_account: 5,
                max_failures_per_address: 20,
                failure_window_seconds: 900,
            })
        );
    }

    #[test]
    fn set_variables_are_used() {
        let settings = Settings::from_lookup(lookup_of(&[
            (ACCESS_TOKEN_TTL_SECONDS, "60"),
            (LOGIN_MAX_FAILURES_PER_ACCOUNT, " 3 "),
        ]));

        let settings = settings.expect("valid");
        assert_eq!(settings.access_token_ttl_seconds, 60);
        assert_eq!(settings.max_failures_per_account, 3);
    }

    #[test]
    fn bad_values_are_refused_naming_the_variable() {
        let cases = [
            (ACCESS_TOKEN_TTL_SECONDS, "fifteen minutes", "not a number"),
            (ACCESS_TOKEN_TTL_SECONDS, "0", "below the range"),
            (REFRESH_TOKEN_TTL_DAYS, "3650", "above the range"),
            (LOGIN_FAILURE_WINDOW_SECONDS, "-5", "negative"),
        ];
        for (name, value, reason) in cases {
            let pairs = [(name, value)];

            let error = Settings::from_lookup(lookup_of(&pairs))
                .err()
                .unwrap_or_default();

            assert!(error.contains(name), "{reason}: {error}");
        }
    }
}
