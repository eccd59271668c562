//! The result cap Spin applies (`MAX_HOST_BUFFERED_BYTES`, 128 MiB): a larger result
//! is refused with Spin's error, and the pool keeps working.

use super::{error_of, pg};
use crm_tests::backends::PgDatabase;
use crm_tests::fixtures;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_result_over_128_mib_is_refused_and_the_next_query_on_the_pool_works() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    // One connection, so the next query runs on the one that streamed the big result.
    let app = fixtures()
        .postgres_grant(&db.url)
        .pg_pool(1, Duration::from_secs(30))
        .start()
        .await;

    let oversized = pg(
        &app,
        "/probe/pg/query",
        &db.url,
        "SELECT repeat('x', 1048576) FROM generate_series(1, 130)",
    )
    .await;
    let next = pg(&app, "/probe/pg/query", &db.url, "SELECT 1 AS one").await;

    assert_eq!(
        error_of(&oversized),
        r#"Error::QueryFailed(QueryError::Text("query result exceeds limit of 134217728 bytes"))"#
    );
    assert_eq!(
        next["rows"],
        json!([[{ "type": "int32", "value": 1 }]]),
        "{next}"
    );
    let stats = app.postgres_pool_stats();
    assert_eq!(stats.len(), 1, "{stats:?}");
    assert_eq!(stats[0].size, 1, "the one connection was kept: {stats:?}");
}
