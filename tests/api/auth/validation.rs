//! Invalid input is a 4xx problem, with field errors where a field is at fault, never a
//! 500; the JWKS publishes public keys only; the private routes are not public.

use super::support::*;
use crm_tests::backends::backend_sets;
use reqwest::Method;
use serde_json::{Value, json};

/// The `field`s of a 422 problem's `errors`.
fn error_fields(reply: &Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// JSON bodies of the wrong shape: `(path, body, the field at fault, why)`.
fn invalid_bodies() -> Vec<(&'static str, Value, &'static str, &'static str)> {
    let fresh = Account::new("fresh");
    let user = |email: &str, password: &str, role: &str| json!({ "email": email, "password": password, "role": role });
    vec![
        (
            "/api/auth/token",
            json!({ "password": "x" }),
            "email",
            "login without an email",
        ),
        (
            "/api/auth/token",
            json!({ "email": fresh.email }),
            "password",
            "login without a password",
        ),
        (
            "/api/auth/token",
            json!({ "email": 42, "password": "x" }),
            "email",
            "a number for an email",
        ),
        (
            "/api/auth/refresh",
            json!({}),
            "refresh_token",
            "refresh without a token",
        ),
        (
            "/api/auth/refresh",
            json!({ "refresh_token": ["a"] }),
            "refresh_token",
            "an array for a token",
        ),
        (
            "/api/auth/revoke",
            json!({ "refresh_token": 7 }),
            "refresh_token",
            "a number for a token",
        ),
        (
            "/api/users",
            user("not-an-email", &fresh.password, "viewer"),
            "email",
            "an invalid email",
        ),
        (
            "/api/users",
            user("a@b", &fresh.password, "viewer"),
            "email",
            "a domain without a dot",
        ),
        (
            "/api/users",
            user(&fresh.email, "short pw", "viewer"),
            "password",
            "a password under 12",
        ),
        (
            "/api/users",
            user(&fresh.email, &"x".repeat(129), "viewer"),
            "password",
            "a password over 128",
        ),
        (
            "/api/users",
            user(&fresh.email, "password1234", "viewer"),
            "password",
            "a common password",
        ),
        (
            "/api/users",
            user(&fresh.email, "PassWord1234", "viewer"),
            "password",
            "a common password, cased",
        ),
        (
            "/api/users",
            user(&fresh.email, &fresh.password, "member"),
            "role",
            "an unknown role",
        ),
        (
            "/api/users",
            json!({ "email": fresh.email, "role": "viewer" }),
            "password",
            "no password",
        ),
        (
            "/api/users",
            json!({ "email": true, "password": fresh.password, "role": "viewer" }),
            "email",
            "a boolean email",
        ),
    ]
}

#[tokio::test]
async fn bodies_of_the_wrong_shape_are_422_with_the_field_at_fault() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start().await;
        let admin_token = sign_in(&app, &admin).await.access_token;

        for (path, body, field, why) in invalid_bodies() {
            let reply = post(&app, path, Auth::Bearer(&admin_token), &body).await;
            let context = format!("{name}: {why}");
            assert_problem(&reply, 422, &context);
            assert!(
                error_fields(&reply).iter().any(|f| f.contains(field)),
                "{context}: the errors name {field}: {reply}"
            );
        }
    }
}

#[tokio::test]
async fn bodies_that_are_not_json_or_too_big_are_4xx_problems_never_500() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start().await;
        let padding = "x".repeat(65 * 1024);
        let too_big = json!({ "email": "a@example.com", "password": padding }).to_string();

        for path in [
            "/api/auth/token",
            "/api/auth/refresh",
            "/api/auth/revoke",
            "/api/users",
            "/api/api-keys",
        ] {
            for (content_type, body, status, why) in [
                (
                    "text/plain",
                    b"email=a@example.com".to_vec(),
                    415,
                    "not JSON",
                ),
                (
                    "application/x-www-form-urlencoded",
                    b"email=a%40example.com&password=x".to_vec(),
                    415,
                    "a form",
                ),
                (
                    "application/json",
                    b"{\"email\": ".to_vec(),
                    400,
                    "malformed JSON",
                ),
                ("application/json", b"".to_vec(), 400, "an empty body"),
                (
                    "application/json",
                    too_big.clone().into_bytes(),
                    413,
                    "a body over 64 KiB",
                ),
            ] {
                let reply = send_raw(&app, Method::POST, path, content_type, body).await;
                let context = format!("{name}: {path}: {why}");
                if path.starts_with("/api/auth/") {
                    assert_problem(&reply, status, &context);
                } else {
                    // Admin routes may check credentials first; either way a 4xx problem.
                    assert!(
                        matches!(reply.status, 401 | 413 | 415 | 400),
                        "{context}: {reply}"
                    );
                    assert_problem(&reply, reply.status, &context);
                }
                assert!(
                    !reply.text.contains("email=a"),
                    "{context}: the body is not quoted"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_jwks_publishes_public_ed25519_keys_only() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start().await;
        let reply = get(&app, "/.well-known/jwks.json", Auth::Anonymous).await;
        assert_eq!(reply.status, 200, "{name}: {reply}");
        assert!(
            reply.header("content-type").contains("json"),
            "{name}: {reply}"
        );
        let keys = reply.body["keys"].as_array().cloned().unwrap_or_default();
        assert!(!keys.is_empty(), "{name}: {reply}");
        for key in &keys {
            let mut fields: Vec<&str> = key
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            fields.sort_unstable();
            assert_eq!(
                fields,
                ["alg", "crv", "kid", "kty", "use", "x"],
                "{name}: no `d`: {key}"
            );
            assert_eq!(key["kty"], "OKP", "{name}: {key}");
            assert_eq!(key["crv"], "Ed25519", "{name}: {key}");
            assert_eq!(key["use"], "sig", "{name}: {key}");
            assert_eq!(key["alg"], "EdDSA", "{name}: {key}");
            let x = key["x"].as_str().unwrap_or_default();
            assert_eq!(super::tokens::base64url_bytes(x).len(), 32, "{name}: {key}");
        }
        let seed = super::tokens::SigningKey::suite().seed_text();
        assert_no_secrets(&reply.text, &[("signing seed", &seed)], name);
    }
}

#[tokio::test]
async fn the_private_resolve_route_is_not_public() {
    let admin = Account::new("admin");
    for set in backend_sets().await {
        let name = set.name();
        let app = auth_app(&set, &admin).start().await;
        let body = json!({ "key": "crm_abcdefgh_abcdefghabcdefghabcdefghabcdefgh" });
        let reply = send(
            &app,
            Method::POST,
            "/internal/api-keys/resolve",
            Auth::Anonymous,
            Some(&body),
        )
        .await;
        assert_problem(&reply, 404, name);
    }
}

#[tokio::test]
async fn a_second_user_with_the_same_email_in_another_case_is_a_conflict() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start().await;
        let admin_token = sign_in(&app, &admin).await.access_token;
        let first = create_user(&app, &admin_token, "viewer").await;
        let twin = json!({
            "email": first.account.email.to_uppercase(),
            "password": first.account.password, "role": "editor",
        });
        let reply = post(&app, "/api/users", Auth::Bearer(&admin_token), &twin).await;
        assert_problem(&reply, 409, name);
        let reply = post(
            &app,
            "/api/auth/token",
            Auth::Anonymous,
            &json!({
                "email": first.account.email.to_uppercase(), "password": first.account.password,
            }),
        )
        .await;
        assert_tokens(&reply, &format!("{name}: logins ignore the e-mail's case"));
    }
}
