//! RFC 9457 problem details: the one error shape of every error response.

use serde::{Deserialize, Serialize};

/// Media type of a serialized [`Problem`].
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Stable base URI of every problem `type`; a slug per kind of problem is appended.
pub const PROBLEM_TYPE_BASE: &str = "https://problems.crm-api.dev/";

/// Body written when a problem cannot be serialized (it always can; this is a safety net).
const FALLBACK_PROBLEM_JSON: &str = r#"{"type":"https://problems.crm-api.dev/internal-error","title":"Internal Server Error","status":500,"detail":"The server could not complete the request."}"#;

/// One invalid input field of a 422 response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem details object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    problem_type: String,
    title: String,
    status: u16,
    detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    instance: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

impl Problem {
    fn new(slug: &str, title: &str, status: u16, detail: impl Into<String>) -> Self {
        Self {
            problem_type: format!("{PROBLEM_TYPE_BASE}{slug}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            instance: None,
            errors: Vec::new(),
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new("bad-request", "Bad Request", 400, detail)
    }

    /// 401: the request lacks valid credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new("unauthorized", "Unauthorized", 401, detail)
    }

    /// 403: the credentials do not allow this request.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new("forbidden", "Forbidden", 403, detail)
    }

    /// 404: the resource does not exist.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new("not-found", "Not Found", 404, detail)
    }

    /// 405: the resource exists but not with this method; `allowed` feeds the detail.
    pub fn method_not_allowed(method: &str, allowed: &[&str]) -> Self {
        let detail = format!(
            "Method {method} is not allowed on this resource; allowed: {}.",
            allowed.join(", ")
        );
        Self::new("method-not-allowed", "Method Not Allowed", 405, detail)
    }

    /// 409: the request conflicts with the current state of the resource.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new("conflict", "Conflict", 409, detail)
    }

    /// The same problem listing `errors` (e.g. the field a 409 is about).
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// 412: a precondition of the request (`If-Match`, `If-Unmodified-Since`) does not hold.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new("precondition-failed", "Precondition Failed", 412, detail)
    }

    /// 413: the request body is larger than `limit_bytes`.
    pub fn content_too_large(limit_bytes: u64) -> Self {
        let detail = format!("The request body is larger than the limit of {limit_bytes} bytes.");
        Self::new("content-too-large", "Content Too Large", 413, detail)
    }

    /// 415: the request body is not in a media type this resource accepts.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            "unsupported-media-type",
            "Unsupported Media Type",
            415,
            detail,
        )
    }

    /// 422: the request is well-formed but some fields are invalid.
    pub fn unprocessable(errors: Vec<FieldError>) -> Self {
        let mut problem = Self::new(
            "validation-failed",
            "Unprocessable Content",
            422,
            "One or more fields are invalid.",
        );
        problem.errors = errors;
        problem
    }

    /// 428: the request must be conditional (e.g. carry `If-Match`) and is not.
    pub fn precondition_required(detail: impl Into<String>) -> Self {
        Self::new(
            "precondition-required",
            "Precondition Required",
            428,
            detail,
        )
    }

    /// 429: the client sent too many requests.
    pub fn too_many_requests(detail: impl Into<String>) -> Self {
        Self::new("too-many-requests", "Too Many Requests", 429, detail)
    }

    /// 500 with a generic body: the cause belongs in the log, never here.
    pub fn internal() -> Self {
        Self::new(
            "internal-error",
            "Internal Server Error",
            500,
            "The server could not complete the request.",
        )
    }

    /// 503: a dependency is unavailable; `detail` must not contain internals.
    pub fn service_unavailable(detail: impl Into<String>) -> Self {
        Self::new("service-unavailable", "Service Unavailable", 503, detail)
    }

    /// Sets the URI reference of this occurrence of the problem.
    pub fn with_instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    pub fn problem_type(&self) -> &str {
        &self.problem_type
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }

    pub fn instance(&self) -> Option<&str> {
        self.instance.as_deref()
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The problem as a JSON document.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| FALLBACK_PROBLEM_JSON.to_owned())
    }
}

#[cfg(test)]
mod tests;
