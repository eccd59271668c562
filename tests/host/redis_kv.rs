//! Key-value on Redis (`type = "redis"`) beyond the shared KV suite: atomic across two hosts.

use crm_tests::backends::{redis_url, unique_prefix};
use crm_tests::{TestApp, fixtures};
use futures::future::join_all;

fn redis_config(url: &str) -> String {
    format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{url}\"\n")
}

async fn probe_on_redis(url: &str) -> TestApp {
    fixtures().runtime_config(&redis_config(url)).start().await
}

#[tokio::test]
async fn two_hosts_sharing_redis_count_200_concurrent_increments_exactly() {
    let Some(url) = redis_url() else { return };
    let (first, second) = (probe_on_redis(&url).await, probe_on_redis(&url).await);
    let key = format!("{}hits", unique_prefix());
    let path = format!("/probe/wasi-kv/incr?store=default&key={key}&delta=1");
    let requests = (0..200).map(|i| {
        let host = if i % 2 == 0 { &first } else { &second };
        let path = path.clone();
        async move {
            host.post_json(&path, "").await["value"]
                .as_i64()
                .expect("value")
        }
    });
    let mut seen = join_all(requests).await;
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=200).collect::<Vec<i64>>(),
        "every increment saw a distinct value"
    );
    assert_eq!(
        first
            .get_json(&format!("/probe/wasi-kv/get?store=default&key={key}"))
            .await["value"],
        "200"
    );
}

#[tokio::test]
async fn compare_and_swap_across_two_hosts_loses_no_update() {
    let Some(url) = redis_url() else { return };
    let (first, second) = (probe_on_redis(&url).await, probe_on_redis(&url).await);
    let key = format!("{}cas", unique_prefix());
    let path = format!("/probe/wasi-kv/cas-incr?store=default&key={key}");
    join_all((0..60).map(|i| {
        let host = if i % 2 == 0 { &first } else { &second };
        let path = path.clone();
        async move { host.post_json(&path, "").await }
    }))
    .await;
    assert_eq!(
        second
            .get_json(&format!("/probe/wasi-kv/get?store=default&key={key}"))
            .await["value"],
        "60"
    );
}
