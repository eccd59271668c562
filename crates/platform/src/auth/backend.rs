//! What `authenticate` needs from the outside world (the shared KV store, service chaining
//! to `auth`, variables, the clock), as a trait: Spin's implementation here, a fake in the
//! unit tests, so the caching and refetch policy are tested natively.

use super::AUTH_SERVICE;
use super::keys::SHARED_STORE;
use super::token::TokenRules;
use crate::api_error::ApiError;
use crate::clock::unix_seconds_now;
use crate::kv::kv_error_name;
use crm_domain::correlation::CORRELATION_ID_HEADER;
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::wit::wasi::keyvalue::store::{self, Bucket};
use std::cell::OnceCell;

/// An answer from `auth`: its status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The I/O of the verification kit. Errors are short and never contain a credential.
pub(crate) trait Backend {
    /// Seconds since the unix epoch.
    fn now(&self) -> u64;
    /// Issuer and audience every access token must name.
    fn token_rules(&self) -> Result<TokenRules, ApiError>;
    fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, String>;
    fn kv_set(&self, key: &str, value: &[u8]) -> Result<(), String>;
    fn kv_exists(&self, key: &str) -> Result<bool, String>;
    /// `GET AUTH_SERVICE + path`.
    async fn get(&self, path: &str) -> Result<Reply, String>;
    /// `POST AUTH_SERVICE + path` with a JSON body.
    async fn post_json(&self, path: &str, body: Vec<u8>) -> Result<Reply, String>;
}

/// The backend on a Spin host: `wasi:keyvalue` store `default`, `wasi:http` to `auth`.
#[derive(Default)]
pub(crate) struct SpinBackend {
    bucket: OnceCell<Result<Bucket, String>>,
}

impl SpinBackend {
    fn bucket(&self) -> Result<&Bucket, String> {
        self.bucket
            .get_or_init(|| {
                store::open(SHARED_STORE).map_err(|error| {
                    format!(
                        "cannot open key-value store {SHARED_STORE}: {}",
                        kv_error_name(&error)
                    )
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    async fn send(&self, request: Request) -> Result<Reply, String> {
        let response: Response = spin_sdk::http::send(request)
            .await
            .map_err(|error| format!("auth is unreachable: {error}"))?;
        Ok(Reply {
            status: *response.status(),
            body: response.into_body(),
        })
    }
}

impl Backend for SpinBackend {
    fn now(&self) -> u64 {
        unix_seconds_now()
    }

    fn token_rules(&self) -> Result<TokenRules, ApiError> {
        TokenRules::from_variables()
    }

    fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.bucket()?.get(key).map_err(|error| kv_failure(&error))
    }

    fn kv_set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.bucket()?
            .set(key, value)
            .map_err(|error| kv_failure(&error))
    }

    fn kv_exists(&self, key: &str) -> Result<bool, String> {
        self.bucket()?
            .exists(key)
            .map_err(|error| kv_failure(&error))
    }

    async fn get(&self, path: &str) -> Result<Reply, String> {
        let request = Request::builder()
            .method(Method::Get)
            .uri(format!("{AUTH_SERVICE}{path}"))
            .header("accept", "application/json")
            .header(CORRELATION_ID_HEADER, crate::log::correlation_id())
            .build();
        self.send(request).await
    }

    async fn post_json(&self, path: &str, body: Vec<u8>) -> Result<Reply, String> {
        let request = Request::builder()
            .method(Method::Post)
            .uri(format!("{AUTH_SERVICE}{path}"))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header(CORRELATION_ID_HEADER, crate::log::correlation_id())
            .body(body)
            .build();
        self.send(request).await
    }
}

fn kv_failure(error: &store::Error) -> String {
    format!("key-value store failed: {}", kv_error_name(error))
}
