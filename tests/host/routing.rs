//! Spin's route matching, as seen by clients and components.

use crm_tests::fixtures;

#[tokio::test]
async fn routes_follow_spin_precedence() {
    let app = fixtures().start().await;
    for (path, want_route, want_info) in [
        ("/match/exact", "/match/exact", ""),
        ("/match/exactly", "/match/...", "/exactly"),
        ("/match", "/match/...", ""),
        ("/match/other/deep", "/match/...", "/other/deep"),
        ("/match/deeper", "/match/deeper/...", ""),
        ("/match/deeper/x/y", "/match/deeper/...", "/x/y"),
        ("/match/deeper/x/", "/match/deeper/...", "/x/"),
        ("/match/deeper/", "/match/deeper/...", "/"),
        ("/users/42/profile", "/users/:id/profile", ""),
        ("/catch/anything", "/catch/...", "/anything"),
    ] {
        let echo = app.get_json(path).await;
        let headers = &echo["headers"];
        assert_eq!(
            headers["spin-matched-route"], want_route,
            "route for {path}"
        );
        assert_eq!(headers["spin-path-info"], want_info, "path info for {path}");
    }
}

#[tokio::test]
async fn unknown_routes_are_spins_empty_404() {
    // Spin's own 404 (crates/trigger-http/src/server.rs `not_found`): no body, no
    // content type. The app's problem+json 404 comes from its `/...` route instead.
    let app = fixtures().start().await;
    for path in ["/nope", "/users/42", "/matc", "/", "/.well-known/spin/nope"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.headers().get("content-type").is_none(), "{path}");
        assert_eq!(response.text().await.unwrap(), "", "{path}");
    }
}

#[tokio::test]
async fn a_parameter_may_match_an_empty_segment_as_on_spin() {
    let app = fixtures().start().await;
    let echo = app.get_json("/users//profile").await;
    assert_eq!(echo["headers"]["spin-matched-route"], "/users/:id/profile");
    assert_eq!(echo["headers"]["spin-path-match-id"], "");
}

#[tokio::test]
async fn private_components_are_not_reachable_from_outside() {
    let app = fixtures().start().await;
    // `private-probe` has no public route: no path can reach it.
    let response = app.get("/private-probe").await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn spin_reserved_routes_answer_as_spin_does() {
    let app = fixtures().start().await;
    let health = app.get("/.well-known/spin/health").await;
    assert_eq!(health.status(), 200);
    assert!(health.headers().get("content-type").is_none());
    assert_eq!(health.text().await.unwrap(), "OK");
    let info = app.get("/.well-known/spin/info").await;
    assert_eq!(info.headers()["content-type"], "application/json");
    assert_eq!(
        info.text().await.unwrap(),
        "{\n  \"name\": \"crm-test-fixtures\",\n  \"version\": \"0.1.0\"\n}"
    );
}
