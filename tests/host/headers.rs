//! The request headers Spin gives every component.

use crm_tests::fixtures;

#[tokio::test]
async fn components_receive_spin_request_headers() {
    let app = fixtures().start().await;
    let echo = app.get_json("/probe/some/path?x=1").await;
    let h = &echo["headers"];
    assert_eq!(
        h["spin-full-url"],
        format!("http://{}/probe/some/path?x=1", app.addr)
    );
    assert_eq!(h["spin-path-info"], "/some/path");
    assert_eq!(h["spin-matched-route"], "/probe/...");
    assert_eq!(h["spin-raw-component-route"], "/probe/...");
    assert_eq!(h["spin-component-route"], "/probe");
    assert_eq!(h["spin-base-path"], "/");
    let client = h["spin-client-addr"].as_str().unwrap();
    assert!(client.starts_with("127.0.0.1:"), "client addr {client}");
}

#[tokio::test]
async fn route_parameters_arrive_as_path_match_headers() {
    let app = fixtures().start().await;
    let echo = app.get_json("/users/ada-42/profile").await;
    assert_eq!(echo["headers"]["spin-path-match-id"], "ada-42");
    assert_eq!(
        echo["headers"]["spin-component-route"],
        "/users/:id/profile"
    );
}

#[tokio::test]
async fn client_sent_spin_headers_never_hide_spins_values() {
    // Spin keeps the client's `spin-*` values and appends its own; spin-sdk's `Request`
    // keeps the last value of a repeated header, so a component sees Spin's.
    let app = fixtures().start().await;
    let response = app
        .client
        .get(app.url("/probe/x"))
        .header("spin-path-info", "/forged")
        .header("spin-component-route", "/forged")
        .header("spin-client-addr", "6.6.6.6:666")
        .send()
        .await
        .unwrap();
    let echo: serde_json::Value = response.json().await.unwrap();
    assert_eq!(echo["headers"]["spin-path-info"], "/x");
    assert_eq!(echo["headers"]["spin-component-route"], "/probe");
    let client = echo["headers"]["spin-client-addr"].as_str().unwrap();
    assert!(client.starts_with("127.0.0.1:"), "{client}");
}
