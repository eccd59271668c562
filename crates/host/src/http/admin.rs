//! `GET /.well-known/crm-host/metrics`: the host's own gauges in the Prometheus
//! text exposition format (PostgreSQL connection pools, per redacted address).

use crate::app::App;
use crate::postgres::pool::PgPoolStats;
use hyper::Response;
use std::fmt::Write;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The path the host answers itself, before routing to components.
pub const PATH: &str = "/.well-known/crm-host/metrics";

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

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

pub fn response(app: &App) -> Response<HyperOutgoingBody> {
    let body = render(&app.services.postgres.stats());
    crate::http::problem::full(200, CONTENT_TYPE, body)
}

/// The exposition text: every family with its HELP and TYPE lines, one sample per pool.
fn render(pools: &[PgPoolStats]) -> String {
    let mut out = String::new();
    for gauge in &PG_POOL_GAUGES {
        let _ = writeln!(out, "# HELP {} {}", gauge.name, gauge.help);
        let _ = writeln!(out, "# TYPE {} gauge", gauge.name);
        for pool in pools {
            let _ = writeln!(
                out,
                "{}{{address=\"{}\"}} {}",
                gauge.name,
                escape_label(&pool.address),
                (gauge.read)(pool)
            );
        }
    }
    out
}

/// A label value with `\`, `"` and newlines escaped, as the format requires.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
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
        let text = render(&pools);
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
