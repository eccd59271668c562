//! Spin's `type = "spin"` key-value store: one SQLite file, Spin's table layout.

use crate::key_value::{IncrementError, KeyValueStore, listing_too_large, push_within_budget};
use anyhow::Context;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A labelled store inside a SQLite file (table `spin_key_value`).
pub struct SqliteKeyValue {
    conn: Arc<Mutex<Connection>>,
    store: Arc<str>,
}

impl SqliteKeyValue {
    /// Open (creating if needed) the file and its table.
    pub async fn open(path: PathBuf, store: String) -> anyhow::Result<SqliteKeyValue> {
        let conn = tokio::task::spawn_blocking(move || open_file(&path)).await??;
        Ok(SqliteKeyValue {
            conn: Arc::new(Mutex::new(conn)),
            store: store.into(),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&mut Connection, &str) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let conn = self.conn.clone();
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn
                .lock()
                .map_err(|_| "key-value connection poisoned".to_owned())?;
            op(&mut conn, &store).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

pub(crate) fn open_file(path: &std::path::Path) -> anyhow::Result<Connection> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("Failed to create directory {}", dir.display()))?;
    }
    let conn = Connection::open(path)
        .with_context(|| format!("Failed to open SQLite file {}", path.display()))?;
    conn.busy_timeout(crate::sqlite::BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // In WAL mode, NORMAL syncs at checkpoints, not at every commit: a crash of crm-host
    // loses nothing; a crash of the machine may lose the last writes, never consistency.
    // Every rate-limited request writes counters here, and a sync per commit cost more
    // than the rest of a cached read (bench/clients.sh).
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS spin_key_value (
            store TEXT NOT NULL,
            key   TEXT NOT NULL,
            value BLOB NOT NULL,
            PRIMARY KEY (store, key)
        )",
    )
    .context("Failed to create the key-value table")?;
    Ok(conn)
}

const SELECT: &str = "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2";
const UPSERT: &str = "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
    ON CONFLICT (store, key) DO UPDATE SET value = excluded.value";

/// The value of `key` in `store`, if any.
fn select(conn: &Connection, store: &str, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached(SELECT)?
        .query_row(params![store, key], |r| r.get(0))
        .optional()
}

/// Spin's counter format on this store: an 8-byte little-endian i64 (absent = 0).
fn parse_counter(value: Option<Vec<u8>>) -> Result<i64, usize> {
    match value {
        None => Ok(0),
        Some(bytes) => <[u8; 8]>::try_from(bytes.as_slice())
            .map(i64::from_le_bytes)
            .map_err(|_| bytes.len()),
    }
}

#[async_trait::async_trait]
impl KeyValueStore for SqliteKeyValue {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let inline =
            crate::sqlite::try_inline_read(&self.conn, |c| Some(select(c, &self.store, key)));
        if let Some(done) = inline {
            return done.map_err(|e| e.to_string());
        }
        let key = key.to_owned();
        self.run(move |c, s| select(c, s, &key)).await
    }

    async fn set(&self, key: &str, value: Vec<u8>) -> Result<(), String> {
        let key = key.to_owned();
        self.run(move |c, s| {
            c.prepare_cached(UPSERT)?
                .execute(params![s, key, value])
                .map(|_| ())
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), String> {
        let key = key.to_owned();
        self.run(move |c, s| {
            c.execute(
                "DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2",
                params![s, key],
            )
            .map(|_| ())
        })
        .await
    }

    async fn exists(&self, key: &str) -> Result<bool, String> {
        Ok(self.get(key).await?.is_some())
    }

    async fn keys(&self) -> Result<Vec<String>, String> {
        let listed = self
            .run(|c, s| {
                let mut stmt =
                    c.prepare("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?;
                let mut rows = stmt.query(params![s])?;
                let (mut keys, mut used) = (Vec::new(), 0);
                while let Some(row) = rows.next()? {
                    if push_within_budget(&mut keys, &mut used, row.get(0)?).is_err() {
                        return Ok(None);
                    }
                }
                Ok(Some(keys))
            })
            .await?;
        listed.ok_or_else(listing_too_large)
    }

    async fn increment(&self, key: &str, delta: i64) -> Result<i64, IncrementError> {
        let key = key.to_owned();
        let outcome = self
            .run(move |c, s| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let current = tx
                    .query_row(SELECT, params![s, key], |r| r.get(0))
                    .optional()?;
                let Ok(current) = parse_counter(current) else {
                    return Ok(None);
                };
                // Spin adds with wrapping arithmetic (a release build's `+`).
                let next = current.wrapping_add(delta);
                tx.execute(UPSERT, params![s, key, next.to_le_bytes().to_vec()])?;
                tx.commit()?;
                Ok(Some(next))
            })
            .await
            .map_err(IncrementError::Store)?;
        outcome.ok_or_else(|| {
            IncrementError::NotACounter(
                "increment of a value that is not an 8-byte counter (Spin panics here)".into(),
            )
        })
    }

    async fn swap_if(
        &self,
        key: &str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> Result<bool, String> {
        let key = key.to_owned();
        self.run(move |c, s| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // As Spin's SQLite store: with no value read (the key was absent), the swap is
            // a plain upsert that always succeeds, so it is not atomic against a
            // concurrent insert. Initialise a key (e.g. with `increment`) before CAS loops.
            if let Some(expected) = expected {
                let current: Option<Vec<u8>> = tx
                    .query_row(SELECT, params![s, key], |r| r.get(0))
                    .optional()?;
                if current.as_ref() != Some(&expected) {
                    return Ok(false);
                }
            }
            tx.execute(UPSERT, params![s, key, value])?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }
}
