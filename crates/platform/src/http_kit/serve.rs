//! `serve` and `serve_async`: the one wrapper around every component's routes. Each does,
//! once per request, the request id, the stopwatch, the `ApiError` → problem mapping, the
//! `x-request-id` response header and the access log line.

use super::{REQUEST_ID_HEADER, request_id};
use crate::api_error::ApiError;
use crate::clock::Stopwatch;
use crate::log::{self, RequestSummary};
use crm_domain::RequestId;
use crm_domain::correlation::CORRELATION_ID_HEADER;
use spin_sdk::http::{Request, Response};

/// Serves `request` with `route`, a synchronous router:
///
/// ```no_run
/// use crm_domain::RequestId;
/// use crm_platform::http_kit::{self, ApiError};
/// use spin_sdk::http::{Request, Response};
///
/// fn handle_ping(request: Request) -> Response {
///     http_kit::serve("ping", request, route)
/// }
///
/// fn route(_request: &Request, request_id: &RequestId) -> Result<Response, ApiError> {
///     http_kit::json_response(200, &"pong", request_id)
/// }
/// ```
pub fn serve(
    component: &'static str,
    request: Request,
    route: impl FnOnce(&Request, &RequestId) -> Result<Response, ApiError>,
) -> Response {
    let exchange = Exchange::begin(component, &request);
    let outcome = route(&request, &exchange.request_id);
    exchange.finish(outcome)
}

/// Serves `request` with `route`, an async router (for handlers that send outbound HTTP
/// with `spin_sdk::http::send`); an `async fn route(&Request, &RequestId)` fits:
///
/// ```no_run
/// use crm_domain::RequestId;
/// use crm_platform::http_kit::{self, ApiError};
/// use spin_sdk::http::{Request, Response};
///
/// async fn handle_sync(request: Request) -> Response {
///     http_kit::serve_async("loops-sync", request, route).await
/// }
///
/// async fn route(_request: &Request, request_id: &RequestId) -> Result<Response, ApiError> {
///     let upstream: Response = spin_sdk::http::send(Request::get("https://example.com"))
///         .await
///         .map_err(|error| ApiError::dependency_unavailable("Upstream is down.", error))?;
///     http_kit::json_response(200, &upstream.status(), request_id)
/// }
/// ```
pub async fn serve_async(
    component: &'static str,
    request: Request,
    route: impl AsyncFnOnce(&Request, &RequestId) -> Result<Response, ApiError>,
) -> Response {
    let exchange = Exchange::begin(component, &request);
    let outcome = route(&request, &exchange.request_id).await;
    exchange.finish(outcome)
}

/// [`serve`] for a public route: the request is first limited by its client address, or,
/// carrying credentials, by its caller's tier once verified (`crate::rate_limit`); the
/// response carries the `RateLimit-*` headers.
pub fn serve_public(
    component: &'static str,
    request: Request,
    route: impl FnOnce(&Request, &RequestId) -> Result<Response, ApiError>,
) -> Response {
    let exchange = Exchange::begin(component, &request);
    let outcome = crate::rate_limit::limit_address(&request)
        .and_then(|()| route(&request, &exchange.request_id));
    exchange.finish(crate::rate_limit::settle(outcome))
}

/// [`serve_async`] for a public route (see [`serve_public`]).
pub async fn serve_public_async(
    component: &'static str,
    request: Request,
    route: impl AsyncFnOnce(&Request, &RequestId) -> Result<Response, ApiError>,
) -> Response {
    let exchange = Exchange::begin(component, &request);
    let outcome = match crate::rate_limit::limit_address(&request) {
        Ok(()) => route(&request, &exchange.request_id).await,
        Err(refused) => Err(refused),
    };
    exchange.finish(crate::rate_limit::settle(outcome))
}

/// What the end of a request needs from its start.
struct Exchange {
    component: &'static str,
    request_id: RequestId,
    summary: RequestSummary,
    stopwatch: Stopwatch,
}

impl Exchange {
    fn begin(component: &'static str, request: &Request) -> Self {
        crate::rate_limit::begin();
        let request_id = request_id(request);
        log::begin_request(request, &request_id);
        crate::metrics::begin(component);
        Self {
            component,
            stopwatch: Stopwatch::start(),
            request_id,
            summary: RequestSummary::of(request),
        }
    }

    /// Maps an error to its problem response, stamps the request id and logs the access line.
    fn finish(self, outcome: Result<Response, ApiError>) -> Response {
        let mut response =
            outcome.unwrap_or_else(|error| error.into_response(&self.request_id, self.component));
        response.set_header(REQUEST_ID_HEADER, self.request_id.as_str());
        response.set_header(CORRELATION_ID_HEADER, log::correlation_id());
        crate::rate_limit::add_headers(&mut response);
        let duration_ms = self.stopwatch.elapsed_ms();
        log::access(
            self.component,
            &self.summary,
            *response.status(),
            duration_ms,
            &self.request_id,
        );
        crate::metrics::record_request(
            self.component,
            self.summary.route(),
            *response.status(),
            duration_ms,
        );
        if *response.status() >= 500 {
            crate::metrics::record_error(&serde_json::json!({
                "ts": crm_domain::timestamp::rfc3339_utc_from_unix_millis(
                    crate::clock::unix_millis_now()
                ),
                "component": self.component,
                "method": self.summary.method(),
                "route": self.summary.route(),
                "status": *response.status(),
                "request_id": self.request_id.as_str(),
                "correlation_id": log::correlation_id(),
            }));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::captured;
    use serde_json::Value;
    use spin_sdk::http::Method;

    const COMPONENT: &str = "test-component";

    fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
        response.header(name).and_then(|value| value.as_str())
    }

    fn request(incoming_id: Option<&str>) -> Request {
        let mut request = Request::new(Method::Get, "/things/7");
        if let Some(id) = incoming_id {
            request.set_header(REQUEST_ID_HEADER, id);
        }
        request
    }

    /// A route that answers without setting `x-request-id` itself.
    fn ok_route(_: &Request, _: &RequestId) -> Result<Response, ApiError> {
        Ok(Response::new(204, ()))
    }

    fn failing_route(_: &Request, _: &RequestId) -> Result<Response, ApiError> {
        Err(ApiError::NotFound("No thing 7.".into()))
    }

    fn access_lines() -> Vec<Value> {
        captured::take()
            .into_iter()
            .filter(|line| line["msg"] == "request handled")
            .collect()
    }

    #[test]
    fn serve_echoes_a_valid_request_id_on_success_and_on_error() {
        type Route = fn(&Request, &RequestId) -> Result<Response, ApiError>;
        let cases: [(Route, u16, &str); 2] =
            [(ok_route, 204, "success"), (failing_route, 404, "error")];
        for (route, status, reason) in cases {
            let response = serve(COMPONENT, request(Some("caller-42")), route);

            assert_eq!(*response.status(), status, "{reason}");
            assert_eq!(
                header(&response, "x-request-id"),
                Some("caller-42"),
                "{reason}"
            );
        }
    }

    #[test]
    fn serve_generates_a_request_id_when_none_or_an_invalid_one_is_sent() {
        let cases = [(None, "no header"), (Some("has space"), "invalid header")];
        for (incoming, reason) in cases {
            let response = serve(COMPONENT, request(incoming), failing_route);

            let id = header(&response, "x-request-id").unwrap_or_default();
            assert!(uuid::Uuid::parse_str(id).is_ok(), "{reason}: got {id:?}");
        }
    }

    #[test]
    fn serve_hands_the_route_the_same_request_id_it_returns() {
        let mut seen = None;

        let response = serve(COMPONENT, request(None), |_, id| {
            seen = Some(id.clone());
            ok_route(&Request::new(Method::Get, "/"), id)
        });

        let seen = seen.map(|id| id.as_str().to_owned());
        assert_eq!(seen.as_deref(), header(&response, "x-request-id"));
    }

    #[test]
    fn serve_turns_an_error_into_problem_json() {
        let response = serve(COMPONENT, request(None), failing_route);

        assert_eq!(*response.status(), 404);
        assert_eq!(
            header(&response, "content-type"),
            Some("application/problem+json")
        );
        let body: Value = serde_json::from_slice(response.body()).expect("JSON body");
        assert_eq!(body["status"], 404);
        assert_eq!(body["detail"], "No thing 7.");
    }

    #[test]
    fn serve_writes_exactly_one_access_line_with_the_status_and_request_id() {
        captured::take();

        let _response = serve(COMPONENT, request(Some("req-9")), failing_route);

        let lines = access_lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["component"], COMPONENT);
        assert_eq!(lines[0]["request_id"], "req-9");
        assert_eq!(lines[0]["status"], 404);
        assert_eq!(lines[0]["route"], "/things/7");
    }

    #[test]
    fn serve_logs_the_cause_of_an_internal_error_with_the_request_id() {
        captured::take();

        let response = serve(COMPONENT, request(Some("req-5")), |_, _| {
            Err(ApiError::internal("Failed to load", "disk on fire"))
        });

        assert_eq!(*response.status(), 500);
        let lines = captured::take();
        let error_line = lines.iter().find(|line| line["level"] == "error");
        assert_eq!(error_line.map(|l| &l["request_id"]), Some(&"req-5".into()));
        assert!(
            error_line.is_some_and(|l| l["cause"].to_string().contains("disk on fire")),
            "{lines:?}"
        );
    }

    #[test]
    fn every_line_of_a_request_carries_its_correlation_id_and_the_answer_echoes_it() {
        captured::take();
        let mut traced = request(Some("req-7"));
        traced.set_header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );

        let response = serve(COMPONENT, traced, |_, _| {
            crate::log::emit(crm_domain::LogLine::new(
                crm_domain::Level::Warn,
                COMPONENT,
                "inside",
            ));
            Ok(Response::new(204, ()))
        });

        assert_eq!(
            header(&response, "x-correlation-id"),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        let lines = captured::take();
        assert_eq!(lines.len(), 2, "{lines:?}");
        for line in &lines {
            assert_eq!(line["request_id"], "req-7", "{line}");
            assert_eq!(
                line["correlation_id"], "4bf92f3577b34da6a3ce929d0e0e4736",
                "{line}"
            );
        }
        let untraced = serve(COMPONENT, request(Some("req-8")), ok_route);
        assert_eq!(header(&untraced, "x-correlation-id"), Some("req-8"));
    }

    async fn async_route(request: &Request, _: &RequestId) -> Result<Response, ApiError> {
        match request.path() {
            "/things/7" => Err(ApiError::Conflict("Thing 7 exists.".into())),
            _ => Ok(Response::new(200, "ok")),
        }
    }

    #[test]
    fn serve_async_maps_errors_and_echoes_the_request_id_like_serve() {
        captured::take();

        let response = futures::executor::block_on(serve_async(
            COMPONENT,
            request(Some("req-async")),
            async_route,
        ));

        assert_eq!(*response.status(), 409);
        assert_eq!(header(&response, "x-request-id"), Some("req-async"));
        assert_eq!(
            header(&response, "content-type"),
            Some("application/problem+json")
        );
        assert_eq!(access_lines().len(), 1, "one access line");
    }
}
