//! Auth component: routes the identity API (`crm_domain::auth::routes::ROUTES`: tokens,
//! JWKS, users, API keys) and the private `/internal/...` routes of Spin service chaining
//! to their handlers, after checking the caller each route's `Access` asks for.
#![deny(unsafe_code)]

mod access_token;
mod api_key_format;
mod body;
mod bootstrap;
mod caller;
mod client_address;
mod cursor;
mod handlers;
mod inputs;
mod kv;
mod now;
mod password_hashing;
mod random;
mod refresh_rotation;
mod sessions;
mod settings;
mod signing_key_source;
mod signing_keys;
mod store;
mod throttle;
mod views;

use crm_domain::RequestId;
use crm_domain::auth::routes::{Access, ROUTES, match_path, methods_of};
use crm_platform::db::Database;
use crm_platform::http_kit::{self, ApiError};
use handlers::{
    Call, api_keys, flags, jwks, login, me, recent_errors, resolve, session, user_update, users,
};
use spin_sdk::http::{Request, Response};

/// Name written as `component` in every log line.
const COMPONENT: &str = "auth";

/// The private route other components reach by service chaining.
const RESOLVE_PATH: &str = "/internal/api-keys/resolve";

/// The wasi:http export. `#[http_component]` expands to FFI glue that needs `unsafe`;
/// our own code stays under `deny(unsafe_code)`.
#[allow(unsafe_code)]
mod export {
    #[spin_sdk::http_component]
    fn handle_auth(request: spin_sdk::http::Request) -> spin_sdk::http::Response {
        super::handle_auth(request)
    }
}

/// Request id, error mapping and access log are `serve`'s; routing is `route`'s. No
/// answer of auth (tokens, users, keys, problems) may be stored by any cache.
fn handle_auth(request: Request) -> Response {
    let mut response = http_kit::serve_public(COMPONENT, request, route);
    response.set_header("cache-control", "no-store");
    response
}

fn route(request: &Request, request_id: &RequestId) -> Result<Response, ApiError> {
    let path = request.path();
    if path == "/internal" || path.starts_with("/internal/") {
        return private_route(request, request_id);
    }
    let (template, path_id) =
        match_path(path).ok_or_else(|| ApiError::NotFound(format!("No route matches {path}.")))?;
    let method = request.method().to_string();
    let access = ROUTES
        .iter()
        .find(|(m, t, _)| *m == method && *t == template)
        .map(|(_, _, access)| *access)
        .ok_or_else(|| ApiError::MethodNotAllowed {
            method: method.clone(),
            allowed: methods_of(template),
        })?;
    if access == Access::Anyone {
        // These routes verify no credentials: any sent along do not defer the address
        // limit past a login's password check.
        crm_platform::rate_limit::limit_deferred_address()?;
        return public_route(&method, template, request, request_id);
    }
    let db = Database::open()?;
    let caller = caller::authenticate(request, access, &db)?;
    let call = Call {
        request,
        request_id,
        db: &db,
        caller: &caller,
        path_id,
    };
    protected_route(&method, template, &call)
}

fn public_route(
    method: &str,
    template: &str,
    request: &Request,
    request_id: &RequestId,
) -> Result<Response, ApiError> {
    match (method, template) {
        ("POST", "/api/auth/token") => login::create_token(request, request_id),
        ("POST", "/api/auth/refresh") => session::refresh_session(request, request_id),
        ("POST", "/api/auth/revoke") => session::revoke_session(request, request_id),
        ("GET", "/.well-known/jwks.json") => jwks::get_jwks(request_id),
        _ => Err(unrouted(method, template)),
    }
}

fn protected_route(method: &str, template: &str, call: &Call<'_>) -> Result<Response, ApiError> {
    match (method, template) {
        ("POST", "/api/users") => users::create_user(call),
        ("GET", "/api/users") => users::list_users(call),
        ("GET", "/api/users/me") => me::get_me(call),
        ("PUT", "/api/users/me/password") => me::change_password(call),
        ("GET", "/api/users/{id}") => users::get_user(call),
        ("PATCH", "/api/users/{id}") => user_update::update_user(call),
        ("POST", "/api/api-keys") => api_keys::create_api_key(call),
        ("GET", "/api/api-keys") => api_keys::list_api_keys(call),
        ("DELETE", "/api/api-keys/{id}") => api_keys::revoke_api_key(call),
        ("GET", "/api/flags") => flags::list_flags(call),
        ("GET", "/api/flags/{id}") => flags::get_flag(call),
        ("PUT", "/api/flags/{id}") => flags::put_flag(call),
        ("DELETE", "/api/flags/{id}") => flags::delete_flag(call),
        ("POST", "/api/flags/{id}/evaluate") => flags::evaluate_flag(call),
        ("GET", "/api/admin/errors") => recent_errors::list_recent_errors(call),
        _ => Err(unrouted(method, template)),
    }
}

/// `/internal/...`: answered only for Spin's chained requests (`spin-client-addr`
/// `0.0.0.0:0`), else 404 as if absent.
fn private_route(request: &Request, request_id: &RequestId) -> Result<Response, ApiError> {
    let client = request
        .header(client_address::CLIENT_ADDR_HEADER)
        .and_then(|value| value.as_str());
    let path = request.path();
    if !client_address::is_chained(client) || path.trim_end_matches('/') != RESOLVE_PATH {
        return Err(ApiError::NotFound(format!("No route matches {path}.")));
    }
    if request.method().to_string() != "POST" {
        return Err(ApiError::MethodNotAllowed {
            method: request.method().to_string(),
            allowed: &["POST"],
        });
    }
    resolve::resolve_api_key(request, request_id)
}

/// A route of `ROUTES` without a handler here: a defect, never the caller's fault.
fn unrouted(method: &str, template: &str) -> ApiError {
    ApiError::internal("Route without a handler", format!("{method} {template}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_template_lists_its_methods_for_allow() {
        let cases = [
            ("/api/users", vec!["POST", "GET"]),
            ("/api/users/{id}", vec!["GET", "PATCH"]),
            ("/api/users/me/password", vec!["PUT"]),
            ("/api/api-keys/{id}", vec!["DELETE"]),
            ("/.well-known/jwks.json", vec!["GET"]),
            ("/nowhere", vec![]),
        ];
        for (template, methods) in cases {
            assert_eq!(methods_of(template), methods.as_slice(), "{template}");
        }
    }
}
