//! The password-free name of a PostgreSQL address used in logs and metrics labels,
//! built from the *parsed* `tokio_postgres::Config` (never from the raw string, whose
//! many spellings of a password — user info, `?password=`, `?pass%77ord=`, quoted
//! key=value pairs — a redactor would have to chase).

use std::fmt::Write;
use tokio_postgres::Config;
use tokio_postgres::config::{Host, SslMode};

/// `postgres://user@host:port,…/dbname?sslmode=…[&application_name=…][&hostaddr=…]`,
/// from the fields that say where a pool goes and nothing else.
pub fn label(config: &Config) -> String {
    let mut out = String::from("postgres://");
    if let Some(user) = config.get_user() {
        let _ = write!(out, "{user}@");
    }
    out.push_str(&places(config).join(","));
    out.push('/');
    out.push_str(config.get_dbname().unwrap_or_default());
    let _ = write!(out, "?sslmode={}", ssl_mode(config.get_ssl_mode()));
    if let Some(name) = config.get_application_name() {
        let _ = write!(out, "&application_name={name}");
    }
    let hostaddrs: Vec<String> = config
        .get_hostaddrs()
        .iter()
        .map(ToString::to_string)
        .collect();
    if !hostaddrs.is_empty() {
        let _ = write!(out, "&hostaddr={}", hostaddrs.join(","));
    }
    out
}

/// `host[:port]` per host (IPv6 bracketed), or per `hostaddr` when there is no host.
fn places(config: &Config) -> Vec<String> {
    let ports = config.get_ports();
    let names: Vec<String> = if config.get_hosts().is_empty() {
        let addrs = config.get_hostaddrs().iter();
        addrs.map(|ip| bracketed(&ip.to_string())).collect()
    } else {
        config.get_hosts().iter().map(host_name).collect()
    };
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| match super::address::port_at(ports, i) {
            Some(port) => format!("{name}:{port}"),
            None => name,
        })
        .collect()
}

fn host_name(host: &Host) -> String {
    match host {
        Host::Tcp(name) => bracketed(name),
        #[cfg(unix)]
        Host::Unix(path) => path.display().to_string(),
    }
}

fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn ssl_mode(mode: SslMode) -> &'static str {
    match mode {
        SslMode::Disable => "disable",
        SslMode::Require => "require",
        _ => "prefer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_spelling_of_a_password_reaches_the_label() {
        for (address, want, why) in [
            (
                "postgres://app:s3cret@db:5432/crm",
                "postgres://app@db:5432/crm?sslmode=prefer",
                "URL user info",
            ),
            (
                "postgresql://app@db/crm?password=s3cret&sslmode=disable",
                "postgres://app@db:5432/crm?sslmode=disable",
                "URL query parameter",
            ),
            (
                "postgres://app@db/crm?pass%77ord=s3cret",
                "postgres://app@db:5432/crm?sslmode=prefer",
                "percent-encoded key, decoded to `password` by the driver",
            ),
            (
                "postgres://app:s%33cret@db/crm",
                "postgres://app@db:5432/crm?sslmode=prefer",
                "percent-encoded password",
            ),
            (
                "host=db user=app password=s3cret dbname=crm",
                "postgres://app@db/crm?sslmode=prefer",
                "bare key=value",
            ),
            (
                "host=db password = 'it\\'s s3cret' dbname=crm",
                "postgres://db/crm?sslmode=prefer",
                "quoted value with escapes and spaces around =",
            ),
            (
                "password=s3cret host=a,b port=1,2 user=app application_name=crm",
                "postgres://app@a:1,b:2/?sslmode=prefer&application_name=crm",
                "several hosts; the application name is kept",
            ),
        ] {
            let config: Config = address.parse().expect("a valid address");

            let got = label(&config);

            assert_eq!(got, want, "{why}");
            assert!(!got.contains("s3cret"), "{why}: {got}");
        }
    }

    #[test]
    fn the_label_names_where_the_pool_goes() {
        for (address, want, why) in [
            (
                "postgres://u@[::1]:5433/x",
                "postgres://u@[::1]:5433/x?sslmode=prefer",
                "IPv6 host bracketed",
            ),
            (
                "host=db hostaddr=10.0.0.5 port=6000 sslmode=require",
                "postgres://db:6000/?sslmode=require&hostaddr=10.0.0.5",
                "host and hostaddr",
            ),
            (
                "hostaddr=10.0.0.5",
                "postgres://10.0.0.5/?sslmode=prefer&hostaddr=10.0.0.5",
                "hostaddr only",
            ),
        ] {
            let config: Config = address.parse().expect("a valid address");

            assert_eq!(label(&config), want, "{why}");
        }
    }
}
