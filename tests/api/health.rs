//! The health component on the application's own spin.toml, on every backend set.

use crm_tests::backends::{BackendSet, backend_sets};
use crm_tests::redis_server::OwnRedis;
use crm_tests::{Manifest, app};

#[tokio::test]
async fn health_reports_every_dependency_check_passing_with_its_backend() {
    for set in backend_sets().await {
        let app = app(Manifest::App).backends(&set).start().await;
        let response = app.get("/health").await;
        assert_eq!(response.status(), 200, "{}", set.name());
        assert_eq!(response.headers()["content-type"], "application/json");
        let body: serde_json::Value = response.json().await.unwrap();
        // Without `loops_api_key` the Loops sync is paused: the report warns (it does not
        // fail), and says why.
        assert_eq!(body["status"], "warn", "{}: {body}", set.name());
        assert_eq!(body["checks"]["loops"]["status"], "warn", "{body}");
        assert_eq!(body["checks"]["loops"]["state"], "not_configured", "{body}");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
        for check in ["database", "key_value", "migrations"] {
            assert_eq!(
                body["checks"][check]["status"],
                "pass",
                "{} {check}: {body}",
                set.name()
            );
            assert!(
                body["checks"][check]["duration_ms"].is_u64(),
                "{check}: {body}"
            );
        }
        let (db, kv) = match set {
            BackendSet::Sqlite => ("sqlite", "spin"),
            BackendSet::PostgresRedis { .. } => ("postgres", "redis"),
        };
        assert_eq!(body["checks"]["database"]["backend"], db, "{body}");
        assert_eq!(body["checks"]["key_value"]["backend"], kv, "{body}");
        assert_eq!(body["checks"]["migrations"]["pending"], 0, "{body}");
    }
}

#[tokio::test]
async fn the_key_value_check_really_goes_through_the_configured_backend() {
    // `checks.key_value.backend` only echoes a variable; prove the store by its traffic.
    let Some(redis) = OwnRedis::start() else {
        return;
    };
    let on_redis = app(Manifest::App)
        .runtime_config(&format!(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"{}\"\n",
            redis.url()
        ))
        .env("SPIN_VARIABLE_KEY_VALUE_BACKEND", "redis")
        .start()
        .await;
    let before = redis.calls("set").await;
    assert_eq!(on_redis.get("/health").await.status(), 200);
    assert!(
        redis.calls("set").await > before,
        "the check wrote to Redis"
    );
    assert!(redis.calls("get").await > 0, "and read it back from Redis");

    let on_sqlite = app(Manifest::App).start().await;
    let writes = redis.calls("set").await;
    assert_eq!(on_sqlite.get("/health").await.status(), 200);
    assert_eq!(
        redis.calls("set").await,
        writes,
        "the SQLite app never touches Redis"
    );
    let kv_file = on_sqlite.dir.path().join(".spin/sqlite_key_value.db");
    let tables: String = rusqlite::Connection::open(&kv_file)
        .and_then(|c| {
            c.query_row(
                "SELECT group_concat(name) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
        })
        .unwrap_or_else(|e| panic!("{}: {e}", kv_file.display()));
    assert!(tables.contains("spin_key_value"), "{tables}");
}

#[tokio::test]
async fn unmatched_paths_get_the_apps_problem_json_404_not_spins_empty_one() {
    let app = app(Manifest::App).start().await;
    for path in ["/nope", "/", "/api/nothing/here", "/healthz"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        assert!(response.headers().contains_key("x-request-id"), "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], 404, "{path}: {body}");
        assert_eq!(
            body["detail"],
            format!("No route matches {path}."),
            "{body}"
        );
    }
}

#[tokio::test]
async fn live_and_ready_answer_200_when_backends_work() {
    for set in backend_sets().await {
        let app = app(Manifest::App).backends(&set).start().await;
        assert_eq!(
            app.get("/health/live").await.status(),
            200,
            "{}",
            set.name()
        );
        let ready = app.get("/health/ready").await;
        assert_eq!(ready.status(), 200, "{}", set.name());
        let body: serde_json::Value = ready.json().await.unwrap();
        assert_eq!(body["status"], "pass", "{}: {body}", set.name());
    }
}

#[tokio::test]
async fn ready_is_503_when_the_database_cannot_be_opened() {
    // The database path runs through a regular file, so it can never be created.
    let blocker = tempfile::NamedTempFile::new().unwrap();
    let config = format!(
        "[sqlite_database.default]\ntype = \"spin\"\npath = \"{}/db.sqlite\"\n",
        blocker.path().display()
    );
    let app = app(Manifest::App)
        .runtime_config(&config)
        .without_migrations()
        .start()
        .await;

    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.headers()["content-type"], "application/json");
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "fail", "{body}");
    assert_eq!(body["checks"]["database"]["status"], "fail", "{body}");
    assert_eq!(body["checks"]["key_value"]["status"], "pass", "{body}");
    assert!(
        !body
            .to_string()
            .contains(&blocker.path().display().to_string()),
        "no paths leak: {body}"
    );

    // Liveness does not depend on the database, and /health still answers.
    assert_eq!(app.get("/health/live").await.status(), 200);
    assert_eq!(app.get("/health").await.status(), 200);
}

#[tokio::test]
async fn ready_is_503_when_postgres_is_unreachable() {
    // Nothing listens on port 1: the connection is refused at once.
    let app = app(Manifest::App)
        .env(
            "SPIN_VARIABLE_DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/none",
        )
        .env("SPIN_VARIABLE_DATABASE_HOST", "127.0.0.1:1")
        .start()
        .await;
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["database"]["status"], "fail", "{body}");
    assert!(
        !body.to_string().contains("127.0.0.1:1"),
        "no addresses leak: {body}"
    );
}

#[tokio::test]
async fn request_id_is_echoed_or_generated() {
    let app = app(Manifest::App).start().await;
    let echoed = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "req-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "req-123");

    let generated = app.get("/health/live").await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(id.len() >= 16, "generated id {id}");
    let other = app.get("/health/live").await.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(id, other, "each request gets its own id");
}

#[tokio::test]
async fn unknown_health_paths_are_404_problem_json() {
    let app = app(Manifest::App).start().await;
    let response = app.get("/health/nope").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], 404);
}

#[tokio::test]
async fn wrong_method_is_405_problem_json() {
    let app = app(Manifest::App).start().await;
    let response = app
        .client
        .delete(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert!(response.headers().contains_key("allow"));
}
