//! Variable resolution: `--variable` > `SPIN_VARIABLE_*` > `.env` > default.

use crm_tests::{Manifest, app, fixtures};

#[tokio::test]
async fn variables_resolve_in_spin_priority_order() {
    let app = app(Manifest::Fixtures)
        .variable("greeting", "from-cli")
        .env("SPIN_VARIABLE_GREETING", "from-env")
        .env("SPIN_VARIABLE_ENV_ONLY", "from-env")
        .env("SPIN_VARIABLE_API_TOKEN", "s3cret")
        .dotenv("SPIN_VARIABLE_ENV_ONLY=from-dotenv\nSPIN_VARIABLE_DOTENV_VAR=\"from-dotenv\"\n")
        .start()
        .await;
    for (name, want) in [
        ("greeting", "from-cli"),
        ("env_only", "from-env"),
        ("dotenv_var", "from-dotenv"),
        ("token", "s3cret"),
        ("composed", "say from-cli!"),
    ] {
        assert_eq!(
            app.get_json(&format!("/probe/var?name={name}")).await["value"],
            want,
            "{name}"
        );
    }
}

#[tokio::test]
async fn defaults_apply_when_no_provider_has_a_value() {
    let app = fixtures().start().await;
    assert_eq!(
        app.get_json("/probe/var?name=greeting").await["value"],
        "hello"
    );
    assert_eq!(
        app.get_json("/probe/var?name=dotenv_var").await["value"],
        "from-default"
    );
}

#[tokio::test]
async fn wasi_config_reads_the_same_variables() {
    let app = fixtures().start().await;
    assert_eq!(
        app.get_json("/probe/config?name=greeting").await["value"],
        "hello"
    );
    assert_eq!(
        app.get_json("/probe/config?name=missing").await["value"],
        serde_json::Value::Null
    );
    let all = app.get_json("/probe/config-all").await;
    assert_eq!(all["values"]["composed"], "say hello!", "{all}");
    assert_eq!(all["values"]["token"], "t", "{all}");
}

#[tokio::test]
async fn invalid_variable_names_are_rejected() {
    let app = fixtures().start().await;
    let body = app.get_json("/probe/var?name=Not-Valid").await;
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("InvalidName"),
        "{body}"
    );
}

#[tokio::test]
async fn a_required_variable_without_value_stops_start_up_naming_it() {
    let err = app(Manifest::Fixtures)
        .try_start()
        .await
        .err()
        .expect("start-up must fail");
    let message = format!("{err:#}");
    assert!(message.contains("api_token"), "{message}");
    assert!(message.contains("SPIN_VARIABLE_API_TOKEN"), "{message}");
}

#[tokio::test]
async fn unknown_cli_variables_are_rejected() {
    let err = fixtures()
        .variable("no_such_var", "x")
        .try_start()
        .await
        .err()
        .expect("start-up must fail");
    assert!(format!("{err:#}").contains("no_such_var"), "{err:#}");
}
