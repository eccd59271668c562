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

/// The manifest's components, by id.
fn components() -> toml::Table {
    let text = std::fs::read_to_string(crm_tests::repo_root().join("spin.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&text).unwrap();
    manifest["component"].as_table().unwrap().clone()
}

/// The names of a component's variables, sorted.
fn variable_names(component: &toml::Value) -> Vec<String> {
    let variables: BTreeMap<String, toml::Value> = component
        .get("variables")
        .and_then(|v| v.as_table())
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    variables.into_keys().collect()
}

/// A component's variables other than the rate limiter's (pinned by their own test).
fn own_variable_names(component: &toml::Value) -> Vec<String> {
    variable_names(component)
        .into_iter()
        .filter(|name| !name.starts_with("rate_limit_"))
        .collect()
}

const RATE_LIMIT_VARIABLES: [&str; 8] = [
    "rate_limit_enabled",
    "rate_limit_fail_open",
    "rate_limit_ip_limit",
    "rate_limit_tier_free",
    "rate_limit_tier_premium",
    "rate_limit_tier_standard",
    "rate_limit_trusted_proxy_hops",
    "rate_limit_window_seconds",
];

#[test]
fn the_components_with_public_routes_and_only_they_hold_the_rate_limit_variables() {
    for (id, component) in &components() {
        let held: Vec<String> = variable_names(component)
            .into_iter()
            .filter(|name| name.starts_with("rate_limit_"))
            .collect();
        if ["auth", "clients", "loops-sync"].contains(&id.as_str()) {
            assert_eq!(held, RATE_LIMIT_VARIABLES, "{id} limits its public routes");
        } else {
            assert!(held.is_empty(), "{id} has no limited route: {held:?}");
        }
    }
}

#[test]
fn the_app_manifest_grants_only_what_each_component_needs() {
    let components = components();
    let mut ids: Vec<&String> = components.keys().collect();
    ids.sort();
    assert_eq!(
        ids,
        ["auth", "clients", "docs", "health", "loops-sync"],
        "a new component needs its grants pinned here"
    );

    let health = components["health"].as_table().unwrap();
    assert_eq!(strings(health.get("key_value_stores")), ["default"]);
    assert_eq!(strings(health.get("sqlite_databases")), ["default"]);
    assert_eq!(
        strings(health.get("allowed_outbound_hosts")),
        [
            "http://loops-sync.spin.internal",
            "postgres://{{ database_host }}"
        ],
        "the database host comes from a variable, never a wildcard; Loops only through \
         loops-sync's probe"
    );
    assert_eq!(
        variable_names(&components["health"]),
        [
            "database_url",
            "key_value_backend",
            "log_level",
            "metrics_namespace",
            "metrics_token",
            "slow_query_ms"
        ]
    );

    let clients = components["clients"].as_table().unwrap();
    assert_eq!(strings(clients.get("key_value_stores")), ["default"]);
    assert_eq!(strings(clients.get("sqlite_databases")), ["default"]);
    assert_eq!(
        strings(clients.get("allowed_outbound_hosts")),
        [
            "http://auth.spin.internal",
            "http://loops-sync.spin.internal",
            "postgres://{{ database_host }}"
        ],
        "clients reaches its database and, by service chaining, auth (the kit) and \
         loops-sync (delivery after a write) — never Loops itself"
    );
    assert_eq!(
        own_variable_names(&components["clients"]),
        [
            "database_url",
            "import_time_budget_ms",
            "jwt_audience",
            "jwt_issuer",
            "log_level",
            "metrics_namespace",
            "response_cache_enabled",
            "response_cache_max_entry_kib",
            "response_cache_slots",
            "response_cache_ttl_seconds",
            "slow_query_ms"
        ]
    );

    let sync = components["loops-sync"].as_table().unwrap();
    assert_eq!(strings(sync.get("key_value_stores")), ["default"]);
    assert_eq!(strings(sync.get("sqlite_databases")), ["default"]);
    assert_eq!(
        strings(sync.get("allowed_outbound_hosts")),
        [
            "http://auth.spin.internal",
            "http://clients.spin.internal",
            "postgres://{{ database_host }}",
            "{{ loops_base_url }}"
        ],
        "loops-sync alone reaches Loops, at the configured base URL only"
    );
    assert_eq!(
        own_variable_names(&components["loops-sync"]),
        [
            "database_url",
            "jwt_audience",
            "jwt_issuer",
            "log_level",
            "loops_api_key",
            "loops_base_url",
            "loops_drain_budget_ms",
            "loops_drain_token",
            "loops_inline_budget_ms",
            "loops_max_attempts",
            "loops_request_timeout_ms",
            "loops_requests_per_second",
            "loops_retention_days",
            "loops_retry_base_ms",
            "loops_sync_enabled",
            "metrics_namespace",
            "slow_query_ms"
        ]
    );
    for (id, component) in &components {
        if id != "loops-sync" {
            let held: Vec<String> = variable_names(component)
                .into_iter()
                .filter(|name| name.starts_with("loops_"))
                .collect();
            let allowed: &[&str] = if id == "auth" {
                // The flags API shows the default of the `loops_sync_enabled` flag.
                &["loops_sync_enabled"]
            } else {
                &[]
            };
            assert_eq!(
                held, allowed,
                "only loops-sync holds the Loops variables, not {id}"
            );
        }
    }

    let docs = components["docs"].as_table().unwrap();
    for grant in [
        "key_value_stores",
        "sqlite_databases",
        "allowed_outbound_hosts",
    ] {
        assert!(
            strings(docs.get(grant)).is_empty(),
            "docs serves static text and needs no {grant}"
        );
    }
    assert_eq!(
        variable_names(&components["docs"]),
        ["log_level", "metrics_namespace"]
    );
    assert_eq!(
        components["docs"]["variables"]["metrics_namespace"].as_str(),
        Some(""),
        "docs counts nothing (it has no store)"
    );

    let auth = components["auth"].as_table().unwrap();
    assert_eq!(strings(auth.get("key_value_stores")), ["auth", "default"]);
    assert_eq!(strings(auth.get("sqlite_databases")), ["default"]);
    assert_eq!(
        strings(auth.get("allowed_outbound_hosts")),
        ["postgres://{{ database_host }}"],
        "auth reaches its database and nothing else over the network"
    );
    assert_eq!(
        own_variable_names(&components["auth"]),
        [
            "access_token_ttl_seconds",
            "bootstrap_admin_email",
            "bootstrap_admin_password",
            "database_url",
            "jwt_audience",
            "jwt_issuer",
            "jwt_signing_keys",
            "log_level",
            "login_failure_window_seconds",
            "login_max_failures_per_account",
            "login_max_failures_per_address",
            "loops_sync_enabled",
            "metrics_namespace",
            "refresh_token_ttl_days",
            "slow_query_ms",
        ]
    );
}

#[test]
fn only_auth_holds_its_store_and_the_identity_secrets() {
    let components = components();
    for (id, component) in &components {
        let table = component.as_table().unwrap();
        let variables = variable_names(component);
        let holds_secrets = ["jwt_signing_keys", "bootstrap_admin_password"]
            .iter()
            .any(|secret| variables.iter().any(|v| v == secret));
        let stores = strings(table.get("key_value_stores"));
        let is_auth = id == "auth";
        assert_eq!(
            stores.iter().any(|s| s == "auth"),
            is_auth,
            "{id}: the `auth` store is auth's alone"
        );
        assert_eq!(
            holds_secrets, is_auth,
            "{id}: the identity secrets are auth's alone"
        );
        // A template naming a secret under another variable name would smuggle it too.
        let templates = table
            .get("variables")
            .map(|v| v.to_string())
            .unwrap_or_default();
        for secret in ["jwt_signing_keys", "bootstrap_admin_password"] {
            assert_eq!(
                templates.contains(&format!("{{{{ {secret} }}}}")),
                is_auth,
                "{id}: templates of {secret}"
            );
        }
    }
}

#[test]
fn secrets_are_declared_secret_and_have_no_value_in_the_repo() {
    let text = std::fs::read_to_string(crm_tests::repo_root().join("spin.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&text).unwrap();
    for name in [
        "database_url",
        "jwt_signing_keys",
        "bootstrap_admin_email",
        "bootstrap_admin_password",
    ] {
        let variable = manifest["variables"][name].as_table().unwrap();
        assert_eq!(variable["secret"].as_bool(), Some(true), "{name} is secret");
        assert_eq!(
            variable["default"].as_str(),
            Some(""),
            "{name}: no credentials in the repo"
        );
    }
}

#[test]
fn the_metrics_routes_are_the_manifests_counted_routes() {
    let text = std::fs::read_to_string(crm_tests::repo_root().join("spin.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&text).unwrap();
    let mut routes: Vec<(String, String)> = manifest["trigger"]["http"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["component"].as_str().unwrap().to_owned(),
                t["route"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(component, _)| component != "docs")
        .collect();
    routes.sort();
    let mut counted: Vec<(String, String)> = crm_domain::metrics::ROUTES
        .iter()
        .map(|(c, r)| ((*c).to_owned(), (*r).to_owned()))
        .collect();
    counted.sort();
    assert_eq!(
        counted, routes,
        "crm_domain::metrics::ROUTES follows spin.toml"
    );
    for (_, component) in &components() {
        let holds = variable_names(component).contains(&"metrics_token".to_owned());
        let is_health = component.get("source").and_then(|s| s.as_str())
            == Some("target/wasm32-wasip2/release/health.wasm");
        assert_eq!(holds, is_health, "only health holds the scrape token");
    }
}
