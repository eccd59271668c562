//! Key-value stores: the backend trait, the per-app registry of labelled stores and the
//! grant check. The interfaces are `spin` (`fermyon:spin/key-value@2.0.0`) and `wasi`
//! (`wasi:keyvalue@0.2.0-draft2`); the backends `sqlite` (Spin's `type = "spin"`) and `redis`.

pub(crate) mod redis;
mod spin;
pub(crate) mod sqlite;
pub(crate) mod wasi;

use crate::app::runtime_config::StoreBackend;
use crate::key_value::redis::RedisKeyValue;
use crate::key_value::sqlite::SqliteKeyValue;
use crate::state::RequestState;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::Mutex;
use wasmtime::component::Resource;

/// A key-value backend. Increments and compare-and-swap are atomic.
#[async_trait::async_trait]
pub trait KeyValueStore: Send + Sync {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String>;
    async fn set(&self, key: &str, value: Vec<u8>) -> Result<(), String>;
    async fn delete(&self, key: &str) -> Result<(), String>;
    async fn exists(&self, key: &str) -> Result<bool, String>;
    async fn keys(&self) -> Result<Vec<String>, String>;
    /// Add `delta` to the counter under `key` (absent = 0), in the backend's own format
    /// (Spin's: 8-byte little-endian on the SQLite store, decimal text on Redis).
    async fn increment(&self, key: &str, delta: i64) -> Result<i64, IncrementError>;
    /// Write `value` only if `key` still holds `expected` (`None`: the key was absent
    /// when read; each backend treats that as Spin's does); false when it changed.
    async fn swap_if(
        &self,
        key: &str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> Result<bool, String>;
}

/// The most bytes of keys one listing returns, as Spin's `MAX_HOST_BUFFERED_BYTES`.
pub const MAX_LISTED_BYTES: usize = 128 << 20;

/// Spin's error for a listing past [`MAX_LISTED_BYTES`].
pub fn listing_too_large() -> String {
    format!("query result exceeds limit of {MAX_LISTED_BYTES} bytes")
}

/// Add `key` to a listing unless it passes the byte budget.
pub fn push_within_budget(
    keys: &mut Vec<String>,
    used: &mut usize,
    key: String,
) -> Result<(), String> {
    *used += key.len();
    if *used > MAX_LISTED_BYTES {
        return Err(listing_too_large());
    }
    keys.push(key);
    Ok(())
}

/// Why an increment failed.
#[derive(Debug)]
pub enum IncrementError {
    /// The store failed: the guest gets the interface's error.
    Store(String),
    /// The stored value is not a counter of this backend. Spin panics here (the SQLite
    /// store expects 8 bytes); crm-host traps the guest, so its request fails the same way.
    NotACounter(String),
}

/// An opened store, as the guest's `store` / `bucket` resource.
pub struct KvHandle {
    pub store: Arc<dyn KeyValueStore>,
}

/// Why a label could not be opened.
pub enum OpenError {
    NoSuchStore,
    Failed(String),
}

/// The application's labelled stores, opened on first use and then shared.
pub struct KvRegistry {
    backends: BTreeMap<String, StoreBackend>,
    opened: Mutex<HashMap<String, Arc<dyn KeyValueStore>>>,
}

impl KvRegistry {
    pub fn new(backends: BTreeMap<String, StoreBackend>) -> KvRegistry {
        KvRegistry {
            backends,
            opened: Mutex::new(HashMap::new()),
        }
    }

    /// The store behind `label`; a failed open is retried on the next call.
    pub async fn open(&self, label: &str) -> Result<Arc<dyn KeyValueStore>, OpenError> {
        let mut opened = self.opened.lock().await;
        if let Some(store) = opened.get(label) {
            return Ok(store.clone());
        }
        let backend = self.backends.get(label).ok_or(OpenError::NoSuchStore)?;
        let store: Arc<dyn KeyValueStore> = match backend {
            StoreBackend::SqliteFile(path) => Arc::new(
                SqliteKeyValue::open(path.clone(), label.to_owned())
                    .await
                    .map_err(|e| OpenError::Failed(format!("{e:#}")))?,
            ),
            StoreBackend::Redis { url } => Arc::new(
                RedisKeyValue::open(url)
                    .await
                    .map_err(|e| OpenError::Failed(format!("{e:#}")))?,
            ),
        };
        opened.insert(label.to_owned(), store.clone());
        Ok(store)
    }
}

impl RequestState {
    /// Open `label` for this component, enforcing its `key_value_stores` grant.
    pub async fn open_kv(&mut self, label: &str) -> Result<Resource<KvHandle>, KvOpenError> {
        if !self.component.key_value_stores.iter().any(|l| l == label) {
            return Err(KvOpenError::AccessDenied);
        }
        let store = self.app.key_value.open(label).await.map_err(|e| match e {
            OpenError::NoSuchStore => KvOpenError::NoSuchStore,
            OpenError::Failed(msg) => {
                self.log_backend_error("key_value", label, &msg);
                KvOpenError::Other(msg)
            }
        })?;
        self.table
            .push(KvHandle { store })
            .map_err(|e| KvOpenError::Other(e.to_string()))
    }

    pub fn kv_store(
        &self,
        handle: &Resource<KvHandle>,
    ) -> wasmtime::Result<Arc<dyn KeyValueStore>> {
        Ok(self.table.get(handle)?.store.clone())
    }
}

/// Open failures, mapped to each interface's own error variants.
pub enum KvOpenError {
    AccessDenied,
    NoSuchStore,
    Other(String),
}
