//! `wasi:http/outgoing-handler` guard: Spin's `allowed_outbound_hosts` rules.

use crate::allowed_hosts::OutboundPolicy;
use std::future::Future;
use std::sync::Arc;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// Per-request wasi-http hooks: every outgoing request passes the policy first.
pub struct OutboundHooks {
    pub policy: Arc<OutboundPolicy>,
    pub component: Arc<str>,
    pub request_id: Arc<str>,
    /// The running app, for `*.spin.internal` service chaining.
    pub app: std::sync::Weak<crate::app::App>,
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        let _ = fut;
        if !self.policy.allows_url(&request.uri().to_string(), "https") {
            crate::log::warn(
                "outbound request denied: host not in allowed_outbound_hosts",
                &[
                    ("target_component", self.component.as_ref().into()),
                    ("request_id", self.request_id.as_ref().into()),
                    ("uri", request.uri().to_string().into()),
                ],
            );
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        if let Some(target) = crate::http::service_chaining::target_component(request.uri()) {
            let target = target.to_owned();
            let (app, request_id) = (self.app.clone(), self.request_id.clone());
            return Box::new(async move {
                let app = app.upgrade().ok_or(HttpError::DestinationUnavailable)?;
                let response =
                    crate::http::service_chaining::dispatch(app, &target, request, request_id)
                        .await?;
                Ok((
                    response,
                    Box::new(async { Ok(()) })
                        as Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ))
            });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = Result<(), HttpError>> + Send>,
            ))
        })
    }
}
