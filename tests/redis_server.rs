//! A redis-server of a test's own, on a free port: it can be stopped and restarted without
//! disturbing other tests, and everything in it was written by that test's app. Without the
//! binary the case is skipped with a notice, except under `CI=true`, where that fails.

use crate::backends::in_ci;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    /// A fresh server (answering PING), or `None` after a notice when `redis-server` is missing.
    pub fn start() -> Option<OwnRedis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut redis = OwnRedis { port, child: None };
        match redis.spawn() {
            Ok(()) => Some(redis),
            Err(e) if in_ci() => panic!("cannot start redis-server ({e}) and CI=true"),
            Err(e) => {
                eprintln!("notice: cannot start redis-server ({e}): skipping this case");
                None
            }
        }
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        self.wait_until_up();
        Ok(())
    }

    /// Bounded wait (5 s) until the server accepts connections.
    fn wait_until_up(&self) {
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server on port {} did not come up", self.port);
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// How many times the server ran `command` (from INFO commandstats).
    pub async fn calls(&self, command: &str) -> u64 {
        let client = redis::Client::open(self.url()).expect("redis URL");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect to the test's redis");
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut conn)
            .await
            .expect("INFO commandstats");
        let prefix = format!("cmdstat_{command}:calls=");
        info.lines()
            .find_map(|line| line.strip_prefix(&prefix)?.split(',').next()?.parse().ok())
            .unwrap_or(0)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start again on the same port (after `stop`).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn().expect("redis-server restarts");
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
