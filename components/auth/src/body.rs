//! Request bodies: at most 64 KiB (else 413), then `json_body`'s 400/415/422.

use crm_platform::http_kit::{ApiError, json_body};
use serde::de::DeserializeOwned;
use spin_sdk::http::Request;

/// Largest body read, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The body as `T`, or the problem saying why not.
pub fn json<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    if request.body().len() > MAX_BODY_BYTES {
        return Err(ApiError::ContentTooLarge {
            limit_bytes: MAX_BODY_BYTES as u64,
        });
    }
    json_body(request)
}
