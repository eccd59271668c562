//! The request headers Spin gives a component (Spin's `crates/trigger-http/src/headers.rs`).
//!
//! Client headers are kept as sent, `spin-*` ones included, and Spin's own values are
//! **appended** after them: a component must read the *last* value of a `spin-*` header
//! (spin-sdk's `Request::header` does, since it keeps the last of repeated names), never
//! the first. `Connection` is removed, and so is a `Host` naming `*.spin.internal`.

use crate::allowed_hosts::SERVICE_CHAINING_SUFFIX;
use crate::http::routes::RouteMatch;
use http::{HeaderMap, HeaderName, HeaderValue};
use std::net::SocketAddr;

/// The client address chained requests carry (they come from inside the app).
pub const CHAINED_CLIENT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0);

/// Why a request cannot be given to a component (Spin answers 500, empty).
#[derive(Debug, thiserror::Error)]
#[error("request header `{0}` is not valid UTF-8")]
pub struct NotUtf8(pub String);

/// Spin's headers for one request, in Spin's order.
pub fn spin_headers(
    path_and_query: &str,
    host: Option<&str>,
    route: &RouteMatch,
    client: SocketAddr,
) -> Vec<(String, String)> {
    let full_url = format!("http://{}{path_and_query}", host.unwrap_or("localhost"));
    let mut headers = vec![
        ("spin-path-info".to_owned(), route.path_info.clone()),
        ("spin-full-url".to_owned(), full_url),
        ("spin-matched-route".to_owned(), route.matched_route.clone()),
        ("spin-base-path".to_owned(), "/".to_owned()),
        (
            "spin-raw-component-route".to_owned(),
            route.raw_route.clone(),
        ),
        (
            "spin-component-route".to_owned(),
            route.component_route().to_owned(),
        ),
        ("spin-client-addr".to_owned(), client.to_string()),
    ];
    for (name, value) in &route.params {
        // SPIN_PATH_MATCH_<NAME> → lowercase, `_` → `-`.
        let name = name.to_ascii_lowercase().replace('_', "-");
        headers.push((format!("spin-path-match-{name}"), value.clone()));
    }
    headers
}

/// Remove what Spin strips before a component sees the request.
pub fn strip_forbidden(headers: &mut HeaderMap) {
    let chaining_host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_service_chaining_host);
    if chaining_host {
        headers.remove(http::header::HOST);
    }
    headers.remove(http::header::CONNECTION);
}

/// Strip, check that every client value is UTF-8 (as Spin requires), then append Spin's
/// headers after the client's.
pub fn prepare(
    headers: &mut HeaderMap,
    path_and_query: &str,
    route: &RouteMatch,
    client: SocketAddr,
) -> Result<(), NotUtf8> {
    strip_forbidden(headers);
    if let Some((name, _)) = headers.iter().find(|(_, v)| v.to_str().is_err()) {
        return Err(NotUtf8(name.to_string()));
    }
    let host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    for (name, value) in spin_headers(path_and_query, host.as_deref(), route, client) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name),
            HeaderValue::try_from(value.as_str()),
        ) {
            headers.append(name, value);
        }
    }
    Ok(())
}

/// `<id>.spin.internal[:port]`: exactly one label before the suffix.
pub fn is_service_chaining_host(host: &str) -> bool {
    service_chaining_target(host).is_some()
}

/// The component id a chained request's host names (Spin: split at the first `.`).
pub fn service_chaining_target(host: &str) -> Option<&str> {
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let (first, rest) = host.split_once('.')?;
    (format!(".{rest}") == SERVICE_CHAINING_SUFFIX).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(raw: &str, matched: &str, info: &str, params: &[(&str, &str)]) -> RouteMatch {
        RouteMatch {
            matched_route: matched.into(),
            raw_route: raw.into(),
            path_info: info.into(),
            params: params
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn spin_headers_follow_spins_values() {
        let client: SocketAddr = "127.0.0.1:54321".parse().unwrap();
        let m = route(
            "/users/:user_id/...",
            "/users/:user_id/...",
            "/x",
            &[("user_id", "7")],
        );
        let got = spin_headers("/users/7/x?a=1", Some("example.test:3000"), &m, client);
        let want = [
            ("spin-path-info", "/x"),
            ("spin-full-url", "http://example.test:3000/users/7/x?a=1"),
            ("spin-matched-route", "/users/:user_id/..."),
            ("spin-base-path", "/"),
            ("spin-raw-component-route", "/users/:user_id/..."),
            ("spin-component-route", "/users/:user_id"),
            ("spin-client-addr", "127.0.0.1:54321"),
            ("spin-path-match-user-id", "7"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_missing_host_reads_localhost_and_chained_requests_come_from_nowhere() {
        let m = RouteMatch::chained("/a/b/");
        let got = spin_headers("/a/b/?q", None, &m, CHAINED_CLIENT_ADDR);
        let value = |name: &str| got.iter().find(|(n, _)| n == name).unwrap().1.clone();
        assert_eq!(value("spin-full-url"), "http://localhost/a/b/?q");
        assert_eq!(value("spin-client-addr"), "0.0.0.0:0");
        assert_eq!(value("spin-path-info"), "/a/b/");
        assert_eq!(value("spin-matched-route"), "/...");
        assert_eq!(value("spin-component-route"), "");
    }

    #[test]
    fn client_spin_headers_stay_first_and_spins_value_comes_last() {
        let mut headers = HeaderMap::new();
        headers.insert("spin-path-info", HeaderValue::from_static("/forged"));
        headers.insert("connection", HeaderValue::from_static("keep-alive"));
        headers.insert("host", HeaderValue::from_static("hello.spin.internal"));
        let m = route("/probe/...", "/probe/...", "/x", &[]);
        prepare(&mut headers, "/probe/x", &m, CHAINED_CLIENT_ADDR).unwrap();
        let values: Vec<_> = headers.get_all("spin-path-info").iter().collect();
        assert_eq!(values, ["/forged", "/x"]);
        assert!(!headers.contains_key("connection"));
        assert!(!headers.contains_key("host"), "a chaining Host is removed");
    }

    #[test]
    fn a_non_utf8_client_header_is_refused() {
        let mut headers = HeaderMap::new();
        headers.insert("x-bin", HeaderValue::from_bytes(b"\xff\xfe").unwrap());
        let m = route("/...", "/...", "/", &[]);
        assert!(prepare(&mut headers, "/", &m, CHAINED_CLIENT_ADDR).is_err());
    }

    #[test]
    fn service_chaining_hosts_name_one_component() {
        for (host, want) in [
            ("probe.spin.internal", Some("probe")),
            ("probe.spin.internal:80", Some("probe")),
            ("a.b.spin.internal", None),
            ("spin.internal", None),
            ("probe.spin.internal.evil", None),
            ("example.com", None),
        ] {
            assert_eq!(service_chaining_target(host), want, "{host}");
        }
    }
}
