//! Handlers, one module per kind of call; each returns `Result<Response, ApiError>`.

pub mod changes;
pub mod history;
pub mod list;
pub mod read;

use crate::store::ClientRecord;
use crm_domain::RequestId;
use crm_platform::http_kit::{self, ApiError};
use serde::Serialize;
use spin_sdk::http::Response;

/// The body of a page (keys in the order `serde_json::json!` would give them).
#[derive(Serialize)]
struct Page<'a, T> {
    data: &'a [T],
    next_cursor: Option<&'a str>,
}

/// A single client: its JSON, `ETag` and `Cache-Control: private, no-cache` (revalidate).
pub fn client_response(
    status: u16,
    record: &ClientRecord,
    request_id: &RequestId,
) -> Result<Response, ApiError> {
    let mut response = http_kit::json_response(status, record, request_id)?;
    response.set_header("etag", record.etag());
    response.set_header("cache-control", "private, no-cache");
    if status == 201 {
        response.set_header("location", format!("/api/clients/{}", record.id));
    }
    Ok(response)
}

/// A page: `{data, next_cursor}` and, when there is a next page, `Link: <…>; rel="next"`.
pub fn page_response<T: Serialize>(
    path: &str,
    query: &str,
    data: &[T],
    next_cursor: Option<String>,
    request_id: &RequestId,
) -> Result<Response, ApiError> {
    let body = Page {
        data,
        next_cursor: next_cursor.as_deref(),
    };
    let mut response = http_kit::json_response(200, &body, request_id)?;
    response.set_header("cache-control", "private, no-cache");
    if let Some(cursor) = &next_cursor {
        let next = crm_domain::clients::list::with_cursor(query, cursor);
        response.set_header("link", format!("<{path}?{next}>; rel=\"next\""));
    }
    Ok(response)
}
