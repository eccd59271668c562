//! Which database `crm-host migrate` works on, and connections to it (SQLite or PostgreSQL).

use crate::app::manifest::Manifest;
use crate::app::runtime_config::{RuntimeConfig, StoreBackend};
use anyhow::{Context, bail};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// The SQL dialect, which is also the name of its migrations directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `sqlite` or `postgres`: the directory under `migrations/`.
    pub fn dir_name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

/// A database to migrate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file (Spin's `type = "spin"` database).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl Database {
    /// `postgres://…`, `postgresql://…`, `sqlite:///abs/path.db` or `sqlite://rel/path.db`.
    pub fn from_url(url: &str) -> anyhow::Result<Database> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(url.to_owned()));
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() || path.contains('?') {
                bail!("`{url}`: expected sqlite:///absolute/path.db (no query parameters)");
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        let scheme = url.split_once("://").map_or(url, |(scheme, _)| scheme);
        bail!(
            "unsupported database URL scheme `{scheme}`: use postgres://… or sqlite:///absolute/path.db"
        )
    }

    /// The app's `default` SQLite database, resolved as `crm-host up` resolves it: the
    /// runtime config file over Spin's defaults, with the state dir defaulting to
    /// `.spin/` beside the manifest.
    pub fn app_default(
        manifest_path: &Path,
        runtime_config_file: Option<&Path>,
        state_dir: Option<&Path>,
    ) -> anyhow::Result<Database> {
        match app_default_sqlite_file(manifest_path, runtime_config_file, state_dir)? {
            Some(path) => Ok(Database::Sqlite(path)),
            None => bail!(
                "the app's `default` SQLite database is not a local file; pass --database-url"
            ),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Database::Sqlite(_) => Dialect::Sqlite,
            Database::Postgres(_) => Dialect::Postgres,
        }
    }

    /// For messages: the SQLite path, or the PostgreSQL URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(path) => format!("SQLite {}", path.display()),
            Database::Postgres(url) => format!("PostgreSQL {}", redact_password(url)),
        }
    }

    /// Connect; `None` when a SQLite file does not exist and `create` is false.
    pub(super) async fn connect(&self, create: bool) -> anyhow::Result<Option<Connection>> {
        match self {
            Database::Sqlite(path) => {
                if !create && !path.exists() {
                    return Ok(None);
                }
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("Failed to create directory {}", dir.display()))?;
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(create)
                    .foreign_keys(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(5));
                let conn = options.connect().await.with_context(|| {
                    format!("Failed to open SQLite database {}", path.display())
                })?;
                Ok(Some(Connection::Sqlite(conn)))
            }
            Database::Postgres(url) => {
                let failed = || format!("Failed to connect to {}", self.describe());
                let options = PgConnectOptions::from_str(url).with_context(failed)?;
                let conn = options.connect().await.with_context(failed)?;
                Ok(Some(Connection::Postgres(conn)))
            }
        }
    }
}

/// The `default` SQLite database's file, or `None` when it is not a local file.
pub(super) fn app_default_sqlite_file(
    manifest_path: &Path,
    runtime_config_file: Option<&Path>,
    state_dir: Option<&Path>,
) -> anyhow::Result<Option<PathBuf>> {
    let manifest = Manifest::load(manifest_path)?;
    // As `App::load` does.
    let state_dir = state_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.base_dir.join(".spin"));
    let runtime = RuntimeConfig::load(runtime_config_file, &state_dir)?;
    Ok(match runtime.sqlite_databases.get("default") {
        Some(StoreBackend::SqliteFile(path)) => Some(path.clone()),
        _ => None,
    })
}

/// `scheme://user:***@host/…` for `scheme://user:secret@host/…`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// One row of the history table, `_sqlx_migrations`.
pub(super) struct HistoryRow {
    pub version: i64,
    pub description: String,
    pub applied_at: String,
    pub success: bool,
    pub checksum: Vec<u8>,
}

type RawRow = (i64, String, String, bool, Vec<u8>);

/// An open connection of either dialect.
pub(super) enum Connection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Connection {
    /// The history, oldest first; empty when no migration ever ran here.
    pub async fn history(&mut self) -> anyhow::Result<Vec<HistoryRow>> {
        let rows: Vec<RawRow> = match self {
            Connection::Sqlite(conn) => {
                let (exists,): (bool,) = sqlx::query_as(
                    "SELECT count(*) > 0 FROM sqlite_master \
                     WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_one(&mut *conn)
                .await?;
                if !exists {
                    return Ok(vec![]);
                }
                sqlx::query_as(
                    "SELECT version, description, installed_on || ' UTC', success, checksum \
                     FROM _sqlx_migrations ORDER BY version",
                )
                .fetch_all(&mut *conn)
                .await?
            }
            Connection::Postgres(conn) => {
                let (exists,): (bool,) =
                    sqlx::query_as("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                        .fetch_one(&mut *conn)
                        .await?;
                if !exists {
                    return Ok(vec![]);
                }
                sqlx::query_as(
                    "SELECT version, description, \
                     to_char(installed_on AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC', \
                     success, checksum FROM _sqlx_migrations ORDER BY version",
                )
                .fetch_all(&mut *conn)
                .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(
                |(version, description, applied_at, success, checksum)| HistoryRow {
                    version,
                    description,
                    applied_at,
                    success,
                    checksum,
                },
            )
            .collect())
    }

    /// Apply every pending migration up to `to` (all when `None`).
    pub async fn run(&mut self, migrator: &Migrator, to: Option<i64>) -> anyhow::Result<()> {
        match (self, to) {
            (Connection::Sqlite(conn), None) => migrator.run(conn).await?,
            (Connection::Sqlite(conn), Some(to)) => migrator.run_to(to, conn).await?,
            (Connection::Postgres(conn), None) => migrator.run(conn).await?,
            (Connection::Postgres(conn), Some(to)) => migrator.run_to(to, conn).await?,
        }
        Ok(())
    }

    /// Revert every applied migration above `target`, newest first.
    pub async fn undo(&mut self, migrator: &Migrator, target: i64) -> anyhow::Result<()> {
        match self {
            Connection::Sqlite(conn) => migrator.undo(conn, target).await?,
            Connection::Postgres(conn) => migrator.undo(conn, target).await?,
        }
        Ok(())
    }

    pub async fn close(self) {
        let _ = match self {
            Connection::Sqlite(conn) => conn.close().await,
            Connection::Postgres(conn) => conn.close().await,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_parse_by_scheme() {
        let cases = [
            (
                "sqlite:///var/lib/app.db",
                Database::Sqlite("/var/lib/app.db".into()),
            ),
            (
                "sqlite://data/app.db",
                Database::Sqlite("data/app.db".into()),
            ),
            (
                "postgres://u@h/db",
                Database::Postgres("postgres://u@h/db".into()),
            ),
            (
                "postgresql://u@h/db",
                Database::Postgres("postgresql://u@h/db".into()),
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(Database::from_url(url).unwrap(), expected, "{url}");
        }
    }

    #[test]
    fn unsupported_database_urls_are_rejected_by_scheme() {
        let err = Database::from_url("mysql://u@h/db").unwrap_err();
        assert!(err.to_string().contains("`mysql`"), "{err}");
        assert!(Database::from_url("sqlite://").is_err());
        assert!(Database::from_url("sqlite:///a.db?mode=ro").is_err());
    }

    #[test]
    fn descriptions_never_show_the_password() {
        let db =
            Database::Postgres("postgres://app:s3cret@db.example:5432/crm?sslmode=require".into());
        assert_eq!(
            db.describe(),
            "PostgreSQL postgres://app:***@db.example:5432/crm?sslmode=require"
        );
    }
}
