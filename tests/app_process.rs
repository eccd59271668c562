//! An app served by a real `crm-host up` process — or, when a `spin` binary is on PATH,
//! by real `spin up` — whose output is collected line by line.

use crate::AppBuilder;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// A `crm-host up` (or `spin up`) process and what the test needs to reach it.
pub struct AppProcess {
    child: Child,
    /// `spin up` runs the trigger as a child process: the whole group is stopped.
    group: bool,
    pub addr: String,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// The crm-host binary of this test's profile: the one `cargo nextest run --workspace`
/// built, or built here (once per test process) when it is missing.
fn crm_host_binary() -> &'static Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let exe = std::env::current_exe().map_err(|e| format!("test binary path: {e}"))?;
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .ok_or("the test binary is not in target/<profile>/deps")?;
        // `cargo nextest run --workspace` (the README's command) builds it with the tests;
        // building it alone would unify features differently and recompile it.
        let built = profile_dir.join("crm-host");
        if built.is_file() {
            return Ok(built);
        }
        let target_dir = profile_dir
            .parent()
            .ok_or("target/<profile> has no parent")?;
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(cargo)
            .current_dir(crate::repo_root())
            .args([
                "build",
                "-p",
                "crm-host",
                "--bin",
                "crm-host",
                "--target-dir",
            ])
            .arg(target_dir)
            .output()
            .map_err(|e| format!("failed to run cargo: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "crm-host build failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(profile_dir.join("crm-host"))
    })
}

type Lines = Arc<Mutex<Vec<String>>>;

/// Collects every line a stream prints, on a thread of its own (ending at end of stream).
fn collect(stream: impl std::io::Read + Send + 'static) -> (Lines, std::thread::JoinHandle<()>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    });
    (lines, reader)
}

impl AppBuilder {
    /// Serve the app with a `crm-host up` process (manifest, variables, runtime config,
    /// backends and state as for [`AppBuilder::start`]; limits, pools and the admin
    /// listener are the CLI's defaults), waiting until it serves.
    pub async fn start_process(self) -> AppProcess {
        let binary = crm_host_binary().clone().expect("crm-host builds");
        self.spawn(binary, false).await
    }

    /// The same app served by real `spin up` (the same spin.toml, .wasm files, variables,
    /// runtime config and migrated databases), or `None` when no `spin` is on PATH.
    pub async fn start_on_spin(self) -> Option<AppProcess> {
        let spin = crate::spin_on_path()?;
        Some(self.spawn(spin, true).await)
    }

    async fn spawn(self, binary: PathBuf, is_spin: bool) -> AppProcess {
        let prepared = self.prepare().await.expect("the app is prepared");
        let options = prepared.options;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut command = Command::new(binary);
        command
            .current_dir(prepared.dir.path())
            .args(["up", "--from"])
            .arg(&options.manifest_path)
            .args(["--listen", &addr]);
        if let Some(file) = &options.runtime_config_file {
            command.arg("--runtime-config-file").arg(file);
        }
        if let Some(state_dir) = &options.state_dir {
            command.arg("--state-dir").arg(state_dir);
        }
        if let (Some(cache_dir), false) = (&options.cache_dir, is_spin) {
            command.arg("--cache-dir").arg(cache_dir);
        }
        if is_spin {
            command.process_group(0);
        }
        for (name, value) in &options.variables.cli {
            command.arg("--variable").arg(format!("{name}={value}"));
        }
        // Spin has no such flag: there a CronJob (or the test) sends these requests.
        if !is_spin {
            for schedule in &options.schedules {
                command.arg("--schedule").arg(schedule.to_string());
            }
        }
        let mut child = command
            .envs(options.variables.env.iter().cloned())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("crm-host starts");
        let (stdout, out_reader) = collect(child.stdout.take().expect("piped stdout"));
        let (stderr, err_reader) = collect(child.stderr.take().expect("piped stderr"));
        let app = AppProcess {
            child,
            group: is_spin,
            addr,
            client: prepared.client,
            dir: prepared.dir,
            stdout,
            stderr,
            readers: vec![out_reader, err_reader],
        };
        app.wait_until_serving().await;
        app
    }
}

impl AppProcess {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Bounded wait (60 s: the first start compiles the components) for `Serving http://`.
    async fn wait_until_serving(&self) {
        for _ in 0..600 {
            if self
                .lines()
                .iter()
                .any(|l| l.starts_with("Serving http://"))
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "crm-host did not serve; output:\n{}",
            self.lines().join("\n")
        );
    }

    /// Stop the process and return every line it printed, stdout's then stderr's.
    pub fn stop(mut self) -> Vec<String> {
        self.kill();
        for reader in std::mem::take(&mut self.readers) {
            let _ = reader.join();
        }
        self.lines()
    }

    /// Every line printed so far, stdout's then stderr's.
    pub fn lines(&self) -> Vec<String> {
        let read = |lines: &Lines| lines.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut all = read(&self.stdout);
        all.extend(read(&self.stderr));
        all
    }
}

impl AppProcess {
    fn kill(&mut self) {
        if self.group {
            let group = format!("-{}", self.child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        } else {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        self.kill();
        for reader in std::mem::take(&mut self.readers) {
            let _ = reader.join();
        }
        crate::secrets::assert_none_logged(&self.lines().join("\n"), "a crm-host process");
    }
}
