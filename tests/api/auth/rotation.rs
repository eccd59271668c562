//! Signing-key rotation across host restarts on the same state: a retired key still
//! verifies its tokens while it is listed, new tokens carry the new key, and removing the
//! old key refuses its tokens.

use super::support::*;
use super::tokens::{self, SigningKey};
use crm_tests::TestApp;
use crm_tests::backends::backend_sets;

/// The `kid`s the app's JWKS lists, in order.
async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let reply = get(app, "/.well-known/jwks.json", Auth::Anonymous).await;
    assert_json(&reply, 200, "the JWKS");
    reply.body["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k["kid"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn sorted(mut kids: Vec<String>) -> Vec<String> {
    kids.sort();
    kids
}

#[tokio::test]
async fn tokens_of_a_retired_key_verify_until_the_key_is_removed() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let k1 = SigningKey::random(&format!("k1-{tag}"));
        let k2 = SigningKey::random(&format!("k2-{tag}"));

        // Only k1: tokens carry k1.
        let app = auth_app_with_keys(&set, &admin, &k1.spec()).start().await;
        let old = sign_in(&app, &admin).await;
        assert_eq!(tokens::kid_of(&old.access_token), k1.kid, "{name}");
        assert_eq!(jwks_kids(&app).await, [k1.kid.as_str()], "{name}");
        let dir = app.stop().await;

        // k2 active, k1 retired: the old token verifies, new ones carry k2.
        let keys = format!("{} {}", k2.spec(), k1.spec());
        let app = auth_app_with_keys(&set, &admin, &keys)
            .reuse_state(dir)
            .start()
            .await;
        let reply = me(&app, &old.access_token).await;
        assert_json(
            &reply,
            200,
            &format!("{name}: a k1 token while k1 is retired"),
        );
        assert_eq!(reply.body["email"], admin.email.as_str(), "{name}: {reply}");
        let new = sign_in(&app, &admin).await;
        assert_eq!(
            tokens::kid_of(&new.access_token),
            k2.kid,
            "{name}: the active key signs"
        );
        assert_eq!(
            sorted(jwks_kids(&app).await),
            sorted(vec![k1.kid.clone(), k2.kid.clone()]),
            "{name}: both keys are published"
        );
        let dir = app.stop().await;

        // k1 removed: its tokens are refused; k2's still verify.
        let app = auth_app_with_keys(&set, &admin, &k2.spec())
            .reuse_state(dir)
            .start()
            .await;
        let reply = me(&app, &old.access_token).await;
        assert_invalid_token(&reply, &format!("{name}: a k1 token after k1 is removed"));
        assert_json(
            &me(&app, &new.access_token).await,
            200,
            &format!("{name}: k2"),
        );
        assert_eq!(jwks_kids(&app).await, [k2.kid.as_str()], "{name}");
    }
}

#[tokio::test]
async fn comma_separated_signing_keys_are_accepted_too() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let k1 = SigningKey::random("comma-k1");
        let k2 = SigningKey::random("comma-k2");
        let keys = format!("{},{}", k2.spec(), k1.spec());
        let app = auth_app_with_keys(&set, &admin, &keys).start().await;
        let session = sign_in(&app, &admin).await;
        assert_eq!(
            tokens::kid_of(&session.access_token),
            k2.kid,
            "{name}: the first is active"
        );
        assert_eq!(
            sorted(jwks_kids(&app).await),
            sorted(vec![k1.kid.clone(), k2.kid.clone()]),
            "{name}"
        );
    }
}

#[tokio::test]
async fn without_signing_keys_auth_generates_one_and_keeps_it_across_restarts() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        // No probe here: the kit's JWKS cache is shared by every app on the test Redis.
        let app = auth_app_with_keys(&set, &admin, "").start().await;
        let session = sign_in(&app, &admin).await;
        let kids = jwks_kids(&app).await;
        assert_eq!(kids.len(), 1, "{name}: one generated key: {kids:?}");
        assert_eq!(tokens::kid_of(&session.access_token), kids[0], "{name}");
        let dir = app.stop().await;

        let app = auth_app_with_keys(&set, &admin, "")
            .reuse_state(dir)
            .start()
            .await;
        assert_eq!(
            jwks_kids(&app).await,
            kids,
            "{name}: the same key after a restart"
        );
        let reply = me(&app, &session.access_token).await;
        assert_json(
            &reply,
            200,
            &format!("{name}: a token from before the restart"),
        );
    }
}
