//! Helpers of the auth suite: apps with a known signing key and a bootstrap admin,
//! accounts, logins and refreshes, users of each role.

pub use super::requests::*;
use super::tokens::SigningKey;
use crm_tests::backends::BackendSet;
use crm_tests::{AppBuilder, Manifest, app};
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};

/// An e-mail address and password, unique to one test.
#[derive(Clone, Debug)]
pub struct Account {
    pub email: String,
    pub password: String,
}

impl Account {
    pub fn new(label: &str) -> Account {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let tag = &tag[..12];
        let account = Account {
            email: format!("{label}-{tag}@example.com"),
            password: format!("{label} keeps a long passphrase {tag}"),
        };
        crm_tests::secrets::remember(&account.email);
        crm_tests::secrets::remember(&account.password);
        account
    }
}

/// A loopback address of the test's own (127.x.y.z): the app counts failed logins per
/// client address, and the test Redis is shared by every test. Linux routes all of
/// 127.0.0.0/8 to the loopback interface; elsewhere it is 127.0.0.1.
pub fn own_loopback_address() -> IpAddr {
    if !cfg!(target_os = "linux") {
        return IpAddr::V4(Ipv4Addr::LOCALHOST);
    }
    let bytes = uuid::Uuid::new_v4().into_bytes();
    IpAddr::V4(Ipv4Addr::new(127, bytes[0], bytes[1], 2 + bytes[2] % 250))
}

/// The app on `set` with `admin` as its bootstrap admin and the suite's signing key.
pub fn auth_app(set: &BackendSet, admin: &Account) -> AppBuilder {
    auth_app_with_keys(set, admin, &SigningKey::suite().spec())
}

/// The app on `set` with `admin` as its bootstrap admin and `jwt_signing_keys = keys`.
pub fn auth_app_with_keys(set: &BackendSet, admin: &Account, keys: &str) -> AppBuilder {
    app(Manifest::App)
        .backends(set)
        .client_address(own_loopback_address())
        .env("SPIN_VARIABLE_BOOTSTRAP_ADMIN_EMAIL", &admin.email)
        .env("SPIN_VARIABLE_BOOTSTRAP_ADMIN_PASSWORD", &admin.password)
        .env("SPIN_VARIABLE_JWT_SIGNING_KEYS", keys)
}

/// The tokens of a login or a refresh.
#[derive(Clone, Debug)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
}

/// Asserts the token answer (`{access_token, token_type: "Bearer", expires_in: 900,
/// refresh_token}` with `Cache-Control: no-store`) and returns its tokens.
pub fn assert_tokens(reply: &Reply, context: &str) -> Session {
    assert_json(reply, 200, context);
    assert_eq!(reply.body["token_type"], "Bearer", "{context}: {reply}");
    assert_eq!(
        reply.header("cache-control"),
        "no-store",
        "{context}: RFC 6749 §5.1"
    );
    assert_eq!(reply.body["expires_in"], 900, "{context}: {reply}");
    let access_token = reply.body["access_token"].as_str().unwrap_or_default();
    let refresh_token = reply.body["refresh_token"].as_str().unwrap_or_default();
    assert_eq!(
        access_token.split('.').count(),
        3,
        "{context}: a JWT: {reply}"
    );
    assert!(
        refresh_token.len() >= 43,
        "{context}: 32 random bytes: {reply}"
    );
    Session {
        access_token: access_token.to_owned(),
        refresh_token: refresh_token.to_owned(),
    }
}

pub async fn login(target: &impl Target, account: &Account) -> Reply {
    let body = json!({ "email": account.email, "password": account.password });
    post(target, "/api/auth/token", Auth::Anonymous, &body).await
}

/// Logs `account` in, asserting the token answer.
pub async fn sign_in(target: &impl Target, account: &Account) -> Session {
    let reply = login(target, account).await;
    assert_tokens(&reply, &format!("login of {}", account.email))
}

pub async fn refresh(target: &impl Target, refresh_token: &str) -> Reply {
    let body = json!({ "refresh_token": refresh_token });
    post(target, "/api/auth/refresh", Auth::Anonymous, &body).await
}

pub async fn revoke(target: &impl Target, refresh_token: &str) -> Reply {
    let body = json!({ "refresh_token": refresh_token });
    post(target, "/api/auth/revoke", Auth::Anonymous, &body).await
}

pub async fn me(target: &impl Target, access_token: &str) -> Reply {
    get(target, "/api/users/me", Auth::Bearer(access_token)).await
}

/// The kit's verdict through the probe: `GET /probe/auth/check?role=<role>`.
pub async fn probe_check(target: &impl Target, role: &str, auth: Auth<'_>) -> Reply {
    get(target, &format!("/probe/auth/check?role={role}"), auth).await
}

/// Asserts a user object: exactly the documented fields (never a hash), with `email`/`role`.
pub fn assert_user(user: &Value, email: &str, role: &str, context: &str) {
    let mut fields: Vec<&str> = user
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    fields.sort_unstable();
    let documented = [
        "created_at",
        "disabled",
        "display_name",
        "email",
        "id",
        "role",
        "updated_at",
    ];
    assert_eq!(fields, documented, "{context}: {user}");
    assert_eq!(user["email"], email, "{context}: {user}");
    assert_eq!(user["role"], role, "{context}: {user}");
}

/// A user created through the API.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub account: Account,
    /// The `x-request-id` of the request that created it.
    pub request_id: String,
}

/// Creates a user with `role` as the admin holding `admin_token`, asserting the 201.
pub async fn create_user(target: &impl Target, admin_token: &str, role: &str) -> User {
    let account = Account::new(role);
    let body = json!({
        "email": account.email, "password": account.password,
        "role": role, "display_name": format!("A {role}"),
    });
    let reply = post(target, "/api/users", Auth::Bearer(admin_token), &body).await;
    assert_json(&reply, 201, &format!("create a {role}"));
    assert_user(&reply.body, &account.email, role, "the created user");
    let id = reply.body["id"].as_str().unwrap_or_default().to_owned();
    assert!(
        reply
            .header("location")
            .ends_with(&format!("/api/users/{id}")),
        "Location names the user: {reply}"
    );
    let request_id = reply.header("x-request-id").to_owned();
    User {
        id,
        account,
        request_id,
    }
}

/// The id of the user `access_token` belongs to.
pub async fn user_id(target: &impl Target, access_token: &str) -> String {
    let reply = me(target, access_token).await;
    assert_json(&reply, 200, "who am I");
    reply.body["id"].as_str().unwrap_or_default().to_owned()
}

/// Asserts `text` holds none of `secrets` (each named for the message).
pub fn assert_no_secrets(text: &str, secrets: &[(&str, &str)], context: &str) {
    for (name, secret) in secrets {
        assert!(!secret.is_empty(), "{context}: the {name} is known");
        assert!(
            !text.contains(secret),
            "{context}: the {name} leaked: {text}"
        );
    }
}

/// An API key created through the API: its id, the secret (shown once) and the answer.
#[derive(Clone, Debug)]
pub struct ApiKey {
    pub id: String,
    pub key: String,
    pub created: Value,
}

/// Whether `key` has the documented shape `crm_<8 letters/digits>_<32 letters/digits>`.
pub fn is_api_key(key: &str) -> bool {
    let parts: Vec<&str> = key.split('_').collect();
    let alphanumeric =
        |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_alphanumeric());
    parts.len() == 3 && parts[0] == "crm" && alphanumeric(parts[1], 8) && alphanumeric(parts[2], 32)
}

/// Creates an API key with `role` and `tier` as the admin holding `admin_token`,
/// asserting the documented 201 `{id, name, tier, role, prefix, key}`.
pub async fn create_api_key(
    target: &impl Target,
    admin_token: &str,
    role: &str,
    tier: &str,
) -> ApiKey {
    let name = format!("{role} {tier} key");
    let body = json!({ "name": name, "tier": tier, "role": role });
    let reply = post(target, "/api/api-keys", Auth::Bearer(admin_token), &body).await;
    assert_json(&reply, 201, "create an API key");
    let created = reply.body.clone();
    assert_eq!(created["name"], name.as_str(), "{reply}");
    assert_eq!(created["tier"], tier, "{reply}");
    assert_eq!(created["role"], role, "{reply}");
    let key = created["key"].as_str().unwrap_or_default().to_owned();
    assert!(
        is_api_key(&key),
        "the key has the documented shape: {reply}"
    );
    let prefix = created["prefix"].as_str().unwrap_or_default();
    assert!(
        !prefix.is_empty() && key.contains(prefix),
        "the prefix is the key's: {reply}"
    );
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    assert!(!id.is_empty(), "{reply}");
    ApiKey { id, key, created }
}
