//! Secret values never reach the process's output, whatever path prints.

use super::host_process::{HostProcess, SECRET};
use crm_tests::backends::url_encode;

#[tokio::test]
async fn secret_variable_values_are_never_printed() {
    let host = HostProcess::start();
    let client = reqwest::Client::new();
    // The component may read the secret; neither its logs nor the host's may show it.
    let body: serde_json::Value = client
        .get(format!("http://{}/probe/var?name=token", host.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["value"], SECRET, "the component itself can read it");
    let _ = client
        .get(format!("http://{}/probe/trap", host.addr))
        .send()
        .await
        .unwrap();
    host.wait_for_line(|l| l.contains("\"status\":500"));
    assert!(
        !host.all_output().contains(SECRET),
        "secret leaked:\n{}",
        host.all_output()
    );
}

#[tokio::test]
async fn secrets_in_denied_urls_and_database_addresses_are_never_printed() {
    let host = HostProcess::start();
    let client = reqwest::Client::new();
    let base = format!("http://{}", host.addr);
    // A denied URL carrying credentials and a token.
    let denied = format!("http://user:{SECRET}@denied.example:9/p?token={SECRET}");
    let body: serde_json::Value = client
        .get(format!("{base}/probe/outbound?url={}", url_encode(&denied)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("HttpRequestDenied"),
        "{body}"
    );
    // A database the component may reach (pg_host = 127.0.0.1:1) that refuses, and one it may not.
    for address in [
        format!("postgres://postgres:{SECRET}@127.0.0.1:1/x?sslmode=disable"),
        format!("host=10.9.9.9 user=postgres password={SECRET} dbname=x"),
        format!("postgres://postgres@127.0.0.1:1/x?pass%77ord={SECRET}&sslmode=disable"),
    ] {
        let response = client
            .post(format!(
                "{base}/probe/pg/query?addr={}",
                url_encode(&address)
            ))
            .body("SELECT 1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{address}");
    }
    host.wait_for_line(|l| l.contains("outbound request denied"));
    host.wait_for_line(|l| l.contains("10.9.9.9"));
    host.wait_for_line(|l| l.contains("backend error") && l.contains("127.0.0.1:1"));
    let output = host.all_output();
    assert!(
        output.contains("denied.example"),
        "the denial is logged:\n{output}"
    );
    assert!(
        output.contains("10.9.9.9"),
        "the refused database is logged:\n{output}"
    );
    assert!(!output.contains(SECRET), "secret leaked:\n{output}");
}

#[test]
fn a_secret_in_an_invalid_allowed_host_is_not_printed_at_start_up() {
    let output = HostProcess::failing_start(Box::new(|m: &mut toml::Table| {
        m["component"]["probe"].as_table_mut().unwrap().insert(
            "allowed_outbound_hosts".into(),
            vec!["{{ api_token }}"].into(),
        );
    }));
    assert!(output.contains("is not shown"), "{output}");
    assert!(!output.contains(SECRET), "secret leaked:\n{output}");
}
