//! Login throttling in the `auth` store: failed logins counted with atomic increments per
//! account (`auth:login:account:<sha256 of email>:<window length>:<window start>`) and per
//! client address (`auth:login:address:<ip>:<window length>:<window start>`), in fixed
//! windows; checked before any password is hashed.

use crate::kv::{self, AUTH_STORE};
use crate::settings::Settings;
use crm_domain::auth::{LoginWindow, ThrottleDecision};
use crm_platform::auth::sha256_hex;
use crm_platform::http_kit::ApiError;
use spin_sdk::wit::wasi::keyvalue::atomics;
use spin_sdk::wit::wasi::keyvalue::store::Bucket;

/// The counters one login attempt is judged by.
pub struct LoginThrottle {
    window: LoginWindow,
    now: u64,
    /// `(counter key, limit)`; the address counter is absent for password changes.
    counters: Vec<(String, i64)>,
}

impl LoginThrottle {
    /// For a login: the account (normalised e-mail text) and the client IP.
    pub fn for_login(settings: &Settings, email: &str, ip: &str, now: u64) -> LoginThrottle {
        let window = LoginWindow::at(now, settings.failure_window_seconds);
        LoginThrottle {
            window,
            now,
            counters: vec![
                (
                    account_key(email, window),
                    settings.max_failures_per_account,
                ),
                (address_key(ip, window), settings.max_failures_per_address),
            ],
        }
    }

    /// For a password change: the account only (the caller is already signed in).
    pub fn for_account(settings: &Settings, email: &str, now: u64) -> LoginThrottle {
        let window = LoginWindow::at(now, settings.failure_window_seconds);
        LoginThrottle {
            window,
            now,
            counters: vec![(
                account_key(email, window),
                settings.max_failures_per_account,
            )],
        }
    }

    /// 429 with `Retry-After` when any counter is at its limit. Reads with a zero increment
    /// (a counter is never read with `get`: Spin's SQLite store keeps it as binary).
    pub fn check(&self, bucket: &Bucket) -> Result<(), ApiError> {
        for (key, limit) in &self.counters {
            let failures = increment(bucket, key, 0)?;
            if let ThrottleDecision::RetryAfter(seconds) =
                ThrottleDecision::decide(failures, *limit, self.window, self.now)
            {
                return Err(ApiError::TooManyRequests {
                    retry_after_secs: seconds,
                });
            }
        }
        Ok(())
    }

    /// Counts one failure on every counter.
    pub fn record_failure(&self, bucket: &Bucket) -> Result<(), ApiError> {
        for (key, _) in &self.counters {
            increment(bucket, key, 1)?;
        }
        Ok(())
    }
}

fn increment(bucket: &Bucket, key: &str, delta: i64) -> Result<i64, ApiError> {
    atomics::increment(bucket, key, delta).map_err(|error| kv::unavailable(AUTH_STORE, &error))
}

/// The account counter's key: the e-mail appears only as its SHA-256.
pub fn account_key(email: &str, window: LoginWindow) -> String {
    format!(
        "auth:login:account:{}:{}:{}",
        sha256_hex(email.as_bytes()),
        window.length,
        window.start
    )
}

/// The address counter's key.
pub fn address_key(ip: &str, window: LoginWindow) -> String {
    format!("auth:login:address:{ip}:{}:{}", window.length, window.start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_keys_name_the_window_length_and_start() {
        let window = LoginWindow::at(1_000_905, 900);
        let cases = [
            (
                account_key("abc", window),
                "auth:login:account:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad:900:1000800",
                "account, by the e-mail's hash",
            ),
            (
                address_key("203.0.113.7", window),
                "auth:login:address:203.0.113.7:900:1000800",
                "IPv4 address",
            ),
            (
                address_key("2001:db8::1", window),
                "auth:login:address:2001:db8::1:900:1000800",
                "IPv6 address",
            ),
        ];
        for (key, expected, reason) in cases {
            assert_eq!(key, expected, "{reason}");
        }
    }

    #[test]
    fn the_account_key_never_contains_the_email() {
        let window = LoginWindow::at(0, 900);

        assert!(!account_key("ada@example.com", window).contains("ada"));
    }
}
