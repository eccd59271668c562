//! Rate limiting (docs/rate-limiting.md) black-box over HTTP on every backend set: the
//! address limit with its headers and `Retry-After`, exactness under 200 concurrent
//! requests (also across two crm-host processes sharing Redis), tiers, and a spoofed
//! `X-Forwarded-For` that changes nothing when no proxy is trusted.
//!
//! Each test runs its burst from the start of a fixed window (the windows are aligned to
//! the clock), so the previous window is empty and the limit is exact.

use crate::auth::support::{
    Account, Auth, Reply, Target, auth_app, create_api_key, own_loopback_address, sign_in,
};
use crate::clients::support::{Body, call, count_rows};
use crm_tests::backends::{BackendSet, backend_sets};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Waits until the clock is less than 300 ms into a `window`-second window.
pub(crate) async fn at_window_start(window: u64) {
    let window_ms = window * 1000;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let into = now % window_ms;
    if into > 300 {
        tokio::time::sleep(Duration::from_millis(window_ms - into + 20)).await;
    }
}

/// An unauthenticated request to a limited route: 401 when admitted, 429 when not.
async fn knock(target: &impl Target, headers: &[(&str, &str)]) -> Reply {
    call(
        target,
        Method::GET,
        "/api/clients",
        Auth::Anonymous,
        headers,
        Body::Empty,
    )
    .await
}

fn limited_app(set: &BackendSet, admin: &Account, limit: &str) -> crm_tests::AppBuilder {
    auth_app(set, admin)
        .client_address(own_loopback_address())
        .variable("rate_limit_ip_limit", limit)
        .variable("rate_limit_window_seconds", "10")
}

#[tokio::test]
async fn the_21st_request_in_a_window_of_20_is_refused_with_headers_and_admitted_after_retry_after()
{
    for set in backend_sets().await {
        let app = limited_app(&set, &Account::new("admin"), "20")
            .start()
            .await;
        at_window_start(10).await;
        for n in 1..=20u64 {
            let reply = knock(&app, &[]).await;
            assert_eq!(
                reply.status,
                401,
                "{}: request {n} is admitted: {reply}",
                set.name()
            );
            assert_eq!(reply.header("ratelimit-limit"), "20", "{reply}");
            assert_eq!(
                reply.header("ratelimit-remaining"),
                (20 - n).to_string(),
                "{reply}"
            );
            assert_eq!(reply.header("x-ratelimit-limit"), "20", "{reply}");
            assert_eq!(reply.header("x-ratelimit-remaining"), (20 - n).to_string());
            let reset: u64 = reply.header("ratelimit-reset").parse().unwrap();
            assert!((1..=10).contains(&reset), "{reply}");
        }
        let refused = knock(&app, &[]).await;
        assert_eq!(refused.status, 429, "{}: {refused}", set.name());
        assert_eq!(refused.header("content-type"), "application/problem+json");
        assert_eq!(refused.header("ratelimit-remaining"), "0");
        assert_eq!(refused.header("x-ratelimit-remaining"), "0");
        assert_eq!(refused.header("ratelimit-limit"), "20");
        let retry_after: u64 = refused.header("retry-after").parse().unwrap();
        assert!((1..=11).contains(&retry_after), "{refused}");
        // Refused again at once; admitted once Retry-After has passed.
        assert_eq!(knock(&app, &[]).await.status, 429);
        tokio::time::sleep(Duration::from_secs(retry_after)).await;
        let again = knock(&app, &[]).await;
        assert_eq!(
            again.status,
            401,
            "{}: after Retry-After: {again}",
            set.name()
        );
    }
}

/// `GET /api/clients` with the API key `key`.
async fn list_with_key(target: &impl Target, key: &str) -> Reply {
    call(
        target,
        Method::GET,
        "/api/clients",
        Auth::ApiKey(key),
        &[],
        Body::Empty,
    )
    .await
}

/// Sends `count` requests at once to `target`; how many were admitted, and the statuses.
async fn burst(target: &impl Target, count: usize) -> (usize, Vec<u16>) {
    let replies = futures::future::join_all((0..count).map(|_| knock(target, &[]))).await;
    let statuses: Vec<u16> = replies.iter().map(|reply| reply.status).collect();
    let admitted = statuses.iter().filter(|status| **status == 401).count();
    (admitted, statuses)
}

#[tokio::test]
async fn two_hundred_concurrent_requests_against_a_limit_of_50_admit_exactly_50() {
    for set in backend_sets().await {
        let app = limited_app(&set, &Account::new("admin"), "50")
            .start()
            .await;
        at_window_start(10).await;
        let (admitted, statuses) = burst(&app, 200).await;
        assert_eq!(admitted, 50, "{}: {statuses:?}", set.name());
        assert!(
            statuses.iter().all(|s| *s == 401 || *s == 429),
            "{statuses:?}"
        );
    }
}

#[tokio::test]
async fn two_crm_host_processes_sharing_redis_admit_exactly_the_limit_together() {
    for set in backend_sets().await {
        if !matches!(set, BackendSet::PostgresRedis { .. }) {
            continue;
        }
        let admin = Account::new("admin");
        let address = own_loopback_address();
        let start = || {
            limited_app(&set, &admin, "50")
                .client_address(address)
                .start_process()
        };
        let first = start().await;
        let second = start().await;
        at_window_start(10).await;
        // 200 requests at once, alternating between the two processes.
        let (one, two) = (&first, &second);
        let replies = futures::future::join_all((0..200).map(|n| async move {
            let reply = if n % 2 == 0 {
                knock(one, &[]).await
            } else {
                knock(two, &[]).await
            };
            (n % 2, reply.status)
        }))
        .await;
        let admitted_by = |process| {
            replies
                .iter()
                .filter(|(p, status)| *p == process && *status == 401)
                .count()
        };
        let (a, b) = (admitted_by(0), admitted_by(1));
        assert_eq!(a + b, 50, "first admitted {a}, second {b}");
        // Each process got 100 requests: had they counted apart, each would admit 50.
        first.stop();
        second.stop();
    }
}

#[tokio::test]
async fn each_api_key_gets_its_tiers_limit() {
    for set in backend_sets().await {
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin)
            .client_address(own_loopback_address())
            .variable("rate_limit_window_seconds", "10")
            .variable("rate_limit_tier_free", "3")
            .variable("rate_limit_tier_premium", "6")
            .start()
            .await;
        let token = sign_in(&app, &admin).await.access_token;
        let free = create_api_key(&app, &token, "viewer", "free").await;
        let premium = create_api_key(&app, &token, "viewer", "premium").await;
        at_window_start(10).await;
        let list = async |key: &str| list_with_key(&app, key).await;
        for (key, limit) in [(&free.key, 3), (&premium.key, 6)] {
            for n in 1..=limit {
                let reply = list(key).await;
                assert_eq!(
                    reply.status,
                    200,
                    "{}: request {n} of {limit}: {reply}",
                    set.name()
                );
                assert_eq!(
                    reply.header("ratelimit-limit"),
                    limit.to_string(),
                    "{reply}"
                );
                assert_eq!(reply.header("ratelimit-remaining"), (limit - n).to_string());
            }
            let refused = list(key).await;
            assert_eq!(
                refused.status,
                429,
                "{}: over {limit}: {refused}",
                set.name()
            );
            assert_eq!(refused.header("ratelimit-limit"), limit.to_string());
            assert!(!refused.header("retry-after").is_empty(), "{refused}");
        }
    }
}

#[tokio::test]
async fn a_spoofed_x_forwarded_for_does_not_change_the_subject_when_no_proxy_is_trusted() {
    for set in backend_sets().await {
        let app = limited_app(&set, &Account::new("admin"), "5").start().await;
        at_window_start(10).await;
        for n in 0..5 {
            let spoofed = format!("203.0.113.{n}");
            let reply = knock(&app, &[("x-forwarded-for", spoofed.as_str())]).await;
            assert_eq!(reply.status, 401, "{reply}");
        }
        let reply = knock(&app, &[("x-forwarded-for", "198.51.100.77")]).await;
        assert_eq!(
            reply.status,
            429,
            "{}: a new X-Forwarded-For is the same client: {reply}",
            set.name()
        );
    }
}

#[tokio::test]
async fn health_and_the_components_own_calls_are_not_limited() {
    for set in backend_sets().await {
        let admin = Account::new("admin");
        let app = limited_app(&set, &admin, "3").start().await;
        at_window_start(10).await;
        // Signing in chains nothing; each client request below chains to auth for the
        // JWKS — those internal requests do not use up the caller's address limit (and
        // the requests themselves count against the signed-in user's tier).
        let token = sign_in(&app, &admin).await.access_token;
        for _ in 0..2 {
            let reply = call(
                &app,
                Method::GET,
                "/api/clients",
                Auth::Bearer(&token),
                &[],
                Body::Empty,
            )
            .await;
            assert_eq!(reply.status, 200, "{}: {reply}", set.name());
        }
        for _ in 0..2 {
            assert_eq!(knock(&app, &[]).await.status, 401, "{}", set.name());
        }
        assert_eq!(
            knock(&app, &[]).await.status,
            429,
            "signing in and two anonymous requests used the limit"
        );
        for _ in 0..10 {
            assert_eq!(app.get("/health/live").await.status(), 200);
        }
    }
}

#[tokio::test]
async fn with_the_key_value_store_down_the_limiter_fails_open_or_closed_as_configured() {
    let Some(mut redis) = crm_tests::redis_server::OwnRedis::start() else {
        return;
    };
    let config = format!(
        "[key_value_store.default]\ntype = \"redis\"\nurl = \"{}\"\n",
        redis.url()
    );
    let start = |fail_open: &str| {
        crm_tests::app(crm_tests::Manifest::App)
            .runtime_config(&config)
            .client_address(own_loopback_address())
            .variable("rate_limit_ip_limit", "1")
            .variable("rate_limit_fail_open", fail_open)
            .start()
    };
    let open = start("true").await;
    let closed = start("false").await;
    assert_eq!(knock(&open, &[]).await.status, 401);
    redis.stop();
    // Open: admitted (the limit of 1 is not counted), with a warning in the log.
    for _ in 0..3 {
        let reply = knock(&open, &[]).await;
        assert_eq!(reply.status, 401, "fail open: {reply}");
        assert!(reply.headers.get("ratelimit-limit").is_none(), "{reply}");
    }
    // Closed: refused with 503 problem+json.
    let reply = knock(&closed, &[]).await;
    assert_eq!(reply.status, 503, "fail closed: {reply}");
    assert_eq!(reply.header("content-type"), "application/problem+json");
    redis.restart();
}

#[tokio::test]
async fn a_verified_key_is_limited_by_its_tier_not_its_address_and_unverified_credentials_by_the_address()
 {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = limited_app(&set, &admin, "5")
            .variable("rate_limit_tier_premium", "1000")
            .start()
            .await;
        let token = sign_in(&app, &admin).await.access_token;
        let premium = create_api_key(&app, &token, "viewer", "premium").await;
        at_window_start(10).await;
        let list = async |key: &str| list_with_key(&app, key).await;
        // Twelve calls from one address with a limit of 5: the key's tier (1000) decides.
        for n in 1..=12 {
            let reply = list(&premium.key).await;
            assert_eq!(reply.status, 200, "{name}: call {n}: {reply}");
            assert_eq!(reply.header("ratelimit-limit"), "1000", "{reply}");
        }
        // Keys that verify nothing count against the address: 401 until it is used up.
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(list("crm_notakey_0000").await.status);
        }
        let refused_at = statuses.iter().position(|status| *status == 429);
        assert!(
            matches!(refused_at, Some(4 | 5)),
            "{name}: 401s, then 429 once the address's 5 (less what signing in left in the \
             sliding window) are used: {statuses:?}"
        );
        assert!(statuses[..refused_at.unwrap()].iter().all(|s| *s == 401));
        assert_eq!(
            knock(&app, &[]).await.status,
            429,
            "{name}: the address is used up"
        );
        let reply = list(&premium.key).await;
        assert_eq!(reply.status, 200, "{name}: the key is not: {reply}");
        // A login verifies no credentials: one sent along does not carry it past the
        // address limit into the password check (no session is made).
        let before = count_rows(&set, &app, "refresh_tokens", "1 = 1").await;
        let body = json!({ "email": admin.email, "password": admin.password });
        for auth in [Auth::ApiKey(&premium.key), Auth::Bearer(&token)] {
            let reply = call(
                &app,
                Method::POST,
                "/api/auth/token",
                auth,
                &[],
                Body::Json(&body),
            )
            .await;
            assert_eq!(reply.status, 429, "{name}: {reply}");
        }
        let after = count_rows(&set, &app, "refresh_tokens", "1 = 1").await;
        assert_eq!(after, before, "{name}: no session was made");
    }
}
