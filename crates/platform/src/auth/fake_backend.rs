//! A `Backend` for unit tests (an in-memory KV store, scripted answers from `auth`, a fixed
//! clock, a record of what was asked), and helpers to run and judge `authenticate_with`.

use super::backend::{Backend, Reply};
use super::test_tokens::{NOW, rules};
use super::{
    Credential, JWKS_CACHE_KEY, JWKS_PATH, Jwks, Principal, RESOLVE_API_KEY_PATH, TokenRules,
    authenticate_with,
};
use crate::api_error::{ApiError, BearerError};
use futures::executor::block_on;
use serde_json::json;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};

/// What `auth` answers: a reply, or unreachable (`Err`).
pub type Answer = Result<Reply, String>;

#[derive(Default)]
pub struct FakeBackend {
    pub now: Cell<u64>,
    pub kv: RefCell<HashMap<String, Vec<u8>>>,
    /// When set, every KV call fails with this cause.
    pub kv_failure: RefCell<Option<String>>,
    /// Answers to `GET /.well-known/jwks.json`, in order; unreachable once used up.
    pub jwks_answers: RefCell<VecDeque<Answer>>,
    /// Answers to the resolve route, in order; unreachable once used up.
    pub resolve_answers: RefCell<VecDeque<Answer>>,
    /// Every outbound request: (path, body).
    pub requests: RefCell<Vec<(String, Vec<u8>)>>,
}

impl FakeBackend {
    pub fn new() -> FakeBackend {
        let backend = FakeBackend::default();
        backend.now.set(NOW);
        backend
    }

    pub fn answer_jwks(&self, answer: Answer) {
        self.jwks_answers.borrow_mut().push_back(answer);
    }

    pub fn answer_resolve(&self, answer: Answer) {
        self.resolve_answers.borrow_mut().push_back(answer);
    }

    pub fn put(&self, key: &str, value: &serde_json::Value) {
        let bytes = serde_json::to_vec(value).expect("serializes");
        self.kv.borrow_mut().insert(key.to_owned(), bytes);
    }

    pub fn read(&self, key: &str) -> Option<serde_json::Value> {
        let kv = self.kv.borrow();
        kv.get(key)
            .map(|bytes| serde_json::from_slice(bytes).expect("stored JSON"))
    }

    pub fn requests_to(&self, path: &str) -> usize {
        let requests = self.requests.borrow();
        requests.iter().filter(|(to, _)| to == path).count()
    }

    fn kv_check(&self) -> Result<(), String> {
        match self.kv_failure.borrow().as_ref() {
            Some(cause) => Err(cause.clone()),
            None => Ok(()),
        }
    }

    fn answer(&self, path: &str, body: Vec<u8>) -> Answer {
        self.requests.borrow_mut().push((path.to_owned(), body));
        let queue = match path {
            JWKS_PATH => &self.jwks_answers,
            RESOLVE_API_KEY_PATH => &self.resolve_answers,
            _ => return Err(format!("unexpected path {path}")),
        };
        let next = queue.borrow_mut().pop_front();
        next.unwrap_or_else(|| Err("auth is unreachable".to_owned()))
    }
}

impl Backend for FakeBackend {
    fn now(&self) -> u64 {
        self.now.get()
    }

    fn token_rules(&self) -> Result<TokenRules, ApiError> {
        Ok(rules())
    }

    fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.kv_check()?;
        Ok(self.kv.borrow().get(key).cloned())
    }

    fn kv_set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.kv_check()?;
        self.kv.borrow_mut().insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn kv_exists(&self, key: &str) -> Result<bool, String> {
        self.kv_check()?;
        Ok(self.kv.borrow().contains_key(key))
    }

    async fn get(&self, path: &str) -> Result<Reply, String> {
        self.answer(path, Vec::new())
    }

    async fn post_json(&self, path: &str, body: Vec<u8>) -> Result<Reply, String> {
        self.answer(path, body)
    }
}

/// A 200 reply carrying `body` as JSON.
pub fn ok_json(body: &impl serde::Serialize) -> Answer {
    Ok(Reply {
        status: 200,
        body: serde_json::to_vec(body).expect("serializes"),
    })
}

/// A reply with `status` and no body.
pub fn status(status: u16) -> Answer {
    Ok(Reply {
        status,
        body: Vec::new(),
    })
}

pub fn run(backend: &FakeBackend, credential: Option<Credential>) -> Result<Principal, ApiError> {
    block_on(authenticate_with(backend, credential))
}

pub fn bearer(token: String) -> Option<Credential> {
    Some(Credential::Bearer(token))
}

pub fn cache_jwks(backend: &FakeBackend, jwks: &Jwks, fetched_at: u64) {
    backend.put(
        JWKS_CACHE_KEY,
        &json!({"jwks": jwks, "fetched_at": fetched_at}),
    );
}

pub fn assert_invalid_token(outcome: Result<Principal, ApiError>, reason: &str) {
    match outcome {
        Err(ApiError::Unauthorized { error, .. }) => {
            assert_eq!(error, Some(BearerError::InvalidToken), "{reason}");
        }
        other => panic!("{reason}: expected 401 invalid_token, got {other:?}"),
    }
}

pub fn assert_status(outcome: Result<Principal, ApiError>, expected: u16, reason: &str) {
    match outcome {
        Err(error) => assert_eq!(error.status_code(), expected, "{reason}: {error}"),
        Ok(principal) => panic!("{reason}: expected {expected}, got {principal:?}"),
    }
}
