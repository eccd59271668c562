//! Forged and broken access tokens are refused with 401 `invalid_token`, on auth's own
//! route and through the verification kit (the probe), and a well-made token is accepted.

use super::support::*;
use super::tokens::{self, SigningKey, TokenClaims};
use crm_tests::TestApp;
use crm_tests::backends::backend_sets;

/// The `x` of `kid` in the app's JWKS.
async fn public_x(app: &TestApp, kid: &str) -> String {
    let reply = get(app, "/.well-known/jwks.json", Auth::Anonymous).await;
    assert_json(&reply, 200, "the JWKS");
    let keys = reply.body["keys"].as_array().cloned().unwrap_or_default();
    let key = keys.iter().find(|k| k["kid"] == kid);
    let x = key.and_then(|k| k["x"].as_str()).unwrap_or_default();
    assert!(!x.is_empty(), "the JWKS lists {kid}: {reply}");
    x.to_owned()
}

/// `claims` signed with the suite key, `claim` left out.
fn without(claims: &TokenClaims, claim: &str) -> String {
    let mut payload = claims.to_json();
    if let Some(payload) = payload.as_object_mut() {
        payload.remove(claim);
    }
    tokens::sign_payload(&SigningKey::suite(), &payload)
}

/// Every token a verifier must refuse, with why.
fn forgeries(valid: &str, claims: &TokenClaims, x: &str) -> Vec<(&'static str, String)> {
    let suite = SigningKey::suite();
    let kid = suite.kid.as_str();
    let now = tokens::unix_now();
    let with = |change: &dyn Fn(&mut TokenClaims)| {
        let mut forged = claims.clone();
        change(&mut forged);
        tokens::sign(&suite, &forged)
    };
    let stranger = SigningKey::random(kid);
    vec![
        ("alg none", tokens::unsigned(kid, claims)),
        (
            "HS256 keyed with the JWKS x text",
            tokens::hs256(kid, x.as_bytes(), claims),
        ),
        (
            "HS256 keyed with the public key bytes",
            tokens::hs256(kid, &tokens::base64url_bytes(x), claims),
        ),
        ("a bad signature", tokens::with_bad_signature(valid)),
        (
            "a tampered payload",
            tokens::with_payload(valid, |p| p["sub"] = "someone-else".into()),
        ),
        (
            "expired 10 s ago, beyond the 5 s tolerance",
            with(&|c| {
                c.iat = now - 1000;
                c.nbf = now - 1000;
                c.exp = now - 10;
            }),
        ),
        ("valid only 10 s from now", with(&|c| c.nbf = now + 10)),
        ("a wrong issuer", with(&|c| c.iss = "someone-else".into())),
        ("a wrong audience", with(&|c| c.aud = "another-api".into())),
        (
            "an unknown kid",
            tokens::sign(&suite.renamed("nobody-has-this-kid"), claims),
        ),
        ("truncated", valid[..valid.len() - 10].to_owned()),
        (
            "without its signature",
            valid[..valid.rfind('.').unwrap_or(0) + 1].to_owned(),
        ),
        ("garbage", "this is not a token".to_owned()),
        ("two dots of nothing", "..".to_owned()),
        (
            "signed by a key that is not ours",
            tokens::sign(&stranger, claims),
        ),
        ("without a role", without(claims, "role")),
        ("without a subject", without(claims, "sub")),
        ("an unknown role", {
            let mut payload = claims.to_json();
            payload["role"] = "superadmin".into();
            tokens::sign_payload(&suite, &payload)
        }),
    ]
}

#[tokio::test]
async fn forged_and_broken_access_tokens_are_refused_and_a_valid_one_accepted() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).with_probe().start().await;
        let session = sign_in(&app, &admin).await;
        let admin_id = user_id(&app, &session.access_token).await;
        let x = public_x(&app, tokens::SUITE_KID).await;
        let claims = TokenClaims::valid(&admin_id, "admin");
        let valid = tokens::sign(&SigningKey::suite(), &claims);

        for (why, token) in forgeries(&valid, &claims, &x) {
            let context = format!("{name}: {why}: {token}");
            assert_invalid_token(&me(&app, &token).await, &format!("auth, {context}"));
            let reply = probe_check(&app, "viewer", Auth::Bearer(&token)).await;
            assert_invalid_token(&reply, &format!("kit, {context}"));
        }

        let reply = me(&app, &valid).await;
        assert_json(
            &reply,
            200,
            &format!("{name}: auth accepts a well-made token"),
        );
        assert_eq!(reply.body["id"], admin_id.as_str(), "{name}: {reply}");
        let reply = probe_check(&app, "viewer", Auth::Bearer(&valid)).await;
        assert_json(
            &reply,
            200,
            &format!("{name}: the kit accepts a well-made token"),
        );
        let principal = serde_json::json!({
            "subject": admin_id, "role": "admin", "tier": "premium", "kind": "user",
        });
        assert_eq!(reply.body, principal, "{name}: {reply}");
    }
}

#[tokio::test]
async fn a_request_without_credentials_is_challenged() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).with_probe().start().await;
        for (path, why) in [
            ("/api/users/me", "auth's own route"),
            ("/probe/auth/check?role=viewer", "through the kit"),
        ] {
            let reply = get(&app, path, Auth::Anonymous).await;
            let context = format!("{name}: {why}");
            assert_problem(&reply, 401, &context);
            let challenge = reply.header("www-authenticate");
            assert!(
                challenge.starts_with(r#"Bearer realm="crm-api""#),
                "{context}: {reply}"
            );
        }
    }
}
