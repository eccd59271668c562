//! Start-up errors say what is wrong and what to do.

use crm_tests::fixtures;

#[tokio::test]
async fn a_missing_wasm_file_suggests_crm_host_build() {
    let err = fixtures()
        .edit_manifest(|m| {
            m["component"]["hello"]
                .as_table_mut()
                .unwrap()
                .insert("source".into(), "missing/nothing.wasm".into());
        })
        .try_start()
        .await
        .err()
        .expect("start-up must fail");
    let message = format!("{err:#}");
    assert!(message.contains("crm-host build"), "{message}");
    assert!(message.contains("hello"), "{message}");
}

#[tokio::test]
async fn an_invalid_manifest_names_the_field() {
    for (edit, field) in [
        (
            Box::new(|m: &mut toml::Table| {
                m["component"]["hello"]
                    .as_table_mut()
                    .unwrap()
                    .remove("source");
            }) as Box<dyn FnOnce(&mut toml::Table)>,
            "source",
        ),
        (
            Box::new(|m: &mut toml::Table| {
                m.insert("spin_manifest_version".into(), 1.into());
            }),
            "spin_manifest_version",
        ),
        (
            Box::new(|m: &mut toml::Table| {
                let triggers = m["trigger"]["http"].as_array_mut().unwrap();
                triggers[0]
                    .as_table_mut()
                    .unwrap()
                    .insert("component".into(), "ghost".into());
            }),
            "component",
        ),
        (
            Box::new(|m: &mut toml::Table| {
                m["component"]["probe"]["variables"]
                    .as_table_mut()
                    .unwrap()
                    .insert("x".into(), "{{ nope }}".into());
            }),
            "nope",
        ),
    ] {
        let err = fixtures().edit_manifest(edit).try_start().await.err();
        let message = format!("{:#}", err.expect("start-up must fail"));
        assert!(message.contains(field), "expected `{field}` in: {message}");
    }
}

#[tokio::test]
async fn a_port_in_use_is_reported_clearly() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let options = crm_host::UpOptions {
        manifest_path: crm_tests::repo_root().join("tests/fixtures/spin.toml"),
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        runtime_config_file: None,
        state_dir: Some(dir.path().to_path_buf()),
        variables: crm_host::VariableSources {
            cli: vec![("api_token".into(), "t".into())],
            ..Default::default()
        },
        cache_dir: Some(crm_tests::test_target_dir().join("module-cache")),
        pg_pool_size: 16,
        pg_pool_wait: std::time::Duration::from_secs(5),
    };
    let err = crm_host::start(options)
        .await
        .err()
        .expect("start-up must fail");
    assert!(format!("{err:#}").contains("already in use"), "{err:#}");
}

#[test]
fn the_shipped_runtime_config_profiles_load() {
    use crm_host::app::runtime_config::{RuntimeConfig, StoreBackend};
    let dir = crm_tests::repo_root().join("deploy/runtime-config");
    let state = std::path::Path::new("/state");
    let local = RuntimeConfig::load(Some(&dir.join("local.toml")), state).unwrap();
    assert!(matches!(
        local.key_value_stores["default"],
        StoreBackend::SqliteFile(_)
    ));
    assert!(matches!(
        local.sqlite_databases["default"],
        StoreBackend::SqliteFile(_)
    ));
    let production = RuntimeConfig::load(Some(&dir.join("postgres-redis.toml")), state).unwrap();
    assert!(matches!(
        production.key_value_stores["default"],
        StoreBackend::Redis { .. }
    ));
}
