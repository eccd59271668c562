//! Health component: routes `/health`, `/health/live`, `/health/ready` and `/metrics` to
//! their handlers, and answers every path no other component routes (spin.toml `/...`) with a problem+json 404.
#![deny(unsafe_code)]

mod checks;
mod handlers;
mod metrics;

use crm_domain::RequestId;
use crm_platform::http_kit::{self, ApiError};
use spin_sdk::http::{Method, Request, Response};

/// Name written as `component` in every log line.
const COMPONENT: &str = "health";

/// Methods every health endpoint answers.
const ALLOWED_METHODS: &[&str] = &["GET"];

/// The endpoints this component serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Report,
    Live,
    Ready,
    Metrics,
}

impl Endpoint {
    /// Matches the request path, tolerating one trailing slash.
    fn from_path(path: &str) -> Option<Self> {
        let path = if path.len() > 1 {
            path.strip_suffix('/').unwrap_or(path)
        } else {
            path
        };
        match path {
            "/health" => Some(Self::Report),
            "/health/live" => Some(Self::Live),
            "/health/ready" => Some(Self::Ready),
            "/metrics" => Some(Self::Metrics),
            _ => None,
        }
    }
}

/// The wasi:http export. `#[http_component]` expands to FFI glue that needs `unsafe`;
/// our own code stays under `deny(unsafe_code)`.
#[allow(unsafe_code)]
mod export {
    #[spin_sdk::http_component]
    fn handle_health(request: spin_sdk::http::Request) -> spin_sdk::http::Response {
        super::handle_health(request)
    }
}

/// Request id, error mapping and access log are `serve`'s; routing is `route`'s.
fn handle_health(request: Request) -> Response {
    http_kit::serve(COMPONENT, request, route)
}

fn route(request: &Request, request_id: &RequestId) -> Result<Response, ApiError> {
    let endpoint = Endpoint::from_path(request.path())
        .ok_or_else(|| ApiError::NotFound(format!("No route matches {}.", request.path())))?;
    if *request.method() != Method::Get {
        return Err(ApiError::MethodNotAllowed {
            method: request.method().to_string(),
            allowed: ALLOWED_METHODS,
        });
    }
    match endpoint {
        Endpoint::Report => handlers::full_report(request_id),
        Endpoint::Live => handlers::liveness(request_id),
        Endpoint::Ready => handlers::readiness(request_id),
        Endpoint::Metrics => metrics::scrape(request, request_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_match_with_and_without_trailing_slash() {
        let cases = [
            ("/health", Some(Endpoint::Report)),
            ("/health/", Some(Endpoint::Report)),
            ("/health/live", Some(Endpoint::Live)),
            ("/health/live/", Some(Endpoint::Live)),
            ("/health/ready", Some(Endpoint::Ready)),
            ("/health/ready/", Some(Endpoint::Ready)),
        ];
        for (path, expected) in cases {
            assert_eq!(Endpoint::from_path(path), expected, "path {path:?}");
        }
    }

    #[test]
    fn unknown_paths_match_no_endpoint() {
        let cases = [
            ("/health/unknown", "unknown endpoint"),
            ("/health//", "two trailing slashes"),
            ("/health/ready/extra", "extra segment"),
            ("/healthz", "different prefix"),
            ("/", "root"),
            ("", "empty path"),
            ("/HEALTH", "paths are case-sensitive"),
        ];
        for (path, reason) in cases {
            assert_eq!(Endpoint::from_path(path), None, "{reason}: {path:?}");
        }
    }
}
