//! Handlers, one module per kind of call; each returns `Result<Response, ApiError>`.

pub mod changes;
pub mod history;
pub mod list;
pub mod read;

use crate::store::ClientRecord;
use crm_domain::RequestId;
use crm_platform::http_kit::{self, ApiError};
use spin_sdk::http::Response;

/// A single client: its JSON, `ETag` and `Cache-Control: private, no-cache` (revalidate).
pub fn client_response(
    status: u16,
    record: &ClientRecord,
    request_id: &RequestId,
) -> Result<Response, ApiError> {
    let mut response = http_kit::json_response(status, &record.to_json(), request_id)?;
    response.set_header("etag", record.etag());
    response.set_header("cache-control", "private, no-cache");
    if status == 201 {
        response.set_header("location", format!("/api/clients/{}", record.id));
    }
    Ok(response)
}

/// A page: `{data, next_cursor}` and, when there is a next page, `Link: <…>; rel="next"`.
pub fn page_response(
    path: &str,
    query: &str,
    data: Vec<serde_json::Value>,
    next_cursor: Option<String>,
    request_id: &RequestId,
) -> Result<Response, ApiError> {
    let body = serde_json::json!({ "data": data, "next_cursor": next_cursor });
    let mut response = http_kit::json_response(200, &body, request_id)?;
    response.set_header("cache-control", "private, no-cache");
    if let Some(cursor) = &next_cursor {
        let next = crm_domain::clients::list::with_cursor(query, cursor);
        response.set_header("link", format!("<{path}?{next}>; rel=\"next\""));
    }
    Ok(response)
}
