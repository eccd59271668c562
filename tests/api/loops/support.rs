//! The stand-in for Loops and the app wired to it.

pub use super::super::clients::support::*;
use crm_tests::AppBuilder;
use crm_tests::backends::BackendSet;
use reqwest::Method;
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const API_KEY: &str = "loops-test-key-0123456789";
pub const DRAIN_TOKEN: &str = "drain-token-0123456789abcdef";

/// A request Loops received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub authorization: String,
    pub body: Value,
}

impl Seen {
    pub fn user_id(&self) -> &str {
        self.body["userId"].as_str().unwrap_or_default()
    }
}

#[derive(Default)]
struct Script {
    seen: Vec<Seen>,
    /// Answers to give first, in order; then `ok`.
    plan: VecDeque<ResponseTemplate>,
    /// Answer every contact call with this status from now on (None: 200).
    always: Option<u16>,
}

#[derive(Clone, Default)]
struct Scripted(Arc<Mutex<Script>>);

impl Respond for Scripted {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut script = self.0.lock().unwrap();
        let path = request.url.path().to_owned();
        script.seen.push(Seen {
            at: Instant::now(),
            method: request.method.to_string(),
            authorization: request
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            body: serde_json::from_slice(&request.body).unwrap_or(Value::Null),
            path: path.clone(),
        });
        if path == "/api/v1/api-key" {
            return ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"success": true, "teamName": "Test team"}));
        }
        if let Some(next) = script.plan.pop_front() {
            return next;
        }
        if let Some(status) = script.always {
            return failure(status, "scripted failure");
        }
        let ok = if path.ends_with("/delete") {
            serde_json::json!({"success": true, "message": "Contact deleted."})
        } else {
            serde_json::json!({"success": true, "id": "cl_1"})
        };
        ResponseTemplate::new(200)
            .insert_header("x-ratelimit-limit", "10")
            .insert_header("x-ratelimit-remaining", "9")
            .set_body_json(ok)
    }
}

/// Loops' error shape.
pub fn failure(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(serde_json::json!({"success": false, "message": message}))
}

/// The stand-in: a real HTTP server on 127.0.0.1 that can go down and come back on the
/// same port.
pub struct FakeLoops {
    server: Option<MockServer>,
    addr: SocketAddr,
    script: Scripted,
}

impl FakeLoops {
    pub async fn start() -> FakeLoops {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let script = Scripted::default();
        let server = Self::serve(listener, &script).await;
        FakeLoops {
            server: Some(server),
            addr,
            script,
        }
    }

    /// A port where nothing answers yet (connection refused), for `come_back`.
    pub async fn down() -> FakeLoops {
        let mut loops = FakeLoops::start().await;
        loops.go_down();
        loops
    }

    async fn serve(listener: std::net::TcpListener, script: &Scripted) -> MockServer {
        let server = MockServer::builder().listener(listener).start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(script.clone())
            .mount(&server)
            .await;
        server
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn go_down(&mut self) {
        self.server = None;
    }

    pub async fn come_back(&mut self) {
        let listener = std::net::TcpListener::bind(self.addr).unwrap();
        self.server = Some(Self::serve(listener, &self.script).await);
    }

    pub fn plan(&self, answers: impl IntoIterator<Item = ResponseTemplate>) {
        self.script.0.lock().unwrap().plan.extend(answers);
    }

    pub fn always(&self, status: Option<u16>) {
        self.script.0.lock().unwrap().always = status;
    }

    /// Contact calls received (the health probe left out).
    pub fn contacts(&self) -> Vec<Seen> {
        let script = self.script.0.lock().unwrap();
        script
            .seen
            .iter()
            .filter(|s| s.path.starts_with("/api/v1/contacts/"))
            .cloned()
            .collect()
    }

    pub fn contacts_for(&self, client_id: &str) -> Vec<Seen> {
        self.contacts()
            .into_iter()
            .filter(|s| s.user_id() == client_id)
            .collect()
    }

    /// Waits (up to `within`) until `done` holds for the contact calls; returns them.
    pub async fn wait_for(&self, within: Duration, done: impl Fn(&[Seen]) -> bool) -> Vec<Seen> {
        let deadline = Instant::now() + within;
        loop {
            let seen = self.contacts();
            if done(&seen) || Instant::now() > deadline {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The app on `set`, its Loops sync pointed at `loops` with the test key, admin signed in.
pub async fn synced_book(set: &BackendSet, loops: &FakeLoops, extra: &[(&str, &str)]) -> Book {
    let base = loops.base_url();
    let mut variables = vec![
        ("loops_api_key", API_KEY),
        ("loops_base_url", base.as_str()),
        ("loops_drain_token", DRAIN_TOKEN),
        ("loops_retry_base_ms", "100"),
    ];
    variables.extend_from_slice(extra);
    Book::open_with(set, &variables).await
}

/// `POST /api/loops/drain` with the drain token; the report.
pub async fn drain(target: &impl Target) -> Value {
    let reply = call(
        target,
        Method::POST,
        "/api/loops/drain",
        Auth::Bearer(DRAIN_TOKEN),
        &[],
        Body::Empty,
    )
    .await;
    assert_eq!(reply.status, 200, "{reply}");
    reply.body
}

/// `method path` without a body, as the book's admin.
pub async fn as_admin(book: &Book, method: Method, path: &str) -> Reply {
    call(&book.app, method, path, book.admin(), &[], Body::Empty).await
}

/// `GET /api/loops/status` as admin.
pub async fn sync_status(book: &Book) -> Value {
    let reply = as_admin(book, Method::GET, "/api/loops/status").await;
    assert_eq!(reply.status, 200, "{reply}");
    reply.body
}

/// `GET /api/loops/status`'s `enabled` as `token`'s admin sees it (the
/// `loops_sync_enabled` flag, evaluated as a drain does).
pub async fn sync_enabled(target: &impl Target, token: &str) -> Value {
    let reply = call(
        target,
        Method::GET,
        "/api/loops/status",
        Auth::Bearer(token),
        &[],
        Body::Empty,
    )
    .await;
    assert_eq!(reply.status, 200, "{reply}");
    reply.body["enabled"].clone()
}

/// Drains until nothing is pending or in flight (or `within` passes); the last status.
pub async fn drain_until_idle(book: &Book, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        drain(&book.app).await;
        let status = sync_status(book).await;
        if (status["pending"] == 0 && status["in_flight"] == 0) || Instant::now() > deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The outbox rows of `client_id` as `(operation, status, attempts, last_error)`, oldest first.
pub async fn rows_of(book: &Book, set: &BackendSet, client_id: &str) -> Vec<Vec<Option<String>>> {
    let sql = format!(
        "SELECT operation, status, CAST(attempts AS TEXT), last_error, coalesced_into, sent_at \
         FROM loops_outbox WHERE client_id = '{client_id}' ORDER BY created_at, id"
    );
    db_rows(set, &book.app, &sql).await
}

/// An app on `set` with `admin` as bootstrap admin, its sync pointed at `loops`.
pub fn synced_app(
    set: &BackendSet,
    admin: &Account,
    loops: &FakeLoops,
    enabled: bool,
) -> AppBuilder {
    crm_tests::secrets::remember(API_KEY);
    crm_tests::secrets::remember(DRAIN_TOKEN);
    auth_app(set, admin)
        .variable("loops_api_key", API_KEY)
        .variable("loops_base_url", &loops.base_url())
        .variable("loops_drain_token", DRAIN_TOKEN)
        .variable("loops_sync_enabled", if enabled { "true" } else { "false" })
}

/// Runs `sql` (a write) on the app's database.
pub async fn db_execute(set: &BackendSet, book: &Book, sql: &str) {
    match set {
        BackendSet::Sqlite => {
            let file = book.app.dir.path().join(".spin").join("sqlite_db.db");
            let sql = sql.to_owned();
            crate::clients::support::off_the_runtime(move || {
                let connection =
                    rusqlite::Connection::open(&file).expect("the app's SQLite database");
                connection
                    .busy_timeout(Duration::from_secs(10))
                    .expect("busy timeout");
                connection
                    .execute_batch(&sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            })
            .await;
        }
        BackendSet::PostgresRedis { db, .. } => {
            db.client()
                .await
                .batch_execute(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }
}
