//! Delivery right after each write, in order, with the documented bodies.

use super::support::*;
use crm_tests::backends::backend_sets;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn create_update_delete_reach_loops_as_upsert_upsert_delete_with_the_bearer_key() {
    for set in backend_sets().await {
        let loops = FakeLoops::start().await;
        let book = synced_book(&set, &loops, &[]).await;
        let body = json!({
            "email": format!("ada-{}@example.com", tag()),
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company": "Analytical Engines",
            "status": "active",
            "properties": {"plan": "pro", "seats": 5, "long": "x".repeat(600)},
        });
        let created = create_ok(&book.app, book.admin(), &body).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let seen = loops.wait_for(WAIT, |s| !s.is_empty()).await;
        assert_eq!(
            seen.len(),
            1,
            "{}: one upsert after the create: {seen:#?}",
            set.name()
        );
        let upsert = &seen[0];
        assert_eq!(
            (upsert.method.as_str(), upsert.path.as_str()),
            ("PUT", "/api/v1/contacts/update")
        );
        assert_eq!(upsert.authorization, format!("Bearer {API_KEY}"));
        assert_eq!(
            upsert.body,
            json!({
                "userId": id, "email": body["email"], "firstName": "Ada", "lastName": "Lovelace",
                "company": "Analytical Engines", "source": "", "subscribed": true,
                "userGroup": "active", "plan": "pro", "seats": 5, "long": "x".repeat(500),
            }),
            "{}",
            set.name()
        );

        let patch = json!({"last_name": null, "status": "churned"});
        let reply = call(
            &book.app,
            Method::PATCH,
            &client_path(&id),
            book.admin(),
            &[("if-match", "\"1\""), ("content-type", MERGE_PATCH)],
            Body::Raw(MERGE_PATCH, patch.to_string().into_bytes()),
        )
        .await;
        assert_eq!(reply.status, 200, "{reply}");
        let seen = loops.wait_for(WAIT, |s| s.len() >= 2).await;
        assert_eq!(seen.len(), 2, "{}: {seen:#?}", set.name());
        assert_eq!(seen[1].method, "PUT");
        assert_eq!(
            seen[1].body["lastName"], "",
            "a cleared name is cleared at Loops"
        );
        assert_eq!(seen[1].body["userGroup"], "churned");
        assert_eq!(seen[1].body["userId"], id.as_str());

        let reply = call(
            &book.app,
            Method::DELETE,
            &client_path(&id),
            book.admin(),
            &[("if-match", "\"2\"")],
            Body::Empty,
        )
        .await;
        assert!(reply.status == 204 || reply.status == 200, "{reply}");
        let seen = loops.wait_for(WAIT, |s| s.len() >= 3).await;
        assert_eq!(seen.len(), 3, "{}: {seen:#?}", set.name());
        assert_eq!(
            (seen[2].method.as_str(), seen[2].path.as_str()),
            ("POST", "/api/v1/contacts/delete")
        );
        assert_eq!(seen[2].body, json!({"userId": id}));
        assert_eq!(seen[2].authorization, format!("Bearer {API_KEY}"));

        let rows = rows_of(&book, &set, &id).await;
        let statuses: Vec<_> = rows
            .iter()
            .map(|r| r[1].clone().unwrap_or_default())
            .collect();
        assert_eq!(
            statuses,
            ["done", "done", "done"],
            "{}: {rows:?}",
            set.name()
        );
        assert!(
            rows.iter().all(|r| r[5].is_some()),
            "every row has its sent_at: {rows:?}"
        );
        let status = sync_status(&book).await;
        assert_eq!(status["pending"], 0, "{status}");
        assert_eq!(status["sent_last_hour"], 3, "{status}");
        // Nothing more arrives: each change was sent once.
        tokio::time::sleep(Duration::from_millis(300)).await;
        drain(&book.app).await;
        assert_eq!(loops.contacts().len(), 3, "{}", set.name());
    }
}

#[tokio::test]
async fn a_clients_pending_changes_are_coalesced_into_the_newest() {
    for set in backend_sets().await {
        let mut loops = FakeLoops::down().await;
        let book = synced_book(&set, &loops, &[]).await;
        let created = create_ok(&book.app, book.admin(), &new_client("coalesce")).await;
        let id = created["id"].as_str().unwrap().to_owned();
        for (version, company) in [(1, "First"), (2, "Second"), (3, "Third")] {
            let patch = json!({ "company": company });
            let reply = call(
                &book.app,
                Method::PATCH,
                &client_path(&id),
                book.admin(),
                &[("if-match", &etag(version))],
                Body::Raw(MERGE_PATCH, patch.to_string().into_bytes()),
            )
            .await;
            assert_eq!(reply.status, 200, "{reply}");
        }
        // Let the deliveries started after each write finish their (refused) attempts.
        let deadline = std::time::Instant::now() + WAIT;
        while sync_status(&book).await["in_flight"] != 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        loops.come_back().await;
        let status = drain_until_idle(&book, WAIT).await;
        assert_eq!(status["pending"], 0, "{}: {status}", set.name());
        let seen = loops.contacts_for(&id);
        assert_eq!(
            seen.len(),
            1,
            "{}: only the newest change is sent: {seen:#?}",
            set.name()
        );
        assert_eq!(seen[0].body["company"], "Third");
        let rows = rows_of(&book, &set, &id).await;
        assert_eq!(rows.len(), 4, "{rows:?}");
        assert!(
            rows.iter().all(|r| r[1].as_deref() == Some("done")),
            "{rows:?}"
        );
        let newest = rows.last().unwrap();
        assert!(
            newest[5].is_some() && newest[4].is_none(),
            "the newest was sent: {rows:?}"
        );
        for older in &rows[..3] {
            assert!(
                older[4].is_some() && older[5].is_none(),
                "folded, not sent: {rows:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_admin_api_is_for_admins_and_the_drain_also_takes_its_token() {
    for set in backend_sets().await {
        let loops = FakeLoops::start().await;
        let book = synced_book(&set, &loops, &[]).await;
        let editor = book.staff("editor").await;
        for (method, path) in [
            (Method::GET, "/api/loops/status"),
            (Method::GET, "/api/loops/dead-letters"),
            (Method::POST, "/api/loops/backfill"),
            (Method::POST, "/api/loops/drain"),
        ] {
            let anonymous = call(
                &book.app,
                method.clone(),
                path,
                Auth::Anonymous,
                &[],
                Body::Empty,
            )
            .await;
            assert_eq!(anonymous.status, 401, "{anonymous}");
            assert_eq!(anonymous.header("content-type"), "application/problem+json");
            let editor = call(
                &book.app,
                method.clone(),
                path,
                editor.auth(),
                &[],
                Body::Empty,
            )
            .await;
            assert_eq!(editor.status, 403, "{editor}");
        }
        let wrong = call(
            &book.app,
            Method::POST,
            "/api/loops/drain",
            Auth::Bearer("not-the-drain-token"),
            &[],
            Body::Empty,
        )
        .await;
        assert_eq!(wrong.status, 401, "{wrong}");
        let report = drain(&book.app).await;
        assert_eq!(report["sent"], 0, "{report}");
        let unknown = as_admin(
            &book,
            Method::GET,
            "/api/loops/backfill/0190a0a0-0000-7000-8000-000000000000",
        )
        .await;
        assert_eq!(unknown.status, 404, "{unknown}");
        assert_eq!(unknown.header("content-type"), "application/problem+json");
        let wrong_method = as_admin(&book, Method::DELETE, "/api/loops/status").await;
        assert_eq!(wrong_method.status, 405, "{wrong_method}");
        // The private paths are not reachable from outside.
        for path in [
            "/private/deliver",
            "/private/health",
            "/private/loops-backfill",
        ] {
            let reply = as_admin(&book, Method::POST, path).await;
            assert_eq!(reply.status, 404, "{path}: {reply}");
        }
    }
}

#[tokio::test]
async fn with_the_sync_disabled_rows_accumulate_and_drain_once_it_is_back_on() {
    for set in backend_sets().await {
        let loops = FakeLoops::start().await;
        let admin = Account::new("admin");
        let app = synced_app(&set, &admin, &loops, false).start().await;
        let token = sign_in(&app, &admin).await.access_token;
        let mut ids = Vec::new();
        for _ in 0..3 {
            let created = create_ok(&app, Auth::Bearer(&token), &new_client("paused")).await;
            ids.push(created["id"].as_str().unwrap().to_owned());
        }
        let report = drain(&app).await;
        assert_eq!(report["paused"], "disabled", "{report}");
        let status = call(
            &app,
            Method::GET,
            "/api/loops/status",
            Auth::Bearer(&token),
            &[],
            Body::Empty,
        )
        .await;
        assert_eq!(status.body["enabled"], false, "{status}");
        assert_eq!(status.body["pending"], 3, "{}: {status}", set.name());
        let health = app.get_json("/health").await;
        assert_eq!(health["checks"]["loops"]["sync_enabled"], false, "{health}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(loops.contacts().is_empty(), "{:#?}", loops.contacts());

        // Back on, with crm-host's periodic drain (as the CronJob on SpinKube): the rows
        // drain without anyone calling the drain route.
        let state = app.stop().await;
        let app = synced_app(&set, &admin, &loops, true)
            .schedule("1s POST /api/loops/drain bearer-variable=loops_drain_token")
            .reuse_state(state)
            .start()
            .await;
        let seen = loops.wait_for(WAIT, |s| s.len() >= 3).await;
        assert_eq!(seen.len(), 3, "{}: {seen:#?}", set.name());
        for id in &ids {
            assert_eq!(loops.contacts_for(id).len(), 1, "{id}");
        }
        drop(app);
    }
}

#[tokio::test]
async fn a_drain_prunes_sent_rows_past_retention_and_leases_of_dead_drains_but_nothing_else() {
    for set in backend_sets().await {
        let loops = FakeLoops::start().await;
        let book = synced_book(&set, &loops, &[("loops_retention_days", "7")]).await;
        let created = create_ok(&book.app, book.admin(), &new_client("kept")).await;
        let id = created["id"].as_str().unwrap().to_owned();
        loops.wait_for(WAIT, |s| !s.is_empty()).await;
        // A year-old history of this client (two sent rows, older than its newest one), a
        // year-old dead letter and pending row of other clients, and a lease whose drain
        // died.
        let old = "2025-01-01T00:00:00.000Z";
        let mut inserts = String::new();
        let rows = [
            ("done", id.clone()),
            ("done", id.clone()),
            ("failed", format!("other-{}", tag())),
            ("pending", format!("other-{}", tag())),
        ];
        for (n, (status, client)) in rows.iter().enumerate() {
            let sent = if *status == "done" {
                format!("'{old}'")
            } else {
                "NULL".to_owned()
            };
            inserts.push_str(&format!(
                "INSERT INTO loops_outbox (id, client_id, operation, payload, status, attempts, \
                 next_attempt_at, idempotency_key, created_at, updated_at, sent_at) VALUES \
                 ('old-{n}-{tag}', '{client}', 'delete', '{{\"client_id\": \"x\"}}', \
                 '{status}', 1, '{old}', 'old-{n}-{tag}', '{old}', '{old}', {sent});\n",
                tag = tag(),
            ));
        }
        inserts.push_str(&format!(
            "INSERT INTO loops_leases (client_id, holder, expires_at) VALUES \
             ('dead-{}', 'a drain that died', '{old}');",
            tag()
        ));
        db_execute(&set, &book, &inserts).await;
        let report = drain(&book.app).await;
        assert_eq!(report["pruned"], 2, "{}: {report}", set.name());
        assert_eq!(report["stale_leases_removed"], 1, "{report}");
        let left = db_rows(
            &set,
            &book.app,
            "SELECT status FROM loops_outbox WHERE id LIKE 'old-%' ORDER BY status",
        )
        .await;
        let left: Vec<_> = left
            .into_iter()
            .map(|r| r[0].clone().unwrap_or_default())
            .collect();
        // The year-old pending row was due: the drain sent it (a delete, 200 from Loops),
        // and as its client's only sent row it is kept.
        assert_eq!(
            left,
            ["done", "failed"],
            "dead letters, open rows and a client's newest sent row are never pruned"
        );
        let rows = rows_of(&book, &set, &id).await;
        assert_eq!(rows.len(), 1, "this week's sent row is kept: {rows:?}");
        assert_eq!(rows[0][1].as_deref(), Some("done"));
    }
}

#[tokio::test]
async fn an_upsert_for_a_client_deleted_meanwhile_goes_out_as_a_delete_and_an_erased_ones_row_is_scrubbed()
 {
    for set in backend_sets().await {
        let mut loops = FakeLoops::down().await;
        let book = synced_book(&set, &loops, &[]).await;
        let deleted = create_ok(&book.app, book.admin(), &new_client("gone")).await;
        let erased = create_ok(&book.app, book.admin(), &new_client("erased")).await;
        let (deleted, erased) = (
            deleted["id"].as_str().unwrap().to_owned(),
            erased["id"].as_str().unwrap().to_owned(),
        );
        // As a backfill page that read the clients just before their deletion committed
        // would leave it: an upsert row is the newest, and no delete row follows.
        db_execute(
            &set,
            &book,
            &format!(
                "UPDATE clients SET deleted_at = updated_at WHERE id = '{deleted}';\n\
                 UPDATE clients SET deleted_at = updated_at, erased_at = updated_at, \
                 email = NULL, first_name = NULL, last_name = NULL WHERE id = '{erased}';"
            ),
        )
        .await;
        loops.come_back().await;
        let status = drain_until_idle(&book, WAIT).await;
        assert_eq!(status["pending"], 0, "{}: {status}", set.name());
        for id in [&deleted, &erased] {
            let seen = loops.contacts_for(id);
            assert_eq!(seen.len(), 1, "{}: {seen:#?}", set.name());
            assert_eq!(seen[0].path, "/api/v1/contacts/delete", "{seen:#?}");
            assert_eq!(seen[0].body, json!({ "userId": id }));
        }
        let payloads = db_rows(
            &set,
            &book.app,
            &format!("SELECT CAST(payload AS TEXT) FROM loops_outbox WHERE client_id = '{erased}'"),
        )
        .await;
        for payload in payloads {
            let payload: serde_json::Value =
                serde_json::from_str(payload[0].as_deref().unwrap_or("null")).unwrap();
            assert_eq!(payload, json!({ "client_id": erased }), "scrubbed");
        }
    }
}
