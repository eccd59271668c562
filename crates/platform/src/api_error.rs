//! ApiError: the error every handler returns, mapped once to a problem response.

use crate::http_kit::problem_response;
use crate::log;
use crm_domain::{FieldError, Level, LogLine, Problem, RequestId};
use spin_sdk::http::Response;
use std::fmt;

/// What went wrong while handling a request; each variant documents its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed; the detail is shown to the client.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 404: nothing lives at this path; the detail is shown to the client.
    #[error("not found: {0}")]
    NotFound(String),
    /// 405 with an `Allow` header listing `allowed`.
    #[error("method {method} not allowed; allowed: {allowed:?}")]
    MethodNotAllowed {
        method: String,
        allowed: &'static [&'static str],
    },
    /// 422: some fields are invalid.
    #[error("{} invalid field(s)", .0.len())]
    Unprocessable(Vec<FieldError>),
    /// 503: a dependency is down; the detail is shown to the client, so keep it generic.
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
    /// 500: the cause is logged with the request id and never sent to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// An internal error whose cause reads "`context`: `cause`" in the log.
    pub fn internal(context: &str, cause: impl fmt::Display) -> Self {
        Self::Internal(format!("{context}: {cause}"))
    }

    pub fn status_code(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::Unprocessable(_) => 422,
            Self::ServiceUnavailable(_) => 503,
            Self::Internal(_) => 500,
        }
    }

    /// The client-facing problem; never contains the cause of an internal error.
    pub fn to_problem(&self) -> Problem {
        match self {
            Self::BadRequest(detail) => Problem::bad_request(detail.as_str()),
            Self::NotFound(detail) => Problem::not_found(detail.as_str()),
            Self::MethodNotAllowed { method, allowed } => {
                Problem::method_not_allowed(method, allowed)
            }
            Self::Unprocessable(errors) => Problem::unprocessable(errors.clone()),
            Self::ServiceUnavailable(detail) => Problem::service_unavailable(detail.as_str()),
            Self::Internal(_) => Problem::internal(),
        }
    }

    /// Logs server-side failures (with the request id) and builds the problem response.
    pub fn into_response(self, request_id: &RequestId, component: &str) -> Response {
        self.log(request_id, component);
        self.response_without_logging(request_id)
    }

    fn log(&self, request_id: &RequestId, component: &str) {
        let (level, message) = match self {
            Self::Internal(_) => (Level::Error, "request failed with an internal error"),
            Self::ServiceUnavailable(_) => (Level::Warn, "request failed: dependency unavailable"),
            _ => (Level::Debug, "request rejected"),
        };
        log::emit(
            LogLine::new(level, component, message)
                .field("request_id", request_id.as_str())
                .field("status", self.status_code())
                .field("cause", self.to_string()),
        );
    }

    fn response_without_logging(&self, request_id: &RequestId) -> Response {
        let mut response = problem_response(&self.to_problem(), request_id);
        if let Self::MethodNotAllowed { allowed, .. } = self {
            response.set_header("allow", allowed.join(", "));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn id() -> RequestId {
        RequestId::parse("req-1").expect("valid id")
    }

    fn body(response: &Response) -> Value {
        serde_json::from_slice(response.body()).expect("JSON body")
    }

    #[test]
    fn each_variant_maps_to_its_status() {
        let cases = [
            (ApiError::BadRequest("b".into()), 400),
            (ApiError::NotFound("n".into()), 404),
            (
                ApiError::MethodNotAllowed {
                    method: "POST".into(),
                    allowed: &["GET"],
                },
                405,
            ),
            (
                ApiError::Unprocessable(vec![FieldError::new("f", "m")]),
                422,
            ),
            (ApiError::ServiceUnavailable("s".into()), 503),
            (ApiError::Internal("i".into()), 500),
        ];
        for (error, status) in cases {
            let response = error.response_without_logging(&id());

            assert_eq!(error.status_code(), status, "{error}");
            assert_eq!(*response.status(), status, "{error}");
            assert_eq!(body(&response)["status"], status, "{error}");
        }
    }

    #[test]
    fn internal_error_body_never_contains_the_cause() {
        let error = ApiError::internal("Failed to query clients", "password=hunter2 at db:5432");

        let response = error.response_without_logging(&id());

        let text = String::from_utf8_lossy(response.body()).into_owned();
        assert!(
            !text.contains("hunter2") && !text.contains("5432"),
            "{text}"
        );
        assert_eq!(body(&response)["detail"], Problem::internal().detail());
    }

    #[test]
    fn method_not_allowed_response_carries_allow_header() {
        let error = ApiError::MethodNotAllowed {
            method: "DELETE".into(),
            allowed: &["GET", "HEAD"],
        };

        let response = error.response_without_logging(&id());

        let allow = response.header("allow").and_then(|value| value.as_str());
        assert_eq!(allow, Some("GET, HEAD"));
    }
}
