//! A connection given back inside an open transaction (its guest trapped between
//! `BEGIN` and `COMMIT`) is rolled back before anyone else gets it. Spin does not do
//! this; crm-host is deliberately safer.

use super::pg;
use crm_tests::backends::{PgDatabase, url_encode};
use crm_tests::fixtures;
use serde_json::json;
use std::time::Duration;

/// On a pool of one connection (so the next request gets the very one the trap gave
/// back): creates `t (n int)`, runs `statements` on one connection and traps, then
/// counts the rows of `t` the next request sees. Returns the trap's status and the count.
async fn rows_seen_after_a_trap(db: &PgDatabase, statements: &[&str]) -> (u16, serde_json::Value) {
    let app = fixtures()
        .postgres_grant(&db.url)
        .pg_pool(1, Duration::from_secs(5))
        .start()
        .await;
    pg(&app, "/probe/pg/exec", &db.url, "CREATE TABLE t (n int)").await;
    let trapped = app
        .client
        .post(app.url(&format!("/probe/pg/trap?addr={}", url_encode(&db.url))))
        .body(json!(statements).to_string())
        .send()
        .await
        .expect("request failed")
        .status()
        .as_u16();
    let seen = pg(
        &app,
        "/probe/pg/query",
        &db.url,
        "SELECT count(*)::int4 AS n FROM t",
    )
    .await;
    (trapped, seen)
}

#[tokio::test]
async fn a_transaction_left_open_by_a_trap_is_rolled_back_before_the_connection_is_reused() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let (trapped, seen) = rows_seen_after_a_trap(&db, &["BEGIN", "INSERT INTO t VALUES (1)"]).await;

    assert_eq!(trapped, 500, "the guest trapped");
    assert_eq!(
        seen["rows"],
        json!([[{ "type": "int32", "value": 0 }]]),
        "the next request saw the trapped request's uncommitted row: {seen}"
    );
    let observer = db.client().await;
    let open: i64 = observer
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
            &[],
        )
        .await
        .expect("pg_stat_activity")
        .get(0);
    assert_eq!(open, 0, "a pooled connection is still idle in transaction");
}

#[tokio::test]
async fn a_chained_commit_left_open_by_a_trap_is_rolled_back_too() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    // The first row is committed; `AND CHAIN` opens the next transaction at once, and
    // the trap leaves the second row inside it.
    let statements = [
        "BEGIN",
        "INSERT INTO t VALUES (1)",
        "COMMIT AND CHAIN",
        "INSERT INTO t VALUES (2)",
    ];
    let (trapped, seen) = rows_seen_after_a_trap(&db, &statements).await;

    assert_eq!(trapped, 500, "the guest trapped");
    assert_eq!(
        seen["rows"],
        json!([[{ "type": "int32", "value": 1 }]]),
        "the next request saw the chained transaction's uncommitted row: {seen}"
    );
}
