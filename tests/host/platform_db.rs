//! `crm_platform::db` from inside a component, on every backend set: one SQL text,
//! one error kind for duplicates, transactions that commit or leave nothing.

use crm_tests::backends::{BackendSet, backend_sets};
use crm_tests::{TestApp, fixtures};
use serde_json::json;

async fn probe_on(set: &BackendSet) -> TestApp {
    let app = fixtures().backends(set).start().await;
    let created = app
        .post_json(
            "/probe/db/exec",
            "CREATE TABLE items (name TEXT PRIMARY KEY, qty BIGINT NOT NULL)",
        )
        .await;
    assert_eq!(created["affected"], 0, "{}: {created}", set.name());
    app
}

#[tokio::test]
async fn the_database_url_variable_selects_the_backend() {
    for set in backend_sets().await {
        let app = probe_on(&set).await;
        let want = match set {
            BackendSet::Sqlite => "sqlite",
            BackendSet::PostgresRedis { .. } => "postgres",
        };
        assert_eq!(app.get_json("/probe/db/backend").await["backend"], want);
    }
}

#[tokio::test]
async fn parameterised_rows_round_trip_and_decode_by_column() {
    for set in backend_sets().await {
        let app = probe_on(&set).await;
        assert_eq!(
            app.post_json("/probe/db/insert-item?name=b%27s&qty=2", "")
                .await["affected"],
            1,
            "{}",
            set.name()
        );
        assert_eq!(
            app.post_json("/probe/db/insert-item?name=a&qty=-1", "")
                .await["affected"],
            1
        );
        let items = app.get_json("/probe/db/items").await;
        assert_eq!(
            items["items"],
            json!([{"name": "a", "qty": -1}, {"name": "b's", "qty": 2}]),
            "{}",
            set.name()
        );
    }
}

#[tokio::test]
async fn duplicates_surface_as_one_unique_violation_kind_on_both_databases() {
    for set in backend_sets().await {
        let app = probe_on(&set).await;
        app.post_json("/probe/db/insert-item?name=dup&qty=1", "")
            .await;
        let again = app
            .post_json("/probe/db/insert-item?name=dup&qty=2", "")
            .await;
        let error = again["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with("UniqueViolation"),
            "{}: {again}",
            set.name()
        );
        let other = app
            .post_json("/probe/db/exec", "SELECT * FROM nowhere")
            .await;
        assert!(
            other["error"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Query"),
            "{}: {other}",
            set.name()
        );
    }
}

#[tokio::test]
async fn a_failed_transaction_leaves_nothing_and_a_committed_one_keeps_everything() {
    for set in backend_sets().await {
        let app = probe_on(&set).await;
        let failed = app
            .post_json("/probe/db/transaction-fails?name=ghost", "")
            .await;
        assert!(
            failed["error"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Query"),
            "{}: {failed}",
            set.name()
        );
        assert_eq!(
            app.get_json("/probe/db/items").await["items"],
            json!([]),
            "{}: rolled back",
            set.name()
        );

        assert_eq!(
            app.post_json("/probe/db/transaction-commits?a=x&b=y", "")
                .await["committed"],
            true
        );
        let items = app.get_json("/probe/db/items").await;
        assert_eq!(
            items["items"],
            json!([{"name": "x", "qty": 1}, {"name": "y", "qty": 2}]),
            "{}",
            set.name()
        );
    }
}
