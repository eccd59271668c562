//! Identity: roles, tiers, principals, e-mail addresses, the password policy, API-key
//! syntax, login throttling windows and the routes `auth` serves. No I/O, no crypto.

mod email;
mod password;
mod principal;
mod role;
pub mod routes;
mod throttle;

pub use email::{EmailAddress, EmailError};
pub use password::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PasswordError, check_password};
pub use principal::{Principal, PrincipalKind};
pub use role::{ApiKeyRole, Role, Tier, UnknownValue};
pub use throttle::{LoginWindow, ThrottleDecision};

/// Whether a presented shared secret (a scheduler's or scraper's bearer token) equals the
/// configured one, compared in constant time; an empty configured secret matches nothing.
pub fn presents_secret(expected: &str, presented: &str) -> bool {
    let (expected, presented) = (expected.as_bytes(), presented.as_bytes());
    if expected.is_empty() || expected.len() != presented.len() {
        return false;
    }
    expected
        .iter()
        .zip(presented)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    authorization.strip_prefix("Bearer ").map(str::trim)
}
