//! Traps, load and shutdown: the host keeps serving and loses nothing in flight.

use crm_tests::fixtures;
use futures::future::join_all;
use std::time::Duration;

#[tokio::test]
async fn a_trap_is_spins_empty_500_and_the_next_request_is_served() {
    let app = fixtures().start().await;
    let response = app
        .client
        .get(app.url("/probe/trap"))
        .header("x-request-id", "trap-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert!(response.headers().get("content-type").is_none());
    assert_eq!(
        response.text().await.unwrap(),
        "",
        "no internals in the body"
    );

    let next = app.get("/probe/after").await;
    assert_eq!(next.status(), 200);
}

#[tokio::test]
async fn two_hundred_parallel_requests_are_all_answered() {
    let app = fixtures().start().await;
    let statuses = join_all((0..200).map(|i| {
        let app = &app;
        async move { app.get(&format!("/probe/n/{i}")).await.status().as_u16() }
    }))
    .await;
    assert_eq!(statuses.len(), 200);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let mut app = fixtures().start().await;
    let slow = tokio::spawn({
        let client = app.client.clone();
        let url = app.url("/probe/sleep?ms=700");
        async move { client.get(url).send().await.map(|r| r.status().as_u16()) }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.shutdown().await;
    assert_eq!(
        slow.await.unwrap().expect("in-flight request completed"),
        200
    );
    // After shutdown nothing accepts connections.
    assert!(app.client.get(app.url("/probe/x")).send().await.is_err());
}

#[tokio::test]
async fn guest_status_codes_pass_through() {
    let app = fixtures().start().await;
    for code in [201u16, 404, 418, 503] {
        assert_eq!(
            app.get(&format!("/probe/status?code={code}"))
                .await
                .status()
                .as_u16(),
            code
        );
    }
}
