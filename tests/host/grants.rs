//! Least privilege: what a component was not granted, it cannot use.

use crm_tests::fixtures;

fn error_of(body: &serde_json::Value) -> String {
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error, got {body}"))
        .to_owned()
}

#[tokio::test]
async fn ungranted_key_value_store_is_access_denied() {
    let app = fixtures().start().await;
    for path in [
        "/denied/kv/open?store=default",
        "/probe/kv/open?store=other",
    ] {
        let body = app.get_json(path).await;
        assert!(error_of(&body).contains("AccessDenied"), "{path}: {body}");
    }
    let body = app.get_json("/denied/wasi-kv/open?store=default").await;
    assert!(error_of(&body).contains("AccessDenied"), "{body}");
    // The granted component opens the same store.
    assert_eq!(
        app.get_json("/probe/kv/open?store=default").await["ok"],
        true
    );
}

#[tokio::test]
async fn ungranted_sqlite_database_is_access_denied() {
    let app = fixtures().start().await;
    let body = app.get_json("/denied/sqlite/open?db=default").await;
    assert!(error_of(&body).contains("AccessDenied"), "{body}");
    assert_eq!(
        app.get_json("/probe/sqlite/open?db=default").await["ok"],
        true
    );
}

#[tokio::test]
async fn granted_but_unconfigured_labels_are_no_such_store() {
    let app = fixtures()
        .edit_manifest(|m| {
            let probe = m["component"]["probe"].as_table_mut().unwrap();
            probe.insert(
                "key_value_stores".into(),
                toml::Value::Array(vec!["default".into(), "ghost".into()]),
            );
            probe.insert(
                "sqlite_databases".into(),
                toml::Value::Array(vec!["default".into(), "ghost".into()]),
            );
        })
        .start()
        .await;
    let kv = app.get_json("/probe/kv/open?store=ghost").await;
    assert!(error_of(&kv).contains("NoSuchStore"), "{kv}");
    let db = app.get_json("/probe/sqlite/open?db=ghost").await;
    assert!(error_of(&db).contains("NoSuchDatabase"), "{db}");
}

#[tokio::test]
async fn ungranted_variable_is_undefined() {
    let app = fixtures().start().await;
    let body = app.get_json("/denied/var?name=greeting").await;
    assert!(error_of(&body).contains("Undefined"), "{body}");
    // wasi:config answers "no such key" rather than an error.
    assert_eq!(
        app.get_json("/denied/config?name=greeting").await["value"],
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn ungranted_outbound_host_is_denied() {
    let app = fixtures().start().await;
    let body = app
        .get_json("/denied/outbound?url=http%3A%2F%2F127.0.0.1%3A9%2F")
        .await;
    assert!(error_of(&body).contains("HttpRequestDenied"), "{body}");
}
