//! Helpers for the migration tests: one fresh database per dialect, schema dumps, SQL.

use crm_host::migrate::{Database, Dialect, Migrations};
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

    /// Apply the repository's migrations up to and including `to` (all when `None`).
    pub async fn up(&self, to: Option<i64>) {
        let migrations = Migrations::load(&self.repo_migrations()).await.unwrap();
        migrations
            .up(&self.database, to)
            .await
            .unwrap_or_else(|e| panic!("{}: up to {to:?}: {e:#}", self.name()));
    }

    /// Revert the repository's migrations above `to`.
    pub async fn down(&self, to: i64) {
        let migrations = Migrations::load(&self.repo_migrations()).await.unwrap();
        migrations
            .down(&self.database, Some(to))
            .await
            .unwrap_or_else(|e| panic!("{}: down to {to}: {e:#}", self.name()));
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

    /// Rows of one text column, with text parameters (`$1` … on PostgreSQL; the same
    /// statement with `?1` … on SQLite, as the components write them).
    pub async fn strings_with(&self, sql: &str, params: &[&str]) -> Vec<String> {
        match &self.database {
            Database::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("open SQLite");
                let sql = sqlite_placeholders(sql);
                let mut stmt = conn.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                stmt.query_map(rusqlite::params_from_iter(params.iter()), |row| {
                    row.get::<_, String>(0)
                })
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            Database::Postgres(url) => {
                let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                pg_client(url)
                    .await
                    .query(sql, &params)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .iter()
                    .map(|row| row.get::<_, String>(0))
                    .collect()
            }
        }
    }

    /// The plan the database chooses for `sql` with `params` bound, one line per node:
    /// `EXPLAIN QUERY PLAN` (indented by depth) on SQLite, `EXPLAIN (FORMAT TEXT)` on
    /// PostgreSQL (a custom plan for the bound values, as the first executions get).
    pub async fn plan(&self, sql: &str, params: &[&str]) -> Vec<String> {
        match &self.database {
            Database::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("open SQLite");
                let sql = format!("EXPLAIN QUERY PLAN {}", sqlite_placeholders(sql));
                let mut stmt = conn.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let nodes: Vec<(i64, i64, String)> = stmt
                    .query_map(rusqlite::params_from_iter(params.iter()), |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get(3)?))
                    })
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .collect::<Result<_, _>>()
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                let mut depth = std::collections::HashMap::from([(0_i64, 0_usize)]);
                nodes
                    .into_iter()
                    .map(|(id, parent, detail)| {
                        let level = depth.get(&parent).copied().unwrap_or(0) + 1;
                        depth.insert(id, level);
                        format!("{}{detail}", "  ".repeat(level - 1))
                    })
                    .collect()
            }
            Database::Postgres(_) => {
                self.strings_with(&format!("EXPLAIN (FORMAT TEXT) {sql}"), params)
                    .await
            }
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

    /// The shape both dialects must share, one line per item:
    /// `table: column TYPE [NOT NULL] [DEFAULT], …` (types as SQLite stores them: jsonb is
    /// TEXT, bigint and boolean are INTEGER), `pk table (columns)`, `unique table
    /// (columns)`, `fk table (columns) -> table (columns) on delete ACTION`, and for every
    /// other index `index name on table [unique] (keys) [where predicate]`, its key
    /// expressions and partial-index predicate normalized ([`normalize_sql`]) so that
    /// `COALESCE(last_name, ''::text)` and `coalesce(last_name, '')` compare equal.
    pub async fn shape(&self) -> Vec<String> {
        let mut shape = Vec::new();
        match self.dialect {
            Dialect::Sqlite => {
                shape.extend(
                    self.strings(
                        "SELECT m.name || ': ' || group_concat(p.name || ' ' || upper(p.type) \
                         || CASE WHEN p.\"notnull\" THEN ' NOT NULL' ELSE '' END \
                         || CASE WHEN p.dflt_value IS NOT NULL THEN ' DEFAULT' ELSE '' END, ', ') \
                         FROM sqlite_master m, pragma_table_info(m.name) p \
                         WHERE m.type = 'table' AND m.name NOT IN ('_sqlx_migrations', 'sqlite_stat1', 'sqlite_stat4') \
                         GROUP BY m.name ORDER BY m.name",
                    )
                    .await,
                );
                shape.extend(
                    self.strings(
                        "SELECT 'pk ' || name || ' (' || (SELECT group_concat(name, ', ') FROM \
                         (SELECT p.name FROM pragma_table_info(m.name) p WHERE p.pk > 0 ORDER BY p.pk)) || ')' \
                         FROM sqlite_master m WHERE m.type = 'table' AND m.name <> '_sqlx_migrations' \
                         AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) p WHERE p.pk > 0) \
                         ORDER BY 1",
                    )
                    .await,
                );
                shape.extend(
                    self.strings(
                        "SELECT 'unique ' || m.name || ' (' || (SELECT group_concat(name, ', ') FROM \
                         (SELECT ii.name FROM pragma_index_info(il.name) ii ORDER BY ii.seqno)) || ')' \
                         FROM sqlite_master m, pragma_index_list(m.name) il \
                         WHERE m.type = 'table' AND m.name <> '_sqlx_migrations' AND il.origin = 'u' \
                         ORDER BY 1",
                    )
                    .await,
                );
                shape.extend(
                    self.strings(
                        "SELECT 'fk ' || m.name || ' (' || group_concat(f.\"from\", ', ') || ') -> ' \
                         || f.\"table\" || ' (' || group_concat(f.\"to\", ', ') || ') on delete ' \
                         || f.on_delete FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
                         WHERE m.type = 'table' AND m.name <> '_sqlx_migrations' \
                         GROUP BY m.name, f.id ORDER BY 1",
                    )
                    .await,
                );
                let indexes = self
                    .strings(
                        "SELECT name || char(31) || tbl_name || char(31) || sql FROM sqlite_master \
                         WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
                    )
                    .await;
                shape.extend(indexes.iter().map(|row| {
                    let [name, table, sql] = row.split('\u{1f}').collect::<Vec<_>>()[..] else {
                        panic!("{row}");
                    };
                    let (unique, keys, predicate) = parse_sqlite_index(sql);
                    index_line(name, table, unique, &keys, predicate.as_deref())
                }));
            }
            Dialect::Postgres => {
                shape.extend(
                    self.strings(
                        "SELECT table_name || ': ' || string_agg(column_name || ' ' \
                         || CASE data_type WHEN 'jsonb' THEN 'TEXT' WHEN 'text' THEN 'TEXT' \
                            WHEN 'bigint' THEN 'INTEGER' WHEN 'boolean' THEN 'INTEGER' \
                            ELSE upper(data_type) END \
                         || CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END \
                         || CASE WHEN column_default IS NOT NULL THEN ' DEFAULT' ELSE '' END, \
                         ', ' ORDER BY ordinal_position) \
                         FROM information_schema.columns \
                         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' \
                         GROUP BY table_name ORDER BY table_name",
                    )
                    .await,
                );
                // Constraint columns, in key order, of constraint c (conkey) or its target (confkey).
                let columns = |keys: &str, rel: &str| {
                    format!(
                        "(SELECT string_agg(a.attname, ', ' ORDER BY k.n) \
                         FROM unnest(c.{keys}) WITH ORDINALITY AS k(attnum, n) \
                         JOIN pg_attribute a ON a.attrelid = c.{rel} AND a.attnum = k.attnum)"
                    )
                };
                shape.extend(
                    self.strings(&format!(
                        "SELECT CASE c.contype WHEN 'p' THEN 'pk ' ELSE 'unique ' END \
                         || c.conrelid::regclass::text || ' (' || {} || ')' \
                         FROM pg_constraint c WHERE c.connamespace = 'public'::regnamespace \
                         AND c.contype IN ('p', 'u') AND c.conrelid::regclass::text <> '_sqlx_migrations' \
                         ORDER BY c.contype, 1",
                        columns("conkey", "conrelid")
                    ))
                    .await,
                );
                shape.extend(
                    self.strings(&format!(
                        "SELECT 'fk ' || c.conrelid::regclass::text || ' (' || {} || ') -> ' \
                         || c.confrelid::regclass::text || ' (' || {} || ') on delete ' \
                         || CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' \
                            WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END \
                         FROM pg_constraint c WHERE c.connamespace = 'public'::regnamespace \
                         AND c.contype = 'f' ORDER BY 1",
                        columns("conkey", "conrelid"),
                        columns("confkey", "confrelid")
                    ))
                    .await,
                );
                let indexes = self
                    .strings(
                        "SELECT ic.relname || chr(31) || t.relname || chr(31) \
                         || CASE WHEN i.indisunique THEN 'unique' ELSE '' END || chr(31) \
                         || (SELECT string_agg(pg_get_indexdef(i.indexrelid, k, true), chr(30) ORDER BY k) \
                             FROM generate_series(1, i.indnkeyatts) AS k) || chr(31) \
                         || coalesce(pg_get_expr(i.indpred, i.indrelid, true), '') \
                         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
                         JOIN pg_class t ON t.oid = i.indrelid \
                         WHERE t.relnamespace = 'public'::regnamespace AND t.relname <> '_sqlx_migrations' \
                         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid \
                                         AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u')) \
                         ORDER BY ic.relname",
                    )
                    .await;
                shape.extend(indexes.iter().map(|row| {
                    let [name, table, unique, keys, predicate] =
                        row.split('\u{1f}').collect::<Vec<_>>()[..]
                    else {
                        panic!("{row}");
                    };
                    let keys: Vec<String> = keys.split('\u{1e}').map(str::to_owned).collect();
                    let predicate = Some(predicate).filter(|p| !p.is_empty());
                    index_line(name, table, unique == "unique", &keys, predicate)
                }));
            }
        }
        shape
    }
}

/// `index name on table [unique] (keys) [where predicate]`, keys and predicate normalized.
fn index_line(
    name: &str,
    table: &str,
    unique: bool,
    keys: &[String],
    predicate: Option<&str>,
) -> String {
    let keys: Vec<String> = keys.iter().map(|k| normalize_sql(k)).collect();
    let mut line = format!(
        "index {name} on {table}{} ({})",
        if unique { " unique" } else { "" },
        keys.join(", ")
    );
    if let Some(predicate) = predicate {
        line.push_str(&format!(" where {}", normalize_sql(predicate)));
    }
    line
}

/// An expression as both dialects can be compared on: lowercase, PostgreSQL's `::text`
/// (and `::jsonb`) casts and double quotes dropped, redundant outer parentheses removed,
/// whitespace collapsed (none inside parentheses).
pub fn normalize_sql(expr: &str) -> String {
    let mut text = expr.to_lowercase();
    for cast in ["::text", "::jsonb", "::bigint", "::integer", "::boolean"] {
        text = text.replace(cast, "");
    }
    text = text.replace('"', "");
    let mut text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    text = text.replace("( ", "(").replace(" )", ")");
    while text.starts_with('(') && closing_paren(&text, 0) == Some(text.len() - 1) {
        text = text[1..text.len() - 1].trim().to_owned();
    }
    text
}

/// The index of the `)` closing the `(` at `open` (string literals skipped).
fn closing_paren(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut in_string = false;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `CREATE [UNIQUE] INDEX name ON table (keys) [WHERE predicate]` → (unique, keys, predicate).
fn parse_sqlite_index(sql: &str) -> (bool, Vec<String>, Option<String>) {
    let unique = sql.to_uppercase().starts_with("CREATE UNIQUE");
    let open = sql
        .find('(')
        .unwrap_or_else(|| panic!("no key list: {sql}"));
    let close = closing_paren(sql, open).unwrap_or_else(|| panic!("unbalanced: {sql}"));
    let inner = &sql[open + 1..close];
    let mut keys = Vec::new();
    let (mut depth, mut in_string, mut start) = (0, false, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => depth -= 1,
            ',' if !in_string && depth == 0 => {
                keys.push(inner[start..i].trim().to_owned());
                start = i + 1;
            }
            _ => {}
        }
    }
    keys.push(inner[start..].trim().to_owned());
    let rest = sql[close + 1..].trim();
    let predicate = match rest.get(..5) {
        Some(word) if word.eq_ignore_ascii_case("where") => Some(rest[5..].trim().to_owned()),
        _ if rest.is_empty() => None,
        _ => panic!("unexpected text after the key list: {sql}"),
    };
    (unique, keys, predicate)
}

/// A statement written with PostgreSQL's `$1` placeholders, with SQLite's `?1` instead.
pub fn sqlite_placeholders(sql: &str) -> String {
    sql.replace('$', "?")
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

#[test]
fn index_definitions_of_both_dialects_normalize_alike() {
    let (unique, keys, predicate) = parse_sqlite_index(
        "CREATE INDEX clients_live_last_name_idx ON clients (coalesce(last_name, ''), id)\n    WHERE deleted_at IS NULL",
    );
    let sqlite = index_line("i", "clients", unique, &keys, predicate.as_deref());
    let postgres = index_line(
        "i",
        "clients",
        false,
        &["COALESCE(last_name, ''::text)".to_owned(), "id".to_owned()],
        Some("(deleted_at IS NULL)"),
    );

    assert_eq!(sqlite, postgres);
    assert_eq!(
        sqlite,
        "index i on clients (coalesce(last_name, ''), id) where deleted_at is null"
    );
    assert_ne!(
        sqlite,
        index_line("i", "clients", false, &keys, Some("deleted_at IS NOT NULL")),
        "a different predicate must show"
    );
    assert_eq!(
        parse_sqlite_index("CREATE UNIQUE INDEX k ON t (lower(a), b)"),
        (true, vec!["lower(a)".to_owned(), "b".to_owned()], None)
    );
}
