//! Backfill under Loops' rate limit, and concurrent drains on two crm-host processes:
//! each row sent exactly once.

use super::support::*;
use crm_tests::backends::{BackendSet, backend_sets};
use reqwest::Method;
use std::time::{Duration, Instant};

/// Imports `count` new clients as `token`; their ids.
async fn import_clients(target: &impl Target, token: &str, count: usize) -> Vec<String> {
    let rows: Vec<_> = (0..count)
        .map(|i| new_client(&format!("bulk{i}")))
        .collect();
    let reply = import(target, Auth::Bearer(token), NDJSON, &ndjson(&rows)).await;
    assert_eq!(reply.status, 200, "{reply}");
    let ids: Vec<String> = reply.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|row| row["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        ids.len(),
        count,
        "{}",
        reply.text.chars().take(500).collect::<String>()
    );
    ids
}

/// The most contact calls Loops saw in any one-second window.
fn busiest_second(seen: &[Seen]) -> usize {
    let mut times: Vec<Instant> = seen.iter().map(|s| s.at).collect();
    times.sort();
    let mut most = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= Duration::from_secs(1) {
            start += 1;
        }
        most = most.max(end - start + 1);
    }
    most
}

#[tokio::test]
async fn a_backfill_of_1000_clients_reports_progress_and_stays_under_10_requests_per_second() {
    // The backend sets run at once: each has its own stand-in, hence its own Loops team
    // and limiter, and most of the time is the limiter's spacing.
    let sets = backend_sets().await;
    futures::future::join_all(sets.iter().map(backfill_1000)).await;
}

async fn backfill_1000(set: &BackendSet) {
    let loops = FakeLoops::start().await;
    let admin = Account::new("admin");
    // The book is written while the sync is off, so only the backfill sends.
    let app = synced_app(set, &admin, &loops, false).start().await;
    let token = sign_in(&app, &admin).await.access_token;
    let ids = import_clients(&app, &token, 1000).await;
    let state = app.stop().await;
    let app = synced_app(set, &admin, &loops, true)
        .reuse_state(state)
        .start()
        .await;
    let token = sign_in(&app, &admin).await.access_token;
    let started = call(
        &app,
        Method::POST,
        "/api/loops/backfill",
        Auth::Bearer(&token),
        &[],
        Body::Empty,
    )
    .await;
    assert_eq!(started.status, 202, "{started}");
    let job = started.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        started.header("location"),
        format!("/api/loops/backfill/{job}")
    );
    assert_eq!(started.body["total"], 1000, "{started}");
    let job_path = format!("/api/loops/backfill/{job}");
    let mut progress = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        drain(&app).await;
        let reply = call(
            &app,
            Method::GET,
            &job_path,
            Auth::Bearer(&token),
            &[],
            Body::Empty,
        )
        .await;
        assert_eq!(reply.status, 200, "{reply}");
        progress.push(reply.body["done"].as_i64().unwrap());
        if reply.body["status"] == "done" || Instant::now() > deadline {
            assert_eq!(reply.body["status"], "done", "{}: {reply}", set.name());
            assert_eq!(reply.body["total"], 1000, "{reply}");
            assert_eq!(reply.body["done"], 1000, "{reply}");
            assert_eq!(reply.body["pending"], 0, "{reply}");
            break;
        }
    }
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert!(
        progress.iter().any(|d| *d > 0 && *d < 1000),
        "progress in between: {progress:?}"
    );
    let seen = loops.contacts();
    assert_eq!(seen.len(), 1000, "{}: one upsert per client", set.name());
    assert!(seen.iter().all(|s| s.method == "PUT"));
    let mut users: Vec<&str> = seen.iter().map(Seen::user_id).collect();
    users.sort();
    users.dedup();
    let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(users, expected, "every client exactly once");
    let busiest = busiest_second(&seen);
    println!(
        "{}: busiest second at Loops: {busiest} requests",
        set.name()
    );
    assert!(
        busiest <= 10,
        "{}: {busiest} requests within one second",
        set.name()
    );
}

#[tokio::test]
async fn two_crm_host_processes_draining_one_postgresql_send_each_row_exactly_once() {
    for set in backend_sets().await {
        let BackendSet::PostgresRedis { db, .. } = &set else {
            continue;
        };
        let loops = FakeLoops::start().await;
        let admin = Account::new("admin");
        let seeder = synced_app(&set, &admin, &loops, false).start().await;
        let token = sign_in(&seeder, &admin).await.access_token;
        let ids = import_clients(&seeder, &token, 500).await;
        seeder.stop().await;
        let first = synced_app(&set, &admin, &loops, true).start_process().await;
        let second = synced_app(&set, &admin, &loops, true).start_process().await;
        let client = db.client().await;
        let open = || async {
            let row = client
                .query_one(
                    "SELECT COUNT(*) FROM loops_outbox WHERE status IN ('pending', 'in_flight')",
                    &[],
                )
                .await
                .unwrap();
            row.get::<_, i64>(0)
        };
        assert_eq!(open().await, 500);
        let deadline = Instant::now() + Duration::from_secs(180);
        while open().await > 0 && Instant::now() < deadline {
            let (a, b) = tokio::join!(drain(&first), drain(&second));
            assert!(a["sent"].is_u64() && b["sent"].is_u64(), "{a} {b}");
        }
        assert_eq!(open().await, 0);
        let seen = loops.contacts();
        let mut users: Vec<&str> = seen.iter().map(Seen::user_id).collect();
        users.sort();
        let before = users.len();
        users.dedup();
        assert_eq!(
            before, 500,
            "no row sent twice ({before} requests for 500 rows)"
        );
        assert_eq!(users.len(), 500);
        let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
        expected.sort();
        assert_eq!(users, expected);
        let busiest = busiest_second(&seen);
        assert!(
            busiest <= 10,
            "two processes together: {busiest} requests within one second"
        );
        // Telemetry: one JSON line per attempt, from both processes, with the documented
        // fields — and never the API key, the drain token or an e-mail address.
        let mut lines = first.stop();
        lines.extend(second.stop());
        let attempts: Vec<serde_json::Value> = lines
            .iter()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|line| line["msg"] == "loops attempt")
            .collect();
        assert_eq!(attempts.len(), 500, "one line per attempt");
        for line in &attempts {
            assert_eq!(line["component"], "loops-sync", "{line}");
            assert_eq!(line["outcome"], "sent", "{line}");
            assert_eq!(line["status"], 200, "{line}");
            assert_eq!(line["operation"], "create", "{line}");
            assert_eq!(line["attempt"], 1, "{line}");
            assert!(
                line["duration_ms"].is_u64() && line["request_id"].is_string(),
                "{line}"
            );
            assert!(ids.contains(&line["client_id"].as_str().unwrap_or_default().to_owned()));
        }
        for line in &lines {
            for secret in [API_KEY, DRAIN_TOKEN, "@example.com"] {
                assert!(!line.contains(secret), "a log line shows {secret}: {line}");
            }
        }
    }
}
