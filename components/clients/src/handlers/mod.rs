//! Handlers, one module per kind of call; each returns `Result<Response, ApiError>`.

pub mod changes;
pub mod history;
pub mod list;
pub mod read;

use crate::conditional;
use crate::store::ClientRecord;
use crm_domain::RequestId;
use crm_domain::cache::Representation;
use crm_platform::http_kit::{self, ApiError, JSON_CONTENT_TYPE, REQUEST_ID_HEADER};
use serde::Serialize;
use spin_sdk::http::{Request, Response};

/// `Cache-Control` of every read (a client, a page): the caller's own cache may reuse it
/// for 5 s, shared caches never (docs/caching.md).
pub const READ_CACHE_CONTROL: &str = "private, max-age=5";

/// The body of a page (keys in the order `serde_json::json!` would give them).
#[derive(Serialize)]
struct Page<'a, T> {
    data: &'a [T],
    next_cursor: Option<&'a str>,
}

/// The answer to a write that returns the client: its JSON and `ETag`, to be revalidated
/// before any reuse (`private, no-cache`).
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

/// A client as a read's representation: its JSON, tagged with its version.
pub fn client_representation(record: &ClientRecord) -> Result<Representation, ApiError> {
    Ok(Representation {
        body: to_json(record)?,
        etag: record.etag(),
        next_cursor: None,
    })
}

/// A page as a read's representation: `{data, next_cursor}`, tagged by its bytes.
pub fn page_representation<T: Serialize>(
    data: &[T],
    next_cursor: Option<String>,
) -> Result<Representation, ApiError> {
    let body = to_json(&Page {
        data,
        next_cursor: next_cursor.as_deref(),
    })?;
    Ok(Representation {
        etag: crm_domain::cache::body_etag(&body),
        body,
        next_cursor,
    })
}

fn to_json(value: &impl Serialize) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value)
        .map_err(|error| ApiError::internal("Failed to serialize the response body", error))
}

/// The answer to a read: 200 with the body, or 304 without it when `If-None-Match` names
/// its tag; both with the `ETag`, `Cache-Control` and, for a page with a next one,
/// `Link: <path?query with the next cursor>; rel="next"`.
pub fn read_response(
    request: &Request,
    request_id: &RequestId,
    representation: Representation,
) -> Response {
    let not_modified = conditional::header(request, "if-none-match")
        .is_some_and(|tags| crm_domain::cache::none_match(&tags, &representation.etag));
    let mut response = if not_modified {
        Response::new(304, ())
    } else {
        let mut response = Response::new(200, representation.body);
        response.set_header("content-type", JSON_CONTENT_TYPE);
        response
    };
    response.set_header(REQUEST_ID_HEADER, request_id.as_str());
    response.set_header("etag", representation.etag);
    response.set_header("cache-control", READ_CACHE_CONTROL);
    if let Some(cursor) = &representation.next_cursor {
        let next = crm_domain::clients::list::with_cursor(request.query(), cursor);
        response.set_header("link", format!("<{}?{next}>; rel=\"next\"", request.path()));
    }
    response
}
