//! `allowed_outbound_hosts` for PostgreSQL, as Spin checks it: every host (and, more
//! strictly than Spin, every `hostaddr`) against `postgres://host[:port]`, IPv6 never,
//! and the harness granting whatever server `CRM_TEST_POSTGRES_URL` names.

use super::{error_of, pg, start};
use crm_tests::backends::{BackendSet, PgDatabase, host_port, redis_url};
use crm_tests::fixtures;
use serde_json::json;
use std::time::Duration;

/// `Error::ConnectionFailed("address postgres://{url} is not permitted")`, as the probe shows it.
fn not_permitted(url: &str) -> String {
    format!(r#"Error::ConnectionFailed("address postgres://{url} is not permitted")"#)
}

#[tokio::test]
async fn hosts_not_granted_are_refused_without_connecting() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = start(&db).await;
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trap_port = trap.local_addr().unwrap().port();
    let granted = host_port(&db.url);
    let (granted_host, granted_port) = granted.rsplit_once(':').unwrap();

    for (path, addr, refused, why) in [
        (
            "/denied/pg/query",
            db.url.clone(),
            granted.clone(),
            "a component without grants",
        ),
        (
            "/probe/pg/query",
            format!("postgres://postgres@127.0.0.1:{trap_port}/x"),
            format!("127.0.0.1:{trap_port}"),
            "a port not granted",
        ),
        (
            "/probe/pg/query",
            format!("host=127.0.0.1 port={trap_port} user=postgres"),
            format!("127.0.0.1:{trap_port}"),
            "a port not granted, key=value form",
        ),
        (
            "/probe/pg/query",
            format!("host={granted_host},127.0.0.1 port={granted_port},{trap_port} user=postgres"),
            format!("127.0.0.1:{trap_port}"),
            "the second of two hosts, with its own port",
        ),
    ] {
        let body = pg(&app, path, &addr, "SELECT 1").await;

        assert_eq!(error_of(&body), not_permitted(&refused), "{why}");
    }
    let connected = tokio::time::timeout(Duration::from_millis(200), trap.accept()).await;
    assert!(
        connected.is_err(),
        "the host connected to a port it was not granted"
    );
    assert_eq!(
        app.postgres_pool_stats(),
        vec![],
        "no pool for refused addresses"
    );
}

/// Spin checks only `host`, then tokio-postgres connects to `hostaddr`: crm-host checks both.
#[tokio::test]
async fn a_hostaddr_not_granted_is_refused_even_when_the_host_is_granted() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = start(&db).await;
    let granted = host_port(&db.url);
    let (granted_host, port) = granted.rsplit_once(':').unwrap();
    let elsewhere = if granted_host == "127.0.0.2" {
        "127.0.0.3"
    } else {
        "127.0.0.2"
    };
    let addr = format!(
        "host={granted_host} hostaddr={elsewhere} port={port} user=postgres sslmode=disable"
    );

    let body = pg(&app, "/probe/pg/query", &addr, "SELECT 1").await;

    assert_eq!(
        error_of(&body),
        not_permitted(&format!("{elsewhere}:{port}"))
    );
}

/// tokio-postgres strips IPv6 brackets, so Spin's check never parses such a host.
#[tokio::test]
async fn ipv6_hosts_are_never_permitted_even_under_a_wildcard_grant() {
    let app = fixtures()
        .edit_manifest(|m| {
            let probe = m["component"]["probe"].as_table_mut().unwrap();
            probe.insert(
                "allowed_outbound_hosts".into(),
                toml::Value::Array(vec!["*://*:*".into()]),
            );
        })
        .start()
        .await;

    for (addr, refused, why) in [
        (
            "postgres://postgres@[::1]:5432/x",
            "::1:5432",
            "URL, bracketed",
        ),
        ("host=::1 user=postgres", "::1", "key=value, no port"),
        (
            "host=localhost hostaddr=::1 port=5432",
            "::1:5432",
            "IPv6 hostaddr",
        ),
    ] {
        let body = pg(&app, "/probe/pg/query", addr, "SELECT 1").await;

        assert_eq!(error_of(&body), not_permitted(refused), "{why}");
    }
}

/// The harness grants the fixture app the server the URL names (`pg_host`), whatever
/// its spelling: here `localhost`, which the fixture's default grant does not cover.
#[tokio::test]
async fn the_harness_grants_a_server_named_localhost() {
    let (Some(db), Some(redis_url)) = (PgDatabase::create().await, redis_url()) else {
        return;
    };
    let db = db.reached_as("localhost");
    let url = db.url.clone();
    let set = BackendSet::PostgresRedis { db, redis_url };
    let app = fixtures().backends(&set).start().await;

    let backend = app.get_json("/probe/db/backend").await;
    let created = app
        .post_json("/probe/db/exec", "CREATE TABLE t (n int)")
        .await;
    let queried = pg(&app, "/probe/pg/query", &url, "SELECT 1 AS one").await;

    assert_eq!(backend["backend"], "postgres", "{backend}");
    assert_eq!(created, json!({ "affected": 0 }));
    assert_eq!(
        queried["rows"],
        json!([[{ "type": "int32", "value": 1 }]]),
        "{queried}"
    );
}
