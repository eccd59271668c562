//! PostgreSQL connection strings (URL or key=value): the `host:port` pairs they
//! reach, for the `allowed_outbound_hosts` check, and a password-free form for
//! logs and metrics labels.

use tokio_postgres::Config;
use tokio_postgres::config::Host;

/// PostgreSQL's well-known port, used when the address names none.
pub const DEFAULT_PORT: u16 = 5432;

/// Parse `address` as tokio-postgres (and Spin) do.
pub fn parse(address: &str) -> Result<Config, String> {
    address
        .parse::<Config>()
        .map_err(|e| format!("invalid PostgreSQL address: {e}"))
}

/// Every `(host, port)` a connection may reach: each `host` and each
/// `hostaddr`, with the port at the same index, the only port, or 5432.
/// IPv6 literals come back bracketed (`[::1]`), as in `allowed_outbound_hosts`.
pub fn targets(config: &Config) -> Result<Vec<(String, u16)>, String> {
    let ports = config.get_ports();
    let port_at = |i: usize| -> Result<u16, String> {
        match ports {
            [] => Ok(DEFAULT_PORT),
            [only] => Ok(*only),
            _ => ports.get(i).copied().ok_or_else(|| {
                "invalid PostgreSQL address: the numbers of hosts and ports differ".to_owned()
            }),
        }
    };
    let mut targets = Vec::new();
    for (i, host) in config.get_hosts().iter().enumerate() {
        match host {
            Host::Tcp(name) => targets.push((bracketed(name), port_at(i)?)),
            #[cfg(unix)]
            Host::Unix(_) => return Err("Unix sockets are not supported on WebAssembly".into()),
        }
    }
    for (i, ip) in config.get_hostaddrs().iter().enumerate() {
        targets.push((bracketed(&ip.to_string()), port_at(i)?));
    }
    if targets.is_empty() {
        return Err("invalid PostgreSQL address: it names no host".into());
    }
    Ok(targets)
}

fn bracketed(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Whether every host the connection may reach is on this machine.
pub fn is_loopback_only(config: &Config) -> bool {
    let Ok(targets) = targets(config) else {
        return false;
    };
    targets.iter().all(|(host, _)| {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        bare.eq_ignore_ascii_case("localhost")
            || bare
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

/// `address` with any password replaced by `***` (URL user info, `?password=`,
/// or a `password=` pair), safe for logs and metrics labels.
pub fn redact(address: &str) -> String {
    if let Some(rest) = address
        .strip_prefix("postgres://")
        .or_else(|| address.strip_prefix("postgresql://"))
    {
        let scheme = &address[..address.len() - rest.len()];
        return format!("{scheme}{}", redact_url_rest(rest));
    }
    redact_key_values(address)
}

fn redact_url_rest(rest: &str) -> String {
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, hosts)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{hosts}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key == "password" => format!("{key}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", pairs.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{authority}{tail}")
}

/// Redact `password = value` in libpq key=value syntax, where a value is either
/// a bare word or single-quoted with backslash escapes.
fn redact_key_values(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut rest = address;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim_end();
        let key_name = key.rsplit(char::is_whitespace).next().unwrap_or(key);
        out.push_str(&rest[..=eq]);
        let after = &rest[eq + 1..];
        let value_start = after.len() - after.trim_start().len();
        out.push_str(&after[..value_start]);
        let value_len = value_length(&after[value_start..]);
        let value = &after[value_start..value_start + value_len];
        out.push_str(if key_name == "password" { "***" } else { value });
        rest = &after[value_start + value_len..];
    }
    out.push_str(rest);
    out
}

fn value_length(text: &str) -> usize {
    if !text.starts_with('\'') {
        return text.find(char::is_whitespace).unwrap_or(text.len());
    }
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '\'' => return i + 1,
            _ => {}
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_passwords_in_every_address_form() {
        for (address, want, why) in [
            (
                "postgres://app:s3cret@db:5432/crm",
                "postgres://app:***@db:5432/crm",
                "URL user info",
            ),
            (
                "postgresql://app@db/crm?password=s3cret&sslmode=disable",
                "postgresql://app@db/crm?password=***&sslmode=disable",
                "URL query parameter",
            ),
            (
                "host=db user=app password=s3cret dbname=crm",
                "host=db user=app password=*** dbname=crm",
                "bare key=value",
            ),
            (
                "host=db password = 'it\\'s secret' dbname=crm",
                "host=db password = *** dbname=crm",
                "quoted value with escapes and spaces around =",
            ),
            (
                "postgres://app@db/crm",
                "postgres://app@db/crm",
                "no password",
            ),
        ] {
            assert_eq!(redact(address), want, "{why}");
        }
    }

    #[test]
    fn targets_pair_each_host_with_its_port() {
        for (address, want, why) in [
            ("postgres://u@db/x", vec![("db", 5432)], "default port"),
            ("host=db port=6000", vec![("db", 6000)], "explicit port"),
            (
                "host=a,b port=1,2",
                vec![("a", 1), ("b", 2)],
                "port per host",
            ),
            ("host=a,b port=7", vec![("a", 7), ("b", 7)], "shared port"),
            (
                "host=db hostaddr=10.0.0.5",
                vec![("db", 5432), ("10.0.0.5", 5432)],
                "hostaddr is checked too",
            ),
            (
                "postgres://u@[::1]:5433/x",
                vec![("[::1]", 5433)],
                "IPv6 literal",
            ),
        ] {
            let config = parse(address).unwrap();
            let got = targets(&config).unwrap();
            let want: Vec<(String, u16)> = want.into_iter().map(|(h, p)| (h.into(), p)).collect();
            assert_eq!(got, want, "{why}: {address}");
        }
    }

    #[test]
    fn targets_reject_sockets_and_missing_hosts() {
        for (address, why) in [
            ("host=/var/run/postgresql", "Unix socket"),
            ("user=postgres dbname=x", "no host"),
        ] {
            let config = parse(address).unwrap();
            assert!(targets(&config).is_err(), "{why}: {address}");
        }
    }
}
