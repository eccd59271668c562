//! `GET /.well-known/jwks.json`: the public halves of every configured key (active and
//! retired), never a private part.

use crate::signing_key_source;
use crm_domain::RequestId;
use crm_platform::http_kit::{ApiError, json_response};
use spin_sdk::http::Response;

/// Lets HTTP caches keep the document a few minutes (verifiers refetch on an unknown kid).
const CACHE_CONTROL: &str = "public, max-age=300";

pub fn get_jwks(request_id: &RequestId) -> Result<Response, ApiError> {
    let keys = signing_key_source::load()?;
    let mut response = json_response(200, &keys.jwks(), request_id)?;
    response.set_header("cache-control", CACHE_CONTROL);
    Ok(response)
}
