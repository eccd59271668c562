//! sslmode as Spin applies it: TLS (verified against the system roots) unless
//! `sslmode=disable`; `prefer`, the default, falls back to plaintext only when the
//! server declines TLS. The local server has TLS with a self-signed certificate.

use super::{error_of, pg, start};
use crm_tests::backends::{PgDatabase, host_port, with_param, with_server, without_param};
use crm_tests::fixtures;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The 8-byte SSLRequest a client sends before its startup message (code 80877103).
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

#[tokio::test]
async fn without_sslmode_a_server_whose_certificate_is_not_trusted_is_refused() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    if !db.has_tls().await {
        return;
    }
    let app = start(&db).await;
    let addr = without_param(&db.url, "sslmode");

    let body = pg(&app, "/probe/pg/query", &addr, "SELECT 1").await;

    // As on Spin: `prefer` takes the TLS the server offers and never falls back to
    // plaintext on a certificate error, even on loopback.
    let error = error_of(&body);
    assert!(error.starts_with("Error::ConnectionFailed("), "{error}");
    assert!(error.contains("kind: Tls"), "{error}");
}

#[tokio::test]
async fn sslmode_require_insists_on_verified_tls_even_on_loopback() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    if !db.has_tls().await {
        return;
    }
    let app = start(&db).await;
    let addr = with_param(&db.url, "sslmode", "require");

    let body = pg(&app, "/probe/pg/query", &addr, "SELECT 1").await;

    let error = error_of(&body);
    assert!(error.starts_with("Error::ConnectionFailed("), "{error}");
    assert!(error.contains("kind: Tls"), "{error}");
}

#[tokio::test]
async fn sslmode_disable_connects_in_plaintext() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = start(&db).await;
    let addr = with_param(&db.url, "sslmode", "disable");

    let body = pg(
        &app,
        "/probe/pg/query",
        &addr,
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .await;

    assert_eq!(
        body["rows"],
        json!([[{ "type": "boolean", "value": false }]]),
        "{body}"
    );
}

#[tokio::test]
async fn prefer_falls_back_to_plaintext_when_the_server_declines_tls() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let proxy = DecliningProxy::start(host_port(&db.url)).await;
    let through_proxy = with_server(&db.url, &format!("127.0.0.1:{}", proxy.port));
    let app = fixtures().postgres_grant(&through_proxy).start().await;

    let preferred = pg(
        &app,
        "/probe/pg/query",
        &without_param(&through_proxy, "sslmode"),
        "SELECT 1 AS one",
    )
    .await;
    let required = pg(
        &app,
        "/probe/pg/query",
        &with_param(&through_proxy, "sslmode", "require"),
        "SELECT 1 AS one",
    )
    .await;

    assert_eq!(
        preferred["rows"],
        json!([[{ "type": "int32", "value": 1 }]]),
        "{preferred}"
    );
    assert_eq!(
        proxy.ssl_requests(),
        2,
        "TLS was offered by both connections"
    );
    let required = error_of(&required);
    assert!(
        required.starts_with("Error::ConnectionFailed("),
        "{required}"
    );
    assert!(
        required.contains("server does not support TLS"),
        "{required}"
    );
}

/// A TCP proxy to a PostgreSQL server that declines TLS: it answers an SSLRequest
/// with `N`, then pipes bytes both ways.
struct DecliningProxy {
    port: u16,
    ssl_requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl DecliningProxy {
    async fn start(upstream: String) -> DecliningProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("the proxy's address").port();
        let ssl_requests = Arc::new(AtomicUsize::new(0));
        let seen = ssl_requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(pipe(client, upstream.clone(), seen.clone()));
            }
        });
        DecliningProxy {
            port,
            ssl_requests,
            task,
        }
    }

    fn ssl_requests(&self) -> usize {
        self.ssl_requests.load(Ordering::SeqCst)
    }
}

impl Drop for DecliningProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pipe(
    mut client: TcpStream,
    upstream: String,
    seen: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    let mut first = [0u8; 8];
    client.read_exact(&mut first).await?;
    let mut server = TcpStream::connect(&upstream).await?;
    if first == SSL_REQUEST {
        seen.fetch_add(1, Ordering::SeqCst);
        client.write_all(b"N").await?;
    } else {
        server.write_all(&first).await?;
    }
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}
