//! PostgreSQL connection strings (URL or key=value) against `allowed_outbound_hosts`,
//! as Spin's `crates/factor-outbound-pg/src/allowed_hosts.rs` checks them: every `host`
//! becomes `{host}[:{port}]`, checked with `check_url(…, "postgres")`.

use crate::allowed_hosts::OutboundPolicy;
use tokio_postgres::Config;
use tokio_postgres::config::Host;

/// Parse `address` as tokio-postgres (and Spin) do. Spin hands the guest the error's
/// `Display` (`invalid connection string`) as `connection-failed`.
pub fn parse(address: &str) -> Result<Config, tokio_postgres::Error> {
    address.parse::<Config>()
}

/// Why an address may not be used: the guest's `connection-failed` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `address postgres://{url} is not permitted`; `url` is what was checked.
    NotPermitted {
        url: String,
    },
    UnixSocket,
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::NotPermitted { url } => format!("address postgres://{url} is not permitted"),
            Refusal::UnixSocket => "Unix sockets are not supported on WebAssembly".to_owned(),
        }
    }
}

/// What is checked for each place the connection may reach, in order: `host[:port]`
/// for every `host`, then for every `hostaddr`. The port is the one at the same index,
/// else the only one, else none (the check then assumes 5432), exactly as Spin pairs
/// them. (tokio-postgres gives every URL host a port, 5432 when the URL names none.)
///
/// crm-host is stricter than Spin here: Spin checks only `host` entries, yet
/// tokio-postgres connects to `hostaddr` when one is given, so
/// `host=granted.example hostaddr=10.1.2.3` (or a lone `hostaddr=`) passes Spin's check
/// and reaches an address nobody granted. crm-host requires each `hostaddr` to be
/// granted as well; no address Spin refuses is accepted here.
pub fn checked_urls(config: &Config) -> Result<Vec<String>, Refusal> {
    let ports = config.get_ports();
    let with_port = |i: usize, host: &str| match port_at(ports, i) {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let mut urls = Vec::new();
    for (i, host) in config.get_hosts().iter().enumerate() {
        match host {
            Host::Tcp(name) => urls.push(with_port(i, name)),
            #[cfg(unix)]
            Host::Unix(_) => return Err(Refusal::UnixSocket),
        }
    }
    for (i, ip) in config.get_hostaddrs().iter().enumerate() {
        urls.push(with_port(i, &ip.to_string()));
    }
    Ok(urls)
}

/// Refuse an address that reaches a place `policy` does not grant.
///
/// tokio-postgres strips an IPv6 literal's brackets (`[::1]` becomes `::1`), so on
/// Spin `::1:5432` never parses as a URL and IPv6 hosts are never permitted, whatever
/// the grants say. crm-host refuses them explicitly rather than by that accident.
pub fn ensure_allowed(config: &Config, policy: &OutboundPolicy) -> Result<(), Refusal> {
    for url in checked_urls(config)? {
        let host = url.rsplit_once(':').map_or(url.as_str(), |(host, _)| host);
        let is_ipv6 = host.contains(':');
        if is_ipv6 || !policy.allows_url(&url, "postgres") {
            return Err(Refusal::NotPermitted { url });
        }
    }
    Ok(())
}

/// The port of the `i`th host, as Spin pairs them: the port at the same index, else the
/// only port given, else none (the caller's default).
pub fn port_at(ports: &[u16], i: usize) -> Option<&u16> {
    ports.get(i).or_else(|| {
        if ports.len() == 1 {
            ports.first()
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowed_hosts::AllowedHost;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        let entries = entries
            .iter()
            .map(|entry| AllowedHost::parse(entry).expect("a valid entry"))
            .collect();
        OutboundPolicy::new(entries, &[])
    }

    #[test]
    fn each_host_is_checked_with_the_port_spin_pairs_it_with() {
        for (address, want, why) in [
            (
                "postgres://u@db/x",
                vec!["db:5432"],
                "URL: the driver's 5432",
            ),
            ("host=db", vec!["db"], "key=value: no port"),
            ("postgres://u@db:6000/x", vec!["db:6000"], "URL port"),
            ("host=db port=6000", vec!["db:6000"], "key=value port"),
            ("host=a,b port=1,2", vec!["a:1", "b:2"], "the port per host"),
            (
                "host=a,b port=7",
                vec!["a:7", "b:7"],
                "the only port for all",
            ),
            (
                "host=a,b,c port=1,2",
                vec!["a:1", "b:2", "c"],
                "no port left",
            ),
            ("postgres://u@a:1,b/x", vec!["a:1", "b:5432"], "URL hosts"),
            (
                "host=db hostaddr=10.0.0.5",
                vec!["db", "10.0.0.5"],
                "hostaddr checked too (stricter than Spin)",
            ),
            (
                "hostaddr=10.0.0.5 port=7",
                vec!["10.0.0.5:7"],
                "hostaddr only",
            ),
            (
                "postgres://u@[::1]:5433/x",
                vec!["::1:5433"],
                "IPv6, unbracketed",
            ),
            ("user=postgres dbname=x", vec![], "no host at all"),
        ] {
            let config = parse(address).expect("a valid address");

            let got = checked_urls(&config);

            let want: Vec<String> = want.into_iter().map(str::to_owned).collect();
            assert_eq!(got, Ok(want), "{why}: {address}");
        }
    }

    #[test]
    fn a_unix_socket_host_is_refused() {
        let config = parse("host=/var/run/postgresql").expect("a valid address");

        let refusal = checked_urls(&config).expect_err("a socket path");

        assert_eq!(
            refusal.message(),
            "Unix sockets are not supported on WebAssembly"
        );
    }

    #[test]
    fn the_refusal_names_the_first_place_not_granted() {
        let grants = policy(&["postgres://db:5432", "postgres://10.0.0.5", "*://[::1]:*"]);
        for (address, want, why) in [
            ("host=db", None, "no port matches 5432"),
            ("postgres://u@db/x", None, "the URL's default port"),
            ("postgres://u@db:5432/x", None, "explicit 5432"),
            (
                "postgres://u@db:6000/x",
                Some("db:6000"),
                "port not granted",
            ),
            ("host=db,other", Some("other"), "every host must be granted"),
            (
                "host=a,b port=5432,6000",
                Some("a:5432"),
                "first refusal wins",
            ),
            (
                "host=db hostaddr=10.9.9.9",
                Some("10.9.9.9"),
                "a hostaddr not granted",
            ),
            ("host=db hostaddr=10.0.0.5", None, "a hostaddr granted"),
            ("host=::1", Some("::1"), "IPv6 never permitted"),
            (
                "host=::1 port=5432",
                Some("::1:5432"),
                "IPv6 with a port, key=value",
            ),
        ] {
            let config = parse(address).expect("a valid address");

            let got = ensure_allowed(&config, &grants).map_err(|r| r.message());

            let want = want.map_or(Ok(()), |url| {
                Err(format!("address postgres://{url} is not permitted"))
            });
            assert_eq!(got, want, "{why}: {address}");
        }
    }

    #[test]
    fn a_malformed_address_fails_with_the_drivers_text() {
        let error = parse("host=db sslmode=maybe").expect_err("an invalid sslmode");

        assert_eq!(error.to_string(), "invalid connection string");
    }
}
