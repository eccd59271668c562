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
async fn unknown_routes_are_404_problem_json() {
    let app = fixtures().start().await;
    for path in ["/nope", "/users/42", "/users//profile", "/matc", "/"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], 404, "{path}");
        assert!(
            body["type"].as_str().unwrap().ends_with("/not-found"),
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn private_components_are_not_reachable_from_outside() {
    let app = fixtures().start().await;
    // `private-probe` has no public route: no path can reach it.
    let response = app.get("/private-probe").await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn spin_reserved_health_route_answers() {
    let app = fixtures().start().await;
    let response = app.get("/.well-known/spin/health").await;
    assert_eq!(response.status(), 200);
}
