//! HTTP kit: `serve` (the wrapper of every handler), `json_body`, request ids, JSON and
//! problem responses that echo `x-request-id`, and ApiError.

mod deserialize_errors;
mod json_body;
mod serve;

use crm_domain::{PROBLEM_CONTENT_TYPE, Problem, RequestId};
use serde::Serialize;
use spin_sdk::http::{Request, Response};
use uuid::Uuid;

pub use crate::api_error::{ApiError, BEARER_REALM, BearerError};
pub use json_body::{json_body, media_type};
pub use serve::{serve, serve_async, serve_public, serve_public_async};

/// Header carrying the request id in both directions.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Content type of every non-problem JSON body.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// The caller's `x-request-id` when it is a valid [`RequestId`], else a fresh UUID v4.
pub fn request_id(request: &Request) -> RequestId {
    request
        .header(REQUEST_ID_HEADER)
        .and_then(|value| value.as_str())
        .and_then(|value| RequestId::parse(value).ok())
        .unwrap_or_else(fresh_request_id)
}

/// A new random request id (UUID v4).
pub fn fresh_request_id() -> RequestId {
    RequestId::from_uuid(Uuid::new_v4())
}

/// A JSON response; fails only if `body` cannot be serialized.
pub fn json_response(
    status: u16,
    body: &impl Serialize,
    request_id: &RequestId,
) -> Result<Response, ApiError> {
    let bytes = serde_json::to_vec(body)
        .map_err(|error| ApiError::internal("Failed to serialize the response body", error))?;
    Ok(Response::builder()
        .status(status)
        .header("content-type", JSON_CONTENT_TYPE)
        .header(REQUEST_ID_HEADER, request_id.as_str())
        .body(bytes)
        .build())
}

/// An `application/problem+json` response with the problem's status.
pub fn problem_response(problem: &Problem, request_id: &RequestId) -> Response {
    Response::builder()
        .status(problem.status())
        .header("content-type", PROBLEM_CONTENT_TYPE)
        .header(REQUEST_ID_HEADER, request_id.as_str())
        .body(problem.to_json())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use spin_sdk::http::Method;

    fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
        response.header(name).and_then(|value| value.as_str())
    }

    fn request_with_id(id: &str) -> Request {
        let mut request = Request::new(Method::Get, "/health");
        request.set_header(REQUEST_ID_HEADER, id);
        request
    }

    #[test]
    fn request_id_reuses_a_valid_incoming_header() {
        let request = request_with_id("upstream-123");

        assert_eq!(request_id(&request).as_str(), "upstream-123");
    }

    #[test]
    fn request_id_replaces_invalid_or_missing_headers_with_a_uuid() {
        let too_long = "x".repeat(129);
        let cases = [
            (Some("has space"), "space"),
            (Some(""), "empty"),
            (Some(too_long.as_str()), "too long"),
            (None, "missing header"),
        ];
        for (incoming, reason) in cases {
            let request = match incoming {
                Some(id) => request_with_id(id),
                None => Request::new(Method::Get, "/health"),
            };

            let id = request_id(&request);

            assert!(Uuid::parse_str(id.as_str()).is_ok(), "{reason}: got {id}");
        }
    }

    #[test]
    fn json_response_sets_status_content_type_and_request_id() {
        let id = RequestId::parse("req-7").expect("valid id");

        let response = json_response(201, &json!({"a": 1}), &id).expect("serializes");

        assert_eq!(*response.status(), 201);
        assert_eq!(header(&response, "content-type"), Some("application/json"));
        assert_eq!(header(&response, "x-request-id"), Some("req-7"));
        let body: Value = serde_json::from_slice(response.body()).expect("JSON body");
        assert_eq!(body, json!({"a": 1}));
    }

    #[test]
    fn problem_response_uses_problem_status_and_content_type() {
        let id = RequestId::parse("req-8").expect("valid id");

        let response = problem_response(&Problem::not_found("nothing here"), &id);

        assert_eq!(*response.status(), 404);
        assert_eq!(
            header(&response, "content-type"),
            Some("application/problem+json")
        );
        assert_eq!(header(&response, "x-request-id"), Some("req-8"));
        let body: Value = serde_json::from_slice(response.body()).expect("JSON body");
        assert_eq!(body["detail"], "nothing here");
    }
}
