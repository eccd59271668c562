//! `spin:postgres/postgres@4.0.0`: statements and server errors. Grants, TLS, value
//! types, conversion errors, pooling, transactions left open and the result cap are in
//! `postgres/`. Each test gets a fresh database (or skips with a notice when
//! `CRM_TEST_POSTGRES_URL` is unset outside CI).

mod conversion_errors;
mod grants;
mod limits;
mod pool;
mod tls;
mod transactions;
mod types;

use crm_tests::backends::PgDatabase;
use crm_tests::{TestApp, fixtures};
use serde_json::{Value, json};

const JSON: &str = "application/json";

/// The fixture app with the probe granted `db`'s server.
async fn start(db: &PgDatabase) -> TestApp {
    fixtures().postgres_grant(&db.url).start().await
}

/// POST a probe pg op (`/probe/pg/query`, `/denied/pg/exec`, ...) for `addr`;
/// asserts the probe answered 200 JSON and returns the body.
async fn pg(app: &TestApp, path: &str, addr: &str, body: impl Into<String>) -> Value {
    let response = app
        .client
        .post(app.url(path))
        .query(&[("addr", addr)])
        .body(body.into())
        .send()
        .await
        .expect("request failed");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    assert_eq!(status, 200, "POST {path}: {text}");
    assert_eq!(content_type, JSON, "POST {path}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("POST {path}: not JSON ({e}): {text}"))
}

/// The `error` of a probe answer (the guest's `Debug` of the WIT error).
fn error_of(body: &Value) -> &str {
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error, got {body}"))
}

#[tokio::test]
async fn execute_reports_the_number_of_affected_rows() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = start(&db).await;

    let created = pg(&app, "/probe/pg/exec", &db.url, "CREATE TABLE t (n int)").await;
    let inserted = pg(
        &app,
        "/probe/pg/exec",
        &db.url,
        "INSERT INTO t SELECT generate_series(1, 3)",
    )
    .await;
    let updated = pg(
        &app,
        "/probe/pg/exec",
        &db.url,
        json!({ "sql": "UPDATE t SET n = n + $1 WHERE n >= $2",
                "params": [{ "type": "int32", "value": 10 }, { "type": "int32", "value": 2 }] })
        .to_string(),
    )
    .await;

    assert_eq!(created, json!({ "affected": 0 }));
    assert_eq!(inserted, json!({ "affected": 3 }));
    assert_eq!(updated, json!({ "affected": 2 }));
}

#[tokio::test]
async fn a_unique_violation_carries_sqlstate_23505_and_other_violations_do_not() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = start(&db).await;
    pg(
        &app,
        "/probe/pg/exec",
        &db.url,
        "CREATE TABLE clients (email text UNIQUE, name text NOT NULL)",
    )
    .await;
    pg(
        &app,
        "/probe/pg/exec",
        &db.url,
        "INSERT INTO clients VALUES ('a@x.io', 'A')",
    )
    .await;

    let duplicate = pg(
        &app,
        "/probe/pg/exec",
        &db.url,
        "INSERT INTO clients VALUES ('a@x.io', 'B')",
    )
    .await;
    let missing_name = pg(
        &app,
        "/probe/pg/exec",
        &db.url,
        "INSERT INTO clients VALUES ('b@x.io', NULL)",
    )
    .await;

    let duplicate = error_of(&duplicate);
    assert!(
        duplicate.starts_with("Error::QueryFailed(QueryError::DbError(DbError {"),
        "{duplicate}"
    );
    assert!(duplicate.contains(r#"code: "23505""#), "{duplicate}");
    assert!(
        duplicate.contains(r#"("constraint", "clients_email_key")"#),
        "{duplicate}"
    );
    let missing_name = error_of(&missing_name);
    assert!(missing_name.contains(r#"code: "23502""#), "{missing_name}");
    assert!(!missing_name.contains("23505"), "{missing_name}");
}

#[tokio::test]
async fn a_syntax_error_is_reported_as_query_failed_with_sqlstate_42601() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = start(&db).await;

    for path in ["/probe/pg/query", "/probe/pg/exec"] {
        let body = pg(&app, path, &db.url, "SELEC 1").await;

        let error = error_of(&body);
        assert!(
            error.starts_with("Error::QueryFailed(QueryError::DbError(DbError {"),
            "{path}: {error}"
        );
        assert!(error.contains(r#"code: "42601""#), "{path}: {error}");
        assert!(error.contains(r#"severity: "ERROR""#), "{path}: {error}");
    }
}
