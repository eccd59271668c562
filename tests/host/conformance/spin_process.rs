//! A real `spin up` serving the conformance app, for the live run. Only used when a
//! `spin` binary is on PATH (it is never installed by the project).

use crm_tests::{Manifest, build_components, write_manifest};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct SpinProcess {
    binary: PathBuf,
}

/// A running `spin up`, stopped when dropped.
pub struct RunningSpin {
    pub addr: SocketAddr,
    pub version: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl SpinProcess {
    /// `spin` from PATH, if there is one.
    pub fn find() -> Option<SpinProcess> {
        crm_tests::spin_on_path().map(|binary| SpinProcess { binary })
    }

    fn version(&self) -> String {
        Command::new(&self.binary)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|_| "spin (unknown version)".into())
    }

    /// `spin up` on the conformance app with these variables and runtime config; waits
    /// (bounded: 120 s, the first start compiles every component) until it serves.
    pub async fn start(
        &self,
        variables: &[(String, String)],
        runtime_config: &str,
    ) -> Result<RunningSpin, String> {
        let wasm_dir = build_components().clone()?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let manifest = write_manifest(Manifest::Conformance, &wasm_dir, dir.path(), None)
            .map_err(|e| e.to_string())?;
        let config = dir.path().join("runtime-config.toml");
        std::fs::write(&config, runtime_config).map_err(|e| e.to_string())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut command = Command::new(&self.binary);
        command
            .current_dir(dir.path())
            .arg("up")
            .arg("--from")
            .arg(&manifest)
            .args(["--listen", &addr.to_string()])
            .arg("--runtime-config-file")
            .arg(&config)
            .arg("--state-dir")
            .arg(dir.path().join(".spin"));
        for (name, value) in variables {
            command.args(["--variable", &format!("{name}={value}")]);
        }
        // Its own process group: `spin up` runs `spin trigger http` as a child, and both
        // must go when the run ends.
        let mut child = command
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("spin up: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (lines, serving) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                eprintln!("spin: {line}");
                if line.contains("Serving http://") {
                    let _ = lines.send(());
                }
            }
        });
        let waited =
            tokio::task::spawn_blocking(move || serving.recv_timeout(Duration::from_secs(120)));
        if !matches!(waited.await, Ok(Ok(()))) {
            let _ = child.kill();
            return Err("spin up did not start serving within 120 s".into());
        }
        Ok(RunningSpin {
            addr,
            version: self.version(),
            child,
            _dir: dir,
        })
    }
}

impl Drop for RunningSpin {
    fn drop(&mut self) {
        // The whole group: `spin up` and the trigger process it started.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}
