//! PostgreSQL connection pools: bounded waits when exhausted, at most 16 pools (as
//! Spin), and their gauges (`RunningServer::postgres_pool_stats`, the admin listener's
//! `/metrics`) without passwords.

use super::{error_of, pg};
use crm_tests::backends::{PgDatabase, host_port, with_param};
use crm_tests::{TestApp, fixtures};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn an_exhausted_pool_waits_then_fails_with_a_clear_error() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = fixtures()
        .postgres_grant(&db.url)
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

/// Spin keeps 16 pools; evicting one closes its idle connections.
#[tokio::test]
async fn no_more_than_sixteen_pools_are_kept_and_an_evicted_address_works_again() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = fixtures().postgres_grant(&db.url).admin().start().await;
    let tag = |i: usize| format!("crm_pool_{i}");
    let address = |i: usize| with_param(&db.url, "application_name", &tag(i));

    for i in 0..20 {
        let body = pg(&app, "/probe/pg/query", &address(i), "SELECT 1 AS one").await;
        assert_eq!(
            body["rows"],
            json!([[{ "type": "int32", "value": 1 }]]),
            "{i}: {body}"
        );
        let pools = app.postgres_pool_stats().len();
        assert!(pools <= 16, "{pools} pools after {} addresses", i + 1);
    }
    let metrics = app.metrics().await;
    let samples = metrics
        .lines()
        .filter(|line| line.starts_with("crm_host_pg_pool_size{"))
        .count();
    let labels: Vec<String> = app
        .postgres_pool_stats()
        .into_iter()
        .map(|s| s.address)
        .collect();
    let observer = db.client().await;
    let first_closed = eventually_no_backend_named(&observer, &tag(0)).await;
    let again = pg(&app, "/probe/pg/query", &address(0), "SELECT 1 AS one").await;

    assert_eq!(samples, 16, "{metrics}");
    assert_eq!(labels.len(), 16, "{labels:?}");
    assert!(
        !labels.iter().any(|l| l.ends_with(&format!("={}", tag(0)))),
        "the least recently used address was evicted: {labels:?}"
    );
    assert!(
        first_closed,
        "the evicted pool's idle connection was not closed"
    );
    assert_eq!(
        again["rows"],
        json!([[{ "type": "int32", "value": 1 }]]),
        "{again}"
    );
    let stats = app.postgres_pool_stats();
    assert_eq!(stats.len(), 16, "{stats:?}");
    assert!(
        stats
            .iter()
            .any(|s| s.address.ends_with(&format!("={}", tag(0)))),
        "{stats:?}"
    );
}

/// Whether, within a few seconds, no server backend runs under `application_name`.
async fn eventually_no_backend_named(client: &tokio_postgres::Client, name: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let row = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                &[&name],
            )
            .await
            .expect("pg_stat_activity");
        if row.get::<_, i64>(0) == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn no_spelling_of_a_password_reaches_the_metrics_or_the_pool_stats() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = fixtures().postgres_grant(&db.url).admin().start().await;
    let secret = "not-a-real-secret";
    // The server trusts local connections, so any password is accepted and kept in the address.
    let addresses = [
        with_user_info_password(&db.url, secret),
        with_param(&db.url, "password", secret),
        with_param(&db.url, "pass%77ord", secret),
        format!("{} password='{secret}'", key_value(&db.url)),
    ];

    for addr in &addresses {
        let body = pg(&app, "/probe/pg/query", addr, "SELECT 1 AS one").await;
        assert_eq!(
            body["rows"],
            json!([[{ "type": "int32", "value": 1 }]]),
            "{addr}: {body}"
        );
    }
    let metrics = app.metrics().await;
    let stats = app.postgres_pool_stats();

    assert_eq!(
        stats.len(),
        addresses.len(),
        "one pool per address: {stats:?}"
    );
    assert!(
        !metrics.contains(secret),
        "the password leaked into /metrics:\n{metrics}"
    );
    assert!(
        !format!("{stats:?}").contains(secret),
        "the password leaked: {stats:?}"
    );
}

/// `url` with `password` in its user info.
fn with_user_info_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (user, host) = rest.split_once('@').expect("a user in the URL");
    let user = user.split(':').next().unwrap_or(user);
    format!("{scheme}://{user}:{password}@{host}")
}

/// The key=value form of a postgres URL's host, port, user and database (sslmode off).
fn key_value(url: &str) -> String {
    let config: tokio_postgres::Config = url.parse().expect("a valid URL");
    let host = host_port(url);
    let (host, port) = host.rsplit_once(':').expect("host:port");
    format!(
        "host={host} port={port} user={} dbname={} sslmode=disable",
        config.get_user().unwrap_or("postgres"),
        config.get_dbname().unwrap_or("postgres"),
    )
}

#[tokio::test]
async fn pool_gauges_are_exposed_as_prometheus_text() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = fixtures().postgres_grant(&db.url).admin().start().await;
    pg(&app, "/probe/pg/query", &db.url, "SELECT 1").await;

    let text = app.metrics().await;

    let stats = app.postgres_pool_stats();
    assert_eq!(stats.len(), 1, "{stats:?}");
    let config: tokio_postgres::Config = db.url.parse().expect("a valid URL");
    let label = format!(
        "postgres://{}@{}/{}?sslmode=disable",
        config.get_user().unwrap_or_default(),
        host_port(&db.url),
        config.get_dbname().unwrap_or_default()
    );
    assert_eq!(
        stats[0].address, label,
        "the label names user, server, database, sslmode"
    );
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
    assert_eq!(
        (stats[0].size, stats[0].available, stats[0].in_use),
        (1, 1, 0)
    );
}
