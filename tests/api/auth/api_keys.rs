//! API keys: the secret is shown once and never listed; a key authenticates through the
//! kit as `X-API-Key` and as a Bearer credential, with its role and tier; a revoked key is
//! refused from the very next request, cached or not.

use super::support::*;
use crm_tests::backends::backend_sets;
use reqwest::Method;
use serde_json::{Value, json};

/// The keys of a `GET /api/api-keys` answer (`{data: [...]}` or a bare array).
fn listed(body: &Value) -> Vec<Value> {
    body.get("data")
        .unwrap_or(body)
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn an_api_key_is_shown_once_and_never_listed() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start().await;
        let admin_token = sign_in(&app, &admin).await.access_token;
        let created = create_api_key(&app, &admin_token, "viewer", "standard").await;

        let reply = get(&app, "/api/api-keys", Auth::Bearer(&admin_token)).await;
        assert_json(&reply, 200, name);
        let keys = listed(&reply.body);
        let entry = keys.iter().find(|k| k["id"] == created.id.as_str());
        let entry = entry.unwrap_or_else(|| panic!("{name}: the new key is listed: {reply}"));
        assert_eq!(
            entry["prefix"], created.created["prefix"],
            "{name}: {reply}"
        );
        assert_eq!(entry["tier"], "standard", "{name}: {reply}");
        assert_eq!(entry["role"], "viewer", "{name}: {reply}");
        assert!(
            entry.get("key").is_none(),
            "{name}: no secret field: {reply}"
        );
        assert_no_secrets(&reply.text, &[("API key", &created.key)], name);
    }
}

#[tokio::test]
async fn api_keys_refuse_the_admin_role_and_unknown_tiers() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start().await;
        let admin_token = sign_in(&app, &admin).await.access_token;
        for (body, field, why) in [
            (
                json!({ "name": "k", "tier": "free", "role": "admin" }),
                "role",
                "keys are never admins",
            ),
            (
                json!({ "name": "k", "tier": "gold" }),
                "tier",
                "an unknown tier",
            ),
            (
                json!({ "name": "", "tier": "free" }),
                "name",
                "an empty name",
            ),
        ] {
            let reply = post(&app, "/api/api-keys", Auth::Bearer(&admin_token), &body).await;
            let context = format!("{name}: {why}");
            assert_problem(&reply, 422, &context);
            let fields: Vec<&str> = reply.body["errors"]
                .as_array()
                .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
                .unwrap_or_default();
            assert!(fields.contains(&field), "{context}: names {field}: {reply}");
        }
    }
}

#[tokio::test]
async fn an_api_key_authenticates_through_the_kit_until_it_is_revoked() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).with_probe().start().await;
        let admin_token = sign_in(&app, &admin).await.access_token;
        let created = create_api_key(&app, &admin_token, "viewer", "standard").await;
        let principal = json!({
            "subject": created.id, "role": "viewer", "tier": "standard", "kind": "api_key",
        });

        for (auth, how) in [
            (Auth::ApiKey(&created.key), "X-API-Key"),
            (Auth::Bearer(&created.key), "Bearer"),
            (Auth::ApiKey(&created.key), "X-API-Key again (cached)"),
        ] {
            let context = format!("{name}: {how}");
            let reply = probe_check(&app, "viewer", auth).await;
            assert_json(&reply, 200, &context);
            assert_eq!(reply.body, principal, "{context}: {reply}");
            let reply = probe_check(&app, "editor", auth).await;
            assert_problem(
                &reply,
                403,
                &format!("{context}: a viewer key asking for editor"),
            );
        }
        let last = if created.key.ends_with('x') { "y" } else { "x" };
        let unknown = format!("{}{last}", &created.key[..created.key.len() - 1]);
        let reply = probe_check(&app, "viewer", Auth::ApiKey(&unknown)).await;
        assert_invalid_token(&reply, &format!("{name}: a key nobody issued"));

        let path = format!("/api/api-keys/{}", created.id);
        let reply = send(
            &app,
            Method::DELETE,
            &path,
            Auth::Bearer(&admin_token),
            None,
        )
        .await;
        assert_eq!(reply.status, 204, "{name}: revoke: {reply}");

        for (auth, how) in [
            (Auth::ApiKey(&created.key), "X-API-Key"),
            (Auth::Bearer(&created.key), "Bearer"),
        ] {
            let reply = probe_check(&app, "viewer", auth).await;
            assert_invalid_token(&reply, &format!("{name}: {how} right after revocation"));
        }
    }
}
