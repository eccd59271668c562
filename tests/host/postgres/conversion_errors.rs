//! Values that cannot cross the interface: malformed parameters, and results
//! the WIT types cannot hold. Both are errors for the guest, never traps.

use super::{error_of, pg, start};
use crm_tests::backends::PgDatabase;
use serde_json::json;

#[tokio::test]
async fn timestamptz_columns_fail_to_read_as_they_do_on_spin() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = start(&db).await;

    let body = pg(&app, "/probe/pg/query", &db.url, "SELECT now() AS at").await;

    let error = error_of(&body);
    assert!(
        error.starts_with("Error::QueryFailed(QueryError::Text("),
        "{error}"
    );
    assert!(
        error.contains("WrongType { postgres: Timestamptz"),
        "{error}"
    );
}

#[tokio::test]
async fn malformed_parameters_are_refused_with_spins_error_case() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = start(&db).await;

    for (path, sql, param, want, why) in [
        (
            "/probe/pg/query",
            "SELECT $1",
            json!({ "type": "uuid", "value": "not-a-uuid" }),
            "Error::BadParameter(\"parameter $1: invalid UUID",
            "query: bad uuid",
        ),
        (
            "/probe/pg/exec",
            "SELECT $1",
            json!({ "type": "uuid", "value": "not-a-uuid" }),
            "Error::ValueConversionFailed(\"parameter $1: invalid UUID",
            "execute: bad uuid",
        ),
        (
            "/probe/pg/query",
            "SELECT $1",
            json!({ "type": "date", "value": [2023, 2, 29] }),
            "Error::BadParameter(\"parameter $1: invalid date 2023-02-29",
            "no such day",
        ),
        (
            "/probe/pg/query",
            "SELECT $1",
            json!({ "type": "decimal", "value": "1,5" }),
            "Error::BadParameter(\"parameter $1: invalid decimal",
            "not a decimal",
        ),
        (
            "/probe/pg/query",
            "SELECT $1",
            json!({ "type": "jsonb", "value": "{nope" }),
            "Error::BadParameter(\"parameter $1: invalid JSON",
            "not JSON",
        ),
        (
            "/probe/pg/query",
            "SELECT $1",
            json!({ "type": "range-int32", "value": [null, [2147483647, "inclusive"]] }),
            "Error::BadParameter(\"parameter $1: range bound 2147483647",
            "bound past i32::MAX",
        ),
        (
            "/probe/pg/query",
            "SELECT $1::bigint",
            json!({ "type": "int32", "value": 1 }),
            "Error::QueryFailed(QueryError::Text(\"Error { kind: ToSql(0)",
            "int32 for a bigint parameter",
        ),
    ] {
        let spec = json!({ "sql": sql, "params": [param] });

        let body = pg(&app, path, &db.url, spec.to_string()).await;

        let error = error_of(&body);
        assert!(error.starts_with(want), "{why}: {error}");
    }
}

#[tokio::test]
async fn values_the_wit_types_cannot_hold_are_reported_not_trapped() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = start(&db).await;

    for (sql, cause) in [
        ("SELECT 'NaN'::numeric", "ConversionTo"),
        ("SELECT 1e40::numeric", "ExceedsMaximumPossibleValue"),
        (
            "SELECT ARRAY[[1, 2], [3, 4]]",
            "array contains too many dimensions",
        ),
        ("SELECT 'infinity'::timestamp", "value too large to decode"),
    ] {
        let body = pg(&app, "/probe/pg/query", &db.url, sql).await;

        let error = error_of(&body);
        assert!(
            error.starts_with("Error::QueryFailed(QueryError::Text("),
            "{sql}: {error}"
        );
        assert!(error.contains(cause), "{sql}: {error}");
    }
    let still_usable = pg(&app, "/probe/pg/query", &db.url, "SELECT 1 AS one").await;
    assert_eq!(
        still_usable["rows"],
        json!([[{ "type": "int32", "value": 1 }]])
    );
}
