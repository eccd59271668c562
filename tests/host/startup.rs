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

type Edit = Box<dyn FnOnce(&mut toml::Table)>;

#[tokio::test]
async fn an_invalid_manifest_is_refused_with_the_field_and_the_fix() {
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|m| {
                m["component"]["hello"]
                    .as_table_mut()
                    .unwrap()
                    .remove("source");
            }),
            "missing field `source`",
        ),
        (
            Box::new(|m| {
                m.insert("spin_manifest_version".into(), 1.into());
            }),
            "`spin_manifest_version` must be 2 (crm-host reads manifest v2 only)",
        ),
        (
            Box::new(|m| {
                let triggers = m["trigger"]["http"].as_array_mut().unwrap();
                triggers[0]
                    .as_table_mut()
                    .unwrap()
                    .insert("component".into(), "ghost".into());
            }),
            "`trigger.http[0]`.component: no `[component.ghost]` is defined",
        ),
        (
            Box::new(|m| {
                m["component"]["probe"]["variables"]
                    .as_table_mut()
                    .unwrap()
                    .insert("x".into(), "{{ nope }}".into());
            }),
            "`component.probe.variables.x`: unknown application variable `nope`",
        ),
        (
            Box::new(|m| {
                let triggers = m["trigger"]["http"].as_array_mut().unwrap();
                triggers[0]
                    .as_table_mut()
                    .unwrap()
                    .insert("route".into(), "/x/*/y".into());
            }),
            "a wildcard (`*` or `...`) may only end a route",
        ),
        (
            Box::new(|m| {
                m["component"]["probe"].as_table_mut().unwrap().insert(
                    "allowed_outbound_hosts".into(),
                    vec!["http://x:3000-3010"].into(),
                );
            }),
            "port \"3000-3010\" is not a number",
        ),
    ];
    for (edit, want) in cases {
        let err = fixtures().edit_manifest(edit).try_start().await.err();
        let message = format!("{:#}", err.expect("start-up must fail"));
        assert!(message.contains(want), "expected `{want}` in: {message}");
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
        limits: crm_host::Limits::default(),
        admin_listen: None,
        schedules: vec![],
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
