//! Helpers for the migration tests: one fresh database per dialect, schema dumps, SQL.

use crm_host::migrate::{Database, Dialect};
use crm_tests::backends::PgDatabase;
use crm_tests::repo_root;
use std::path::{Path, PathBuf};

/// A fresh, empty database and what keeps it alive.
pub struct TestDb {
    pub database: Database,
    pub dialect: Dialect,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgDatabase>,
}

/// SQLite always; PostgreSQL too when `CRM_TEST_POSTGRES_URL` is set.
pub async fn databases() -> Vec<TestDb> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut dbs = vec![TestDb {
        database: Database::Sqlite(dir.path().join("nested").join("app.db")),
        dialect: Dialect::Sqlite,
        _dir: Some(dir),
        _pg: None,
    }];
    if let Some(pg) = PgDatabase::create().await {
        dbs.push(TestDb {
            database: Database::Postgres(pg.url.clone()),
            dialect: Dialect::Postgres,
            _dir: None,
            _pg: Some(pg),
        });
    }
    dbs
}

impl TestDb {
    pub fn name(&self) -> &'static str {
        self.dialect.dir_name()
    }

    /// The repository's own migrations for this dialect.
    pub fn repo_migrations(&self) -> PathBuf {
        repo_root().join("migrations").join(self.dialect.dir_name())
    }

    /// A temp dir: the repository's 0001 plus 0002 (a table) and 0003 (an index).
    pub fn extended_migrations(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        // The repository's first migration only: these tests are about the tool, and the
        // two below take the next versions whatever the repository ships later.
        for entry in std::fs::read_dir(self.repo_migrations()).expect("migrations dir") {
            let entry = entry.expect("dir entry");
            if entry.file_name().to_string_lossy().starts_with("0001_") {
                std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
            }
        }
        let files = [
            (
                "0002_add_tags.up.sql",
                "CREATE TABLE tags (id TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL);\n",
            ),
            ("0002_add_tags.down.sql", "DROP TABLE tags;\n"),
            (
                "0003_index_tag_names.up.sql",
                "CREATE INDEX tags_name_idx ON tags (name);\n",
            ),
            (
                "0003_index_tag_names.down.sql",
                "DROP INDEX tags_name_idx;\n",
            ),
        ];
        for (name, sql) in files {
            std::fs::write(dir.path().join(name), sql).expect("write migration");
        }
        dir
    }

    /// Run SQL (one or more statements); the error text on failure.
    pub async fn exec(&self, sql: &str) -> Result<(), String> {
        match &self.database {
            Database::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
                conn.pragma_update(None, "foreign_keys", "ON")
                    .map_err(|e| e.to_string())?;
                conn.execute_batch(sql).map_err(|e| e.to_string())
            }
            Database::Postgres(url) => {
                let client = pg_client(url).await;
                client.batch_execute(sql).await.map_err(|e| {
                    e.as_db_error()
                        .map_or_else(|| e.to_string(), |db| db.message().to_owned())
                })
            }
        }
    }

    /// Rows of one text column.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        match &self.database {
            Database::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("open SQLite");
                let mut stmt = conn.prepare(sql).expect("prepare");
                stmt.query_map([], |row| row.get::<_, String>(0))
                    .expect("query")
                    .collect::<Result<_, _>>()
                    .expect("rows")
            }
            Database::Postgres(url) => pg_client(url)
                .await
                .query(sql, &[])
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .iter()
                .map(|row| row.get::<_, String>(0))
                .collect(),
        }
    }

    /// Every table, column, constraint and index, excluding the history table.
    pub async fn schema(&self) -> Vec<String> {
        match self.dialect {
            Dialect::Sqlite => {
                self.strings(
                    "SELECT type || ' ' || name || ' ON ' || tbl_name || ': ' || coalesce(sql, '') \
                     FROM sqlite_master WHERE tbl_name <> '_sqlx_migrations' ORDER BY type, name",
                )
                .await
            }
            Dialect::Postgres => {
                let mut dump = self
                    .strings(
                        "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' \
                         || is_nullable || ' default ' || coalesce(column_default, '-') \
                         || ' collate ' || coalesce(collation_name, '-') \
                         FROM information_schema.columns \
                         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' \
                         ORDER BY table_name, ordinal_position",
                    )
                    .await;
                dump.extend(
                    self.strings(
                        "SELECT conrelid::regclass::text || ' ' || conname || ' ' \
                         || pg_get_constraintdef(oid) FROM pg_constraint \
                         WHERE connamespace = 'public'::regnamespace \
                         AND conrelid::regclass::text <> '_sqlx_migrations' ORDER BY 1",
                    )
                    .await,
                );
                dump.extend(
                    self.strings(
                        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' \
                         AND tablename <> '_sqlx_migrations' ORDER BY indexname",
                    )
                    .await,
                );
                dump
            }
        }
    }

    /// `table: column NOT NULL, …` per table, and the index names: the shape both
    /// dialects must share.
    pub async fn shape(&self) -> Vec<String> {
        let sql = match self.dialect {
            Dialect::Sqlite => {
                "SELECT m.name || ': ' || group_concat(p.name || CASE WHEN p.\"notnull\" THEN ' NOT NULL' ELSE '' END, ', ') \
                 FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name <> '_sqlx_migrations' \
                 GROUP BY m.name ORDER BY m.name"
            }
            Dialect::Postgres => {
                "SELECT table_name || ': ' || string_agg(column_name || CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END, ', ' ORDER BY ordinal_position) \
                 FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' \
                 GROUP BY table_name ORDER BY table_name"
            }
        };
        let mut shape = self.strings(sql).await;
        let indexes = match self.dialect {
            Dialect::Sqlite => {
                "SELECT 'index ' || name FROM sqlite_master WHERE type = 'index' \
                 AND sql IS NOT NULL ORDER BY name"
            }
            Dialect::Postgres => {
                "SELECT 'index ' || i.indexname FROM pg_indexes i WHERE i.schemaname = 'public' \
                 AND i.tablename <> '_sqlx_migrations' AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
                 WHERE c.conname = i.indexname) ORDER BY i.indexname"
            }
        };
        shape.extend(self.strings(indexes).await);
        shape
    }
}

async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    tokio::spawn(connection);
    client
}

/// Append a comment to a migration file: a harmless edit that changes its checksum.
pub fn edit(dir: &Path, file: &str) {
    let path = dir.join(file);
    let mut sql = std::fs::read_to_string(&path).expect("read migration");
    sql.push_str("\n-- edited after it was applied\n");
    std::fs::write(&path, sql).expect("write migration");
}
