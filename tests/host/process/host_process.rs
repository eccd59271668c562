//! A real `crm-host up` process on the fixture app, its output collected line by line.

use crm_tests::{Manifest, ManifestEdit, build_components, test_target_dir, write_manifest};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The value of the fixture's secret variable `api_token` in these processes.
pub const SECRET: &str = "SUPERSECRET-4242";

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

pub struct HostProcess {
    pub child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl HostProcess {
    /// `crm-host up` on the fixture app, waiting until it serves.
    pub fn start() -> HostProcess {
        Self::start_with(&[], None)
    }

    /// The same with extra `up` flags and a manifest edit.
    pub fn start_with(extra: &[&str], edit: Option<ManifestEdit>) -> HostProcess {
        let host = Self::spawn(extra, edit);
        host.wait_for_line(|l| l.starts_with("Serving http://"));
        host
    }

    /// Run a process that must fail at start-up; returns all it printed (bounded: 60 s).
    pub fn failing_start(edit: ManifestEdit) -> String {
        let mut host = Self::spawn(&[], Some(edit));
        for _ in 0..600 {
            if let Ok(Some(status)) = host.child.try_wait() {
                assert!(!status.success(), "start-up must fail");
                std::thread::sleep(Duration::from_millis(100));
                return host.all_output();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("crm-host did not exit: {}", host.all_output());
    }

    fn spawn(extra: &[&str], edit: Option<ManifestEdit>) -> HostProcess {
        let wasm_dir = build_components().clone().expect("guest components build");
        let dir = tempfile::tempdir().unwrap();
        let manifest = write_manifest(Manifest::Fixtures, &wasm_dir, dir.path(), edit).unwrap();
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
            .args([
                "--variable",
                "slow_query_ms=0",
                "--variable",
                "pg_host=127.0.0.1:1",
            ])
            .arg("--state-dir")
            .arg(dir.path().join(".spin"))
            .args(extra)
            .env("CRM_HOST_CACHE_DIR", test_target_dir().join("module-cache"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("crm-host starts");
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        HostProcess {
            child,
            stdout,
            stderr,
            addr,
            _dir: dir,
        }
    }

    /// Bounded wait (20 s) for a stdout line; panics with everything printed so far.
    /// Bounded wait (20 s) for a line on stdout or stderr; panics with everything printed so far.
    pub fn wait_for_line(&self, found: impl Fn(&str) -> bool) -> String {
        for _ in 0..200 {
            let stdout = self.stdout.lock().unwrap().clone();
            let stderr = self.stderr.lock().unwrap().clone();
            if let Some(line) = stdout.iter().chain(&stderr).find(|l| found(l)) {
                return line.clone();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("line not seen; output:\n{}", self.all_output());
    }

    pub fn all_output(&self) -> String {
        let mut all = self.stdout.lock().unwrap().join("\n");
        all.push('\n');
        all.push_str(&self.stderr.lock().unwrap().join("\n"));
        all
    }

    pub fn json_lines(&self) -> Vec<serde_json::Value> {
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
