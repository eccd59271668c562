//! Unit tests of `verify_access_token_at`: a table of forged and broken tokens, each refused.

use super::*;
use crate::auth::test_tokens::{
    AUDIENCE, ISSUER, NOW, Signer, USER_ID, assemble, claims_at, hs256_with_public_key, rules,
    unsigned_token, valid_payload, with_bad_signature, with_payload,
};
use jwt_simple::prelude::UnixTimeStamp;
use serde_json::json;

fn rejected(reason: &str) -> TokenError {
    TokenError::Rejected(reason.to_owned())
}

#[test]
fn a_valid_token_yields_a_user_principal_with_its_role() {
    let signer = Signer::new("key-1");

    let principal = verify_access_token_at(&signer.valid_token(), &signer.jwks(), &rules(), NOW);

    assert_eq!(principal, Ok(Principal::user(USER_ID, Role::Editor)));
}

/// Asserts that each `(token, expected error, reason)` is refused with that error.
fn assert_refused(signer: &Signer, cases: Vec<(String, TokenError, &str)>) {
    for (token, expected, reason) in cases {
        assert_eq!(
            verify_access_token_at(&token, &signer.jwks(), &rules(), NOW),
            Err(expected),
            "{reason}"
        );
    }
}

#[test]
fn forged_tokens_are_refused() {
    let signer = Signer::new("key-1");
    let stranger = Signer::new("key-1");
    let valid = signer.valid_token();
    let tampered = valid_payload().replace(USER_ID, "someone-else");
    let not_eddsa = rejected("algorithm is not EdDSA");
    assert_refused(
        &signer,
        vec![
            (unsigned_token("key-1"), not_eddsa.clone(), "alg none"),
            (
                hs256_with_public_key(&signer),
                not_eddsa,
                "HS256 keyed with the public key",
            ),
            (
                with_bad_signature(&valid),
                rejected("bad signature"),
                "bad signature",
            ),
            (
                with_payload(&valid, &tampered),
                rejected("bad signature"),
                "tampered payload",
            ),
            (
                stranger.valid_token(),
                rejected("bad signature"),
                "signed by a key not in the JWKS",
            ),
            (
                Signer::new("key-2").valid_token(),
                TokenError::UnknownKey("key-2".to_owned()),
                "unknown kid",
            ),
        ],
    );
}

#[test]
fn tokens_with_wrong_times_issuer_or_audience_are_refused() {
    let signer = Signer::new("key-1");
    let mut expired = claims_at(NOW - 1000, Role::Editor);
    expired.expires_at = Some(UnixTimeStamp::from_secs(NOW - 100));
    let mut not_yet_valid = claims_at(NOW, Role::Editor);
    not_yet_valid.invalid_before = Some(UnixTimeStamp::from_secs(NOW + 60));
    let mut wrong_issuer = claims_at(NOW, Role::Editor);
    wrong_issuer.issuer = Some("https://evil.example".to_owned());
    let wrong_audience = claims_at(NOW, Role::Editor).with_audience("another-api");
    let future = claims_at(NOW + 60, Role::Editor);
    assert_refused(
        &signer,
        vec![
            (signer.sign(expired), rejected("expired"), "expired"),
            (
                signer.sign(not_yet_valid),
                rejected("not yet valid"),
                "not yet valid",
            ),
            (
                signer.sign(future),
                rejected("issued in the future"),
                "iat in the future",
            ),
            (
                signer.sign(wrong_issuer),
                rejected("wrong issuer"),
                "wrong iss",
            ),
            (
                signer.sign(wrong_audience),
                rejected("wrong audience"),
                "wrong aud",
            ),
        ],
    );
}

#[test]
fn malformed_tokens_are_refused() {
    let signer = Signer::new("key-1");
    let valid = signer.valid_token();
    let without_signature = valid[..valid.rfind('.').unwrap_or(0)].to_owned();
    let malformed = |token: &str, reason| (token.to_owned(), TokenError::Malformed, reason);
    assert_refused(
        &signer,
        vec![
            malformed(&valid[..valid.len() / 2], "truncated mid-payload"),
            malformed(&without_signature, "signature cut off"),
            malformed("not a token at all", "garbage"),
            malformed("", "empty"),
            malformed("a.b.c.d", "four segments"),
            malformed("%%%.###.!!!", "not base64url"),
            malformed(&format!("{valid}.{valid}"), "two tokens glued"),
        ],
    );
}

#[test]
fn tokens_missing_required_parts_are_refused() {
    let signer = Signer::new("key-1");
    let mut no_exp = claims_at(NOW, Role::Viewer);
    no_exp.expires_at = None;
    let mut no_sub = claims_at(NOW, Role::Viewer);
    no_sub.subject = None;
    let mut blank_sub = claims_at(NOW, Role::Viewer);
    blank_sub.subject = Some(" ".to_owned());
    let no_kid_header = r#"{"alg":"EdDSA","typ":"JWT"}"#;
    let no_kid = assemble(no_kid_header, &valid_payload(), &[0_u8; 64]);
    let cases = [
        (signer.sign(no_exp), rejected("no exp"), "no exp"),
        (signer.sign(no_sub), rejected("no sub"), "no sub"),
        (signer.sign(blank_sub), rejected("no sub"), "blank sub"),
        (
            signed_custom(&signer, json!({"role": "root"})),
            rejected("claims are incomplete or invalid"),
            "unknown role",
        ),
        (
            signed_custom(&signer, json!({})),
            rejected("claims are incomplete or invalid"),
            "no role",
        ),
        (no_kid, rejected("no kid"), "no kid"),
    ];
    for (token, expected, reason) in cases {
        assert_eq!(
            verify_access_token_at(&token, &signer.jwks(), &rules(), NOW),
            Err(expected),
            "{reason}"
        );
    }
}

/// A correctly signed token whose custom claims are `custom` instead of `AccessClaims`.
fn signed_custom(signer: &Signer, custom: serde_json::Value) -> String {
    use jwt_simple::prelude::{Claims, Duration, EdDSAKeyPairLike};
    let mut claims = Claims::with_custom_claims(custom, Duration::from_mins(15))
        .with_issuer(ISSUER)
        .with_audience(AUDIENCE)
        .with_subject(USER_ID);
    claims.issued_at = Some(UnixTimeStamp::from_secs(NOW));
    claims.invalid_before = Some(UnixTimeStamp::from_secs(NOW));
    claims.expires_at = Some(UnixTimeStamp::from_secs(NOW + 900));
    signer.key_pair.sign(claims).expect("test token signs")
}

#[test]
fn the_clock_tolerance_is_five_seconds() {
    let signer = Signer::new("key-1");
    let token = signer.valid_token();
    let expires = NOW + 900;
    let cases = [
        (expires + 5, true, "5 s after exp"),
        (expires + 6, false, "6 s after exp"),
        (NOW - 5, true, "5 s before nbf"),
        (NOW - 6, false, "6 s before nbf"),
    ];
    for (now, accepted, reason) in cases {
        let outcome = verify_access_token_at(&token, &signer.jwks(), &rules(), now);

        assert_eq!(outcome.is_ok(), accepted, "{reason}: {outcome:?}");
    }
}

#[test]
fn tokens_of_every_key_in_the_jwks_verify() {
    let active = Signer::new("2025-06");
    let retired = Signer::new("2025-01");
    let jwks = Jwks {
        keys: vec![active.jwk(), retired.jwk()],
    };

    for (signer, reason) in [(&active, "active key"), (&retired, "retired key")] {
        let outcome = verify_access_token_at(&signer.valid_token(), &jwks, &rules(), NOW);

        assert!(outcome.is_ok(), "{reason}: {outcome:?}");
    }
}

#[test]
fn a_kid_whose_jwk_is_unusable_is_refused() {
    let signer = Signer::new("key-1");
    let mut jwk = signer.jwk();
    jwk.x = "AAAA".to_owned();
    let jwks = Jwks { keys: vec![jwk] };

    let outcome = verify_access_token_at(&signer.valid_token(), &jwks, &rules(), NOW);

    assert_eq!(
        outcome,
        Err(rejected("the JWKS entry for the kid is unusable"))
    );
}
