//! Real backends for the tests: a fresh PostgreSQL database and a Redis key
//! namespace per test, from `CRM_TEST_POSTGRES_URL` / `CRM_TEST_REDIS_URL`.
//! Without them the caller skips with a notice — except under `CI=true`,
//! where a missing backend fails the run.

/// A database created for one test and dropped when this value is dropped.
pub struct PgDatabase {
    /// Connection URL of the fresh database, as the app is given it: with
    /// `sslmode=disable` unless `CRM_TEST_POSTGRES_URL` names an sslmode (see
    /// [`for_the_app`]).
    pub url: String,
    admin_url: String,
    name: String,
}

/// Whether this run is CI (`CI=true`), where a missing backend is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

fn backend_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if in_ci() => panic!("{var} is not set and CI=true: a missing backend is a failure"),
        _ => {
            eprintln!("notice: {var} is not set (and no Docker engine here): skipping this case");
            None
        }
    }
}

/// Replace the database name (the URL path) of a postgres URL.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// `url` as the tests hand it to an app: with `sslmode=disable` appended when it names
/// no sslmode. As on Spin, crm-host offers TLS unless `sslmode=disable` and verifies
/// the server's certificate against the system roots, so the default (`prefer`) fails
/// against a local server with a self-signed certificate (Debian's snakeoil one, say).
/// A URL that chooses its own sslmode is left alone.
pub fn for_the_app(url: &str) -> String {
    if url.contains("sslmode=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode=disable")
}

/// `url` with the query parameter `key` set to `value` (added, or replaced).
pub fn with_param(url: &str, key: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let prefix = format!("{key}=");
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with(&prefix))
        .map(str::to_owned)
        .collect();
    pairs.push(format!("{key}={value}"));
    format!("{base}?{}", pairs.join("&"))
}

/// `url` without the query parameter `key`.
pub fn without_param(url: &str, key: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let prefix = format!("{key}=");
    let pairs: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with(&prefix))
        .collect();
    if pairs.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", pairs.join("&"))
    }
}

impl PgDatabase {
    /// A fresh, empty database, or `None` (after a notice) when PostgreSQL is not configured.
    pub async fn create() -> Option<PgDatabase> {
        let admin_url = for_the_app(&backend_url("CRM_TEST_POSTGRES_URL")?);
        let name = format!("crm_test_{}", uuid::Uuid::new_v4().simple());
        let admin = connect(&admin_url).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        Some(PgDatabase {
            url: with_database(&admin_url, &name),
            admin_url,
            name,
        })
    }

    /// Whether the server offers TLS (`SHOW ssl`); cases about TLS skip, with a notice,
    /// on a server without it (GitHub's `postgres` service container, for one).
    pub async fn has_tls(&self) -> bool {
        let on = match self.client().await.query_one("SHOW ssl", &[]).await {
            Ok(row) => row.get::<_, String>(0) == "on",
            Err(_) => false,
        };
        if !on {
            eprintln!("notice: this PostgreSQL server has ssl=off: skipping a TLS case");
        }
        on
    }

    /// A client connected to this database.
    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url).await
    }

    /// This database reached through the host name `host` instead (same port).
    pub fn reached_as(mut self, host: &str) -> PgDatabase {
        let granted = host_port(&self.url);
        let port = granted.rsplit_once(':').map_or("5432", |(_, port)| port);
        self.url = with_server(&self.url, &format!("{host}:{port}"));
        self
    }
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    tokio::spawn(connection);
    client
}

/// A postgres URL with its `host[:port]` replaced by `server`.
pub fn with_server(url: &str, server: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| i + start);
    let host_start = url[start..end].rfind('@').map_or(start, |i| i + start + 1);
    format!("{}{server}{}", &url[..host_start], &url[end..])
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Best effort, off the async runtime: drop the test's database.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// The Redis URL for tests, or `None` (after a notice) when Redis is not configured.
pub fn redis_url() -> Option<String> {
    backend_url("CRM_TEST_REDIS_URL")
}

/// `url` pointed at Redis database `database` (`redis://host:port/<database>`), any
/// database it named replaced and its query kept.
pub fn redis_database(url: &str, database: u32) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| i + authority_start);
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A key prefix unique to one test, so tests can share one Redis in parallel.
pub fn unique_prefix() -> String {
    format!("t{}:", uuid::Uuid::new_v4().simple())
}

/// One backend set the suite runs on.
pub enum BackendSet {
    /// SQLite database and SQLite-file key-value store (the embedded defaults).
    Sqlite,
    /// PostgreSQL (a fresh database) and Redis key-value.
    PostgresRedis { db: PgDatabase, redis_url: String },
}

impl BackendSet {
    pub fn name(&self) -> &'static str {
        match self {
            BackendSet::Sqlite => "sqlite",
            BackendSet::PostgresRedis { .. } => "postgres+redis",
        }
    }
}

/// SQLite always; PostgreSQL + Redis when configured (required under CI=true).
pub async fn backend_sets() -> Vec<BackendSet> {
    let mut sets = vec![BackendSet::Sqlite];
    if let (Some(db), Some(redis_url)) = (PgDatabase::create().await, redis_url()) {
        sets.push(BackendSet::PostgresRedis { db, redis_url });
    }
    sets
}

/// `host:port` of a postgres URL, as the templated `allowed_outbound_hosts` entry spells it.
pub fn host_port(url: &str) -> String {
    let config: tokio_postgres::Config = url.parse().expect("a valid postgres URL");
    let host = match &config.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(host) => host.clone(),
        other => panic!("tests need a TCP host, not {other:?}"),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

/// A value for a query string: every reserved character percent-encoded.
pub fn url_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_database_points_a_url_at_another_database() {
        for (url, want, why) in [
            (
                "redis://127.0.0.1:6379",
                "redis://127.0.0.1:6379/1",
                "no database named",
            ),
            (
                "redis://127.0.0.1:6379/0",
                "redis://127.0.0.1:6379/1",
                "database replaced",
            ),
            (
                "redis://:pw@h:1/3?x=y",
                "redis://:pw@h:1/1?x=y",
                "credentials and query kept",
            ),
        ] {
            assert_eq!(redis_database(url, 1), want, "{why}");
        }
    }
}
