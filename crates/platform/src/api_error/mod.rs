//! ApiError: the error every handler returns, mapped once to a problem response.

mod from_db;
mod headers;
#[cfg(test)]
mod tests;

pub use headers::{BEARER_REALM, BearerError};

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
    /// 401 with `WWW-Authenticate: Bearer realm="crm-api"`, plus `error="…"` when `error` is
    /// set (RFC 6750 §3); the detail is shown to the client.
    #[error("unauthorized: {detail}")]
    Unauthorized {
        detail: String,
        error: Option<BearerError>,
    },
    /// 403: the caller is known but not allowed to do this; the detail is shown to the client.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404: nothing lives at this path; the detail is shown to the client.
    #[error("not found: {0}")]
    NotFound(String),
    /// 405 with an `Allow` header listing `allowed`.
    #[error("method {method} not allowed; allowed: {allowed:?}")]
    MethodNotAllowed {
        method: String,
        allowed: &'static [&'static str],
    },
    /// 409: the request conflicts with the current state (e.g. a duplicate); detail shown.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 409 naming the field whose value is taken (e.g. a duplicate e-mail); detail shown.
    #[error("conflict on {field}: {detail}")]
    Duplicate { field: String, detail: String },
    /// 412: a precondition (`If-Match`, `If-Unmodified-Since`) does not hold; detail shown.
    /// `etag`, when known, is the current entity tag, sent as the `ETag` header.
    #[error("precondition failed: {detail}")]
    PreconditionFailed {
        detail: String,
        etag: Option<String>,
    },
    /// 413: the request body is larger than `limit_bytes`.
    #[error("content larger than {limit_bytes} bytes")]
    ContentTooLarge { limit_bytes: u64 },
    /// 415: the body's media type is not accepted here; the detail is shown to the client.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 422: some fields are invalid.
    #[error("{} invalid field(s)", .0.len())]
    Unprocessable(Vec<FieldError>),
    /// 428: the request must be conditional (e.g. carry `If-Match`); detail shown.
    #[error("precondition required: {0}")]
    PreconditionRequired(String),
    /// 429 with a `Retry-After` header of `retry_after_secs` seconds.
    #[error("too many requests; retry after {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503: a dependency is down; `detail` is shown to the client, so keep it generic;
    /// `cause`, when set, is only logged.
    #[error("service unavailable: {detail}{}", caused_by(.cause.as_deref()))]
    ServiceUnavailable {
        detail: String,
        cause: Option<String>,
    },
    /// 500: the cause is logged with the request id and never sent to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

fn caused_by(cause: Option<&str>) -> String {
    cause.map(|cause| format!(" ({cause})")).unwrap_or_default()
}

impl ApiError {
    /// An internal error whose cause reads "`context`: `cause`" in the log.
    pub fn internal(context: &str, cause: impl fmt::Display) -> Self {
        Self::Internal(format!("{context}: {cause}"))
    }

    /// 401 for a request without credentials: the challenge carries no `error` (RFC 6750 §3.1).
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::Unauthorized {
            detail: detail.into(),
            error: None,
        }
    }

    /// 401 for an expired, revoked or malformed token: `error="invalid_token"`.
    pub fn invalid_token(detail: impl Into<String>) -> Self {
        Self::Unauthorized {
            detail: detail.into(),
            error: Some(BearerError::InvalidToken),
        }
    }

    /// 503 whose `detail` is shown to the client; nothing more is logged.
    pub fn service_unavailable(detail: impl Into<String>) -> Self {
        Self::ServiceUnavailable {
            detail: detail.into(),
            cause: None,
        }
    }

    /// 503 whose `detail` is shown to the client and whose `cause` is only logged.
    pub fn dependency_unavailable(detail: impl Into<String>, cause: impl fmt::Display) -> Self {
        Self::ServiceUnavailable {
            detail: detail.into(),
            cause: Some(cause.to_string()),
        }
    }

    pub fn status_code(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized { .. } => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::Conflict(_) | Self::Duplicate { .. } => 409,
            Self::PreconditionFailed { .. } => 412,
            Self::ContentTooLarge { .. } => 413,
            Self::UnsupportedMediaType(_) => 415,
            Self::Unprocessable(_) => 422,
            Self::PreconditionRequired(_) => 428,
            Self::TooManyRequests { .. } => 429,
            Self::ServiceUnavailable { .. } => 503,
            Self::Internal(_) => 500,
        }
    }

    /// The client-facing problem; never contains the cause of an internal error.
    pub fn to_problem(&self) -> Problem {
        match self {
            Self::BadRequest(detail) => Problem::bad_request(detail.as_str()),
            Self::Unauthorized { detail, .. } => Problem::unauthorized(detail.as_str()),
            Self::Forbidden(detail) => Problem::forbidden(detail.as_str()),
            Self::NotFound(detail) => Problem::not_found(detail.as_str()),
            Self::MethodNotAllowed { method, allowed } => {
                Problem::method_not_allowed(method, allowed)
            }
            Self::Conflict(detail) => Problem::conflict(detail.as_str()),
            Self::Duplicate { field, detail } => Problem::conflict(detail.as_str())
                .with_errors(vec![FieldError::new(field.as_str(), detail.as_str())]),
            Self::PreconditionFailed { detail, .. } => {
                Problem::precondition_failed(detail.as_str())
            }
            Self::ContentTooLarge { limit_bytes } => Problem::content_too_large(*limit_bytes),
            Self::UnsupportedMediaType(detail) => Problem::unsupported_media_type(detail.as_str()),
            Self::Unprocessable(errors) => Problem::unprocessable(errors.clone()),
            Self::PreconditionRequired(detail) => Problem::precondition_required(detail.as_str()),
            Self::TooManyRequests { retry_after_secs } => Problem::too_many_requests(format!(
                "Too many requests; retry after {retry_after_secs} seconds."
            )),
            Self::ServiceUnavailable { detail, .. } => {
                Problem::service_unavailable(detail.as_str())
            }
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
            Self::ServiceUnavailable { .. } => {
                (Level::Warn, "request failed: dependency unavailable")
            }
            _ => (Level::Debug, "request rejected"),
        };
        log::emit(
            LogLine::new(level, component, message)
                .field("request_id", request_id.as_str())
                .field("status", self.status_code())
                .field("cause", self.to_string()),
        );
    }

    /// The problem response with this error's own headers (`Allow`, `WWW-Authenticate`, …).
    fn response_without_logging(&self, request_id: &RequestId) -> Response {
        let mut response = problem_response(&self.to_problem(), request_id);
        if let Some((name, value)) = headers::extra_header(self) {
            response.set_header(name, value);
        }
        response
    }
}
