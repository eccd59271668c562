//! TLS for PostgreSQL connections as Spin chooses it (`factor-outbound-pg/src/client.rs`):
//! plain TCP only for `sslmode=disable`; otherwise a verifying TLS connector trusting
//! the system's certificate store, and tokio-postgres applies the mode — `prefer` (the
//! default) falls back to plaintext only when the server declines TLS (answers `N`),
//! never on a certificate error; `require` insists on TLS.
//!
//! Spin uses native-tls (OpenSSL on Linux); crm-host uses rustls with the same system
//! roots (`rustls-native-certs`, which honours `SSL_CERT_FILE`/`SSL_CERT_DIR`). Both
//! verify the chain and the host name; rustls is stricter about a few legacy
//! certificates (e.g. a name only in the subject CN, with no subjectAltName).

use std::sync::{Arc, LazyLock};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// Whether a connection with this configuration is offered TLS at all.
pub fn offers_tls(config: &tokio_postgres::Config) -> bool {
    config.get_ssl_mode() != SslMode::Disable
}

/// The process's connector: system roots are read once, on first use.
pub fn connector() -> Result<MakeRustlsConnect, String> {
    static CONNECTOR: LazyLock<Result<MakeRustlsConnect, String>> = LazyLock::new(build);
    CONNECTOR.clone()
}

fn build() -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(system_roots())
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// The system's trusted roots; unreadable ones are skipped with a warning, as an
/// OpenSSL-based client would skip them.
fn system_roots() -> rustls::RootCertStore {
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        crate::log::warn(
            "postgres TLS: cannot read a system root certificate",
            &[("error", error.to_string().into())],
        );
    }
    let mut roots = rustls::RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    if ignored > 0 || added == 0 {
        crate::log::warn(
            "postgres TLS: system root certificates skipped or missing",
            &[("added", added.into()), ("ignored", ignored.into())],
        );
    }
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sslmode_disable_skips_tls() {
        for (address, want, why) in [
            ("postgres://u@127.0.0.1/x", true, "no sslmode means prefer"),
            (
                "host=localhost sslmode=prefer",
                true,
                "prefer, even on loopback",
            ),
            ("host=db sslmode=require", true, "require"),
            ("host=127.0.0.1 sslmode=disable", false, "disable"),
        ] {
            let config: tokio_postgres::Config = address.parse().expect("a valid address");

            assert_eq!(offers_tls(&config), want, "{why}");
        }
    }

    #[test]
    fn the_connector_builds_with_the_system_roots() {
        let connector = connector();

        assert!(connector.is_ok(), "{:?}", connector.err());
    }
}
