//! Unit tests of `authenticate` with access tokens against a fake backend: the JWKS cache,
//! its refetch policy, failures of `auth`, and disabled users.

use super::fake_backend::{
    FakeBackend, assert_invalid_token, assert_status, bearer, cache_jwks, ok_json, run, status,
};
use super::test_tokens::{NOW, Signer, USER_ID};
use super::*;
use serde_json::json;

#[test]
fn without_a_cached_jwks_the_kit_fetches_and_caches_it() {
    let signer = Signer::new("key-1");
    let backend = FakeBackend::new();
    backend.answer_jwks(ok_json(&signer.jwks()));

    let principal = run(&backend, bearer(signer.valid_token()));

    assert_eq!(principal.ok(), Some(Principal::user(USER_ID, Role::Editor)));
    let cached = backend.read(JWKS_CACHE_KEY);
    assert_eq!(
        cached,
        Some(json!({"jwks": signer.jwks(), "fetched_at": NOW}))
    );
}

#[test]
fn a_cached_jwks_is_used_without_asking_auth() {
    let signer = Signer::new("key-1");
    let backend = FakeBackend::new();
    cache_jwks(&backend, &signer.jwks(), NOW - 10);

    assert!(run(&backend, bearer(signer.valid_token())).is_ok());
    assert_eq!(backend.requests_to(JWKS_PATH), 0);
}

#[test]
fn an_unknown_kid_refetches_a_jwks_older_than_a_minute_once() {
    let old = Signer::new("old");
    let new = Signer::new("new");
    let cases = [
        (
            NOW - 60,
            Some(new.jwks()),
            true,
            1,
            "rotated key, old copy: refetched, accepted",
        ),
        (
            NOW - 60,
            Some(old.jwks()),
            false,
            1,
            "still unknown after refetch: refused",
        ),
        (
            NOW - 59,
            Some(new.jwks()),
            false,
            0,
            "copy younger than a minute: no refetch",
        ),
    ];
    for (fetched_at, refetched, accepted, fetches, reason) in cases {
        let backend = FakeBackend::new();
        cache_jwks(&backend, &old.jwks(), fetched_at);
        if let Some(jwks) = refetched {
            backend.answer_jwks(ok_json(&jwks));
        }

        let outcome = run(&backend, bearer(new.valid_token()));

        assert_eq!(outcome.is_ok(), accepted, "{reason}: {outcome:?}");
        assert_eq!(backend.requests_to(JWKS_PATH), fetches, "{reason}");
    }
}

#[test]
fn a_refetched_jwks_replaces_the_cached_copy() {
    let old = Signer::new("old");
    let new = Signer::new("new");
    let backend = FakeBackend::new();
    cache_jwks(&backend, &old.jwks(), NOW - 600);
    backend.answer_jwks(ok_json(&new.jwks()));

    assert!(run(&backend, bearer(new.valid_token())).is_ok());
    let cached = backend.read(JWKS_CACHE_KEY);
    assert_eq!(cached, Some(json!({"jwks": new.jwks(), "fetched_at": NOW})));
}

#[test]
fn an_expired_jwks_is_still_used_when_auth_is_down() {
    let signer = Signer::new("key-1");
    let backend = FakeBackend::new();
    cache_jwks(&backend, &signer.jwks(), NOW - 3600);

    assert!(run(&backend, bearer(signer.valid_token())).is_ok());
    assert_eq!(backend.requests_to(JWKS_PATH), 1);
}

#[test]
fn a_failed_refresh_is_not_retried_for_an_unknown_kid_in_the_same_request() {
    let backend = FakeBackend::new();
    cache_jwks(&backend, &Signer::new("old").jwks(), NOW - 3600);

    let outcome = run(&backend, bearer(Signer::new("new").valid_token()));

    assert_invalid_token(outcome, "kid unknown to the only copy there is");
    assert_eq!(backend.requests_to(JWKS_PATH), 1);
}

#[test]
fn an_unreachable_jwks_with_nothing_cached_is_a_503() {
    let signer = Signer::new("key-1");
    let cases = [
        (status(500), "auth fails"),
        (Err("connection refused".to_owned()), "auth unreachable"),
        (
            Ok(backend::Reply {
                status: 200,
                body: b"[]".to_vec(),
            }),
            "unreadable JWKS",
        ),
    ];
    for (answer, reason) in cases {
        let backend = FakeBackend::new();
        backend.answer_jwks(answer);

        assert_status(run(&backend, bearer(signer.valid_token())), 503, reason);
    }
}

#[test]
fn an_invalid_access_token_is_refused_with_invalid_token() {
    let signer = Signer::new("key-1");
    let backend = FakeBackend::new();
    cache_jwks(&backend, &signer.jwks(), NOW);

    assert_invalid_token(run(&backend, bearer("garbage".to_owned())), "garbage token");
}

#[test]
fn a_disabled_user_is_refused_and_an_unreadable_marker_fails_closed() {
    let signer = Signer::new("key-1");
    let backend = FakeBackend::new();
    cache_jwks(&backend, &signer.jwks(), NOW);
    backend.put(&disabled_user_key(USER_ID), &json!(true));

    assert_invalid_token(run(&backend, bearer(signer.valid_token())), "disabled user");

    *backend.kv_failure.borrow_mut() = Some("store down".to_owned());
    backend.answer_jwks(ok_json(&signer.jwks()));
    assert_status(
        run(&backend, bearer(signer.valid_token())),
        503,
        "store down",
    );
}
