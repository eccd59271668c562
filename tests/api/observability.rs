//! Observability (docs/logging.md, docs/observability.md) black-box over HTTP: a request's
//! lines in its component and in crm-host's access log share the request id and the
//! correlation id; the lines carry the caller's subject and no secret; `GET /metrics`
//! needs its bearer token and its counters (parsed with a Prometheus text parser) move by
//! exactly what a scripted sequence of requests did — on every backend set.

use crate::auth::support::{
    Account, Auth, Reply, Target, auth_app, create_api_key, login, own_loopback_address, refresh,
    sign_in,
};
use crate::clients::support::{Body, call, create_ok, id_of, new_client};
use crate::loops::support::{FakeLoops, synced_app};
use crate::rate_limit::at_window_start;
use crm_tests::backends::backend_sets;
use reqwest::Method;
use serde_json::Value;
use std::time::{Duration, Instant};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const METRICS_TOKEN: &str = "scrape-token-0123456789abcdef";

fn json_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .collect()
}

/// The component's own line and crm-host's access line of request `request_id`.
fn lines_of(lines: &[Value], request_id: &str) -> (Vec<Value>, Vec<Value>) {
    let of_request: Vec<Value> = lines
        .iter()
        .filter(|line| line["request_id"] == request_id)
        .cloned()
        .collect();
    let (host, component): (Vec<Value>, Vec<Value>) = of_request
        .into_iter()
        .partition(|line| line["source"] == "crm-host");
    (component, host)
}

#[tokio::test]
async fn a_clients_request_shares_its_request_and_correlation_ids_with_the_host_access_line() {
    for set in backend_sets().await {
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start_process().await;
        let token = sign_in(&app, &admin).await.access_token;
        let me = call(
            &app,
            Method::GET,
            "/api/users/me",
            Auth::Bearer(&token),
            &[],
            Body::Empty,
        )
        .await;
        let user_id = me.body["id"].as_str().unwrap_or_default().to_owned();

        // A traceparent: its trace id is the correlation id.
        let traced = call(
            &app,
            Method::GET,
            "/api/clients?limit=1",
            Auth::Bearer(&token),
            &[("traceparent", TRACEPARENT)],
            Body::Empty,
        )
        .await;
        // No traceparent, an x-correlation-id: that one.
        let correlated = call(
            &app,
            Method::GET,
            "/api/clients?limit=2",
            Auth::Bearer(&token),
            &[("x-correlation-id", "order-flow-42")],
            Body::Empty,
        )
        .await;
        // Neither: the request id.
        let plain = call(
            &app,
            Method::GET,
            "/api/clients?limit=3",
            Auth::Bearer(&token),
            &[],
            Body::Empty,
        )
        .await;
        let lines = json_lines(&app.stop());

        for (reply, expected) in [
            (&traced, TRACE_ID.to_owned()),
            (&correlated, "order-flow-42".to_owned()),
            (&plain, plain.header("x-request-id").to_owned()),
        ] {
            let context = format!("{}: {}", set.name(), reply.request);
            assert_eq!(reply.status, 200, "{context}: {reply}");
            assert_eq!(reply.header("x-correlation-id"), expected, "{context}");
            let request_id = reply.header("x-request-id");
            let (component, host) = lines_of(&lines, request_id);
            let handled: Vec<&Value> = component
                .iter()
                .filter(|line| line["component"] == "clients" && line["msg"] == "request handled")
                .collect();
            assert_eq!(handled.len(), 1, "{context}: {component:#?}");
            let access: Vec<&Value> = host.iter().filter(|line| line["log"] == "access").collect();
            assert_eq!(access.len(), 1, "{context}: {host:#?}");
            for line in [handled[0], access[0]] {
                assert_eq!(
                    line["correlation_id"],
                    expected.as_str(),
                    "{context}: {line}"
                );
                for field in [
                    "ts",
                    "level",
                    "component",
                    "route",
                    "method",
                    "status",
                    "duration_ms",
                ] {
                    assert!(!line[field].is_null(), "{context}: {field} in {line}");
                }
                assert_eq!(line["component"], "clients", "{context}: {line}");
                assert_eq!(line["route"], "/api/clients/...", "{context}: {line}");
                assert_eq!(line["status"], 200, "{context}: {line}");
            }
            assert_eq!(
                handled[0]["subject"],
                format!("user:{user_id}").as_str(),
                "{context}: the caller's subject, never a credential"
            );
        }
    }
}

#[tokio::test]
async fn no_password_token_api_key_or_full_email_reaches_the_logs() {
    for set in backend_sets().await {
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin)
            .client_address(own_loopback_address())
            .start_process()
            .await;
        let session = sign_in(&app, &admin).await;
        // Wrong password, a refresh, a refresh reused (a replay), a bad bearer.
        let wrong = Account {
            email: admin.email.clone(),
            password: format!("{} but wrong", admin.password),
        };
        crm_tests::secrets::remember(&wrong.password);
        assert_eq!(login(&app, &wrong).await.status, 401);
        let renewed = refresh(&app, &session.refresh_token).await;
        assert_eq!(renewed.status, 200, "{renewed}");
        assert_eq!(refresh(&app, &session.refresh_token).await.status, 401);
        let forged = format!("{}x", session.access_token);
        crm_tests::secrets::remember(&forged);
        let refused = call(
            &app,
            Method::GET,
            "/api/clients",
            Auth::Bearer(&forged),
            &[],
            Body::Empty,
        )
        .await;
        assert_eq!(refused.status, 401, "{refused}");
        // An API key: made, used, revoked, used again; a client written with it.
        let token = renewed.body["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let key = create_api_key(&app, &token, "editor", "standard").await;
        let client = create_ok(&app, Auth::ApiKey(&key.key), &new_client("secretive")).await;
        let revoke = call(
            &app,
            Method::DELETE,
            &format!("/api/api-keys/{}", key.id),
            Auth::Bearer(&token),
            &[],
            Body::Empty,
        )
        .await;
        assert!(revoke.status < 300, "{revoke}");
        let after = call(
            &app,
            Method::GET,
            &format!("/api/clients/{}", id_of(&client)),
            Auth::ApiKey(&key.key),
            &[],
            Body::Empty,
        )
        .await;
        assert_eq!(after.status, 401, "{after}");
        // A validation failure that echoes an e-mail.
        let bad = call(
            &app,
            Method::POST,
            "/api/clients",
            Auth::Bearer(&token),
            &[],
            Body::Json(&serde_json::json!({ "email": admin.email, "first_name": 7 })),
        )
        .await;
        assert!(bad.status >= 400 && bad.status < 500, "{bad}");

        let lines = app.stop();
        assert!(lines.len() > 10, "{}: the app logged", set.name());
        let found = crm_tests::secrets::found_in(&lines.join("\n"));
        assert!(found.is_empty(), "{}: logged {found:?}", set.name());
    }
}

/// A counter's name, its labels and how much it is expected to have moved.
type Moved = (&'static str, &'static [(&'static str, &'static str)], f64);

/// `GET /metrics` with `token`.
async fn scrape(app: &impl Target, token: Option<&str>) -> Reply {
    let auth = token.map_or(Auth::Anonymous, Auth::Bearer);
    call(app, Method::GET, "/metrics", auth, &[], Body::Empty).await
}

/// The scrape parsed by a Prometheus text-format parser.
async fn parsed(app: &impl Target) -> prometheus_parse::Scrape {
    let reply = scrape(app, Some(METRICS_TOKEN)).await;
    assert_eq!(reply.status, 200, "{reply}");
    assert!(
        reply
            .header("content-type")
            .starts_with("text/plain; version=0.0.4"),
        "{reply}"
    );
    let lines = reply.text.lines().map(|line| Ok(line.to_owned()));
    prometheus_parse::Scrape::parse(lines).expect("Prometheus text format")
}

/// The value of counter `name` with `labels` (0 when the series is absent).
fn counter(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == name)
        .filter(|sample| labels.iter().all(|(k, v)| sample.labels.get(k) == Some(*v)))
        .map(|sample| match sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v)
            | prometheus_parse::Value::Gauge(v) => v,
            _ => 0.0,
        })
        .sum()
}

fn requests(scrape: &prometheus_parse::Scrape, component: &str, route: &str, class: &str) -> f64 {
    counter(
        scrape,
        "crm_http_requests_total",
        &[
            ("component", component),
            ("route", route),
            ("status_class", class),
        ],
    )
}

#[tokio::test]
async fn metrics_need_the_scrape_token_and_count_exactly_what_a_scripted_sequence_did() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let loops = FakeLoops::start().await;
        let namespace = format!("test-{}", uuid::Uuid::new_v4().simple());
        let app = synced_app(&set, &admin, &loops, true)
            .client_address(own_loopback_address())
            .variable("metrics_token", METRICS_TOKEN)
            .variable("metrics_namespace", &namespace)
            .variable("rate_limit_tier_free", "1")
            .variable("rate_limit_window_seconds", "10")
            .start()
            .await;
        crm_tests::secrets::remember(METRICS_TOKEN);

        let anonymous = scrape(&app, None).await;
        assert_eq!(anonymous.status, 401, "{name}: {anonymous}");
        assert!(
            !anonymous.header("www-authenticate").is_empty(),
            "{anonymous}"
        );
        let wrong = scrape(&app, Some("scrape-token-0123456789abcdeX")).await;
        assert_eq!(wrong.status, 401, "{name}: {wrong}");

        let token = sign_in(&app, &admin).await.access_token;
        let free = create_api_key(&app, &token, "viewer", "free").await.key;
        let before = parsed(&app).await;

        // The script.
        for _ in 0..3 {
            assert_eq!(
                call(
                    &app,
                    Method::GET,
                    "/health/live",
                    Auth::Anonymous,
                    &[],
                    Body::Empty
                )
                .await
                .status,
                200
            );
        }
        for _ in 0..2 {
            assert_eq!(
                call(
                    &app,
                    Method::GET,
                    "/no/such/page",
                    Auth::Anonymous,
                    &[],
                    Body::Empty
                )
                .await
                .status,
                404
            );
            assert_eq!(
                call(
                    &app,
                    Method::GET,
                    "/api/clients",
                    Auth::Anonymous,
                    &[],
                    Body::Empty
                )
                .await
                .status,
                401
            );
        }
        let client = create_ok(&app, Auth::Bearer(&token), &new_client("counted")).await;
        let path = format!("/api/clients/{}", id_of(&client));
        let miss = call(
            &app,
            Method::GET,
            &path,
            Auth::Bearer(&token),
            &[],
            Body::Empty,
        )
        .await;
        assert_eq!(miss.header("x-cache"), "miss", "{name}: {miss}");
        let hit = call(
            &app,
            Method::GET,
            &path,
            Auth::Bearer(&token),
            &[],
            Body::Empty,
        )
        .await;
        assert_eq!(hit.header("x-cache"), "hit", "{name}: {hit}");
        // The free key (1 request per 10 s window): admitted once, then refused twice.
        at_window_start(10).await;
        let statuses: Vec<u16> = futures::future::join_all((0..3).map(|_| {
            call(
                &app,
                Method::GET,
                "/api/clients?limit=1",
                Auth::ApiKey(&free),
                &[],
                Body::Empty,
            )
        }))
        .await
        .iter()
        .map(|reply| reply.status)
        .collect();
        let mut sorted = statuses.clone();
        sorted.sort();
        assert_eq!(sorted, [200, 429, 429], "{name}");

        // The delivery after the write is sent to Loops meanwhile.
        let deadline = Instant::now() + Duration::from_secs(20);
        let after = loop {
            let now = parsed(&app).await;
            let sent = counter(&now, "crm_loops_deliveries_total", &[("outcome", "sent")]);
            if sent >= 1.0 || Instant::now() > deadline {
                break now;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        // (metric, labels, how much it moved): 401 ×2 and 429 ×2 on clients; 201, the two
        // reads and the free key's one; the client read (miss, hit) and the free key's list
        // (miss); the one delivery.
        let expected: [Moved; 11] = [
            (
                "crm_http_requests_total",
                &[
                    ("component", "health"),
                    ("route", "/health/..."),
                    ("status_class", "2xx"),
                ],
                3.0,
            ),
            (
                "crm_http_requests_total",
                &[
                    ("component", "health"),
                    ("route", "/..."),
                    ("status_class", "4xx"),
                ],
                2.0,
            ),
            (
                "crm_http_requests_total",
                &[
                    ("component", "clients"),
                    ("route", "/api/clients/..."),
                    ("status_class", "4xx"),
                ],
                4.0,
            ),
            (
                "crm_http_requests_total",
                &[
                    ("component", "clients"),
                    ("route", "/api/clients/..."),
                    ("status_class", "2xx"),
                ],
                4.0,
            ),
            (
                "crm_http_requests_total",
                &[
                    ("component", "clients"),
                    ("route", "/api/clients/..."),
                    ("status_class", "5xx"),
                ],
                0.0,
            ),
            (
                "crm_http_server_errors_total",
                &[("component", "clients")],
                0.0,
            ),
            (
                "crm_rate_limit_rejections_total",
                &[("component", "clients"), ("limited", "caller")],
                2.0,
            ),
            (
                "crm_response_cache_lookups_total",
                &[("result", "hit")],
                1.0,
            ),
            (
                "crm_response_cache_lookups_total",
                &[("result", "miss")],
                2.0,
            ),
            ("crm_loops_deliveries_total", &[("outcome", "sent")], 1.0),
            ("crm_loops_deliveries_total", &[("outcome", "failed")], 0.0),
        ];
        for (metric, labels, moved) in expected {
            let delta = counter(&after, metric, labels) - counter(&before, metric, labels);
            assert_eq!(delta, moved, "{name}: {metric} {labels:?}");
        }
        // The histogram parsed as one, and counts what the counter counts.
        let histogram = after
            .samples
            .iter()
            .find(|sample| {
                sample.metric == "crm_http_request_duration_seconds"
                    && sample.labels.get("route") == Some("/health/...")
                    && sample.labels.get("status_class") == Some("2xx")
            })
            .unwrap_or_else(|| panic!("{name}: the latency histogram"));
        match &histogram.value {
            prometheus_parse::Value::Histogram(buckets) => {
                let inf = buckets.last().map(|b| b.count).unwrap_or_default();
                assert_eq!(
                    inf,
                    requests(&after, "health", "/health/...", "2xx"),
                    "{name}"
                );
            }
            other => panic!("{name}: a histogram, not {other:?}"),
        }
    }
}
