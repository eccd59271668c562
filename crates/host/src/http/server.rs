//! One client request end to end: the in-flight cap, Spin's reserved routes, routing,
//! the body limit, Spin's request headers, the component, and the JSON access log line.

use crate::app::App;
use crate::http::body_limit::LimitedBody;
use crate::http::headers;
use crate::http::invoke::{self, RequestContext};
use crate::http::limits::{Counters, GaugeGuard};
use crate::http::problem::{self, HostResponse};
use crate::http::reserved;
use hyper::Request;
use hyper::body::Incoming;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// The outcome of one request, for the access log.
struct Served {
    response: HostResponse,
    component: Option<String>,
    route: Option<String>,
}

impl Served {
    fn by_host(response: HostResponse) -> Served {
        Served {
            response,
            component: None,
            route: None,
        }
    }
}

/// A request Spin would not answer at all: the connection is closed instead.
#[derive(Debug, thiserror::Error)]
#[error("request has no Host header and no authority")]
pub struct NoResponse;

/// Serve one request end to end.
pub async fn handle(
    app: Arc<App>,
    req: Request<Incoming>,
    client: SocketAddr,
) -> Result<HostResponse, NoResponse> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let incoming_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| crm_domain::RequestId::parse(id).is_ok())
        .map(str::to_owned);
    let request_id: Arc<str> = incoming_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
        .into();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let traceparent = header(crm_domain::correlation::TRACEPARENT_HEADER);
    let incoming_correlation = header(crm_domain::correlation::CORRELATION_ID_HEADER);
    let served = match reserved::respond(&app, &path) {
        Some(response) => Served {
            route: Some(path.clone()),
            ..Served::by_host(response)
        },
        None => match app.in_flight.try_acquire() {
            Ok(_permit) => {
                let _gauge = GaugeGuard::enter(&app.counters.requests_in_flight);
                dispatch(&app, req, client, &request_id)
                    .await
                    .inspect_err(|e| {
                        crate::log::warn(
                            "connection closed without a response, as Spin does",
                            &[
                                ("request_id", request_id.as_ref().into()),
                                ("reason", e.to_string().into()),
                            ],
                        )
                    })?
            }
            Err(_) => {
                Counters::add(&app.counters.rejected_in_flight);
                Served::by_host(problem::saturated())
            }
        },
    };
    // Prefer the id the component answered with, so both log lines match.
    let logged_id = served
        .response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(incoming_id)
        .unwrap_or_else(|| request_id.to_string());
    // The component's own answer when it gave one (the same rule, crm_domain::correlation).
    let correlation_id = served
        .response
        .headers()
        .get(crm_domain::correlation::CORRELATION_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            crm_domain::correlation::correlation_id(
                traceparent.as_deref(),
                incoming_correlation.as_deref(),
                &logged_id,
            )
        });
    crate::log::emit(
        crm_domain::Level::Info,
        served.component.as_deref().unwrap_or(crate::log::HOST),
        "request",
        &[
            ("log", "access".into()),
            ("method", method.into()),
            ("path", path.into()),
            ("route", served.route.map_or(Value::Null, Value::from)),
            ("status", served.response.status().as_u16().into()),
            (
                "duration_ms",
                (started.elapsed().as_secs_f64() * 1000.0).into(),
            ),
            ("request_id", logged_id.into()),
            ("correlation_id", correlation_id.into()),
        ],
    );
    Ok(served.response)
}

async fn dispatch(
    app: &Arc<App>,
    req: Request<Incoming>,
    client: SocketAddr,
    request_id: &Arc<str>,
) -> Result<Served, NoResponse> {
    let path = req.uri().path().to_owned();
    let Some((component_id, matched)) = app.router.route(&path) else {
        return Ok(Served::by_host(problem::empty(404)));
    };
    let Some(component) = app.components.get(component_id).cloned() else {
        return Ok(Served::by_host(problem::empty(404)));
    };
    let route = Some(matched.matched_route.clone());
    let for_component = |response| Served {
        response,
        component: Some(component_id.clone()),
        route: route.clone(),
    };
    if declared_length(&req).is_some_and(|len| len > app.limits.max_request_body) {
        Counters::add(&app.counters.rejected_body_too_large);
        return Ok(for_component(problem::body_too_large(
            app.limits.max_request_body,
        )));
    }
    let (mut parts, body) = req.into_parts();
    if !parts.headers.contains_key(hyper::header::HOST) && parts.uri.authority().is_none() {
        return Err(NoResponse);
    }
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    if let Err(e) = headers::prepare(&mut parts.headers, &path_and_query, &matched, client) {
        crate::log::warn(
            "request refused",
            &[
                ("request_id", request_id.as_ref().into()),
                ("error", e.to_string().into()),
            ],
        );
        return Ok(for_component(problem::empty(500)));
    }
    let (body, exceeded) = LimitedBody::new(body, app.limits.max_request_body);
    let ctx = RequestContext {
        request_id: request_id.clone(),
        deadline: tokio::time::Instant::now() + app.limits.request_timeout,
        depth: 0,
    };
    let request = Request::from_parts(parts, body);
    let response = invoke::run_component(app, &component, request, ctx, Some(exceeded)).await;
    Ok(for_component(response))
}

/// The body length the client declared, if it declared one.
fn declared_length<B>(req: &Request<B>) -> Option<u64> {
    req.headers()
        .get(hyper::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}
