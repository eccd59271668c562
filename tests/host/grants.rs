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

/// Grant `probe` one more label of `kind` (`key_value_stores` or `sqlite_databases`).
fn grant_ghost(kind: &'static str) -> impl FnOnce(&mut toml::Table) {
    move |m: &mut toml::Table| {
        let probe = m["component"]["probe"].as_table_mut().unwrap();
        probe.insert(
            kind.into(),
            toml::Value::Array(vec!["default".into(), "ghost".into()]),
        );
    }
}

#[tokio::test]
async fn a_granted_label_the_runtime_config_does_not_define_stops_the_app_at_load() {
    // As `spin up` (crates/factor-key-value, crates/factor-sqlite): not a per-request error.
    for (kind, want) in [
        (
            "key_value_stores",
            r#"unknown key_value_stores label "ghost" for component "probe""#,
        ),
        (
            "sqlite_databases",
            "One or more components use SQLite databases which are not defined.",
        ),
    ] {
        let err = fixtures()
            .edit_manifest(grant_ghost(kind))
            .try_start()
            .await
            .err()
            .unwrap_or_else(|| panic!("{kind}: start-up must fail"));
        let message = format!("{err:#}");
        assert!(message.contains(want), "{kind}: {message}");
        if kind == "sqlite_databases" {
            assert!(
                message.contains("- Component probe uses database 'ghost'"),
                "{message}"
            );
        }
    }
}

#[tokio::test]
async fn a_label_the_runtime_config_defines_but_the_component_was_not_granted_is_denied() {
    let app = fixtures()
        .runtime_config(
            // Absolute: a relative database path would be the working directory's (Spin's rule).
            &format!(
                "[key_value_store.ghost]\ntype = \"spin\"\npath = \"ghost.db\"\n\n[sqlite_database.ghost]\ntype = \"spin\"\npath = \"{}\"\n",
                std::env::temp_dir().join("crm-ghost-never-opened.db").display()
            ),
        )
        .start()
        .await;
    let kv = app.get_json("/probe/kv/open?store=ghost").await;
    assert!(error_of(&kv).contains("AccessDenied"), "{kv}");
    let db = app.get_json("/probe/sqlite/open?db=ghost").await;
    assert!(error_of(&db).contains("AccessDenied"), "{db}");
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
