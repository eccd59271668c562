//! A session's life: login, a protected call, refresh with rotation, reuse detection that
//! revokes the whole family, logout; and a password change ending the caller's sessions.

use super::support::*;
use crm_tests::backends::backend_sets;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_session_logs_in_refreshes_detects_reuse_and_logs_out() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start().await;

        // Login, then a protected call.
        let first = sign_in(&app, &admin).await;
        let reply = me(&app, &first.access_token).await;
        assert_json(&reply, 200, name);
        assert_user(&reply.body, &admin.email, "admin", name);
        assert_eq!(reply.body["disabled"], false, "{name}: {reply}");

        // Refresh: new tokens, and the presented one is spent.
        let reply = refresh(&app, &first.refresh_token).await;
        let second = assert_tokens(&reply, &format!("{name}: refresh"));
        assert_ne!(second.refresh_token, first.refresh_token, "{name}: rotated");
        assert_json(&me(&app, &second.access_token).await, 200, name);

        // Presenting the spent token again is reuse: 401, and the family is revoked.
        let reply = refresh(&app, &first.refresh_token).await;
        assert_problem(&reply, 401, &format!("{name}: the rotated token"));
        let reply = refresh(&app, &second.refresh_token).await;
        assert_problem(
            &reply,
            401,
            &format!("{name}: the newest token after reuse"),
        );

        // A new login is a new family; logout revokes it.
        let third = sign_in(&app, &admin).await;
        let reply = revoke(&app, &third.refresh_token).await;
        assert_eq!(reply.status, 204, "{name}: logout: {reply}");
        assert_eq!(reply.text, "", "{name}: 204 has no body: {reply}");
        let reply = refresh(&app, &third.refresh_token).await;
        assert_problem(&reply, 401, &format!("{name}: refresh after logout"));
    }
}

#[tokio::test]
async fn a_refresh_token_nobody_issued_is_refused() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start().await;
        let issued = sign_in(&app, &admin).await;

        for (token, why) in [
            ("A".repeat(43), "well-formed but unknown"),
            (
                format!("{}x", issued.refresh_token),
                "an issued token with a character more",
            ),
            (issued.access_token.clone(), "an access token"),
        ] {
            let reply = refresh(&app, &token).await;
            assert_problem(&reply, 401, &format!("{name}: {why}"));
        }
        // None of those touched the real family.
        let reply = refresh(&app, &issued.refresh_token).await;
        assert_tokens(&reply, &format!("{name}: the issued token still refreshes"));
    }
}

#[tokio::test]
async fn changing_the_password_revokes_the_callers_refresh_tokens() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start().await;
        let before = sign_in(&app, &admin).await;
        let new_password = format!("{} and then some", admin.password);

        let wrong =
            json!({ "current_password": "not the password at all", "new_password": new_password });
        let reply = send(
            &app,
            Method::PUT,
            "/api/users/me/password",
            Auth::Bearer(&before.access_token),
            Some(&wrong),
        )
        .await;
        assert!(
            matches!(reply.status, 401 | 403 | 422),
            "{name}: a wrong current password is refused: {reply}"
        );
        assert_problem(&reply, reply.status, name);

        let body = json!({ "current_password": admin.password, "new_password": new_password });
        let reply = send(
            &app,
            Method::PUT,
            "/api/users/me/password",
            Auth::Bearer(&before.access_token),
            Some(&body),
        )
        .await;
        assert_eq!(reply.status, 204, "{name}: {reply}");

        let reply = refresh(&app, &before.refresh_token).await;
        assert_problem(
            &reply,
            401,
            &format!("{name}: the old session's refresh token"),
        );
        let reply = login(&app, &admin).await;
        assert_problem(&reply, 401, &format!("{name}: the old password"));
        let changed = Account {
            password: new_password,
            ..admin.clone()
        };
        sign_in(&app, &changed).await;
    }
}
