//! The accept loop: HTTP/1.1 connections, and graceful shutdown that lets
//! in-flight requests finish.

use crate::app::App;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long shutdown waits for in-flight requests.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Accept until `stop` turns true, then drain open connections.
pub async fn serve(app: Arc<App>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    let local = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            crate::log::error(
                "listener has no local address",
                &[("error", e.to_string().into())],
            );
            return;
        }
    };
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    crate::log::warn("accept failed", &[("error", e.to_string().into())]);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = async { let _ = stop.wait_for(|stopped| *stopped).await; } => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = service_fn(move |req| {
            let app = app.clone();
            async move {
                Ok::<_, std::convert::Infallible>(
                    crate::http::server::handle(app, req, client, local).await,
                )
            }
        });
        let connection = http1::Builder::new()
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = watched.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        crate::log::warn(
            "shutdown grace period elapsed with requests still open",
            &[],
        );
    }
}
