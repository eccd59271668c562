//! `GET /api/clients/{id}`: 200 with the `ETag`, or 304 when `If-None-Match` matches.

use super::client_response;
use crate::conditional::none_match_hits;
use crate::{Call, not_found, store};
use crm_platform::http_kit::{ApiError, REQUEST_ID_HEADER};
use spin_sdk::http::Response;

pub fn get(call: &Call<'_>) -> Result<Response, ApiError> {
    let id = call.client_id()?;
    let record = store::find_live(call.db, id)?.ok_or_else(|| not_found(id))?;
    if none_match_hits(call.request, &record) {
        return Ok(Response::builder()
            .status(304)
            .header("etag", record.etag())
            .header("cache-control", "private, no-cache")
            .header(REQUEST_ID_HEADER, call.request_id.as_str())
            .build());
    }
    client_response(200, &record, call.request_id)
}
