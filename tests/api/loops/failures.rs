//! Loops failing: retries with backoff, 429 pauses, Loops down and back, dead letters and
//! replay. Nothing is dropped: every row ends sent, dead-lettered or pending.

use super::support::*;
use crm_tests::backends::backend_sets;
use reqwest::Method;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn three_server_errors_then_success_deliver_once_with_the_attempts_recorded() {
    for set in backend_sets().await {
        let loops = FakeLoops::start().await;
        loops.plan((0..3).map(|_| failure(500, "internal error")));
        let book = synced_book(&set, &loops, &[]).await;
        let created = create_ok(&book.app, book.admin(), &new_client("retry")).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let mut rows = Vec::new();
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            drain(&book.app).await;
            rows = rows_of(&book, &set, &id).await;
            if rows[0][1].as_deref() == Some("done") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            rows[0][1].as_deref(),
            Some("done"),
            "{}: {rows:?}",
            set.name()
        );
        assert_eq!(
            rows[0][2].as_deref(),
            Some("4"),
            "three failures and the success: {rows:?}"
        );
        let seen = loops.contacts_for(&id);
        assert_eq!(seen.len(), 4, "{}: {seen:#?}", set.name());
        // Backoff: the attempts are spread out, each wait at least half the doubled base.
        for (n, pair) in seen.windows(2).enumerate() {
            let gap = pair[1].at - pair[0].at;
            let least = Duration::from_millis(50 << n);
            assert!(
                gap >= least,
                "attempt {} came {gap:?} after the previous one",
                n + 2
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        drain(&book.app).await;
        assert_eq!(
            loops.contacts_for(&id).len(),
            4,
            "delivered once: nothing after the 200"
        );
    }
}

#[tokio::test]
async fn a_429_with_retry_after_holds_every_request_back_until_then() {
    for set in backend_sets().await {
        let loops = FakeLoops::start().await;
        loops.plan([failure(429, "Rate limit exceeded")
            .insert_header("retry-after", "2")
            .insert_header("x-ratelimit-limit", "10")
            .insert_header("x-ratelimit-remaining", "0")]);
        let book = synced_book(&set, &loops, &[]).await;
        let first = create_ok(&book.app, book.admin(), &new_client("limited")).await;
        let limited = loops.wait_for(WAIT, |s| !s.is_empty()).await;
        assert_eq!(limited.len(), 1, "{limited:#?}");
        // Another client written during the pause waits too.
        let second = create_ok(&book.app, book.admin(), &new_client("limited")).await;
        let deadline = Instant::now() + WAIT;
        while loops.contacts().len() < 3 && Instant::now() < deadline {
            drain(&book.app).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let seen = loops.contacts();
        assert_eq!(seen.len(), 3, "{}: {seen:#?}", set.name());
        for later in &seen[1..] {
            let gap = later.at - seen[0].at;
            assert!(
                gap >= Duration::from_secs(2),
                "{}: a request {gap:?} after the 429",
                set.name()
            );
        }
        for client in [&first, &second] {
            let id = client["id"].as_str().unwrap();
            assert_eq!(
                loops
                    .contacts_for(id)
                    .iter()
                    .filter(|s| s.at > seen[0].at)
                    .count(),
                1
            );
        }
    }
}

#[tokio::test]
async fn loops_down_for_the_whole_test_loses_nothing_and_sends_nothing_twice_when_back() {
    for set in backend_sets().await {
        let mut loops = FakeLoops::down().await;
        let book = synced_book(&set, &loops, &[]).await;
        let mut ids = Vec::new();
        for _ in 0..5 {
            let reply = create_client(&book.app, book.admin(), &new_client("down")).await;
            assert_eq!(reply.status, 201, "the API keeps answering: {reply}");
            ids.push(reply.body["id"].as_str().unwrap().to_owned());
        }
        // The deliveries started after each write hold their rows in flight while they
        // wait for a limiter slot; once they have all failed, the five rows are pending.
        let deadline = Instant::now() + WAIT;
        let mut status = sync_status(&book).await;
        while status["in_flight"] != 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            status = sync_status(&book).await;
        }
        drain(&book.app).await;
        let status = sync_status(&book).await;
        assert_eq!(status["pending"], 5, "{}: {status}", set.name());
        assert_eq!(status["dead_lettered"], 0, "{status}");
        assert!(status["failed"].as_i64().unwrap() >= 1, "{status}");
        assert!(
            status["last_error"]
                .as_str()
                .unwrap_or_default()
                .starts_with("no answer"),
            "{status}"
        );
        let health = book.app.get("/health").await;
        assert_eq!(health.status(), 200);
        let health: serde_json::Value = health.json().await.unwrap();
        assert_eq!(health["status"], "warn", "{health}");
        assert_eq!(health["checks"]["loops"]["status"], "warn", "{health}");
        assert_eq!(
            health["checks"]["loops"]["state"], "unreachable",
            "{health}"
        );
        assert_eq!(health["checks"]["database"]["status"], "pass", "{health}");
        assert_eq!(book.app.get("/health/ready").await.status(), 200);

        loops.come_back().await;
        let status = drain_until_idle(&book, WAIT).await;
        assert_eq!(status["pending"], 0, "{}: {status}", set.name());
        let seen = loops.contacts();
        assert_eq!(seen.len(), 5, "{}: {seen:#?}", set.name());
        for id in &ids {
            assert_eq!(loops.contacts_for(id).len(), 1, "{id} sent exactly once");
        }
    }
}

#[tokio::test]
async fn a_refused_row_becomes_a_dead_letter_after_the_allowed_attempts_and_replay_delivers_it() {
    for set in backend_sets().await {
        let loops = FakeLoops::start().await;
        loops.always(Some(400));
        let book = synced_book(&set, &loops, &[("loops_max_attempts", "3")]).await;
        let created = create_ok(&book.app, book.admin(), &new_client("refused")).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let deadline = Instant::now() + WAIT;
        let mut status = sync_status(&book).await;
        while status["dead_lettered"] != 1 && Instant::now() < deadline {
            drain(&book.app).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            status = sync_status(&book).await;
        }
        assert_eq!(status["dead_lettered"], 1, "{}: {status}", set.name());
        assert_eq!(status["pending"], 0, "{status}");
        assert_eq!(
            loops.contacts_for(&id).len(),
            3,
            "three attempts, then no more"
        );
        drain(&book.app).await;
        assert_eq!(
            loops.contacts_for(&id).len(),
            3,
            "a dead letter is not retried"
        );

        let letters = as_admin(&book, Method::GET, "/api/loops/dead-letters").await;
        assert_eq!(letters.status, 200, "{letters}");
        let data = letters.body["data"].as_array().unwrap();
        assert_eq!(data.len(), 1, "{letters}");
        assert_eq!(data[0]["client_id"], id.as_str());
        assert_eq!(data[0]["attempts"], 3);
        assert_eq!(data[0]["last_error"], "HTTP 400: scripted failure");
        let letter = data[0]["id"].as_str().unwrap().to_owned();

        loops.always(None);
        let replay_path = format!("/api/loops/dead-letters/{letter}/replay");
        let replayed = as_admin(&book, Method::POST, &replay_path).await;
        assert_eq!(replayed.status, 200, "{replayed}");
        assert_eq!(replayed.body["status"], "done", "{replayed}");
        let seen = loops.contacts_for(&id);
        assert_eq!(seen.len(), 4, "{seen:#?}");
        assert_eq!(seen[3].method, "PUT");
        let again = as_admin(&book, Method::POST, &replay_path).await;
        assert_eq!(again.status, 409, "{again}");
        assert_eq!(again.header("content-type"), "application/problem+json");
        let status = sync_status(&book).await;
        assert_eq!(status["dead_lettered"], 0, "{status}");
    }
}

#[tokio::test]
async fn a_loops_that_never_answers_costs_each_attempt_only_its_timeout() {
    for set in backend_sets().await {
        let loops = FakeLoops::start().await;
        // Answers only after a minute: far past every timeout and budget.
        loops.plan((0..20).map(|_| failure(200, "late").set_delay(Duration::from_secs(60))));
        let book = synced_book(&set, &loops, &[("loops_request_timeout_ms", "300")]).await;
        let created = create_ok(&book.app, book.admin(), &new_client("silent")).await;
        let id = created["id"].as_str().unwrap().to_owned();
        // The attempt right after the write (once the 201 is out) times out first.
        let deadline = Instant::now() + WAIT;
        let mut rows = rows_of(&book, &set, &id).await;
        while rows[0][3].is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            rows = rows_of(&book, &set, &id).await;
        }
        assert_eq!(rows[0][1].as_deref(), Some("pending"), "{rows:?}");
        assert_eq!(rows[0][2].as_deref(), Some("1"), "{rows:?}");
        // Then a drain, once the backoff (at most 100 ms) has passed.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let report = drain(&book.app).await;
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(15),
            "{}: the drain took {took:?}",
            set.name()
        );
        assert_eq!(report["retrying"], 1, "{report}");
        assert_eq!(report["sent"], 0, "{report}");
        let rows = rows_of(&book, &set, &id).await;
        assert_eq!(rows[0][1].as_deref(), Some("pending"), "{rows:?}");
        assert_eq!(rows[0][2].as_deref(), Some("2"), "{rows:?}");
        let error = rows[0][3].clone().unwrap_or_default();
        assert!(error.starts_with("no answer"), "{}: {error}", set.name());
        let status = sync_status(&book).await;
        assert_eq!(status["pending"], 1, "nothing lost: {status}");
    }
}
