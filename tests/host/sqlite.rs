//! `fermyon:spin/sqlite`: statements, parameters' types, errors.

use crm_tests::fixtures;
use serde_json::json;

#[tokio::test]
async fn sqlite_runs_statements_and_maps_every_value_type() {
    let app = fixtures().start().await;
    app.post_json(
        "/probe/sqlite/exec?db=default",
        "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n NULL)",
    )
    .await;
    app.post_json(
        "/probe/sqlite/exec?db=default",
        "INSERT INTO t VALUES (42, 1.5, 'text', x'0102', NULL)",
    )
    .await;
    let result = app
        .post_json(
            "/probe/sqlite/exec?db=default",
            "SELECT i, r, s, b, n FROM t",
        )
        .await;
    assert_eq!(
        result["columns"],
        json!(["i", "r", "s", "b", "n"]),
        "{result}"
    );
    assert_eq!(
        result["rows"],
        json!([[42, 1.5, "text", [1, 2], null]]),
        "{result}"
    );
}

#[tokio::test]
async fn sqlite_errors_are_reported_not_trapped() {
    let app = fixtures().start().await;
    let result = app
        .post_json(
            "/probe/sqlite/exec?db=default",
            "SELECT * FROM no_such_table",
        )
        .await;
    let error = result["error"].as_str().unwrap_or_default();
    assert!(error.contains("no such table"), "{result}");
    // The connection still works afterwards.
    let ok = app
        .post_json("/probe/sqlite/exec?db=default", "SELECT 1 AS one")
        .await;
    assert_eq!(ok["rows"], json!([[1]]), "{ok}");
}

/// crm-host hands a closed guest's connection to the next guest (sparing the file open and
/// the schema parse); that must look exactly like a fresh connection, as on Spin.
#[tokio::test]
async fn a_reused_connection_carries_no_transaction_or_pragma_of_the_guest_before() {
    let app = fixtures().start().await;
    let exec = async |sql: &str| app.post_json("/probe/sqlite/exec?db=default", sql).await;
    exec("CREATE TABLE kept (x INTEGER)").await;
    // A guest that begins a transaction and ends without committing: closing the
    // connection rolls it back, so the next guest's insert is committed on its own.
    let begun = exec("BEGIN").await;
    assert!(begun.get("error").is_none(), "{begun}");
    exec("INSERT INTO kept VALUES (1)").await;
    let begun = exec("BEGIN IMMEDIATE").await;
    assert!(begun.get("error").is_none(), "{begun}");
    let count = exec("SELECT count(*) FROM kept").await;
    assert_eq!(count["rows"], json!([[1]]), "{count}");
    // A guest that turns foreign keys off does not turn them off for the next one.
    exec("PRAGMA foreign_keys = OFF").await;
    let pragma = exec("PRAGMA foreign_keys").await;
    assert_eq!(pragma["rows"], json!([[1]]), "{pragma}");
}

/// crm-host runs short reads on the request's own thread and stops them after a 2 ms
/// budget to run them again on the blocking pool (crates/host/src/sqlite.rs
/// `try_inline_read`): a read far over the budget still answers whole and exactly once,
/// and nothing of the stopped attempt shows.
#[tokio::test]
async fn a_read_over_the_inline_budget_still_answers_whole() {
    let app = fixtures().start().await;
    let rows = 200_000;
    let result = app
        .post_json(
            "/probe/sqlite/exec?db=default",
            &format!(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) \
                 SELECT x FROM c"
            ),
        )
        .await;
    let got = result["rows"].as_array().expect("rows");
    assert_eq!(
        got.len(),
        rows,
        "{}",
        result.get("error").unwrap_or(&json!(null))
    );
    assert_eq!(got[0], json!([1]));
    assert_eq!(got[rows - 1], json!([rows]));
    // The connection is usable afterwards, writes included.
    app.post_json(
        "/probe/sqlite/exec?db=default",
        "CREATE TABLE after_long (x)",
    )
    .await;
    let count = app
        .post_json(
            "/probe/sqlite/exec?db=default",
            "SELECT count(*) FROM after_long",
        )
        .await;
    assert_eq!(count["rows"], json!([[0]]), "{count}");
}
