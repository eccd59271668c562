//! Problem+json (RFC 9457) responses the host itself produces.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Response;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Base of the stable `type` URIs, shared with the components.
pub const PROBLEM_BASE: &str = "https://problems.crm-api.dev/";

/// A full-body response.
pub fn full(
    status: u16,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Response<HyperOutgoingBody> {
    let body = Full::new(body.into())
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

/// A problem+json response; `slug` names the stable problem type.
pub fn problem(status: u16, slug: &str, title: &str, detail: &str) -> Response<HyperOutgoingBody> {
    let body = serde_json::json!({
        "type": format!("{PROBLEM_BASE}{slug}"),
        "title": title,
        "status": status,
        "detail": detail,
    });
    full(status, "application/problem+json", body.to_string())
}

pub fn not_found(path: &str) -> Response<HyperOutgoingBody> {
    problem(
        404,
        "not-found",
        "Not Found",
        &format!("No route matches {path}"),
    )
}

/// The generic 500: the cause goes to the log, never to the client.
pub fn internal(request_id: &str) -> Response<HyperOutgoingBody> {
    problem(
        500,
        "internal",
        "Internal Server Error",
        &format!("The request failed; quote request id {request_id} when reporting it."),
    )
}
