//! Key-value stores: Spin's interface, wasi:keyvalue, and atomicity under load.

use crm_tests::{Manifest, TestApp, app};
use futures::future::join_all;

async fn concurrently(app: &TestApp, path: &str, n: usize) -> Vec<serde_json::Value> {
    join_all((0..n).map(|_| app.post_json(path, ""))).await
}

#[tokio::test]
async fn spin_key_value_round_trips_values() {
    let app = app(Manifest::Fixtures)
        .variable("api_token", "t")
        .start()
        .await;
    assert_eq!(
        app.post_json("/probe/kv/set?store=default&key=b", "two")
            .await["ok"],
        true
    );
    assert_eq!(
        app.post_json("/probe/kv/set?store=default&key=a", "one")
            .await["ok"],
        true
    );
    assert_eq!(
        app.get_json("/probe/kv/get?store=default&key=a").await["value"],
        "one"
    );
    assert_eq!(
        app.get_json("/probe/kv/get?store=default&key=zz").await["value"],
        serde_json::Value::Null
    );
    assert_eq!(
        app.get_json("/probe/kv/keys?store=default").await["keys"],
        serde_json::json!(["a", "b"])
    );
    // wasi:keyvalue sees the same store.
    assert_eq!(
        app.get_json("/probe/wasi-kv/get?store=default&key=b").await["value"],
        "two"
    );
}

#[tokio::test]
async fn one_hundred_concurrent_increments_count_exactly_one_hundred() {
    let app = app(Manifest::Fixtures)
        .variable("api_token", "t")
        .start()
        .await;
    let results = concurrently(
        &app,
        "/probe/wasi-kv/incr?store=default&key=hits&delta=1",
        100,
    )
    .await;
    let mut seen: Vec<i64> = results
        .iter()
        .map(|r| r["value"].as_i64().expect("value"))
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=100).collect::<Vec<i64>>(),
        "every increment saw a distinct value"
    );
    assert_eq!(
        app.get_json("/probe/wasi-kv/get?store=default&key=hits")
            .await["value"],
        "100"
    );
}

#[tokio::test]
async fn concurrent_compare_and_swap_loses_no_update() {
    let app = app(Manifest::Fixtures)
        .variable("api_token", "t")
        .start()
        .await;
    let results = concurrently(&app, "/probe/wasi-kv/cas-incr?store=default&key=cas", 50).await;
    for r in &results {
        assert!(r["value"].is_i64(), "{r}");
    }
    assert_eq!(
        app.get_json("/probe/wasi-kv/get?store=default&key=cas")
            .await["value"],
        "50"
    );
}

#[tokio::test]
async fn batch_operations_set_get_and_delete_many() {
    let app = app(Manifest::Fixtures)
        .variable("api_token", "t")
        .start()
        .await;
    let body = app.get_json("/probe/wasi-kv/batch?store=default").await;
    assert_eq!(
        body["values"],
        serde_json::json!({"a": "1", "b": "2", "c": null}),
        "{body}"
    );
    assert_eq!(
        body["after_delete"],
        serde_json::json!({"a": null, "b": null, "c": null}),
        "{body}"
    );
}

#[tokio::test]
async fn values_persist_across_host_restarts() {
    let mut first = app(Manifest::Fixtures)
        .variable("api_token", "t")
        .start()
        .await;
    first
        .post_json("/probe/kv/set?store=default&key=kept", "yes")
        .await;
    first.shutdown().await;
    // A second host on the same state dir file sees the value.
    let path = first.dir.path().join(".spin");
    let config = format!(
        "[key_value_store.default]\ntype = \"spin\"\npath = \"{}/sqlite_key_value.db\"\n",
        path.display()
    );
    let second = app(Manifest::Fixtures)
        .variable("api_token", "t")
        .runtime_config(&config)
        .start()
        .await;
    assert_eq!(
        second
            .get_json("/probe/kv/get?store=default&key=kept")
            .await["value"],
        "yes"
    );
}
