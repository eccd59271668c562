//! Unit tests of `authenticate` against a fake backend: no credential, API keys (the KV
//! cache, service chaining to `auth`), logging hygiene, and `require`.

use super::fake_backend::{
    FakeBackend, assert_invalid_token, assert_status, bearer, cache_jwks, ok_json, run, status,
};
use super::test_tokens::{NOW, Signer};
use super::*;
use serde_json::json;

const KEY: &str = "crm_abcd1234_0123456789abcdefghijklmnopqrstuv";

fn api_key() -> Option<Credential> {
    Some(Credential::ApiKey(KEY.to_owned()))
}

fn resolved() -> ResolvedApiKey {
    ResolvedApiKey {
        subject: "key-id-1".to_owned(),
        role: Role::Editor,
        tier: Tier::Free,
    }
}

fn key_principal() -> Principal {
    Principal::api_key("key-id-1", Role::Editor, Tier::Free)
}

#[test]
fn a_request_without_credentials_is_refused_with_invalid_token() {
    let backend = FakeBackend::new();

    assert_invalid_token(run(&backend, None), "no credential");
}

#[test]
fn an_api_key_missing_from_the_cache_is_resolved_by_auth_and_cached() {
    let backend = FakeBackend::new();
    backend.answer_resolve(ok_json(&resolved()));

    let principal = run(&backend, api_key());

    assert_eq!(principal.ok(), Some(key_principal()));
    let (path, body) = backend.requests.borrow()[0].clone();
    assert_eq!(path, RESOLVE_API_KEY_PATH);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).ok(),
        Some(json!({"key": KEY}))
    );
    let cached = backend.read(&api_key_cache_key(KEY));
    assert_eq!(
        cached,
        Some(json!({"resolved": resolved(), "cached_at": NOW}))
    );
}

#[test]
fn a_fresh_cached_api_key_is_used_without_asking_auth() {
    let backend = FakeBackend::new();
    backend.put(
        &api_key_cache_key(KEY),
        &json!({"resolved": resolved(), "cached_at": NOW - 29}),
    );

    let principal = run(&backend, api_key());

    assert_eq!(principal.ok(), Some(key_principal()));
    assert_eq!(backend.requests_to(RESOLVE_API_KEY_PATH), 0);
}

#[test]
fn a_stale_cached_api_key_is_resolved_again() {
    let backend = FakeBackend::new();
    backend.put(
        &api_key_cache_key(KEY),
        &json!({"resolved": resolved(), "cached_at": NOW - 30}),
    );
    backend.answer_resolve(status(404));

    assert_invalid_token(run(&backend, api_key()), "revoked since it was cached");
    assert_eq!(backend.requests_to(RESOLVE_API_KEY_PATH), 1);
}

#[test]
fn api_key_failures_map_to_401_or_503() {
    let cases = [
        (status(404), 401, "unknown key"),
        (status(500), 503, "auth fails"),
        (status(403), 503, "route not reachable"),
        (
            Err("connection refused".to_owned()),
            503,
            "auth unreachable",
        ),
        (
            Ok(backend::Reply {
                status: 200,
                body: b"{}".to_vec(),
            }),
            503,
            "unreadable answer",
        ),
    ];
    for (answer, expected, reason) in cases {
        let backend = FakeBackend::new();
        backend.answer_resolve(answer);

        assert_status(run(&backend, api_key()), expected, reason);
        assert_eq!(
            backend.read(&api_key_cache_key(KEY)),
            None,
            "{reason}: nothing cached"
        );
    }
}

#[test]
fn an_unreadable_cache_does_not_stop_api_keys_from_resolving() {
    let backend = FakeBackend::new();
    *backend.kv_failure.borrow_mut() = Some("store down".to_owned());
    backend.answer_resolve(ok_json(&resolved()));

    assert_eq!(run(&backend, api_key()).ok(), Some(key_principal()));
}

#[test]
fn the_kit_never_logs_a_credential() {
    let signer = Signer::new("key-1");
    let token = signer.valid_token();
    let backend = FakeBackend::new();
    backend.answer_resolve(status(404));
    cache_jwks(&backend, &Signer::new("other").jwks(), NOW - 3600);
    backend.answer_jwks(status(500));
    let _ = crate::log::captured::take();

    let _ = run(&backend, api_key());
    let _ = run(&backend, bearer(token.clone()));

    let lines = crate::log::captured::take();
    assert!(!lines.is_empty(), "the failures were logged");
    for line in lines {
        let text = line.to_string();
        assert!(
            !text.contains(KEY) && !text.contains(&token),
            "leaked in {text}"
        );
    }
}

#[test]
fn require_allows_roles_that_include_the_required_one() {
    let cases = [
        (Role::Admin, Role::Admin, true, "admin may admin"),
        (Role::Admin, Role::Viewer, true, "admin may view"),
        (Role::Editor, Role::Editor, true, "editor may edit"),
        (Role::Editor, Role::Admin, false, "editor may not admin"),
        (Role::Viewer, Role::Editor, false, "viewer may not edit"),
    ];
    for (role, required, allowed, reason) in cases {
        let outcome = require(&Principal::user("u", role), required);

        match outcome {
            Ok(()) => assert!(allowed, "{reason}"),
            Err(error) => {
                assert!(!allowed, "{reason}");
                assert_eq!(error.status_code(), 403, "{reason}");
            }
        }
    }
}
