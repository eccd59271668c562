//! Unit tests of ApiError: status, problem+json body and headers of every variant.

use super::*;
use serde_json::Value;

fn id() -> RequestId {
    RequestId::parse("req-1").expect("valid id")
}

fn body(response: &Response) -> Value {
    serde_json::from_slice(response.body()).expect("JSON body")
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.header(name).and_then(|value| value.as_str())
}

fn every_variant() -> Vec<(ApiError, u16)> {
    vec![
        (ApiError::BadRequest("b".into()), 400),
        (ApiError::unauthorized("no token"), 401),
        (ApiError::invalid_token("expired"), 401),
        (ApiError::Forbidden("f".into()), 403),
        (ApiError::NotFound("n".into()), 404),
        (
            ApiError::MethodNotAllowed {
                method: "POST".into(),
                allowed: &["GET"],
            },
            405,
        ),
        (ApiError::Conflict("c".into()), 409),
        (
            ApiError::PreconditionFailed {
                detail: "etag".into(),
                etag: None,
            },
            412,
        ),
        (ApiError::ContentTooLarge { limit_bytes: 1024 }, 413),
        (ApiError::UnsupportedMediaType("json".into()), 415),
        (
            ApiError::Unprocessable(vec![FieldError::new("f", "m")]),
            422,
        ),
        (ApiError::PreconditionRequired("if-match".into()), 428),
        (
            ApiError::TooManyRequests {
                retry_after_secs: 7,
            },
            429,
        ),
        (ApiError::service_unavailable("s"), 503),
        (ApiError::dependency_unavailable("s", "refused"), 503),
        (ApiError::Internal("i".into()), 500),
    ]
}

#[test]
fn each_variant_maps_to_its_status_as_problem_json_with_the_request_id() {
    for (error, status) in every_variant() {
        let response = error.response_without_logging(&id());

        assert_eq!(error.status_code(), status, "{error}");
        assert_eq!(*response.status(), status, "{error}");
        assert_eq!(body(&response)["status"], status, "{error}");
        assert_eq!(
            header(&response, "content-type"),
            Some("application/problem+json"),
            "{error}"
        );
        assert_eq!(header(&response, "x-request-id"), Some("req-1"), "{error}");
    }
}

#[test]
fn error_responses_carry_their_protocol_headers() {
    let cases = [
        (
            ApiError::unauthorized("Sign in first."),
            "www-authenticate",
            r#"Bearer realm="crm-api""#,
        ),
        (
            ApiError::invalid_token("The token has expired."),
            "www-authenticate",
            r#"Bearer realm="crm-api", error="invalid_token""#,
        ),
        (
            ApiError::TooManyRequests {
                retry_after_secs: 42,
            },
            "retry-after",
            "42",
        ),
        (
            ApiError::MethodNotAllowed {
                method: "DELETE".into(),
                allowed: &["GET", "HEAD"],
            },
            "allow",
            "GET, HEAD",
        ),
    ];
    for (error, name, expected) in cases {
        let response = error.response_without_logging(&id());

        assert_eq!(header(&response, name), Some(expected), "{error}");
    }
}

#[test]
fn too_many_requests_detail_says_when_to_retry() {
    let error = ApiError::TooManyRequests {
        retry_after_secs: 42,
    };

    let response = error.response_without_logging(&id());

    let detail = body(&response)["detail"].as_str().map(str::to_owned);
    assert!(
        detail.as_deref().is_some_and(|d| d.contains("42 seconds")),
        "{detail:?}"
    );
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
fn dependency_unavailable_logs_the_cause_but_sends_only_the_detail() {
    let error = ApiError::dependency_unavailable("Try again later.", "redis at 10.0.0.9 refused");

    let response = error.response_without_logging(&id());

    let text = String::from_utf8_lossy(response.body()).into_owned();
    assert!(!text.contains("10.0.0.9"), "{text}");
    assert_eq!(body(&response)["detail"], "Try again later.");
    assert!(error.to_string().contains("10.0.0.9"), "{error}");
}
