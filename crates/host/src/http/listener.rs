//! The accept loop: HTTP/1.1 with a header-read timeout that also closes idle keep-alive
//! connections, a write timeout, a cap on open connections, and graceful shutdown that
//! lets in-flight requests finish (none can outlive the request timeout).

use crate::app::App;
use crate::http::connection::{WriteTimeout, refuse};
use crate::http::limits::{Counters, GaugeGuard};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Connections being refused (each for at most a couple of seconds) at once; past
/// this, a flood's further connections are closed without a word.
const MAX_REFUSALS: usize = 64;

/// Accept until `stop` turns true, then drain open connections.
pub async fn serve(app: Arc<App>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(app.limits.max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(app.limits.header_read_timeout)
        .keep_alive(true);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    crate::log::warn("accept failed", &[("error", e.to_string().into())]);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = async { let _ = stop.wait_for(|stopped| *stopped).await; } => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            Counters::add(&app.counters.rejected_connections);
            if let Ok(refusing) = refusals.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(stream).await;
                    drop(refusing);
                });
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(WriteTimeout::new(stream, app.limits.write_timeout));
        let service_app = app.clone();
        let service =
            service_fn(move |req| crate::http::server::handle(service_app.clone(), req, client));
        let watched = graceful.watch(builder.serve_connection(io, service));
        let app = app.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _open = GaugeGuard::enter(&app.counters.connections_open);
            let _ = watched.await;
        });
    }
    drop(listener);
    let grace = app.limits.shutdown_grace();
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        crate::log::warn(
            "shutdown grace period elapsed with connections still open",
            &[("grace_ms", (grace.as_millis() as u64).into())],
        );
    }
}
