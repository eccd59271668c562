//! Readiness follows the key-value backend: a Redis of the test's own is stopped and
//! restarted under a running app.

use crm_tests::redis_server::OwnRedis;
use crm_tests::{Manifest, TestApp, app};
use std::time::Duration;

fn redis_config(url: &str) -> String {
    format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{url}\"\n")
}

async fn ready_status(app: &TestApp) -> u16 {
    app.get("/health/ready").await.status().as_u16()
}

/// Poll `/health/ready` until it answers `want` (bounded: 50 tries, 100 ms apart).
async fn wait_for_ready(app: &TestApp, want: u16) -> u16 {
    let mut last = 0;
    for _ in 0..50 {
        last = ready_status(app).await;
        if last == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

#[tokio::test]
async fn readiness_follows_redis_going_away_and_coming_back() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let url = redis.url();
    let app = app(Manifest::App)
        .runtime_config(&redis_config(&url))
        .start()
        .await;
    assert_eq!(wait_for_ready(&app, 200).await, 200, "ready with redis up");

    redis.stop();
    assert_eq!(
        ready_status(&app).await,
        503,
        "the first request after redis stops sees it"
    );
    let body: serde_json::Value = app.get("/health/ready").await.json().await.unwrap();
    assert_eq!(body["checks"]["key_value"]["status"], "fail", "{body}");

    redis.restart();
    assert_eq!(
        wait_for_ready(&app, 200).await,
        200,
        "ready again without restarting crm-host"
    );
}
