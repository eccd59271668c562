//! Roles: only admins manage users and API keys; the kit's `require` lets a principal
//! through only with the role it asks for; a disabled user's tokens stop working.

use super::support::*;
use crm_tests::backends::backend_sets;
use reqwest::Method;
use serde_json::{Value, json};

/// The admin-only calls, with the status each answers an admin.
fn management_calls(user_id: &str, key_id: &str) -> Vec<(Method, String, Option<Value>, u16)> {
    let new_user = Account::new("newcomer");
    vec![
        (
            Method::POST,
            "/api/users".into(),
            Some(json!({
                "email": new_user.email, "password": new_user.password, "role": "viewer",
            })),
            201,
        ),
        (Method::GET, "/api/users".into(), None, 200),
        (Method::GET, format!("/api/users/{user_id}"), None, 200),
        (
            Method::PATCH,
            format!("/api/users/{user_id}"),
            Some(json!({ "role": "editor" })),
            200,
        ),
        (
            Method::POST,
            "/api/api-keys".into(),
            Some(json!({ "name": "k", "tier": "free" })),
            201,
        ),
        (Method::GET, "/api/api-keys".into(), None, 200),
        (Method::DELETE, format!("/api/api-keys/{key_id}"), None, 204),
    ]
}

#[tokio::test]
async fn only_admins_manage_users_and_api_keys() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start().await;
        let admin_token = sign_in(&app, &admin).await.access_token;
        let target = create_user(&app, &admin_token, "viewer").await;
        let key = create_api_key(&app, &admin_token, "viewer", "free").await;
        let viewer = create_user(&app, &admin_token, "viewer").await;
        let editor = create_user(&app, &admin_token, "editor").await;
        let viewer_token = sign_in(&app, &viewer.account).await.access_token;
        let editor_token = sign_in(&app, &editor.account).await.access_token;

        for (who, auth, status) in [
            ("nobody", Auth::Anonymous, 401),
            ("a viewer", Auth::Bearer(&viewer_token), 403),
            ("an editor", Auth::Bearer(&editor_token), 403),
        ] {
            for (method, path, body, _) in management_calls(&target.id, &key.id) {
                let reply = send(&app, method, &path, auth, body.as_ref()).await;
                assert_problem(&reply, status, &format!("{name}: {who}"));
            }
        }
        for (token, role) in [(&viewer_token, "viewer"), (&editor_token, "editor")] {
            let reply = me(&app, token).await;
            assert_json(&reply, 200, &format!("{name}: a {role} sees themselves"));
            assert_eq!(reply.body["role"], role, "{name}: {reply}");
        }

        for (method, path, body, status) in management_calls(&target.id, &key.id) {
            let reply = send(
                &app,
                method,
                &path,
                Auth::Bearer(&admin_token),
                body.as_ref(),
            )
            .await;
            let context = format!("{name}: the admin");
            if status == 204 {
                assert_eq!(reply.status, 204, "{context}: {reply}");
            } else {
                assert_json(&reply, status, &context);
            }
        }
        let reply = get(
            &app,
            &format!("/api/users/{}", target.id),
            Auth::Bearer(&admin_token),
        )
        .await;
        assert_json(&reply, 200, name);
        assert_user(
            &reply.body,
            &target.account.email,
            "editor",
            &format!("{name}: patched"),
        );
    }
}

#[tokio::test]
async fn the_kit_lets_a_user_through_only_with_the_role_asked_for() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).with_probe().start().await;
        let admin_token = sign_in(&app, &admin).await.access_token;
        let admin_id = user_id(&app, &admin_token).await;
        let mut users = vec![("admin", admin_id, admin_token.clone())];
        for role in ["editor", "viewer"] {
            let user = create_user(&app, &admin_token, role).await;
            let token = sign_in(&app, &user.account).await.access_token;
            users.push((role, user.id, token));
        }

        for (role, id, token) in &users {
            for (required, allowed) in [
                ("viewer", true),
                ("editor", *role != "viewer"),
                ("admin", *role == "admin"),
            ] {
                let reply = probe_check(&app, required, Auth::Bearer(token)).await;
                let context = format!("{name}: a {role} asking for {required}");
                if allowed {
                    assert_json(&reply, 200, &context);
                    let principal =
                        json!({ "subject": id, "role": role, "tier": "premium", "kind": "user" });
                    assert_eq!(reply.body, principal, "{context}: {reply}");
                } else {
                    assert_problem(&reply, 403, &context);
                }
            }
        }
    }
}

async fn set_disabled(app: &crm_tests::TestApp, admin_token: &str, user: &User, disabled: bool) {
    let path = format!("/api/users/{}", user.id);
    let body = json!({ "disabled": disabled });
    let reply = send(
        app,
        Method::PATCH,
        &path,
        Auth::Bearer(admin_token),
        Some(&body),
    )
    .await;
    assert_json(&reply, 200, &format!("disabled = {disabled}"));
    assert_eq!(reply.body["disabled"], disabled, "{reply}");
    assert_user(
        &reply.body,
        &user.account.email,
        "editor",
        "the patched user",
    );
}

#[tokio::test]
async fn a_disabled_users_tokens_stop_working_on_auth_and_through_the_kit() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).with_probe().start().await;
        let admin_token = sign_in(&app, &admin).await.access_token;
        let editor = create_user(&app, &admin_token, "editor").await;
        let session = sign_in(&app, &editor.account).await;
        assert_json(&me(&app, &session.access_token).await, 200, name);
        let reply = probe_check(&app, "editor", Auth::Bearer(&session.access_token)).await;
        assert_json(&reply, 200, &format!("{name}: the kit, before"));

        set_disabled(&app, &admin_token, &editor, true).await;

        let reply = me(&app, &session.access_token).await;
        assert_problem(&reply, 401, &format!("{name}: auth, the access token"));
        let reply = probe_check(&app, "editor", Auth::Bearer(&session.access_token)).await;
        assert_invalid_token(&reply, &format!("{name}: the kit, the access token"));
        let reply = refresh(&app, &session.refresh_token).await;
        assert_problem(&reply, 401, &format!("{name}: the refresh token"));
        let reply = login(&app, &editor.account).await;
        assert!(matches!(reply.status, 401 | 403), "{name}: login: {reply}");
        assert_problem(
            &reply,
            reply.status,
            &format!("{name}: login while disabled"),
        );

        set_disabled(&app, &admin_token, &editor, false).await;
        let again = sign_in(&app, &editor.account).await;
        let reply = probe_check(&app, "editor", Auth::Bearer(&again.access_token)).await;
        assert_json(&reply, 200, &format!("{name}: the kit, re-enabled"));
    }
}
