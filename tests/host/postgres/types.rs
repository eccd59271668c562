//! Every `parameter-value` case goes in as a parameter and every `db-value` case
//! comes back exactly, NULLs included.

use super::{pg, start};
use crm_tests::backends::PgDatabase;
use serde_json::{Value, json};

/// (column, SQL type, parameter, value read back, column type read back).
/// Integer ranges come back normalised to `[lo, hi)`, as PostgreSQL stores them.
fn every_type() -> Vec<(&'static str, &'static str, Value, Value, &'static str)> {
    let same = |case: &str, value: Value| {
        (
            json!({ "type": case, "value": value.clone() }),
            json!({ "type": case, "value": value }),
        )
    };
    let rows = [
        ("b", "boolean", same("boolean", json!(true)), "boolean"),
        ("i2", "smallint", same("int16", json!(-32768)), "int16"),
        ("i4", "integer", same("int32", json!(2147483647)), "int32"),
        (
            "i8",
            "bigint",
            same("int64", json!(-9223372036854775807_i64)),
            "int64",
        ),
        ("f4", "real", same("floating32", json!(1.5)), "floating32"),
        (
            "f8",
            "double precision",
            same("floating64", json!(-0.1)),
            "floating64",
        ),
        ("s", "text", same("str", json!("héllo ✓ 'quoted'")), "str"),
        (
            "bin",
            "bytea",
            same("binary", json!([0, 255, 10])),
            "binary",
        ),
        ("d", "date", same("date", json!([2024, 2, 29])), "date"),
        (
            "t",
            "time",
            same("time", json!([23, 59, 58, 123456000])),
            "time",
        ),
        (
            "dt",
            "timestamp",
            same("datetime", json!([1999, 12, 31, 23, 59, 59, 999999000])),
            "datetime",
        ),
        (
            "u",
            "uuid",
            same("uuid", json!("67e55044-10b1-426f-9247-bb680e5fe0c8")),
            "uuid",
        ),
        (
            "j",
            "jsonb",
            same("jsonb", json!(r#"{"a":[1,2.5,{"b":null}],"z":"é"}"#)),
            "jsonb",
        ),
        (
            "n",
            "numeric",
            same("decimal", json!("-12345.678900")),
            "decimal",
        ),
        (
            "r4",
            "int4range",
            (
                json!({ "type": "range-int32", "value": [[1, "inclusive"], [10, "inclusive"]] }),
                json!({ "type": "range-int32", "value": [[1, "inclusive"], [11, "exclusive"]] }),
            ),
            "range-int32",
        ),
        (
            "r8",
            "int8range",
            same("range-int64", json!([null, [5000000000_i64, "exclusive"]])),
            "range-int64",
        ),
        (
            "rn",
            "numrange",
            same(
                "range-decimal",
                json!([["1.5", "exclusive"], ["2.25", "inclusive"]]),
            ),
            "range-decimal",
        ),
        (
            "a4",
            "integer[]",
            same("array-int32", json!([1, null, -3])),
            "array-int32",
        ),
        (
            "a8",
            "bigint[]",
            same("array-int64", json!([9007199254740993_i64, null])),
            "array-int64",
        ),
        (
            "an",
            "numeric[]",
            same("array-decimal", json!(["1.10", null, "-0.5"])),
            "array-decimal",
        ),
        (
            "at",
            "text[]",
            same("array-str", json!(["a", null, "c,d"])),
            "array-str",
        ),
        (
            "iv",
            "interval",
            same(
                "interval",
                json!({ "micros": 3723000004_i64, "days": 2, "months": 14 }),
            ),
            "interval",
        ),
    ];
    rows.into_iter()
        .map(|(c, sql, (p, v), t)| (c, sql, p, v, t))
        .collect()
}

#[tokio::test]
async fn every_parameter_type_round_trips_exactly_including_nulls() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = start(&db).await;
    let types = every_type();
    let columns: Vec<String> = types
        .iter()
        .map(|(c, sql, ..)| format!("{c} {sql}"))
        .collect();
    pg(
        &app,
        "/probe/pg/exec",
        &db.url,
        format!("CREATE TABLE every (k int, {})", columns.join(", ")),
    )
    .await;
    let names: Vec<&str> = types.iter().map(|(c, ..)| *c).collect();
    let placeholders: Vec<String> = (2..=types.len() + 1).map(|i| format!("${i}")).collect();
    let insert = format!(
        "INSERT INTO every (k, {}) VALUES ($1, {})",
        names.join(", "),
        placeholders.join(", ")
    );
    let values: Vec<Value> = types.iter().map(|(_, _, p, ..)| p.clone()).collect();
    let nulls = vec![json!({ "type": "db-null" }); types.len()];

    for (k, params) in [(1, values), (2, nulls)] {
        let mut all = vec![json!({ "type": "int32", "value": k })];
        all.extend(params);
        let inserted = pg(
            &app,
            "/probe/pg/exec",
            &db.url,
            json!({ "sql": insert, "params": all }).to_string(),
        )
        .await;
        assert_eq!(inserted, json!({ "affected": 1 }), "row {k}");
    }
    let result = pg(
        &app,
        "/probe/pg/query",
        &db.url,
        format!("SELECT {} FROM every ORDER BY k", names.join(", ")),
    )
    .await;

    let want_columns: Vec<Value> = types
        .iter()
        .map(|(c, _, _, _, t)| json!({ "name": c, "type": t }))
        .collect();
    assert_eq!(result["columns"], json!(want_columns), "{result}");
    let want_values: Vec<Value> = types.iter().map(|(_, _, _, v, _)| v.clone()).collect();
    let want_nulls = vec![json!({ "type": "db-null", "value": null }); types.len()];
    assert_eq!(result["rows"], json!([want_values, want_nulls]), "{result}");
}

#[tokio::test]
async fn types_spin_binds_specially_round_trip_as_spin_does() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = start(&db).await;
    // int8 binds to "char" (read back as raw bytes); timestamp binds to timestamptz,
    // which Spin cannot read directly, so it is read as UTC timestamp.
    let body = json!({
        "sql": "SELECT $1::\"char\" AS c, $1::\"char\"::integer AS c_int, \
                ($2::timestamptz AT TIME ZONE 'UTC') AS ts, $3::text AS n",
        "params": [
            { "type": "int8", "value": -5 },
            { "type": "timestamp", "value": 1700000000 },
            { "type": "db-null" },
        ],
    });

    let result = pg(&app, "/probe/pg/query", &db.url, body.to_string()).await;

    assert_eq!(
        result["columns"],
        json!([
            { "name": "c", "type": "other(char)" },
            { "name": "c_int", "type": "int32" },
            { "name": "ts", "type": "datetime" },
            { "name": "n", "type": "str" },
        ]),
        "{result}"
    );
    assert_eq!(
        result["rows"],
        json!([[
            { "type": "unsupported", "value": [251] },
            { "type": "int32", "value": -5 },
            { "type": "datetime", "value": [2023, 11, 14, 22, 13, 20, 0] },
            { "type": "db-null", "value": null },
        ]]),
        "{result}"
    );
}

#[tokio::test]
async fn types_without_a_wit_case_come_back_as_unsupported_raw_bytes() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let app = start(&db).await;

    let result = pg(
        &app,
        "/probe/pg/query",
        &db.url,
        r#"SELECT '{"x": 1}'::json AS doc, 'ab'::name AS label, NULL::inet AS addr"#,
    )
    .await;

    assert_eq!(
        result,
        json!({
            "columns": [
                { "name": "doc", "type": "other(json)" },
                { "name": "label", "type": "other(name)" },
                { "name": "addr", "type": "other(inet)" },
            ],
            "rows": [[
                { "type": "unsupported", "value": br#"{"x": 1}"#.to_vec() },
                { "type": "unsupported", "value": [97, 98] },
                { "type": "db-null", "value": null },
            ]],
        })
    );
}
