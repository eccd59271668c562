//! `TestApp`: a crm-host started in-process by the builder, and the requests tests make.

use crm_host::RunningServer;
use std::net::SocketAddr;

/// A running crm-host and what the test needs to reach it.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The admin listener (`/metrics`), when the builder asked for one.
    pub admin_addr: Option<SocketAddr>,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    server: Option<RunningServer>,
    _logs_checked: LogsChecked,
}

/// When an in-process app ends, what this test process's crm-host servers and guests
/// wrote must hold none of the secrets the test used (`crate::secrets`).
struct LogsChecked;

impl Drop for LogsChecked {
    fn drop(&mut self) {
        crate::secrets::assert_none_logged(&crm_host::captured_output(), "crm-host or a guest");
    }
}

impl TestApp {
    pub(crate) fn new(
        server: RunningServer,
        client: reqwest::Client,
        dir: tempfile::TempDir,
    ) -> TestApp {
        TestApp {
            addr: server.local_addr,
            admin_addr: server.admin_addr,
            client,
            dir,
            server: Some(server),
            _logs_checked: LogsChecked,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request failed")
    }

    /// GET `path` and parse the JSON body; asserts a 200.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        let status = response.status();
        let body = response.text().await.expect("body");
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"))
    }

    pub async fn post_json(&self, path: &str, body: &str) -> serde_json::Value {
        let response = self
            .client
            .post(self.url(path))
            .body(body.to_owned())
            .send()
            .await
            .expect("request failed");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert_eq!(status, 200, "POST {path}: {text}");
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("POST {path}: not JSON ({e}): {text}"))
    }

    /// The admin listener's `/metrics` text; panics when the app has no admin listener.
    pub async fn metrics(&self) -> String {
        let admin = self.admin_addr.expect("start the app with .admin()");
        let response = self
            .client
            .get(format!("http://{admin}/metrics"))
            .send()
            .await
            .expect("metrics request");
        assert_eq!(response.status(), 200);
        response.text().await.expect("metrics body")
    }

    /// Gauges of the host's PostgreSQL pools (`RunningServer::postgres_pool_stats`).
    pub fn postgres_pool_stats(&self) -> Vec<crm_host::PgPoolStats> {
        self.server
            .as_ref()
            .map(RunningServer::postgres_pool_stats)
            .unwrap_or_default()
    }

    /// Stop the server, letting in-flight requests finish.
    pub async fn shutdown(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }

    /// Stop the server and keep its temp dir, to serve it again with
    /// [`AppBuilder::reuse_state`](crate::AppBuilder::reuse_state) (a host restart).
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.shutdown().await;
        self.dir
    }
}
