//! Unit tests of Problem: constructors, serialization, the fallback body.

use super::*;
use serde_json::{Value, json};

fn parsed(problem: &Problem) -> Value {
    serde_json::from_str(&problem.to_json()).expect("problem JSON parses")
}

#[test]
fn constructors_set_status_title_and_stable_type() {
    let cases = [
        (Problem::bad_request("x"), 400, "bad-request", "Bad Request"),
        (
            Problem::unauthorized("x"),
            401,
            "unauthorized",
            "Unauthorized",
        ),
        (Problem::forbidden("x"), 403, "forbidden", "Forbidden"),
        (Problem::not_found("x"), 404, "not-found", "Not Found"),
        (
            Problem::method_not_allowed("POST", &["GET"]),
            405,
            "method-not-allowed",
            "Method Not Allowed",
        ),
        (Problem::conflict("x"), 409, "conflict", "Conflict"),
        (
            Problem::precondition_failed("x"),
            412,
            "precondition-failed",
            "Precondition Failed",
        ),
        (
            Problem::content_too_large(1024),
            413,
            "content-too-large",
            "Content Too Large",
        ),
        (
            Problem::unsupported_media_type("x"),
            415,
            "unsupported-media-type",
            "Unsupported Media Type",
        ),
        (
            Problem::unprocessable(vec![]),
            422,
            "validation-failed",
            "Unprocessable Content",
        ),
        (
            Problem::precondition_required("x"),
            428,
            "precondition-required",
            "Precondition Required",
        ),
        (
            Problem::too_many_requests("x"),
            429,
            "too-many-requests",
            "Too Many Requests",
        ),
        (
            Problem::internal(),
            500,
            "internal-error",
            "Internal Server Error",
        ),
        (
            Problem::service_unavailable("x"),
            503,
            "service-unavailable",
            "Service Unavailable",
        ),
    ];
    for (problem, status, slug, title) in cases {
        assert_eq!(problem.status(), status, "status of {slug}");
        assert_eq!(
            problem.problem_type(),
            format!("https://problems.crm-api.dev/{slug}"),
            "type of {slug}"
        );
        assert_eq!(problem.title(), title, "title of {slug}");
    }
}

#[test]
fn not_found_serializes_without_instance_or_errors() {
    let problem = Problem::not_found("No client with id 42.");

    let body = parsed(&problem);

    assert_eq!(
        body,
        json!({
            "type": "https://problems.crm-api.dev/not-found",
            "title": "Not Found",
            "status": 404,
            "detail": "No client with id 42."
        })
    );
}

#[test]
fn unprocessable_serializes_field_errors() {
    let problem = Problem::unprocessable(vec![FieldError::new("email", "is not an email")]);

    let body = parsed(&problem);

    assert_eq!(body["status"], 422);
    assert_eq!(
        body["errors"],
        json!([{"field": "email", "message": "is not an email"}])
    );
}

#[test]
fn instance_is_serialized_when_set() {
    let problem = Problem::bad_request("bad").with_instance("/api/clients/7");

    let body = parsed(&problem);

    assert_eq!(body["instance"], "/api/clients/7");
}

#[test]
fn internal_problem_detail_is_generic() {
    let body = parsed(&Problem::internal());

    assert_eq!(body["detail"], "The server could not complete the request.");
}

#[test]
fn method_not_allowed_detail_lists_allowed_methods() {
    let problem = Problem::method_not_allowed("DELETE", &["GET", "POST"]);

    assert!(
        problem.detail().contains("DELETE") && problem.detail().contains("GET, POST"),
        "detail was {:?}",
        problem.detail()
    );
}

#[test]
fn content_too_large_detail_names_the_limit() {
    let problem = Problem::content_too_large(65_536);

    assert!(
        problem.detail().contains("65536 bytes"),
        "detail was {:?}",
        problem.detail()
    );
}

#[test]
fn every_constructor_serializes_as_problem_json_with_its_status() {
    let cases = [
        (Problem::precondition_failed("etag differs"), 412),
        (Problem::content_too_large(10), 413),
        (Problem::unsupported_media_type("send JSON"), 415),
        (Problem::precondition_required("send If-Match"), 428),
    ];
    for (problem, status) in cases {
        let body = parsed(&problem);

        assert_eq!(body["status"], status, "status of {}", problem.title());
        assert_eq!(body["title"], problem.title(), "title of {status}");
        assert_eq!(body["detail"], problem.detail(), "detail of {status}");
    }
}

#[test]
fn fallback_body_is_valid_problem_json() {
    let fallback: Problem = serde_json::from_str(FALLBACK_PROBLEM_JSON).expect("fallback parses");

    assert_eq!(fallback, Problem::internal());
}

#[test]
fn problem_round_trips_through_json() {
    let problem = Problem::unprocessable(vec![FieldError::new("name", "is empty")]);

    let back: Problem = serde_json::from_str(&problem.to_json()).expect("parses");

    assert_eq!(back, problem);
}
