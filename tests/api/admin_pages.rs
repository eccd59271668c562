//! The admin pages end to end in headless Chromium, driven over W3C WebDriver by Debian's
//! `chromedriver`: an admin signs in on `/admin/flags`, switches `loops_sync_enabled` off
//! and on and sets a rollout percentage, and the API follows each change; `/admin/status`
//! shows the health checks with their durations and the Loops sync status, and refreshes
//! itself. Screenshots of both pages are saved under `target/test-artifacts/`. Without
//! `chromium` and `chromedriver` on PATH the test skips with a notice, except under
//! `CI=true` (.ci/run installs both).
//!
//! Also: the recent server errors the status page lists, recorded by one replica and read
//! through another (PostgreSQL + Redis).

use crate::auth::support::{Account, Auth, Target, auth_app, sign_in};
use crate::clients::support::{Body, call};
use crate::loops::support::{FakeLoops, sync_enabled, synced_app};
use base64::Engine as _;
use crm_tests::backends::{BackendSet, backend_sets, in_ci};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Longest wait for one thing to appear on a page.
const WAIT: Duration = Duration::from_secs(20);
/// Longest any one WebDriver command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// The key of an element reference in W3C WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// A chromedriver process on a free port (killed when dropped).
struct Driver {
    _process: tokio::process::Child,
    base: String,
    http: reqwest::Client,
}

impl Driver {
    async fn start(chromedriver: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let process = tokio::process::Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", chromedriver.display()));
        let driver = Driver {
            _process: process,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(COMMAND_TIMEOUT)
                .build()
                .expect("an HTTP client"),
        };
        let deadline = Instant::now() + WAIT;
        loop {
            let ready = driver
                .http
                .get(format!("{}/status", driver.base))
                .send()
                .await;
            if let Ok(answer) = ready
                && let Ok(status) = answer.json::<Value>().await
                && status["value"]["ready"] == true
            {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start in {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = answer.status();
        let value: Value = answer.json().await.unwrap_or(Value::Null);
        assert!(
            status.is_success(),
            "WebDriver {method} {path}: {status} {value}"
        );
        value["value"].clone()
    }
}

/// A browser session.
struct Browser<'a> {
    driver: &'a Driver,
    session: String,
}

impl<'a> Browser<'a> {
    async fn open(driver: &'a Driver, chromium: &Path, profile: &Path) -> Browser<'a> {
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
            "timeouts": { "pageLoad": 30_000, "script": 10_000 },
        }}});
        let session = driver
            .command(Method::POST, "/session", Some(capabilities))
            .await;
        let id = session["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        Browser {
            driver,
            session: id,
        }
    }

    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.driver.command(method, &path, body).await
    }

    async fn goto(&self, url: &str) {
        self.command(Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// The element `css` selects, once it is there (within [`WAIT`]).
    async fn wait_for(&self, css: &str) -> String {
        let deadline = Instant::now() + WAIT;
        let path = format!("/session/{}/elements", self.session);
        loop {
            let found = self
                .driver
                .command(
                    Method::POST,
                    &path,
                    Some(json!({ "using": "css selector", "value": css })),
                )
                .await;
            if let Some(id) = found[0][ELEMENT].as_str() {
                return id.to_owned();
            }
            if Instant::now() > deadline {
                let page = self.source().await;
                panic!(
                    "`{css}` did not appear in {WAIT:?} (last answer {found}); the page: {page}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn source(&self) -> String {
        let text = self.command(Method::GET, "/source", None).await;
        text.as_str()
            .unwrap_or_default()
            .chars()
            .take(4000)
            .collect()
    }

    async fn type_into(&self, element: &str, text: &str) {
        self.command(
            Method::POST,
            &format!("/element/{element}/clear"),
            Some(json!({})),
        )
        .await;
        self.command(
            Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn click(&self, element: &str) {
        self.command(
            Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn displayed(&self, element: &str) -> bool {
        let shown = self
            .command(Method::GET, &format!("/element/{element}/displayed"), None)
            .await;
        shown == Value::Bool(true)
    }

    async fn text(&self, element: &str) -> String {
        let text = self
            .command(Method::GET, &format!("/element/{element}/text"), None)
            .await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// Saves a PNG of the viewport at `target/test-artifacts/<name>.png`.
    async fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self.command(Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .expect("a base64 screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let dir = crm_tests::repo_root().join("target").join("test-artifacts");
        std::fs::create_dir_all(&dir).expect("the artifacts directory");
        let file = dir.join(format!("{name}.png"));
        std::fs::write(&file, png).expect("the screenshot");
        file
    }

    async fn close(self) {
        let path = format!("/session/{}", self.session);
        self.driver.command(Method::DELETE, &path, None).await;
    }
}

/// The flag as the API shows it to `token`.
async fn flag(app: &impl Target, token: &str, name: &str) -> Value {
    let path = format!("/api/flags/{name}");
    let reply = call(
        app,
        Method::GET,
        &path,
        Auth::Bearer(token),
        &[],
        Body::Empty,
    )
    .await;
    assert_eq!(reply.status, 200, "{reply}");
    reply.body
}

#[tokio::test]
async fn an_admin_signs_in_toggles_loops_sync_sets_a_percentage_and_the_api_follows() {
    let (Some(chromium), Some(chromedriver)) = (
        on_path(&["chromium", "chromium-browser", "google-chrome"]),
        on_path(&["chromedriver"]),
    ) else {
        assert!(
            !in_ci(),
            "chromium and chromedriver must be on PATH under CI=true: .ci/run installs them \
             (apt-get install chromium chromium-driver)"
        );
        eprintln!("notice: no chromium and chromedriver on PATH: skipping the admin pages test");
        return;
    };
    let admin = Account::new("admin");
    let loops = FakeLoops::start().await;
    let app = synced_app(&BackendSet::Sqlite, &admin, &loops, true)
        .start()
        .await;
    let token = sign_in(&app, &admin).await.access_token;
    let driver = Driver::start(&chromedriver).await;
    let profile = tempfile::tempdir().expect("a profile dir");
    let browser = Browser::open(&driver, &chromium, profile.path()).await;

    // Sign in on the flags page.
    browser.goto(&app.url("/admin/flags")).await;
    let email = browser.wait_for("#sign-in input[name=email]").await;
    browser.type_into(&email, &admin.email).await;
    let password = browser.wait_for("#sign-in input[name=password]").await;
    browser.type_into(&password, &admin.password).await;
    let submit = browser.wait_for("#sign-in button[type=submit]").await;
    browser.click(&submit).await;
    let sync_row = r#"tr[data-flag="loops_sync_enabled"]"#;
    browser
        .wait_for(&format!(r#"{sync_row}[data-enabled="true"]"#))
        .await;
    let form = browser.wait_for("#sign-in").await;
    assert!(
        !browser.displayed(&form).await,
        "the sign-in form is gone once signed in"
    );
    let content = browser.wait_for("#content").await;
    assert!(browser.displayed(&content).await, "the flags are shown");

    // Off from the page: the API says off at once.
    let toggle = browser.wait_for(&format!("{sync_row} input.toggle")).await;
    browser.click(&toggle).await;
    browser
        .wait_for(&format!(r#"{sync_row}[data-enabled="false"]"#))
        .await;
    assert_eq!(
        sync_enabled(&app, &token).await,
        false,
        "loops-sync follows the page"
    );
    let stored = flag(&app, &token, "loops_sync_enabled").await;
    assert_eq!(stored["source"], "stored", "{stored}");
    let notice = browser.wait_for("#notice").await;
    assert_eq!(browser.text(&notice).await, "Saved loops_sync_enabled.");

    // A new flag at 40 %, then 25 % from its row.
    let name = browser.wait_for("#new-flag input[name=name]").await;
    browser.type_into(&name, "beta_search").await;
    let percentage = browser.wait_for("#new-flag input[name=percentage]").await;
    browser.type_into(&percentage, "40").await;
    let save = browser.wait_for("#new-flag button[type=submit]").await;
    browser.click(&save).await;
    let beta_row = r#"tr[data-flag="beta_search"]"#;
    browser
        .wait_for(&format!(r#"{beta_row}[data-percentage="40"]"#))
        .await;
    assert_eq!(flag(&app, &token, "beta_search").await["percentage"], 40);
    let row_percentage = browser
        .wait_for(&format!("{beta_row} input.percentage"))
        .await;
    browser.type_into(&row_percentage, "25").await;
    let apply = browser.wait_for(&format!("{beta_row} button.apply")).await;
    browser.click(&apply).await;
    browser
        .wait_for(&format!(r#"{beta_row}[data-percentage="25"]"#))
        .await;
    assert_eq!(flag(&app, &token, "beta_search").await["percentage"], 25);

    // Back on.
    let toggle = browser.wait_for(&format!("{sync_row} input.toggle")).await;
    browser.click(&toggle).await;
    browser
        .wait_for(&format!(r#"{sync_row}[data-enabled="true"]"#))
        .await;
    assert_eq!(sync_enabled(&app, &token).await, true);
    let shot = browser.screenshot("admin-flags").await;
    eprintln!("screenshot: {}", shot.display());

    // The status page, signed in already in this tab: checks with durations, the sync.
    browser.goto(&app.url("/admin/status")).await;
    let database = browser
        .wait_for(r#"#checks tr[data-check="database"]"#)
        .await;
    let form = browser.wait_for("#sign-in").await;
    assert!(
        !browser.displayed(&form).await,
        "still signed in on the status page"
    );
    let shown = browser.text(&database).await;
    assert!(shown.contains("pass") && shown.contains(" ms"), "{shown}");
    let enabled = browser.wait_for(r#"#loops tr[data-fact="enabled"]"#).await;
    assert_eq!(browser.text(&enabled).await, "enabled true");
    let refreshed = browser.wait_for("#refreshed").await;
    let first = browser.text(&refreshed).await;
    // It refreshes itself (every 5 s): the time shown changes without a reload.
    let deadline = Instant::now() + WAIT;
    loop {
        let now = browser.text(&refreshed).await;
        if now != first && now != "–" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the status page did not refresh: {first}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let shot = browser.screenshot("admin-status").await;
    eprintln!("screenshot: {}", shot.display());
    browser.close().await;
}

#[tokio::test]
async fn a_server_error_on_one_replica_is_listed_for_admins_on_another() {
    for set in backend_sets().await {
        if !matches!(set, BackendSet::PostgresRedis { .. }) {
            // One SQLite app cannot fail its own database and still sign an admin in.
            continue;
        }
        let admin = Account::new("admin");
        let namespace = format!("test-{}", uuid::Uuid::new_v4().simple());
        let reader = auth_app(&set, &admin)
            .variable("metrics_namespace", &namespace)
            .start()
            .await;
        // A replica whose database is gone, on the same Redis: readiness fails with 503.
        let broken = auth_app(&set, &admin)
            .variable("metrics_namespace", &namespace)
            .variable("database_url", "postgres://postgres@127.0.0.1:1/none")
            .variable("database_host", "127.0.0.1:1")
            .start()
            .await;
        let ready = call(
            &broken,
            Method::GET,
            "/health/ready",
            Auth::Anonymous,
            &[],
            Body::Empty,
        )
        .await;
        assert_eq!(ready.status, 503, "{ready}");

        let token = sign_in(&reader, &admin).await.access_token;
        let listed = call(
            &reader,
            Method::GET,
            "/api/admin/errors",
            Auth::Bearer(&token),
            &[],
            Body::Empty,
        )
        .await;
        assert_eq!(listed.status, 200, "{listed}");
        let errors = listed.body["data"].as_array().cloned().unwrap_or_default();
        assert_eq!(errors.len(), 1, "{listed}");
        let error = &errors[0];
        assert_eq!(error["status"], 503, "{error}");
        assert_eq!(error["component"], "health", "{error}");
        assert_eq!(error["route"], "/health/...", "{error}");
        assert_eq!(error["request_id"], ready.header("x-request-id"), "{error}");
        assert_eq!(
            error["correlation_id"],
            ready.header("x-correlation-id"),
            "{error}"
        );
        let anonymous = call(
            &reader,
            Method::GET,
            "/api/admin/errors",
            Auth::Anonymous,
            &[],
            Body::Empty,
        )
        .await;
        assert_eq!(anonymous.status, 401, "{anonymous}");
    }
}
