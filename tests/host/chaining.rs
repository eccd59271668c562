//! Local service chaining: `http://<component>.spin.internal` runs in-process.

use crm_tests::backends::url_encode as encode;
use crm_tests::fixtures;

#[tokio::test]
async fn a_component_reaches_a_private_component_by_chaining() {
    let app = fixtures().start().await;
    let url = encode("http://private-probe.spin.internal/echo/path");
    let body = app.get_json(&format!("/probe/outbound?url={url}")).await;
    assert_eq!(body["status"], 200, "{body}");
    let inner: serde_json::Value = serde_json::from_str(body["body"].as_str().unwrap()).unwrap();
    // As Spin: the router is bypassed and the request is presented as matched by `/...`,
    // from no client, with the Host header gone.
    let headers = &inner["headers"];
    assert_eq!(headers["spin-path-info"], "/echo/path", "{inner}");
    assert_eq!(headers["spin-matched-route"], "/...", "{inner}");
    assert_eq!(headers["spin-raw-component-route"], "/...", "{inner}");
    assert_eq!(headers["spin-component-route"], "", "{inner}");
    assert_eq!(headers["spin-client-addr"], "0.0.0.0:0", "{inner}");
    assert_eq!(
        headers["spin-full-url"], "http://localhost/echo/path",
        "{inner}"
    );
    assert_eq!(headers.get("host"), None, "{inner}");
}

#[tokio::test]
async fn chaining_to_a_public_component_bypasses_its_route() {
    let app = fixtures().start().await;
    let body = app
        .get_json(&format!(
            "/probe/outbound?url={}",
            encode("http://hello.spin.internal/not/its/route")
        ))
        .await;
    assert_eq!(body["status"], 200, "{body}");
    assert_eq!(body["body"], "hello, world\n", "{body}");
}

#[tokio::test]
async fn chaining_needs_the_target_in_allowed_outbound_hosts() {
    let app = fixtures().start().await;
    for url in [
        "http://private-probe.spin.internal/x",
        "http://exact.spin.internal/x",
    ] {
        let denied = app
            .get_json(&format!("/denied/outbound?url={}", encode(url)))
            .await;
        assert!(
            denied["error"]
                .as_str()
                .unwrap_or_default()
                .contains("HttpRequestDenied"),
            "{url}: {denied}"
        );
    }
    // `probe` may chain to private-probe and hello only.
    let other = app
        .get_json(&format!(
            "/probe/outbound?url={}",
            encode("http://exact.spin.internal/x")
        ))
        .await;
    assert!(
        other["error"]
            .as_str()
            .unwrap_or_default()
            .contains("HttpRequestDenied"),
        "{other}"
    );
}

#[tokio::test]
async fn private_routes_stay_unreachable_from_outside() {
    let app = fixtures().start().await;
    for path in ["/echo/path", "/private-probe", "/private-probe/echo"] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
}
