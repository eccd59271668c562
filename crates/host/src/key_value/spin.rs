//! `fermyon:spin/key-value@2.0.0` over the application's labelled stores.

use crate::bindings::fermyon::spin::key_value as spin_kv;
use crate::key_value::{KvHandle, KvOpenError};
use crate::state::RequestState;
use wasmtime::component::Resource;

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
