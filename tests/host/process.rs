//! The real `crm-host up` process: JSON log lines on its stdout/stderr, secrets
//! never printed, slow statements logged without parameters, SIGTERM drains.

use crm_tests::{Manifest, build_components, test_target_dir, write_manifest};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "SUPERSECRET-4242";

/// The crm-host binary cargo built next to this test binary.
fn crm_host_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let binary = profile_dir.join("crm-host");
    assert!(
        binary.is_file(),
        "{} is built with the workspace",
        binary.display()
    );
    binary
}

/// Collects every line a stream prints, on a thread of its own.
fn collect(stream: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

struct HostProcess {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    addr: String,
    _dir: tempfile::TempDir,
}

impl HostProcess {
    fn start() -> HostProcess {
        let wasm_dir = build_components().clone().expect("guest components build");
        let dir = tempfile::tempdir().unwrap();
        let manifest = write_manifest(Manifest::Fixtures, &wasm_dir, dir.path(), None).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut child = Command::new(crm_host_binary())
            .current_dir(dir.path())
            .args(["up", "--from"])
            .arg(&manifest)
            .args([
                "--listen",
                &addr,
                "--variable",
                &format!("api_token={SECRET}"),
            ])
            .args(["--variable", "slow_query_ms=0", "--state-dir"])
            .arg(dir.path().join(".spin"))
            .env("CRM_HOST_CACHE_DIR", test_target_dir().join("module-cache"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("crm-host starts");
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        let host = HostProcess {
            child,
            stdout,
            stderr,
            addr,
            _dir: dir,
        };
        host.wait_for_line(|l| l.starts_with("Serving http://"));
        host
    }

    /// Bounded wait (20 s) for a stdout line; panics with everything printed so far.
    fn wait_for_line(&self, found: impl Fn(&str) -> bool) -> String {
        for _ in 0..200 {
            if let Some(line) = self.stdout.lock().unwrap().iter().find(|l| found(l)) {
                return line.clone();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "line not seen; stdout: {:?}\nstderr: {:?}",
            self.stdout.lock().unwrap(),
            self.stderr.lock().unwrap()
        );
    }

    fn all_output(&self) -> String {
        let mut all = self.stdout.lock().unwrap().join("\n");
        all.push('\n');
        all.push_str(&self.stderr.lock().unwrap().join("\n"));
        all
    }

    fn json_lines(&self) -> Vec<serde_json::Value> {
        let stdout = self.stdout.lock().unwrap().clone();
        let stderr = self.stderr.lock().unwrap().clone();
        stdout
            .iter()
            .chain(&stderr)
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn every_request_gets_one_json_access_line_with_its_request_id() {
    let host = HostProcess::start();
    let client = reqwest::Client::new();
    let url = format!("http://{}/probe/hello", host.addr);
    let response = client
        .get(&url)
        .header("x-request-id", "access-7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    host.wait_for_line(|l| {
        l.contains("\"request_id\":\"access-7\"") && l.contains("\"log\":\"access\"")
    });
    let access: Vec<_> = host
        .json_lines()
        .into_iter()
        .filter(|l| l["log"] == "access" && l["request_id"] == "access-7")
        .collect();
    assert_eq!(access.len(), 1, "one access line: {access:?}");
    let line = &access[0];
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/probe/...");
    assert_eq!(line["status"], 200);
    assert_eq!(line["component"], "probe");
    assert!(line["duration_ms"].is_number(), "{line}");
    assert!(line["ts"].is_string(), "{line}");
}

#[tokio::test]
async fn secret_variable_values_are_never_printed() {
    let host = HostProcess::start();
    let client = reqwest::Client::new();
    // The component may read the secret; neither its logs nor the host's may show it.
    let body: serde_json::Value = client
        .get(format!("http://{}/probe/var?name=token", host.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["value"], SECRET, "the component itself can read it");
    let _ = client
        .get(format!("http://{}/probe/trap", host.addr))
        .send()
        .await
        .unwrap();
    host.wait_for_line(|l| l.contains("\"status\":500"));
    assert!(
        !host.all_output().contains(SECRET),
        "secret leaked:\n{}",
        host.all_output()
    );
}

#[tokio::test]
async fn slow_statements_are_logged_without_their_parameters() {
    let host = HostProcess::start();
    let client = reqwest::Client::new();
    let base = format!("http://{}/probe/db", host.addr);
    let create = client
        .post(format!("{base}/exec"))
        .body("CREATE TABLE items (name TEXT PRIMARY KEY, qty BIGINT NOT NULL)");
    assert_eq!(create.send().await.unwrap().status(), 200);
    let insert = client
        .post(format!("{base}/insert-item?name=param-value-9&qty=3"))
        .send()
        .await
        .unwrap();
    assert_eq!(insert.status(), 200);
    // slow_query_ms = 0: every statement counts as slow.
    let mut slow = Vec::new();
    for _ in 0..100 {
        slow = host
            .json_lines()
            .into_iter()
            .filter(|l| l["msg"] == "slow query")
            .collect();
        if slow.iter().any(|l| {
            l["statement"]
                .as_str()
                .unwrap_or_default()
                .starts_with("INSERT INTO items")
        }) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let insert_line = slow
        .iter()
        .find(|l| {
            l["statement"]
                .as_str()
                .unwrap_or_default()
                .starts_with("INSERT INTO items")
        })
        .unwrap_or_else(|| panic!("no slow-query line for the insert: {slow:?}"));
    assert_eq!(insert_line["backend"], "sqlite");
    assert!(insert_line["duration_ms"].is_number());
    assert!(
        !host.all_output().contains("param-value-9"),
        "parameters must not be logged"
    );
}

#[tokio::test]
async fn sigterm_lets_the_in_flight_request_finish_then_exits_cleanly() {
    let mut host = HostProcess::start();
    let url = format!("http://{}/probe/sleep?ms=800", host.addr);
    let slow = tokio::spawn(async move { reqwest::get(url).await.map(|r| r.status().as_u16()) });
    tokio::time::sleep(Duration::from_millis(250)).await;
    let pid = host.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(
        slow.await.unwrap().expect("in-flight request completed"),
        200
    );
    let status = host.child.wait().expect("crm-host exits");
    assert!(status.success(), "exit status {status}");
    assert!(
        host.all_output().contains("Shutting down"),
        "{}",
        host.all_output()
    );
}
