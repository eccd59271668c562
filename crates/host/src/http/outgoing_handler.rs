//! `wasi:http/outgoing-handler@0.2` `handle`, as wasmtime-wasi-http's own except for one
//! point where Spin differs (`crates/factor-outbound-http/src/wasi.rs`): a request with no
//! authority, or an empty host, is a relative (`self`) request and keeps a relative URI
//! (wasmtime's handler cannot build one and fails it). Policy and dispatch happen in
//! `OutboundHooks::send_request`.

use crate::state::RequestState;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Method;
use std::pin::Pin;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi_http::WasiHttpHooks;
use wasmtime_wasi_http::p2::bindings::http::types::{self as wasi, ErrorCode, Scheme};
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};
use wasmtime_wasi_http::p2::{HttpResult, http_request_error};

/// The interface this module provides (wasmtime-wasi-http 48's `wasi:http` version; a
/// guest importing any 0.2.x is linked to it).
const INTERFACE: &str = "wasi:http/outgoing-handler@0.2.12";

/// Put crm-host's `handle` in the linker, beside wasmtime's `wasi:http/types`.
pub fn add_to_linker(linker: &mut Linker<RequestState>) -> wasmtime::Result<()> {
    linker.instance(INTERFACE)?.func_wrap(
        "handle",
        |mut store: StoreContextMut<'_, RequestState>,
         (request, options): (
            Resource<HostOutgoingRequest>,
            Option<Resource<wasi::RequestOptions>>,
        )| {
            match store.data_mut().handle_outgoing(request, options) {
                Ok(future) => Ok((Ok(future),)),
                // An error code goes to the guest; anything else traps.
                Err(error) => error.downcast().map(|code| (Err(code),)),
            }
        },
    )?;
    Ok(())
}

impl RequestState {
    fn handle_outgoing(
        &mut self,
        request: Resource<HostOutgoingRequest>,
        options: Option<Resource<wasi::RequestOptions>>,
    ) -> HttpResult<Resource<HostFutureIncomingResponse>> {
        let options = options.and_then(|o| self.table.get(&o).ok()).cloned();
        let req = self.table.delete(request)?;
        let headers: http::HeaderMap = req.headers.into();
        check_content_length(&headers, req.body.is_some())?;
        let scheme = match req.scheme {
            Some(scheme) => http_scheme(scheme)?,
            None => self
                .hooks
                .default_scheme()
                .ok_or(ErrorCode::HttpProtocolError)?,
        };
        if !self.hooks.is_supported_scheme(&scheme) {
            return Err(ErrorCode::HttpProtocolError.into());
        }
        let authority = req.authority.filter(|a| !host_of(a).is_empty());
        let mut uri = http::Uri::builder();
        if let Some(authority) = &authority {
            uri = uri.scheme(scheme).authority(authority.as_str());
        }
        let uri = uri
            .path_and_query(req.path_with_query.unwrap_or_else(|| "/".into()))
            .build()
            .map_err(http_request_error)?;
        let mut builder = http::Request::builder()
            .method(method(req.method)?)
            .uri(uri);
        if let Some(authority) = &authority {
            builder = builder.header(http::header::HOST, authority.as_str());
        }
        for (name, value) in headers.iter() {
            builder = builder.header(name, value);
        }
        let body = req.body.unwrap_or_else(|| {
            Empty::<Bytes>::new()
                .map_err(|never| match never {})
                .boxed_unsync()
        });
        let request = builder
            .body(body.map_err(Into::into).boxed_unsync())
            .map_err(|e| ErrorCode::InternalError(Some(e.to_string())))?;
        let sent = self
            .hooks
            .send_request(request, options, Box::new(async { Ok(()) }));
        let future = wasmtime_wasi::runtime::spawn(async move {
            let (response, io) = Pin::from(sent).await?;
            let io = wasmtime_wasi::runtime::spawn(async move {
                let _ = Pin::from(io).await;
            });
            Ok((response.map(|b| b.boxed_unsync()), io))
        });
        Ok(self
            .table
            .push(HostFutureIncomingResponse::Pending(future))?)
    }
}

/// The host part of an authority (`user@host:port` → `host`, `[::1]:80` → `[::1]`).
fn host_of(authority: &str) -> &str {
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return host_port.split_inclusive(']').next().unwrap_or(host_port);
    }
    host_port.split(':').next().unwrap_or(host_port)
}

/// A body-less request may not declare a length (wasmtime's rule).
fn check_content_length(headers: &http::HeaderMap, has_body: bool) -> Result<(), ErrorCode> {
    let mut values = headers.get_all(http::header::CONTENT_LENGTH).iter();
    let Some(value) = values.next() else {
        return Ok(());
    };
    let invalid = |why: &str| ErrorCode::InternalError(Some(why.to_owned()));
    if values.next().is_some() {
        return Err(invalid("multiple `content-length` header values"));
    }
    let text = value
        .to_str()
        .map_err(|_| invalid("invalid `content-length`"))?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("invalid `content-length`"));
    }
    let length: u64 = text
        .parse()
        .map_err(|_| invalid("invalid `content-length`"))?;
    if !has_body && length != 0 {
        return Err(ErrorCode::HttpRequestBodySize(Some(0)));
    }
    Ok(())
}

fn http_scheme(scheme: Scheme) -> Result<http::uri::Scheme, ErrorCode> {
    Ok(match scheme {
        Scheme::Http => http::uri::Scheme::HTTP,
        Scheme::Https => http::uri::Scheme::HTTPS,
        Scheme::Other(other) => {
            http::uri::Scheme::try_from(other.as_str()).map_err(|_| ErrorCode::HttpProtocolError)?
        }
    })
}

fn method(method: wasi::Method) -> Result<Method, ErrorCode> {
    Ok(match method {
        wasi::Method::Get => Method::GET,
        wasi::Method::Head => Method::HEAD,
        wasi::Method::Post => Method::POST,
        wasi::Method::Put => Method::PUT,
        wasi::Method::Delete => Method::DELETE,
        wasi::Method::Connect => Method::CONNECT,
        wasi::Method::Options => Method::OPTIONS,
        wasi::Method::Trace => Method::TRACE,
        wasi::Method::Patch => Method::PATCH,
        wasi::Method::Other(m) => {
            Method::from_bytes(m.as_bytes()).map_err(|_| ErrorCode::HttpRequestMethodInvalid)?
        }
    })
}
