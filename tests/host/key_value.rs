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
        let stored = app
            .get_json(&format!("/probe/wasi-kv/get?store=default&key={key}"))
            .await;
        let want = match set {
            BackendSet::Sqlite => "6400000000000000",
            BackendSet::PostgresRedis { .. } => "313030",
        };
        assert_eq!(stored["hex"], want, "{}: {stored}", set.name());
    }
}

#[tokio::test]
async fn concurrent_compare_and_swap_loses_no_update() {
    for set in backend_sets().await {
        let app = probe_on(&set).await;
        let key = format!("{}cas", unique_prefix());
        // CAS from an absent key is an upsert on Spin's SQLite store: start from a value.
        app.post_json(&format!("/probe/kv/set?store=default&key={key}"), "0")
            .await;
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
async fn increment_keeps_each_backends_counter_format_as_spin_does() {
    for set in backend_sets().await {
        let app = probe_on(&set).await;
        let key = format!("{}n", unique_prefix());
        let incr = app
            .get_json(&format!(
                "/probe/wasi-kv/incr?store=default&key={key}&delta=5"
            ))
            .await;
        assert_eq!(incr["value"], 5, "{}: {incr}", set.name());
        let stored = app
            .get_json(&format!("/probe/wasi-kv/get?store=default&key={key}"))
            .await;
        let want = match set {
            // crates/key-value-spin: an 8-byte little-endian i64.
            BackendSet::Sqlite => "0500000000000000",
            // crates/key-value-redis: INCRBY's decimal text.
            BackendSet::PostgresRedis { .. } => "35",
        };
        assert_eq!(stored["hex"], want, "{}: {stored}", set.name());
    }
}

#[tokio::test]
async fn incrementing_a_value_that_is_no_counter_fails_the_request_on_the_sqlite_store() {
    // Spin panics on a value that is not 8 bytes; crm-host traps the guest: an empty 500.
    let app = fixtures().start().await;
    let key = format!("{}text", unique_prefix());
    app.post_json(&format!("/probe/kv/set?store=default&key={key}"), "5")
        .await;
    let response = app
        .get(&format!("/probe/wasi-kv/incr?store=default&key={key}"))
        .await;
    assert_eq!(response.status(), 500);
    assert_eq!(response.text().await.unwrap(), "");
    let other = format!("{}fresh", unique_prefix());
    let fresh = app
        .get_json(&format!("/probe/wasi-kv/incr?store=default&key={other}"))
        .await;
    assert_eq!(fresh["value"], 1, "the store still works: {fresh}");
}

#[tokio::test]
async fn get_many_leaves_out_missing_keys_and_list_keys_refuses_a_cursor() {
    for set in backend_sets().await {
        let app = probe_on(&set).await;
        let p = unique_prefix();
        app.post_json(&format!("/probe/kv/set?store=default&key={p}a"), "1")
            .await;
        let many = app
            .get_json(&format!(
                "/probe/wasi-kv/get-many?store=default&keys={p}a,{p}missing,{p}a"
            ))
            .await;
        assert_eq!(
            many["found"],
            serde_json::json!([[format!("{p}a"), "1"]]),
            "{}",
            set.name()
        );
        let listed = app
            .get_json("/probe/wasi-kv/list?store=default&cursor=anything")
            .await;
        assert!(
            listed["error"]
                .as_str()
                .unwrap_or_default()
                .contains("list_keys: cursor not supported"),
            "{}: {listed}",
            set.name()
        );
    }
}

#[tokio::test]
async fn compare_and_swap_begun_on_an_absent_key_behaves_as_each_spin_store() {
    for set in backend_sets().await {
        let app = probe_on(&set).await;
        let key = format!("{}absent", unique_prefix());
        let body = app
            .get_json(&format!(
                "/probe/wasi-kv/cas-absent?store=default&key={key}"
            ))
            .await;
        assert_eq!(
            body["seen"],
            serde_json::Value::Null,
            "{}: {body}",
            set.name()
        );
        let want = match set {
            // Spin's SQLite store upserts when the value read was absent.
            BackendSet::Sqlite => serde_json::json!({"swapped": true, "after": "swapped"}),
            // Redis watches the key: the write in between makes the swap fail.
            BackendSet::PostgresRedis { .. } => {
                serde_json::json!({"swapped": false, "after": "written-meanwhile"})
            }
        };
        assert_eq!(body["swapped"], want["swapped"], "{}: {body}", set.name());
        assert_eq!(body["after"], want["after"], "{}: {body}", set.name());
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
