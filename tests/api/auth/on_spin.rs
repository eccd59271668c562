//! The same spin.toml and .wasm files on real Spin, when a `spin` binary is on PATH: the
//! session flow, the verification kit through service chaining, API keys and login
//! throttling, on every backend set. Without `spin` the test says so and passes (the
//! project never installs Spin, so this holds under `CI=true` too).

use super::support::*;
use crm_tests::backends::backend_sets;
use serde_json::json;

#[tokio::test]
async fn the_auth_flows_pass_on_real_spin_too() {
    if crm_tests::spin_on_path().is_none() {
        eprintln!("notice: no `spin` on PATH: the auth flows are not run on real Spin");
        return;
    }
    for set in backend_sets().await {
        let name = format!("spin, {}", set.name());
        let admin = Account::new("admin");
        let Some(app) = auth_app(&set, &admin).with_probe().start_on_spin().await else {
            return;
        };

        // A session: login, a protected call, rotation, reuse revoking the family.
        let first = sign_in(&app, &admin).await;
        assert_json(&me(&app, &first.access_token).await, 200, &name);
        let second = assert_tokens(&refresh(&app, &first.refresh_token).await, &name);
        assert_problem(&refresh(&app, &first.refresh_token).await, 401, &name);
        assert_problem(&refresh(&app, &second.refresh_token).await, 401, &name);

        // The kit in another component, reaching auth by service chaining.
        let session = sign_in(&app, &admin).await;
        let reply = probe_check(&app, "editor", Auth::Bearer(&session.access_token)).await;
        assert_json(&reply, 200, &name);
        assert_eq!(reply.body["role"], "admin", "{name}: {reply}");
        let viewer = create_user(&app, &session.access_token, "viewer").await;
        let viewer_session = sign_in(&app, &viewer.account).await;
        let reply = probe_check(&app, "editor", Auth::Bearer(&viewer_session.access_token)).await;
        assert_problem(&reply, 403, &name);

        // An API key works through the kit until revoked, then at once no longer.
        let key = create_api_key(&app, &session.access_token, "editor", "standard").await;
        let reply = probe_check(&app, "viewer", Auth::ApiKey(&key.key)).await;
        assert_json(&reply, 200, &name);
        assert_eq!(reply.body["kind"], "api_key", "{name}: {reply}");
        let path = format!("/api/api-keys/{}", key.id);
        let reply = send(
            &app,
            reqwest::Method::DELETE,
            &path,
            Auth::Bearer(&session.access_token),
            None,
        )
        .await;
        assert_eq!(reply.status, 204, "{name}: {reply}");
        assert_invalid_token(
            &probe_check(&app, "viewer", Auth::ApiKey(&key.key)).await,
            &name,
        );

        // Failed logins are throttled before hashing.
        let wrong = json!({ "email": viewer.account.email, "password": "not the password!" });
        for _ in 0..5 {
            let reply = post(&app, "/api/auth/token", Auth::Anonymous, &wrong).await;
            assert_problem(&reply, 401, &name);
        }
        let reply = login(&app, &viewer.account).await;
        assert_problem(&reply, 429, &name);
        assert!(!reply.header("retry-after").is_empty(), "{name}: {reply}");
    }
}
