//! Problem+json (RFC 9457) responses the host itself produces, in the
//! domain's shape so host and components answer alike.

use bytes::Bytes;
use crm_domain::{PROBLEM_CONTENT_TYPE, Problem};
use http_body_util::{BodyExt, Full};
use hyper::Response;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

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

fn problem(problem: &Problem) -> Response<HyperOutgoingBody> {
    full(problem.status(), PROBLEM_CONTENT_TYPE, problem.to_json())
}

pub fn not_found(path: &str) -> Response<HyperOutgoingBody> {
    problem(&Problem::not_found(format!("No route matches {path}.")))
}

/// The generic 500: the cause goes to the log, never to the client; the
/// request id identifies the occurrence.
pub fn internal(request_id: &str) -> Response<HyperOutgoingBody> {
    problem(&Problem::internal().with_instance(format!("urn:request-id:{request_id}")))
}
