//! Key-value stores: the backend trait, the per-app registry of labelled
//! stores, and `fermyon:spin/key-value@2.0.0`.

use crate::bindings::fermyon::spin::key_value as spin_kv;
use crate::key_value_redis::RedisKeyValue;
use crate::key_value_sqlite::SqliteKeyValue;
use crate::runtime_config::StoreBackend;
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
    /// Add `delta` to the decimal integer under `key` (absent = 0).
    async fn increment(&self, key: &str, delta: i64) -> Result<i64, String>;
    /// Write `value` only if `key` still holds `expected`; false when it changed.
    async fn swap_if(
        &self,
        key: &str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> Result<bool, String>;
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

impl From<KvOpenError> for spin_kv::Error {
    fn from(e: KvOpenError) -> Self {
        match e {
            KvOpenError::AccessDenied => spin_kv::Error::AccessDenied,
            KvOpenError::NoSuchStore => spin_kv::Error::NoSuchStore,
            KvOpenError::Other(msg) => spin_kv::Error::Other(msg),
        }
    }
}

type SpinResult<T> = wasmtime::Result<Result<T, spin_kv::Error>>;

impl spin_kv::Host for RequestState {}

impl spin_kv::HostStore for RequestState {
    async fn open(&mut self, label: String) -> SpinResult<Resource<KvHandle>> {
        Ok(self.open_kv(&label).await.map_err(Into::into))
    }

    async fn get(&mut self, this: Resource<KvHandle>, key: String) -> SpinResult<Option<Vec<u8>>> {
        let store = self.kv_store(&this)?;
        Ok(store.get(&key).await.map_err(spin_kv::Error::Other))
    }

    async fn set(
        &mut self,
        this: Resource<KvHandle>,
        key: String,
        value: Vec<u8>,
    ) -> SpinResult<()> {
        let store = self.kv_store(&this)?;
        Ok(store.set(&key, value).await.map_err(spin_kv::Error::Other))
    }

    async fn delete(&mut self, this: Resource<KvHandle>, key: String) -> SpinResult<()> {
        let store = self.kv_store(&this)?;
        Ok(store.delete(&key).await.map_err(spin_kv::Error::Other))
    }

    async fn exists(&mut self, this: Resource<KvHandle>, key: String) -> SpinResult<bool> {
        let store = self.kv_store(&this)?;
        Ok(store.exists(&key).await.map_err(spin_kv::Error::Other))
    }

    async fn get_keys(&mut self, this: Resource<KvHandle>) -> SpinResult<Vec<String>> {
        let store = self.kv_store(&this)?;
        Ok(store.keys().await.map_err(spin_kv::Error::Other))
    }

    async fn drop(&mut self, this: Resource<KvHandle>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
