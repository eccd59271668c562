//! Spin's local service chaining: `http://<component-id>.spin.internal/...` runs the
//! component in-process. As on Spin, the router is bypassed: any component with an HTTP
//! trigger, private or public, is reached as if matched by `/...` (the whole path is the
//! path info) from client `0.0.0.0:0`. Unlike Spin, the number of nested hops is bounded
//! (`--max-chain-depth`), so a component calling itself cannot exhaust the instance pool.

use crate::app::App;
use crate::http::headers::{self, CHAINED_CLIENT_ADDR};
use crate::http::invoke::{self, RequestContext};
use crate::http::limits::Counters;
use crate::http::routes::RouteMatch;
use std::sync::Arc;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

/// Run `request` on component `id` and hand back its response.
pub async fn dispatch(
    app: Arc<App>,
    id: &str,
    request: http::Request<WasiBody>,
    ctx: RequestContext,
) -> Result<http::Response<WasiBody>, HttpError> {
    if ctx.depth >= app.limits.max_chain_depth {
        Counters::add(&app.counters.chain_depth_exceeded);
        crate::log::warn(
            "service chaining refused: too many nested hops",
            &[
                ("target_component", id.into()),
                ("request_id", ctx.request_id.as_ref().into()),
                ("max_chain_depth", app.limits.max_chain_depth.into()),
            ],
        );
        return Err(HttpError::LoopDetected);
    }
    let has_trigger = app.manifest.http_triggers.iter().any(|t| t.component == id);
    let component = app
        .components
        .get(id)
        .filter(|_| has_trigger)
        .cloned()
        .ok_or_else(|| {
            HttpError::InternalError(Some(format!("unknown routing destination '{id}'")))
        })?;
    let (mut parts, body) = request.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let route = RouteMatch::chained(parts.uri.path());
    headers::prepare(
        &mut parts.headers,
        &path_and_query,
        &route,
        CHAINED_CLIENT_ADDR,
    )
    .map_err(|e| HttpError::InternalError(Some(e.to_string())))?;
    let request = http::Request::from_parts(parts, body);
    Ok(invoke::run_component(&app, &component, request, ctx.chained(), None).await)
}
