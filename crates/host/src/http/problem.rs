//! Responses the host makes itself. Where Spin makes the same one (no route: 404; a
//! failed guest: 500) it is Spin's: an empty body and no content type. The limits Spin
//! does not have answer in the app's problem+json shape (RFC 9457).

use bytes::Bytes;
use crm_domain::{PROBLEM_CONTENT_TYPE, Problem};
use http_body_util::{BodyExt, Full};
use hyper::Response;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// A response as the listener sends it.
pub type HostResponse = Response<HyperOutgoingBody>;

/// A full-body response, with a content type when given.
pub fn full(status: u16, content_type: Option<&str>, body: impl Into<Bytes>) -> HostResponse {
    let body = Full::new(body.into())
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(value) = content_type.and_then(|c| c.parse().ok()) {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

/// Spin's own shape: the status, an empty body, no content type.
pub fn empty(status: u16) -> HostResponse {
    full(status, None, Bytes::new())
}

fn problem(problem: &Problem) -> HostResponse {
    full(
        problem.status(),
        Some(PROBLEM_CONTENT_TYPE),
        problem.to_json(),
    )
}

/// 413: the request body is over `--max-request-body`.
pub fn body_too_large(limit: u64) -> HostResponse {
    let mut response = problem(&Problem::content_too_large(limit));
    response.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    response
}

/// Seconds a client is asked to wait when the host is saturated.
pub const RETRY_AFTER_SECS: u64 = 1;

fn saturated_problem() -> Problem {
    Problem::service_unavailable("The server is at capacity; retry shortly.")
}

/// 503 with `Retry-After`: the host is at `--max-in-flight`.
pub fn saturated() -> HostResponse {
    let mut response = problem(&saturated_problem());
    response.headers_mut().insert(
        hyper::header::RETRY_AFTER,
        hyper::header::HeaderValue::from(RETRY_AFTER_SECS),
    );
    response
}

/// The same 503 as raw HTTP/1.1 bytes, for a connection over `--max-connections` that
/// never reaches hyper.
pub fn saturated_bytes() -> Vec<u8> {
    let body = saturated_problem().to_json();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: {PROBLEM_CONTENT_TYPE}\r\nretry-after: {RETRY_AFTER_SECS}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
