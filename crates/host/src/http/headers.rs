//! The request headers Spin gives a component (`spin-full-url`, `spin-path-info`, ...).

use crate::http::routes::{RouteMatch, RoutePattern};
use hyper::Request;
use std::net::SocketAddr;

pub(crate) fn header_str<B>(req: &Request<B>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Add the headers Spin gives every component; drop client-sent `spin-*` ones.
pub(crate) fn with_spin_headers<B>(
    mut req: Request<B>,
    route: &RoutePattern,
    matched: &RouteMatch,
    client: SocketAddr,
    local: SocketAddr,
) -> Request<B> {
    let host = header_str(&req, "host").unwrap_or_else(|| local.to_string());
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let full_url = format!("http://{host}{path_and_query}");
    let headers = req.headers_mut();
    let spoofed: Vec<_> = headers
        .keys()
        .filter(|k| k.as_str().starts_with("spin-"))
        .cloned()
        .collect();
    for name in spoofed {
        headers.remove(name);
    }
    if !headers.contains_key(hyper::header::HOST)
        && let Ok(value) = host.parse()
    {
        headers.insert(hyper::header::HOST, value);
    }
    let mut set = |name: String, value: &str| {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name),
            http::HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    };
    set("spin-full-url".into(), &full_url);
    set("spin-path-info".into(), &matched.path_info);
    set("spin-matched-route".into(), route.as_str());
    set("spin-raw-component-route".into(), route.as_str());
    set("spin-component-route".into(), route.without_wildcard());
    set("spin-base-path".into(), "/");
    set("spin-client-addr".into(), &client.to_string());
    for (name, value) in &matched.params {
        set(
            format!("spin-path-match-{}", name.to_ascii_lowercase()),
            value,
        );
    }
    req
}
