//! Unit tests of the JWKS types, the JWKS answer of `auth` and the refetch policy.

use super::*;
use crate::auth::test_tokens::Signer;

#[test]
fn a_jwk_serializes_with_the_rfc_8037_field_names() {
    let jwk = Jwk::ed25519("key-1", &[0_u8; 32]);

    let json = serde_json::to_value(&jwk).expect("serializes");

    assert_eq!(
        json,
        serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "kid": "key-1",
            "x": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "use": "sig", "alg": "EdDSA",
        })
    );
}

#[test]
fn a_jwk_yields_the_public_key_it_was_made_from() {
    let signer = Signer::new("key-1");

    let key = signer.jwk().public_key().expect("usable");

    assert_eq!(key.to_bytes(), signer.public_key_bytes().to_vec());
}

#[test]
fn unusable_jwks_are_refused() {
    let good = Signer::new("key-1").jwk();
    let with = |change: fn(&mut Jwk)| {
        let mut jwk = good.clone();
        change(&mut jwk);
        jwk
    };
    let cases = [
        (
            with(|jwk| jwk.kty = "RSA".into()),
            "not an Ed25519 key",
            "RSA key type",
        ),
        (
            with(|jwk| jwk.crv = "X25519".into()),
            "not an Ed25519 key",
            "X25519 curve",
        ),
        (
            with(|jwk| jwk.alg = "HS256".into()),
            "not for EdDSA signatures",
            "HS256 alg",
        ),
        (
            with(|jwk| jwk.use_ = "enc".into()),
            "not for EdDSA signatures",
            "encryption use",
        ),
        (
            with(|jwk| jwk.x = "!!".into()),
            "x is not base64url",
            "x not base64url",
        ),
        (
            with(|jwk| jwk.x = "AAAA".into()),
            "x is not 32 bytes",
            "x too short",
        ),
    ];
    for (jwk, expected, reason) in cases {
        assert_eq!(
            jwk.public_key().err(),
            Some(UnusableJwk(expected)),
            "{reason}"
        );
    }
}

#[test]
fn jwks_find_looks_keys_up_by_kid() {
    let jwks = Jwks {
        keys: vec![Jwk::ed25519("a", &[1; 32]), Jwk::ed25519("b", &[2; 32])],
    };

    assert_eq!(jwks.find("b").map(|key| key.kid.as_str()), Some("b"));
    assert_eq!(jwks.find("c"), None);
}

#[test]
fn an_unknown_kid_may_refetch_only_a_copy_at_least_a_minute_old() {
    let now = 1_000_000;
    let cases = [
        (now, false, "just fetched"),
        (now - 59, false, "59 s old"),
        (now - 60, true, "60 s old"),
        (now - 3600, true, "an hour old"),
        (now + 30, false, "slightly in the future (clock skew)"),
        (now + 3600, true, "implausibly far in the future"),
    ];
    for (fetched_at, expected, reason) in cases {
        let cached = CachedJwks {
            jwks: Jwks { keys: vec![] },
            fetched_at,
        };

        assert_eq!(cached.may_refetch(now), expected, "{reason}");
    }
}

#[test]
fn a_cached_jwks_expires_after_five_minutes() {
    let now = 1_000_000;
    let cases = [
        (now - 299, false, "299 s old"),
        (now - 300, true, "300 s old"),
        (now, false, "fresh"),
    ];
    for (fetched_at, expected, reason) in cases {
        let cached = CachedJwks {
            jwks: Jwks { keys: vec![] },
            fetched_at,
        };

        assert_eq!(cached.is_expired(now), expected, "{reason}");
    }
}

#[test]
fn only_a_200_with_a_jwks_body_is_a_jwks() {
    let jwks = Jwks {
        keys: vec![Jwk::ed25519("a", &[1; 32])],
    };
    let body = serde_json::to_vec(&jwks).expect("serializes");
    let reply = |status: u16, body: &[u8]| Reply {
        status,
        body: body.to_vec(),
    };

    assert_eq!(parse_jwks_reply(&reply(200, &body)), Ok(jwks));
    let failures = [
        (
            reply(500, &body),
            "JWKS request answered 500",
            "server error",
        ),
        (reply(404, b""), "JWKS request answered 404", "not found"),
        (reply(200, b"<html>"), "JWKS is unreadable", "not JSON"),
        (
            reply(200, br#"{"keys":[{"kid":"a"}]}"#),
            "JWKS is unreadable",
            "incomplete key",
        ),
    ];
    for (reply, expected, reason) in failures {
        let error = parse_jwks_reply(&reply).expect_err(reason);

        assert!(error.starts_with(expected), "{reason}: {error}");
    }
}
