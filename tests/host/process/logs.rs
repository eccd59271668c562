//! Log lines of the process: one JSON access line per request, slow statements without
//! their parameters.

use super::host_process::HostProcess;
use std::time::Duration;

#[tokio::test]
async fn every_request_gets_one_json_access_line_with_its_request_id() {
    let host = HostProcess::start();
    let client = reqwest::Client::new();
    let url = format!("http://{}/probe/hello", host.addr);
    let response = client
        .get(&url)
        .header("x-request-id", "access-7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    host.wait_for_line(|l| {
        l.contains("\"request_id\":\"access-7\"") && l.contains("\"log\":\"access\"")
    });
    let access: Vec<_> = host
        .json_lines()
        .into_iter()
        .filter(|l| l["log"] == "access" && l["request_id"] == "access-7")
        .collect();
    assert_eq!(access.len(), 1, "one access line: {access:?}");
    let line = &access[0];
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/probe/...");
    assert_eq!(line["status"], 200);
    assert_eq!(line["component"], "probe");
    assert!(line["duration_ms"].is_number(), "{line}");
    assert!(line["ts"].is_string(), "{line}");
}

#[tokio::test]
async fn slow_statements_are_logged_without_their_parameters() {
    let host = HostProcess::start();
    let client = reqwest::Client::new();
    let base = format!("http://{}/probe/db", host.addr);
    let create = client
        .post(format!("{base}/exec"))
        .body("CREATE TABLE items (name TEXT PRIMARY KEY, qty BIGINT NOT NULL)");
    assert_eq!(create.send().await.unwrap().status(), 200);
    let insert = client
        .post(format!("{base}/insert-item?name=param-value-9&qty=3"))
        .send()
        .await
        .unwrap();
    assert_eq!(insert.status(), 200);
    // slow_query_ms = 0: every statement counts as slow.
    let mut slow = Vec::new();
    for _ in 0..100 {
        slow = host
            .json_lines()
            .into_iter()
            .filter(|l| l["msg"] == "slow query")
            .collect();
        if slow.iter().any(|l| {
            l["statement"]
                .as_str()
                .unwrap_or_default()
                .starts_with("INSERT INTO items")
        }) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let insert_line = slow
        .iter()
        .find(|l| {
            l["statement"]
                .as_str()
                .unwrap_or_default()
                .starts_with("INSERT INTO items")
        })
        .unwrap_or_else(|| panic!("no slow-query line for the insert: {slow:?}"));
    assert_eq!(insert_line["backend"], "sqlite");
    assert!(insert_line["duration_ms"].is_number());
    assert!(
        !host.all_output().contains("param-value-9"),
        "parameters must not be logged"
    );
}
