//! The admin listener (`--admin-listen`, off by default): `GET /metrics` in the Prometheus
//! text format — the host's limits at work and its PostgreSQL pools (addresses without
//! passwords). It is never served on the public listener.

use crate::app::App;
use crate::http::limits::Counters;
use crate::http::problem::{self, HostResponse};
use crate::postgres::pool::PgPoolStats;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::fmt::Write;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The one path the admin listener answers.
pub const METRICS_PATH: &str = "/metrics";

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Scrapers open few connections: more than this at once are dropped.
const MAX_ADMIN_CONNECTIONS: usize = 16;

/// Serve `/metrics` until `stop` turns true.
pub async fn serve(app: Arc<App>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_ADMIN_CONNECTIONS));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(app.limits.header_read_timeout);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = async { let _ = stop.wait_for(|stopped| *stopped).await; } => return,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            continue;
        };
        let app = app.clone();
        let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let response = respond(&app, req.method(), req.uri().path());
            async move { Ok::<_, std::convert::Infallible>(response) }
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        tokio::spawn(async move {
            let _permit = permit;
            let _ = connection.await;
        });
    }
}

fn respond(app: &App, method: &hyper::Method, path: &str) -> HostResponse {
    match (method, path) {
        (&hyper::Method::GET, METRICS_PATH) => {
            problem::full(200, Some(CONTENT_TYPE), metrics_text(app))
        }
        _ => problem::empty(404),
    }
}

/// One gauge family: name, help text, and the field it reads.
struct Gauge {
    name: &'static str,
    help: &'static str,
    read: fn(&PgPoolStats) -> usize,
}

const PG_POOL_GAUGES: [Gauge; 5] = [
    Gauge {
        name: "crm_host_pg_pool_max_size",
        help: "Most connections the PostgreSQL pool may hold.",
        read: |s| s.max_size,
    },
    Gauge {
        name: "crm_host_pg_pool_size",
        help: "Open PostgreSQL connections in the pool, idle or in use.",
        read: |s| s.size,
    },
    Gauge {
        name: "crm_host_pg_pool_available",
        help: "Idle PostgreSQL connections ready to lend.",
        read: |s| s.available,
    },
    Gauge {
        name: "crm_host_pg_pool_in_use",
        help: "PostgreSQL connections lent to requests.",
        read: |s| s.in_use,
    },
    Gauge {
        name: "crm_host_pg_pool_waiting",
        help: "Requests waiting for a PostgreSQL connection.",
        read: |s| s.waiting,
    },
];

/// The exposition text: the host's limits at work, then one sample per PostgreSQL pool.
fn metrics_text(app: &App) -> String {
    let mut out = String::new();
    write_host_metrics(&mut out, app);
    write_pool_gauges(&mut out, &app.services.postgres.stats());
    out
}

fn write_host_metrics(out: &mut String, app: &App) {
    let c = &app.counters;
    let gauges = [
        (
            "crm_host_connections_open",
            "Client connections open.",
            Counters::get(&c.connections_open),
        ),
        (
            "crm_host_requests_in_flight",
            "Requests being served.",
            Counters::get(&c.requests_in_flight),
        ),
        (
            "crm_host_guests_running",
            "Guest instances running, chained ones included.",
            Counters::get(&c.guests_running),
        ),
        (
            "crm_host_max_connections",
            "--max-connections.",
            app.limits.max_connections as u64,
        ),
        (
            "crm_host_max_in_flight",
            "--max-in-flight.",
            app.limits.max_in_flight as u64,
        ),
    ];
    for (name, help, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP crm_host_rejected_total Requests and connections refused by a limit.\n# TYPE crm_host_rejected_total counter"
    );
    for (reason, counter) in [
        ("max_connections", &c.rejected_connections),
        ("max_in_flight", &c.rejected_in_flight),
        ("max_request_body", &c.rejected_body_too_large),
    ] {
        let value = Counters::get(counter);
        let _ = writeln!(out, "crm_host_rejected_total{{limit=\"{reason}\"}} {value}");
    }
    let counters = [
        (
            "crm_host_guest_deadline_exceeded_total",
            "Guests stopped at --request-timeout.",
            &c.guest_deadline_exceeded,
        ),
        (
            "crm_host_chain_depth_exceeded_total",
            "Chained requests refused at --max-chain-depth.",
            &c.chain_depth_exceeded,
        ),
    ];
    for (name, help, counter) in counters {
        let value = Counters::get(counter);
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
}

/// Every pool gauge family with its HELP and TYPE lines, one sample per pool.
fn write_pool_gauges(out: &mut String, pools: &[PgPoolStats]) {
    for gauge in &PG_POOL_GAUGES {
        let _ = writeln!(out, "# HELP {} {}", gauge.name, gauge.help);
        let _ = writeln!(out, "# TYPE {} gauge", gauge.name);
        for pool in pools {
            let _ = writeln!(
                out,
                "{}{{address=\"{}\"}} {}",
                gauge.name,
                crm_domain::metrics::escape_label(&pool.address),
                (gauge.read)(pool)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_writes_one_sample_per_pool_with_escaped_labels() {
        let pools = [PgPoolStats {
            address: "host=db password=*** application_name='a\"b'".into(),
            max_size: 4,
            size: 2,
            available: 1,
            in_use: 1,
            waiting: 3,
        }];
        let mut text = String::new();
        write_pool_gauges(&mut text, &pools);
        assert!(
            text.contains("# TYPE crm_host_pg_pool_size gauge\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "crm_host_pg_pool_waiting{address=\"host=db password=*** application_name='a\\\"b'\"} 3\n"
            ),
            "{text}"
        );
    }
}
