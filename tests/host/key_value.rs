//! Key-value stores through Spin's interface and wasi:keyvalue, on every backend
//! set (SQLite file, Redis), with atomicity under concurrent requests.

use crm_tests::backends::{BackendSet, backend_sets, unique_prefix};
use crm_tests::{TestApp, fixtures};
use futures::future::join_all;

async fn probe_on(set: &BackendSet) -> TestApp {
    fixtures().backends(set).start().await
}

async fn concurrently(app: &TestApp, path: &str, n: usize) -> Vec<serde_json::Value> {
    join_all((0..n).map(|_| app.post_json(path, ""))).await
}

#[tokio::test]
async fn values_round_trip_through_both_interfaces() {
    for set in backend_sets().await {
        let app = probe_on(&set).await;
        let p = unique_prefix();
        assert_eq!(
            app.post_json(&format!("/probe/kv/set?store=default&key={p}b"), "two")
                .await["ok"],
            true
        );
        assert_eq!(
            app.post_json(&format!("/probe/kv/set?store=default&key={p}a"), "one")
                .await["ok"],
            true
        );
        assert_eq!(
            app.get_json(&format!("/probe/kv/get?store=default&key={p}a"))
                .await["value"],
            "one",
            "{}",
            set.name()
        );
        let missing = app
            .get_json(&format!("/probe/kv/get?store=default&key={p}zz"))
            .await;
        assert_eq!(missing["value"], serde_json::Value::Null, "{}", set.name());
        // wasi:keyvalue sees the same store.
        assert_eq!(
            app.get_json(&format!("/probe/wasi-kv/get?store=default&key={p}b"))
                .await["value"],
            "two"
        );
        // Listing contains our keys (a shared Redis may hold other tests' keys too).
        let keys = app.get_json("/probe/kv/keys?store=default").await["keys"].clone();
        let keys: Vec<&str> = keys
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|k| k.as_str())
            .collect();
        assert!(
            keys.contains(&format!("{p}a").as_str()) && keys.contains(&format!("{p}b").as_str()),
            "{}",
            set.name()
        );
    }
}

#[tokio::test]
async fn only_our_keys_are_listed_on_a_private_store() {
    let app = probe_on(&BackendSet::Sqlite).await;
    app.post_json("/probe/kv/set?store=default&key=b", "2")
        .await;
    app.post_json("/probe/kv/set?store=default&key=a", "1")
        .await;
    assert_eq!(
        app.get_json("/probe/kv/keys?store=default").await["keys"],
        serde_json::json!(["a", "b"])
    );
    assert_eq!(
        app.get_json("/probe/wasi-kv/list?store=default").await["keys"],
        serde_json::json!(["a", "b"])
    );
}

#[tokio::test]
async fn one_hundred_concurrent_increments_count_exactly_one_hundred() {
    for set in backend_sets().await {
        let app = probe_on(&set).await;
        let key = format!("{}hits", unique_prefix());
        let path = format!("/probe/wasi-kv/incr?store=default&key={key}&delta=1");
        let results = concurrently(&app, &path, 100).await;
        let mut seen: Vec<i64> = results
            .iter()
            .map(|r| r["value"].as_i64().expect("value"))
            .collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (1..=100).collect::<Vec<i64>>(),
            "{}: every increment saw a distinct value",
            set.name()
        );
        assert_eq!(
            app.get_json(&format!("/probe/wasi-kv/get?store=default&key={key}"))
                .await["value"],
            "100"
        );
    }
}

#[tokio::test]
async fn concurrent_compare_and_swap_loses_no_update() {
    for set in backend_sets().await {
        let app = probe_on(&set).await;
        let key = format!("{}cas", unique_prefix());
        let results = concurrently(
            &app,
            &format!("/probe/wasi-kv/cas-incr?store=default&key={key}"),
            50,
        )
        .await;
        for r in &results {
            assert!(r["value"].is_i64(), "{}: {r}", set.name());
        }
        assert_eq!(
            app.get_json(&format!("/probe/wasi-kv/get?store=default&key={key}"))
                .await["value"],
            "50",
            "{}",
            set.name()
        );
    }
}

#[tokio::test]
async fn batch_operations_set_get_and_delete_many() {
    for set in backend_sets().await {
        let app = probe_on(&set).await;
        let body = app
            .get_json(&format!(
                "/probe/wasi-kv/batch?store=default&prefix={}",
                unique_prefix()
            ))
            .await;
        assert_eq!(
            body["values"],
            serde_json::json!({"a": "1", "b": "2", "c": null}),
            "{}: {body}",
            set.name()
        );
        assert_eq!(
            body["after_delete"],
            serde_json::json!({"a": null, "b": null, "c": null}),
            "{}: {body}",
            set.name()
        );
    }
}

#[tokio::test]
async fn values_persist_across_host_restarts() {
    let mut first = fixtures().start().await;
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
    let second = fixtures().runtime_config(&config).start().await;
    assert_eq!(
        second
            .get_json("/probe/kv/get?store=default&key=kept")
            .await["value"],
        "yes"
    );
}
