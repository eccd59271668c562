//! `wasi:http/outgoing-handler` guard: Spin's `allowed_outbound_hosts` rules.

use anyhow::{Context, bail};
use std::future::Future;
use std::sync::Arc;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// One `allowed_outbound_hosts` entry, after template rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Pattern,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Any,
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// `*.example.com`: any subdomain of the suffix.
    Subdomain(String),
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    /// No port in the entry: the scheme's well-known port.
    SchemeDefault,
    Range(u16, u16),
}

impl AllowedHost {
    /// Parse `scheme://host[:port]` as Spin does (`*` wildcards, port ranges).
    pub fn parse(entry: &str) -> anyhow::Result<AllowedHost> {
        let Some((scheme, rest)) = entry.split_once("://") else {
            bail!("`{entry}` needs a scheme, e.g. `https://{entry}`");
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            bail!("`{entry}`: an allowed host has no path");
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => {
                (host, Some(port))
            }
            _ => (rest, None),
        };
        let host = host.to_ascii_lowercase();
        let host = match host.as_str() {
            "" => bail!("`{entry}`: the host is empty"),
            "*" => HostPattern::Any,
            h if h.starts_with("*.") => HostPattern::Subdomain(h[1..].to_owned()),
            h => HostPattern::Exact(h.to_owned()),
        };
        let port = match port {
            None => PortPattern::SchemeDefault,
            Some("*") => PortPattern::Any,
            Some(p) => parse_port_range(p).with_context(|| format!("`{entry}`: bad port"))?,
        };
        let scheme = match scheme {
            "*" => Pattern::Any,
            s => Pattern::Exact(s.to_ascii_lowercase()),
        };
        Ok(AllowedHost { scheme, host, port })
    }

    /// Whether a request to `scheme://host:port` is allowed by this entry.
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme_ok = match &self.scheme {
            Pattern::Any => true,
            Pattern::Exact(s) => s == scheme,
        };
        let host = host.to_ascii_lowercase();
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Subdomain(suffix) => host.ends_with(suffix.as_str()),
            HostPattern::Exact(h) => *h == host,
        };
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::SchemeDefault => default_port(scheme) == Some(port),
            PortPattern::Range(lo, hi) => (lo..=hi).contains(&port),
        };
        scheme_ok && host_ok && port_ok
    }
}

fn parse_port_range(p: &str) -> anyhow::Result<PortPattern> {
    Ok(match p.split_once('-') {
        Some((lo, hi)) => PortPattern::Range(lo.parse()?, hi.parse()?),
        None => {
            let port = p.parse()?;
            PortPattern::Range(port, port)
        }
    })
}

/// The port an entry without one allows, per scheme (as Spin's well-known ports).
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        _ => None,
    }
}

/// A component's outbound policy.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    pub allowed: Vec<AllowedHost>,
}

impl OutboundPolicy {
    pub fn allows_uri(&self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or("https");
        let Some(host) = uri.host() else { return false };
        let Some(port) = uri.port_u16().or_else(|| default_port(scheme)) else {
            return false;
        };
        self.allows(scheme, host, port)
    }

    /// Whether any entry allows `scheme://host:port` (non-HTTP clients: postgres, ...).
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.allowed.iter().any(|a| a.allows(scheme, host, port))
    }
}

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
        if !self.policy.allows_uri(request.uri()) {
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
        if let Some(target) = crate::service_chaining::target_component(request.uri()) {
            let target = target.to_owned();
            let (app, request_id) = (self.app.clone(), self.request_id.clone());
            return Box::new(async move {
                let app = app.upgrade().ok_or(HttpError::DestinationUnavailable)?;
                let response =
                    crate::service_chaining::dispatch(app, &target, request, request_id).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_allow_what_spin_allows() {
        for (entry, scheme, host, port, want) in [
            ("http://127.0.0.1:8080", "http", "127.0.0.1", 8080, true),
            ("http://127.0.0.1:8080", "http", "127.0.0.1", 8081, false),
            ("http://127.0.0.1:8080", "https", "127.0.0.1", 8080, false),
            (
                "https://api.example.com",
                "https",
                "api.example.com",
                443,
                true,
            ),
            (
                "https://api.example.com",
                "https",
                "api.example.com",
                8443,
                false,
            ),
            ("https://*.example.com", "https", "a.example.com", 443, true),
            ("https://*.example.com", "https", "example.org", 443, false),
            ("*://localhost:*", "http", "localhost", 1234, true),
            (
                "postgres://db.internal",
                "postgres",
                "db.internal",
                5432,
                true,
            ),
            (
                "postgres://db.internal",
                "postgres",
                "db.internal",
                5433,
                false,
            ),
            (
                "postgres://127.0.0.1:5432",
                "postgres",
                "127.0.0.1",
                5432,
                true,
            ),
            (
                "postgres://127.0.0.1:5432",
                "http",
                "127.0.0.1",
                5432,
                false,
            ),
            (
                "http://localhost:3000-3010",
                "http",
                "localhost",
                3005,
                true,
            ),
            (
                "http://localhost:3000-3010",
                "http",
                "localhost",
                3011,
                false,
            ),
        ] {
            let allowed = AllowedHost::parse(entry).unwrap();
            assert_eq!(
                allowed.allows(scheme, host, port),
                want,
                "{entry} vs {scheme}://{host}:{port}"
            );
        }
    }

    #[test]
    fn parse_rejects_malformed_entries() {
        for (entry, why) in [
            ("example.com", "no scheme"),
            ("https://example.com/path", "has a path"),
            ("https://:80", "empty host"),
            ("https://example.com:http", "port not a number"),
        ] {
            assert!(AllowedHost::parse(entry).is_err(), "{why}: {entry}");
        }
    }
}
