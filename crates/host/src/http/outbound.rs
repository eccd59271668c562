//! `wasi:http/outgoing-handler` as Spin's `factor-outbound-http` does it: the allow-list
//! check first, then `http://<component>.spin.internal` in-process (service chaining),
//! relative or `self.alt` requests to the app's own listener, anything else over the network.

use crate::allowed_hosts::OutboundPolicy;
use crate::app::App;
use crate::http::headers::service_chaining_target;
use crate::http::invoke::RequestContext;
use std::future::Future;
use std::sync::{Arc, Weak};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// Per-request wasi-http hooks: every outgoing request passes the policy first.
pub struct OutboundHooks {
    pub policy: Arc<OutboundPolicy>,
    pub component: Arc<str>,
    pub ctx: RequestContext,
    /// The running app, for service chaining and self requests.
    pub app: Weak<App>,
}

type BodyDone = Box<dyn Future<Output = Result<(), HttpError>> + Send>;
type SendFuture =
    Box<dyn Future<Output = Result<(http::Response<WasiBody>, BodyDone), HttpError>> + Send>;

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: BodyDone,
    ) -> SendFuture {
        let is_self = request
            .uri()
            .authority()
            .is_none_or(|authority| authority.host() == "self.alt");
        let allowed = if is_self {
            self.policy.allows_relative(&["http", "https"])
        } else {
            self.policy.allows_url(&request.uri().to_string(), "https")
        };
        if !allowed {
            self.log_denied(request.uri(), is_self);
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let chained = request
            .uri()
            .host()
            .and_then(service_chaining_target)
            .map(str::to_owned);
        let (app, ctx) = (self.app.clone(), self.ctx.clone());
        Box::new(async move {
            let app = app.upgrade().ok_or(HttpError::DestinationUnavailable)?;
            if let Some(target) = chained {
                // As Spin: the Host header goes before dispatch (so `spin-full-url`
                // reads `http://localhost/...`).
                request.headers_mut().remove(http::header::HOST);
                let response =
                    crate::http::service_chaining::dispatch(app, &target, request, ctx).await?;
                return Ok((response, Box::new(async { Ok(()) }) as BodyDone));
            }
            if is_self {
                retarget_to_self(&mut request, &app)?;
            }
            send_over_the_network(request, options).await
        })
    }
}

impl OutboundHooks {
    /// The destination as Spin logs it: scheme and authority, never user info, path or query.
    fn log_denied(&self, uri: &http::Uri, is_self: bool) {
        let scheme = uri.scheme_str().unwrap_or("https");
        let host = uri.host().unwrap_or_default();
        let destination = match uri.port_u16() {
            _ if is_self => "self (a relative URL)".to_owned(),
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        };
        crate::log::warn(
            "outbound request denied: destination not in allowed_outbound_hosts",
            &[
                ("target_component", self.component.as_ref().into()),
                ("request_id", self.ctx.request_id.as_ref().into()),
                ("destination", destination.into()),
            ],
        );
    }
}

/// A relative request goes to the address this app listens on, over HTTP.
fn retarget_to_self(request: &mut http::Request<WasiBody>, app: &App) -> Result<(), HttpError> {
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let uri = format!("http://{}{path}", app.self_addr)
        .parse()
        .map_err(|_| HttpError::InternalError(Some("invalid self request URI".into())))?;
    *request.uri_mut() = uri;
    // Spin's client sets Host from the new URI; the network sender here does not.
    let host = http::HeaderValue::from_str(&app.self_addr.to_string())
        .map_err(|_| HttpError::InternalError(Some("invalid self address".into())))?;
    request.headers_mut().insert(http::header::HOST, host);
    Ok(())
}

async fn send_over_the_network(
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<(http::Response<WasiBody>, BodyDone), HttpError> {
    use http_body_util::BodyExt;
    let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
    Ok((
        response.map(BodyExt::boxed_unsync),
        Box::new(io) as BodyDone,
    ))
}
