//! The HTTP server: hyper 1 accept loop, Spin routing and request headers,
//! one fresh store per request, access log, graceful shutdown.

use crate::app::{App, LoadedComponent};
use crate::engine::MAX_GUEST_MEMORY;
use crate::http::headers::{header_str, with_spin_headers};
use crate::http::problem;
use crate::state::RequestState;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The outcome of one request, for the access log.
struct Served {
    response: Response<HyperOutgoingBody>,
    component: Option<String>,
    route: Option<String>,
}

/// Serve one request end to end.
pub async fn handle(
    app: Arc<App>,
    req: Request<Incoming>,
    client: SocketAddr,
    local: SocketAddr,
) -> Response<HyperOutgoingBody> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let incoming_id =
        header_str(&req, "x-request-id").filter(|id| crm_domain::RequestId::parse(id).is_ok());
    let request_id: Arc<str> = incoming_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
        .into();
    let served = dispatch(&app, req, client, local, &request_id).await;
    let status = served.response.status().as_u16();
    // Prefer the id the component answered with, so both log lines match.
    let logged_id = served
        .response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(incoming_id)
        .unwrap_or_else(|| request_id.to_string());
    crate::log::emit(
        crm_domain::Level::Info,
        served.component.as_deref().unwrap_or(crate::log::HOST),
        "request",
        &[
            ("log", "access".into()),
            ("method", method.into()),
            ("path", path.into()),
            (
                "route",
                served.route.map(Value::from).unwrap_or(Value::Null),
            ),
            ("status", status.into()),
            (
                "duration_ms",
                (started.elapsed().as_secs_f64() * 1000.0).into(),
            ),
            ("request_id", logged_id.into()),
        ],
    );
    served.response
}

async fn dispatch(
    app: &Arc<App>,
    req: Request<Incoming>,
    client: SocketAddr,
    local: SocketAddr,
    request_id: &Arc<str>,
) -> Served {
    let path = req.uri().path().to_owned();
    if let Some(response) = well_known(app, &path) {
        return Served {
            response,
            component: None,
            route: Some(path),
        };
    }
    let Some((route, component_id, matched)) = app.router.route(&path) else {
        return Served {
            response: problem::not_found(&path),
            component: None,
            route: None,
        };
    };
    let route_text = route.as_str().to_owned();
    let Some(component) = app.components.get(component_id).cloned() else {
        return Served {
            response: problem::not_found(&path),
            component: None,
            route: None,
        };
    };
    let req = with_spin_headers(req, route, &matched, client, local);
    let response = run_component(app, &component, req, request_id.clone()).await;
    Served {
        response,
        component: Some(component_id.clone()),
        route: Some(route_text),
    }
}

/// Spin's reserved routes.
fn well_known(app: &App, path: &str) -> Option<Response<HyperOutgoingBody>> {
    match path {
        "/.well-known/spin/health" => Some(problem::full(200, "text/plain", "OK")),
        "/.well-known/spin/info" => {
            let info = serde_json::json!({
                "name": app.manifest.application.name,
                "version": app.manifest.application.version,
                "host": format!("crm-host {}", env!("CARGO_PKG_VERSION")),
            });
            Some(problem::full(200, "application/json", info.to_string()))
        }
        crate::http::admin::PATH => Some(crate::http::admin::response(app)),
        _ => None,
    }
}

/// Instantiate the component in a fresh store and let it answer.
pub(crate) async fn run_component<B>(
    app: &Arc<App>,
    component: &Arc<LoadedComponent>,
    req: Request<B>,
    request_id: Arc<str>,
) -> Response<HyperOutgoingBody>
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let state = RequestState::new(
        app,
        component.context.clone(),
        request_id.clone(),
        MAX_GUEST_MEMORY,
    );
    let mut store = Store::new(&app.engine, state);
    store.limiter(|s| &mut s.limits);
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let prepared = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, req)
        .and_then(|req| Ok((req, store.data_mut().http().new_response_outparam(sender)?)));
    let (req, out) = match prepared {
        Ok(pair) => pair,
        Err(e) => return guest_failure(component, &request_id, e.into()),
    };
    let pre = component.pre.clone();
    let task = tokio::spawn(async move {
        let proxy = pre.instantiate_async(&mut store).await?;
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, req, out)
            .await
    });
    match receiver.await {
        Ok(Ok(response)) => {
            // The guest may still be streaming the body: watch for a late trap.
            let component = component.clone();
            tokio::spawn(async move {
                if let Ok(Err(e)) = task.await {
                    log_failure(&component, &request_id, &e.into());
                }
            });
            response
        }
        Ok(Err(code)) => guest_failure(
            component,
            &request_id,
            anyhow::anyhow!("guest answered with error code {code:?}"),
        ),
        Err(_) => {
            let cause = match task.await {
                Ok(Ok(())) => anyhow::anyhow!("guest returned without setting a response"),
                Ok(Err(e)) => e.into(),
                Err(join) => anyhow::anyhow!("guest task failed: {join}"),
            };
            guest_failure(component, &request_id, cause)
        }
    }
}

fn log_failure(component: &LoadedComponent, request_id: &str, error: &anyhow::Error) {
    crate::log::error(
        "component failed",
        &[
            ("target_component", component.context.id.as_ref().into()),
            ("request_id", request_id.into()),
            ("error", format!("{error:#}").into()),
        ],
    );
}

fn guest_failure(
    component: &LoadedComponent,
    request_id: &str,
    error: anyhow::Error,
) -> Response<HyperOutgoingBody> {
    log_failure(component, request_id, &error);
    let mut response = problem::internal(request_id);
    if let Ok(value) = http::HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
