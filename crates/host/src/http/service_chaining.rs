//! Spin's local service chaining: `http://<component-id>.spin.internal/...`
//! runs the target component in-process, with no network hop. Private
//! components (`route = { private = true }`) are reachable only this way.

use crate::app::App;
use crate::http::routes::{RouteMatch, RoutePattern};
use std::net::SocketAddr;
use std::sync::Arc;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

const SUFFIX: &str = ".spin.internal";

/// The component id a chained request is addressed to, if it is one.
pub fn target_component(uri: &http::Uri) -> Option<&str> {
    uri.host()?
        .strip_suffix(SUFFIX)
        .filter(|id| !id.is_empty() && !id.contains('.'))
}

/// Run `request` on component `id` and hand back its response.
pub async fn dispatch(
    app: Arc<App>,
    id: &str,
    request: http::Request<WasiBody>,
    request_id: Arc<str>,
) -> Result<http::Response<WasiBody>, HttpError> {
    let component = app
        .components
        .get(id)
        .cloned()
        .ok_or(HttpError::DestinationNotFound)?;
    let path = request.uri().path().to_owned();
    let (route, matched) = route_for(&app, id, &path);
    // Chained requests come from inside the app: no client socket.
    let nowhere = SocketAddr::from(([127, 0, 0, 1], 0));
    let request =
        crate::http::headers::with_spin_headers(request, &route, &matched, nowhere, nowhere);
    Ok(crate::http::server::run_component(&app, &component, request, request_id).await)
}

/// The component's own route that matches `path`; a private component (or a
/// path outside its routes) is treated as `/...` with the whole path as path-info.
fn route_for(app: &App, id: &str, path: &str) -> (RoutePattern, RouteMatch) {
    let own_match = app
        .manifest
        .http_triggers
        .iter()
        .filter(|t| t.component == id)
        .filter_map(|t| t.route.as_ref())
        .find_map(|r| r.matches(path).map(|m| (r.clone(), m)));
    own_match.unwrap_or_else(|| {
        let wildcard =
            RoutePattern::parse("/...").unwrap_or_else(|_| unreachable!("`/...` is a valid route"));
        let matched = wildcard.matches(path).unwrap_or(RouteMatch {
            path_info: path.to_owned(),
            params: vec![],
        });
        (wildcard, matched)
    })
}
