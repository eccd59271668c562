//! Least privilege, pinned: what each component of the app's spin.toml may use.
//! A new grant must be added here on purpose.

use std::collections::BTreeMap;

fn strings(value: Option<&toml::Value>) -> Vec<String> {
    let mut out: Vec<String> = value
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn the_app_manifest_grants_only_what_each_component_needs() {
    let text = std::fs::read_to_string(crm_tests::repo_root().join("spin.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&text).unwrap();
    let components = manifest["component"].as_table().unwrap();
    let ids: Vec<&String> = components.keys().collect();
    assert_eq!(
        ids,
        ["health"],
        "a new component needs its grants pinned here"
    );

    let health = components["health"].as_table().unwrap();
    assert_eq!(strings(health.get("key_value_stores")), ["default"]);
    assert_eq!(strings(health.get("sqlite_databases")), ["default"]);
    assert_eq!(
        strings(health.get("allowed_outbound_hosts")),
        ["postgres://{{ database_host }}"],
        "the database host comes from a variable, never a wildcard"
    );
    let variables: BTreeMap<String, toml::Value> = health["variables"]
        .as_table()
        .unwrap()
        .clone()
        .into_iter()
        .collect();
    let names: Vec<&String> = variables.keys().collect();
    assert_eq!(
        names,
        [
            "database_url",
            "key_value_backend",
            "log_level",
            "slow_query_ms"
        ]
    );
}

#[test]
fn secrets_are_declared_secret_and_have_no_value_in_the_repo() {
    let text = std::fs::read_to_string(crm_tests::repo_root().join("spin.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&text).unwrap();
    let database_url = manifest["variables"]["database_url"].as_table().unwrap();
    assert_eq!(database_url["secret"].as_bool(), Some(true));
    assert_eq!(
        database_url["default"].as_str(),
        Some(""),
        "no credentials in the repo"
    );
}
