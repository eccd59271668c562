//! `wasi:keyvalue/{store,atomics,batch}@0.2.0-draft2` over the same stores as Spin's KV.

use crate::bindings::wasi::keyvalue::{atomics, batch, store};
use crate::key_value::{IncrementError, KeyValueStore, KvHandle, KvOpenError};
use crate::state::RequestState;
use std::sync::Arc;
use wasmtime::component::Resource;

/// A compare-and-swap handle. As Spin's: `new` reads nothing; `current` reads the value
/// and remembers it; `swap` writes only if that value is still there, and writes
/// unconditionally if `current` was never called.
pub struct CasHandle {
    store: Arc<dyn KeyValueStore>,
    key: String,
    /// `None` until `current` is called; then the value it saw (`Some(None)`: absent).
    seen: Option<Option<Vec<u8>>>,
}

type StoreResult<T> = wasmtime::Result<Result<T, store::Error>>;

impl From<KvOpenError> for store::Error {
    fn from(e: KvOpenError) -> Self {
        match e {
            KvOpenError::AccessDenied => store::Error::AccessDenied,
            KvOpenError::NoSuchStore => store::Error::NoSuchStore,
            KvOpenError::Other(msg) => store::Error::Other(msg),
        }
    }
}

impl store::Host for RequestState {
    async fn open(&mut self, identifier: String) -> StoreResult<Resource<KvHandle>> {
        Ok(self.open_kv(&identifier).await.map_err(Into::into))
    }
}

impl store::HostBucket for RequestState {
    async fn get(&mut self, this: Resource<KvHandle>, key: String) -> StoreResult<Option<Vec<u8>>> {
        let kv = self.kv_store(&this)?;
        Ok(kv.get(&key).await.map_err(store::Error::Other))
    }

    async fn set(
        &mut self,
        this: Resource<KvHandle>,
        key: String,
        value: Vec<u8>,
    ) -> StoreResult<()> {
        let kv = self.kv_store(&this)?;
        Ok(kv.set(&key, value).await.map_err(store::Error::Other))
    }

    async fn delete(&mut self, this: Resource<KvHandle>, key: String) -> StoreResult<()> {
        let kv = self.kv_store(&this)?;
        Ok(kv.delete(&key).await.map_err(store::Error::Other))
    }

    async fn exists(&mut self, this: Resource<KvHandle>, key: String) -> StoreResult<bool> {
        let kv = self.kv_store(&this)?;
        Ok(kv.exists(&key).await.map_err(store::Error::Other))
    }

    async fn list_keys(
        &mut self,
        this: Resource<KvHandle>,
        cursor: Option<String>,
    ) -> StoreResult<store::KeyResponse> {
        // As Spin: one page holding every key; a cursor is refused.
        if cursor.is_some() {
            return Ok(Err(store::Error::Other(
                "list_keys: cursor not supported".into(),
            )));
        }
        let kv = self.kv_store(&this)?;
        Ok(kv
            .keys()
            .await
            .map_err(store::Error::Other)
            .map(|keys| store::KeyResponse { keys, cursor: None }))
    }

    async fn drop(&mut self, this: Resource<KvHandle>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl atomics::Host for RequestState {
    async fn increment(
        &mut self,
        bucket: Resource<KvHandle>,
        key: String,
        delta: i64,
    ) -> StoreResult<i64> {
        let kv = self.kv_store(&bucket)?;
        match kv.increment(&key, delta).await {
            Ok(value) => Ok(Ok(value)),
            Err(IncrementError::Store(e)) => Ok(Err(store::Error::Other(e))),
            Err(IncrementError::NotACounter(why)) => Err(wasmtime::Error::msg(why)),
        }
    }

    async fn swap(
        &mut self,
        cas: Resource<CasHandle>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let handle = self.table.delete(cas)?;
        let swapped = match handle.seen.clone() {
            Some(expected) => handle.store.swap_if(&handle.key, expected, value).await,
            None => handle.store.set(&handle.key, value).await.map(|()| true),
        };
        match swapped {
            Ok(true) => Ok(Ok(())),
            Ok(false) => {
                // As Spin: a fresh handle that has already read the current value.
                let seen = match handle.store.get(&handle.key).await {
                    Ok(seen) => seen,
                    Err(e) => {
                        return Ok(Err(atomics::CasError::StoreError(store::Error::Other(e))));
                    }
                };
                let retry = self.table.push(CasHandle {
                    seen: Some(seen),
                    ..handle
                })?;
                Ok(Err(atomics::CasError::CasFailed(retry)))
            }
            Err(e) => Ok(Err(atomics::CasError::StoreError(store::Error::Other(e)))),
        }
    }
}

impl atomics::HostCas for RequestState {
    async fn new(
        &mut self,
        bucket: Resource<KvHandle>,
        key: String,
    ) -> StoreResult<Resource<CasHandle>> {
        let kv = self.kv_store(&bucket)?;
        Ok(Ok(self.table.push(CasHandle {
            store: kv,
            key,
            seen: None,
        })?))
    }

    async fn current(&mut self, this: Resource<CasHandle>) -> StoreResult<Option<Vec<u8>>> {
        let handle = self.table.get(&this)?;
        let (store, key) = (handle.store.clone(), handle.key.clone());
        match store.get(&key).await {
            Ok(value) => {
                self.table.get_mut(&this)?.seen = Some(value.clone());
                Ok(Ok(value))
            }
            Err(e) => Ok(Err(store::Error::Other(e))),
        }
    }

    async fn drop(&mut self, this: Resource<CasHandle>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl batch::Host for RequestState {
    async fn get_many(
        &mut self,
        bucket: Resource<KvHandle>,
        keys: Vec<String>,
    ) -> StoreResult<Vec<(String, Option<Vec<u8>>)>> {
        // As Spin's SQLite store: missing keys are left out, a repeated key comes once.
        let kv = self.kv_store(&bucket)?;
        let mut out: Vec<(String, Option<Vec<u8>>)> = Vec::with_capacity(keys.len());
        for key in keys {
            if out.iter().any(|(k, _)| *k == key) {
                continue;
            }
            match kv.get(&key).await {
                Ok(Some(value)) => out.push((key, Some(value))),
                Ok(None) => {}
                Err(e) => return Ok(Err(store::Error::Other(e))),
            }
        }
        Ok(Ok(out))
    }

    async fn set_many(
        &mut self,
        bucket: Resource<KvHandle>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> StoreResult<()> {
        let kv = self.kv_store(&bucket)?;
        for (key, value) in key_values {
            if let Err(e) = kv.set(&key, value).await {
                return Ok(Err(store::Error::Other(e)));
            }
        }
        Ok(Ok(()))
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<KvHandle>,
        keys: Vec<String>,
    ) -> StoreResult<()> {
        let kv = self.kv_store(&bucket)?;
        for key in keys {
            if let Err(e) = kv.delete(&key).await {
                return Ok(Err(store::Error::Other(e)));
            }
        }
        Ok(Ok(()))
    }
}
