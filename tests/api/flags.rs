//! Feature flags (docs/feature-flags.md) black-box over HTTP on every backend set: an admin
//! turns `loops_sync_enabled` off and on at run time and the sync follows at once, each
//! change audited; only admins reach the API and bad input is a problem; a 30 % rollout
//! over 10,000 subjects is 30 % ± 2 %, the same on every call and on a second crm-host
//! process sharing PostgreSQL and Redis.

use crate::auth::support::{Account, Auth, Reply, Target, auth_app, create_api_key, sign_in};
use crate::clients::support::{Body, call, count_rows, create_ok, new_client};
use crate::loops::support::{FakeLoops, drain, sync_enabled, synced_app};
use crm_tests::backends::{BackendSet, backend_sets};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn flags_call(
    app: &impl Target,
    method: Method,
    path: &str,
    auth: Auth<'_>,
    body: Option<&Value>,
) -> Reply {
    let body = body.map_or(Body::Empty, Body::Json);
    call(app, method, path, auth, &[], body).await
}

#[tokio::test]
async fn an_admin_turns_the_loops_sync_off_and_on_at_run_time_and_the_sync_follows() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let loops = FakeLoops::start().await;
        let app = synced_app(&set, &admin, &loops, true).start().await;
        let token = sign_in(&app, &admin).await.access_token;

        let listed = flags_call(&app, Method::GET, "/api/flags", Auth::Bearer(&token), None).await;
        assert_eq!(listed.status, 200, "{name}: {listed}");
        let flag = listed.body["data"]
            .as_array()
            .and_then(|all| all.iter().find(|f| f["name"] == "loops_sync_enabled"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            flag["enabled"], true,
            "{name}: the variable's default: {listed}"
        );
        assert_eq!(flag["source"], "default", "{name}: {listed}");
        assert_eq!(sync_enabled(&app, &token).await, true);

        // Off: nothing goes to Loops, rows wait.
        let off = flags_call(
            &app,
            Method::PUT,
            "/api/flags/loops_sync_enabled",
            Auth::Bearer(&token),
            Some(&json!({ "enabled": false })),
        )
        .await;
        assert_eq!(off.status, 200, "{name}: {off}");
        assert_eq!(off.body["source"], "stored", "{off}");
        assert_eq!(off.body["enabled"], false, "{off}");
        assert_eq!(
            sync_enabled(&app, &token).await,
            false,
            "{name}: the very next request"
        );
        create_ok(&app, Auth::Bearer(&token), &new_client("flagged")).await;
        let report = drain(&app).await;
        assert_eq!(report["paused"], "disabled", "{name}: {report}");
        assert!(
            loops.contacts().is_empty(),
            "{name}: nothing sent while off"
        );

        // Deleted: the default (on) is back and the waiting row goes out.
        let deleted = flags_call(
            &app,
            Method::DELETE,
            "/api/flags/loops_sync_enabled",
            Auth::Bearer(&token),
            None,
        )
        .await;
        assert_eq!(deleted.status, 204, "{name}: {deleted}");
        assert_eq!(sync_enabled(&app, &token).await, true);
        let deadline = Instant::now() + Duration::from_secs(20);
        while loops.contacts().is_empty() && Instant::now() < deadline {
            drain(&app).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(loops.contacts().len(), 1, "{name}: sent once back on");

        // Each change is one audit entry with the acting admin.
        let audited = count_rows(
            &set,
            &app,
            "audit_log",
            "entity_type = 'flag' AND entity_id = 'loops_sync_enabled' \
             AND action IN ('flag.set', 'flag.delete')",
        )
        .await;
        assert_eq!(audited, 2, "{name}");
        let again = flags_call(
            &app,
            Method::DELETE,
            "/api/flags/loops_sync_enabled",
            Auth::Bearer(&token),
            None,
        )
        .await;
        assert_eq!(again.status, 404, "{name}: nothing left to delete: {again}");
    }
}

#[tokio::test]
async fn only_admins_reach_the_flags_and_bad_input_is_a_problem_that_changes_nothing() {
    let set = BackendSet::Sqlite;
    let admin = Account::new("admin");
    let app = auth_app(&set, &admin).start().await;
    let token = sign_in(&app, &admin).await.access_token;
    let key = create_api_key(&app, &token, "editor", "premium").await.key;
    let path = "/api/flags/new_search";
    let body = json!({ "enabled": true, "percentage": 10 });

    let anonymous = flags_call(&app, Method::PUT, path, Auth::Anonymous, Some(&body)).await;
    assert_eq!(anonymous.status, 401, "{anonymous}");
    let with_key = flags_call(&app, Method::PUT, path, Auth::ApiKey(&key), Some(&body)).await;
    assert_eq!(with_key.status, 403, "API keys are not users: {with_key}");

    for (bad, status) in [
        (json!({ "percentage": 10 }), 422),
        (json!({ "enabled": "yes" }), 422),
        (json!({ "enabled": true, "percentage": 101 }), 422),
        (json!({ "enabled": true, "allow": "everyone" }), 422),
        (json!({ "enabled": true, "rollout": 5 }), 422),
    ] {
        let reply = flags_call(&app, Method::PUT, path, Auth::Bearer(&token), Some(&bad)).await;
        assert_eq!(reply.status, status, "{bad}: {reply}");
        assert_eq!(
            reply.header("content-type"),
            "application/problem+json",
            "{reply}"
        );
    }
    let bad_name = flags_call(
        &app,
        Method::PUT,
        "/api/flags/New-Search",
        Auth::Bearer(&token),
        Some(&body),
    )
    .await;
    assert_eq!(bad_name.status, 404, "{bad_name}");
    let unset = flags_call(&app, Method::GET, path, Auth::Bearer(&token), None).await;
    assert_eq!(unset.status, 404, "nothing was stored: {unset}");
    assert_eq!(
        count_rows(&set, &app, "audit_log", "entity_type = 'flag'").await,
        0
    );

    let set_flag = flags_call(&app, Method::PUT, path, Auth::Bearer(&token), Some(&body)).await;
    assert_eq!(set_flag.status, 200, "{set_flag}");
    let read = flags_call(&app, Method::GET, path, Auth::Bearer(&token), None).await;
    assert_eq!(read.body["percentage"], 10, "{read}");
    assert_eq!(read.body["allow"], json!([]), "{read}");
}

/// `POST /api/flags/{name}/evaluate` for `subjects`: one answer each.
async fn evaluate(app: &impl Target, token: &str, flag: &str, subjects: &[String]) -> Vec<bool> {
    let reply = flags_call(
        app,
        Method::POST,
        &format!("/api/flags/{flag}/evaluate"),
        Auth::Bearer(token),
        Some(&json!({ "subjects": subjects })),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply}");
    reply.body["results"]
        .as_array()
        .map(|all| all.iter().map(|on| on.as_bool() == Some(true)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_30_percent_rollout_is_30_percent_of_10000_subjects_and_the_same_on_every_replica() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let subjects: Vec<String> = (0..10_000).map(|n| format!("user:{n:05}")).collect();
        let flag = format!(
            "rollout_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let results = if matches!(set, BackendSet::PostgresRedis { .. }) {
            let first = auth_app(&set, &admin).start_process().await;
            let second = auth_app(&set, &admin).start_process().await;
            let token = sign_in(&first, &admin).await.access_token;
            put_rollout(&first, &token, &flag).await;
            let results = [
                evaluate(&first, &token, &flag, &subjects).await,
                evaluate(&second, &token, &flag, &subjects).await,
                evaluate(&second, &token, &flag, &subjects).await,
            ];
            first.stop();
            second.stop();
            results
        } else {
            let app = auth_app(&set, &admin).start().await;
            let token = sign_in(&app, &admin).await.access_token;
            put_rollout(&app, &token, &flag).await;
            [
                evaluate(&app, &token, &flag, &subjects).await,
                evaluate(&app, &token, &flag, &subjects).await,
                evaluate(&app, &token, &flag, &subjects).await,
            ]
        };
        let on = results[0].iter().filter(|on| **on).count();
        assert!(
            (2_800..=3_200).contains(&on),
            "{name}: {on} of 10,000 subjects"
        );
        assert_eq!(
            results[0], results[1],
            "{name}: the same on the other replica"
        );
        assert_eq!(results[1], results[2], "{name}: the same on every call");
        assert!(results[0][7_777], "{name}: allow-listed");
    }
}

async fn put_rollout(app: &impl Target, token: &str, flag: &str) {
    let reply = flags_call(
        app,
        Method::PUT,
        &format!("/api/flags/{flag}"),
        Auth::Bearer(token),
        Some(&json!({ "enabled": true, "percentage": 30, "allow": ["user:07777"] })),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply}");
}
