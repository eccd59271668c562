//! PostgreSQL connection pools: bounded waits when exhausted, and their gauges
//! (`RunningServer::postgres_pool_stats`, `/.well-known/crm-host/metrics`).

use super::{error_of, host_port, pg, start};
use crm_tests::backends::PgDatabase;
use crm_tests::{TestApp, fixtures};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn an_exhausted_pool_waits_then_fails_with_a_clear_error() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = fixtures()
        .variable("pg_host", &host_port(&db.url))
        .pg_pool(1, Duration::from_millis(300))
        .start()
        .await;
    let holder = pg(&app, "/probe/pg/query", &db.url, "SELECT pg_sleep(2)");
    let waiter = async {
        wait_until_in_use(&app, 1).await;
        let started = Instant::now();
        let body = pg(&app, "/probe/pg/query", &db.url, "SELECT 1 AS one").await;
        (body, started.elapsed())
    };

    let (held, (refused, waited)) = tokio::join!(holder, waiter);

    assert_eq!(
        held["rows"],
        json!([[{ "type": "unsupported", "value": [] }]]),
        "{held}"
    );
    assert_eq!(
        error_of(&refused),
        r#"Error::ConnectionFailed("pool exhausted: waited 300 ms for one of 1 connections")"#
    );
    assert!(
        waited >= Duration::from_millis(300),
        "gave up after {waited:?}"
    );
    let after = pg(&app, "/probe/pg/query", &db.url, "SELECT 1 AS one").await;
    assert_eq!(
        after["rows"],
        json!([[{ "type": "int32", "value": 1 }]]),
        "{after}"
    );
}

async fn wait_until_in_use(app: &TestApp, connections: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.postgres_pool_stats().first().map(|s| s.in_use) != Some(connections) {
        assert!(
            Instant::now() < deadline,
            "no connection was lent out in time"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `url` with a password in its user info (kept if it has one), to check redaction.
fn with_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (user_info, host) = rest.split_once('@').expect("a user in the URL");
    if user_info.contains(':') {
        return url.to_owned();
    }
    format!("{scheme}://{user_info}:not-a-real-secret@{host}")
}

#[tokio::test]
async fn pool_gauges_are_exposed_as_prometheus_text_without_passwords() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = start(&db).await;
    let addr = with_password(&db.url);
    pg(&app, "/probe/pg/query", &addr, "SELECT 1").await;
    let password = addr
        .split_once("://")
        .unwrap()
        .1
        .split_once('@')
        .unwrap()
        .0
        .split_once(':')
        .unwrap()
        .1;

    let response = app.get("/.well-known/crm-host/metrics").await;
    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = response.text().await.unwrap();

    assert_eq!(status, 200, "{text}");
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert!(!text.contains(password), "the password leaked: {text}");
    let label = addr.replace(password, "***");
    for (gauge, value) in [
        ("crm_host_pg_pool_max_size", 16),
        ("crm_host_pg_pool_size", 1),
        ("crm_host_pg_pool_available", 1),
        ("crm_host_pg_pool_in_use", 0),
        ("crm_host_pg_pool_waiting", 0),
    ] {
        assert!(
            text.contains(&format!("# TYPE {gauge} gauge\n")),
            "{gauge}: {text}"
        );
        let sample = format!("{gauge}{{address=\"{label}\"}} {value}\n");
        assert!(text.contains(&sample), "missing {sample:?} in:\n{text}");
    }
    let stats = app.postgres_pool_stats();
    assert_eq!(stats.len(), 1, "{stats:?}");
    assert_eq!(
        (
            stats[0].address.as_str(),
            stats[0].size,
            stats[0].available,
            stats[0].in_use
        ),
        (label.as_str(), 1, 1, 0)
    );
}
