//! The two key-value stores `auth` uses, through `wasi:keyvalue`: its own `auth` store
//! (generated signing key, login failure counters) and the shared `default` store (API key
//! cache entries, disabled-user markers the verification kit reads).

use crm_platform::http_kit::ApiError;
use crm_platform::kv::kv_error_name;
use spin_sdk::wit::wasi::keyvalue::store::{self, Bucket, Error};

/// Granted to `auth` alone.
pub const AUTH_STORE: &str = "auth";
/// Shared with every component that uses the verification kit.
pub const SHARED_STORE: &str = "default";

/// Opens `label`, or a 503 naming the failure kind (never its payload).
pub fn open(label: &str) -> Result<Bucket, ApiError> {
    store::open(label).map_err(|error| unavailable(label, &error))
}

/// A 503 for a failed operation on store `label`; the log gets the error kind only.
pub fn unavailable(label: &str, error: &Error) -> ApiError {
    ApiError::dependency_unavailable(
        "A key-value store is unavailable; try again later.",
        format!("key-value store `{label}`: {}", kv_error_name(error)),
    )
}
