//! Spin's `allowed_outbound_hosts` grammar and matching, shared by outbound HTTP and
//! PostgreSQL. Follows Spin's `crates/outbound-networking-config/src/allowed_hosts.rs`:
//! `scheme://host[:port]` where the scheme is `*` or alphabetic, the host `*`, `*.domain`,
//! a literal (normalised by the `url` crate), a CIDR block or `self`, and the port `*`, a
//! number, or an end-excluded range `3000..3010`; no port means the scheme's well-known one.

use ::url::Host;
use anyhow::{Context, bail};
use ip_network::IpNetwork;
use std::ops::Range;
use url::OutboundUrl;

/// The domain service-chaining hosts end with: `http://<component>.spin.internal`.
pub const SERVICE_CHAINING_SUFFIX: &str = ".spin.internal";

const LEARN_MORE: &str = "Learn more: https://spinframework.dev/v3/http-outbound#granting-http-permissions-to-components";

/// One `allowed_outbound_hosts` entry, after template rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: HostRule,
    port: PortRule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostRule {
    Any,
    /// `*.example.com`, stored as `.example.com`: subdomains only, never the domain itself.
    AnySubdomain(String),
    /// `self` / `self.alt`: relative requests to the app itself.
    ToSelf,
    Literal(Host),
    Cidr(IpNetwork),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortRule {
    Any,
    Port(u16),
    /// `3000..3010`: the end is excluded, as in Rust.
    Range(Range<u16>),
}

impl AllowedHost {
    /// Parse an entry as Spin does, with Spin's error messages.
    pub fn parse(entry: &str) -> anyhow::Result<AllowedHost> {
        let entry = entry.trim();
        let Some((scheme, rest)) = entry.split_once("://") else {
            match entry {
                "*" | ":" | "" | "?" => bail!(
                    "{entry:?} is not an allowed outbound host format.\nHosts must be in the form <scheme>://<host>[:<port>], with '*' wildcards allowed for each.\nIf you intended to allow all outbound networking, you can use '*://*:*' - this will obviate all network sandboxing.\n{LEARN_MORE}"
                ),
                _ => bail!(
                    "{entry:?} does not contain a scheme (e.g., 'http://' or '*://')\n{LEARN_MORE}"
                ),
            }
        };
        let (host, port) = split_host_port(entry, rest)?;
        let port = PortRule::parse(port, scheme)
            .with_context(|| format!("Invalid allowed host port {port:?}"))?;
        let scheme = parse_scheme(scheme)
            .with_context(|| format!("Invalid allowed host scheme {scheme:?}"))?;
        let host =
            HostRule::parse(host).with_context(|| format!("Invalid allowed host {host:?}"))?;
        Ok(AllowedHost { scheme, host, port })
    }

    fn allows(&self, url: &OutboundUrl) -> bool {
        self.allows_scheme(&url.scheme)
            && self.host.allows(&url.host)
            && self.port.allows(url.port, &url.scheme)
    }

    fn allows_scheme(&self, scheme: &str) -> bool {
        self.scheme.as_deref().is_none_or(|s| s == scheme)
    }

    /// `http://*.spin.internal`: one literal entry per component of the app.
    fn expand_service_chaining(self, component_ids: &[String]) -> Vec<AllowedHost> {
        match &self.host {
            HostRule::AnySubdomain(suffix) if suffix == SERVICE_CHAINING_SUFFIX => component_ids
                .iter()
                .map(|id| AllowedHost {
                    host: HostRule::Literal(Host::Domain(format!("{id}{SERVICE_CHAINING_SUFFIX}"))),
                    ..self.clone()
                })
                .collect(),
            _ => vec![self],
        }
    }
}

/// Split at the last `:` unless the whole rest is already a host (`[::1]`, `ff00::/8`);
/// a port may be followed by one `/` and nothing else.
fn split_host_port<'a>(entry: &str, rest: &'a str) -> anyhow::Result<(&'a str, &'a str)> {
    Ok(match rest.rsplit_once(':') {
        None => (rest, ""),
        Some((host, "")) => (host, ""),
        Some(_) if HostRule::parse(rest).is_ok() => (rest, ""),
        Some((host, tail)) => match tail.split_once('/') {
            Some((_, path)) if !path.is_empty() => {
                bail!("{entry:?} has a path but is not allowed to")
            }
            Some((port, _)) => (host, port),
            None => (host, tail),
        },
    })
}

/// `*` (any) or an alphabetic scheme, kept as written: `HTTP://` parses but matches
/// nothing, since request schemes are lowercase.
fn parse_scheme(scheme: &str) -> anyhow::Result<Option<String>> {
    if scheme == "*" {
        return Ok(None);
    }
    if scheme.starts_with('{') {
        bail!("scheme lists are not supported");
    }
    if scheme.chars().any(|c| !c.is_alphabetic()) {
        bail!("only alphabetic characters are allowed");
    }
    Ok(Some(scheme.to_owned()))
}

impl HostRule {
    fn parse(host: &str) -> anyhow::Result<HostRule> {
        let host = host.trim();
        match host {
            "*" => return Ok(HostRule::Any),
            "self" | "self.alt" => return Ok(HostRule::ToSelf),
            _ => {}
        }
        if host.starts_with('{') {
            bail!("host lists are not yet supported");
        }
        if let Ok(network) = IpNetwork::from_str_truncate(host) {
            return Ok(HostRule::Cidr(network));
        }
        let host = host.strip_suffix('/').unwrap_or(host);
        if host.contains('/') {
            bail!("must not include a path");
        }
        if let Some(domain) = host.strip_prefix("*.") {
            if domain.contains('*') {
                bail!("wildcards are allowed only as prefixes");
            }
            let parsed = Host::parse(domain)
                .with_context(|| format!("invalid wildcard host \"*.{domain}\""))?;
            let Host::Domain(domain) = parsed else {
                bail!("wildcard suffix must be a domain");
            };
            return Ok(HostRule::AnySubdomain(format!(".{domain}")));
        }
        if host.contains('*') {
            bail!("wildcards are allowed only as subdomains");
        }
        Ok(HostRule::Literal(Host::parse(host)?))
    }

    /// Matched against the URL's host text, never a resolved address.
    fn allows(&self, host: &str) -> bool {
        let Ok(host) = Host::parse(host) else {
            return false;
        };
        match (self, host) {
            (HostRule::Any, _) => true,
            (HostRule::AnySubdomain(suffix), Host::Domain(domain)) => domain.ends_with(suffix),
            (HostRule::Literal(literal), host) => host == *literal,
            (HostRule::Cidr(network), Host::Ipv4(ip)) => network.contains(ip),
            (HostRule::Cidr(network), Host::Ipv6(ip)) => network.contains(ip),
            (HostRule::AnySubdomain(_) | HostRule::Cidr(_) | HostRule::ToSelf, _) => false,
        }
    }
}

impl PortRule {
    fn parse(port: &str, scheme: &str) -> anyhow::Result<PortRule> {
        if port.is_empty() {
            return well_known_port(scheme).map(PortRule::Port).with_context(|| {
                format!(
                    "no port was provided and the scheme {scheme:?} does not have a known default port number"
                )
            });
        }
        if port == "*" {
            return Ok(PortRule::Any);
        }
        if port.starts_with('{') {
            bail!("port lists are not yet supported");
        }
        if let Some((start, end)) = port.split_once("..") {
            let number = |text: &str| {
                text.parse::<u16>()
                    .with_context(|| format!("port range {port:?} contains non-number"))
            };
            return Ok(PortRule::Range(number(start)?..number(end)?));
        }
        let number = port
            .parse()
            .with_context(|| format!("port {port:?} is not a number"))?;
        Ok(PortRule::Port(number))
    }

    /// A URL without a port is checked with its scheme's well-known port.
    fn allows(&self, port: Option<u16>, scheme: &str) -> bool {
        let Some(port) = port.or_else(|| well_known_port(scheme)) else {
            return matches!(self, PortRule::Any);
        };
        match self {
            PortRule::Any => true,
            PortRule::Port(allowed) => *allowed == port,
            PortRule::Range(range) => range.contains(&port),
        }
    }
}

/// The port an entry or URL without one means, per scheme (Spin's list, no others).
pub fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// A component's rendered `allowed_outbound_hosts`.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    allowed: Vec<AllowedHost>,
}

impl OutboundPolicy {
    /// The entries of one component; `*.spin.internal` expands to the app's component ids.
    pub fn new(entries: Vec<AllowedHost>, component_ids: &[String]) -> OutboundPolicy {
        let allowed = entries
            .into_iter()
            .flat_map(|entry| entry.expand_service_chaining(component_ids))
            .collect();
        OutboundPolicy { allowed }
    }

    /// Whether `url` is allowed; `default_scheme` is assumed when it has none (Spin's
    /// `check_url`). A URL that does not parse is denied.
    pub fn allows_url(&self, url: &str, default_scheme: &str) -> bool {
        OutboundUrl::parse(url, default_scheme)
            .is_ok_and(|url| self.allowed.iter().any(|entry| entry.allows(&url)))
    }

    /// Whether relative (`self`) requests in one of `schemes` are allowed: an entry
    /// with host `self` or `*` and such a scheme (its port is not checked).
    pub fn allows_relative(&self, schemes: &[&str]) -> bool {
        self.allowed.iter().any(|entry| {
            matches!(entry.host, HostRule::Any | HostRule::ToSelf)
                && schemes.iter().any(|s| entry.allows_scheme(s))
        })
    }
}

mod url;

#[cfg(test)]
mod tests;
