//! Outbound HTTP: `allowed_outbound_hosts`, including `{{ var }}` templates.

use crm_tests::backends::url_encode as encode;
use crm_tests::fixtures;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn allowed_templated_host_is_reached() {
    let mock = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/hi"))
        .respond_with(ResponseTemplate::new(200).set_body_string("hi from mock"))
        .expect(1)
        .mount(&mock)
        .await;
    let port = mock.address().port().to_string();
    let app = fixtures().variable("mock_port", &port).start().await;

    let body = app
        .get_json(&format!(
            "/probe/outbound?url={}",
            encode(&format!("{}/hi", mock.uri()))
        ))
        .await;
    assert_eq!(body["status"], 200, "{body}");
    assert_eq!(body["body"], "hi from mock", "{body}");
}

#[tokio::test]
async fn hosts_outside_the_allow_list_are_denied_without_a_request() {
    let allowed = MockServer::start().await;
    let other = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&other)
        .await;
    let port = allowed.address().port().to_string();
    let app = fixtures().variable("mock_port", &port).start().await;

    for url in [
        format!("{}/x", other.uri()),
        format!("https://127.0.0.1:{port}/x"),
    ] {
        let body = app
            .get_json(&format!("/probe/outbound?url={}", encode(&url)))
            .await;
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains("HttpRequestDenied"), "{url}: {body}");
    }
}
