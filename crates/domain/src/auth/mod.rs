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
