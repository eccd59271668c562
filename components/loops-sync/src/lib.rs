//! loops-sync component (docs/loops-sync.md): the only component that holds the Loops API
//! key and may reach Loops. Public routes `/api/loops/*` (admin API, drain); private
//! paths `/private/*`, reachable only by service chaining
//! (`http://loops-sync.spin.internal`: no public route leads to them): the delivery
//! `clients` asks for after each write, and the Loops health probe `health` shows.
#![deny(unsafe_code)]

mod admin;
mod config;
mod deliver;
mod loops_http;
mod probe;
mod shared;
mod store;

use config::Config;
use crm_domain::RequestId;
use crm_domain::auth::Role;
use crm_domain::loops::{admin_methods_of, match_admin_path};
use crm_platform::auth;
use crm_platform::db::Database;
use crm_platform::http_kit::{self, ApiError};
use shared::Shared;
use spin_sdk::http::{Request, Response};

/// Name written as `component` in every log line.
const COMPONENT: &str = "loops-sync";

/// The wasi:http export. `#[http_component]` expands to FFI glue that needs `unsafe`;
/// our own code stays under `deny(unsafe_code)`.
#[allow(unsafe_code)]
mod export {
    #[spin_sdk::http_component]
    async fn handle_loops_sync(request: spin_sdk::http::Request) -> spin_sdk::http::Response {
        super::handle(request).await
    }
}

async fn handle(request: Request) -> Response {
    http_kit::serve_public_async(COMPONENT, request, route).await
}

/// Who may call a public route.
enum Guard {
    Admin,
    /// Admins, or a scheduler presenting `loops_drain_token` as bearer.
    AdminOrDrainToken,
}

async fn route(request: &Request, request_id: &RequestId) -> Result<Response, ApiError> {
    let method = request.method().to_string();
    let path = request.path().to_owned();
    let config = Config::load()?;
    // Private paths: only another component can send them (no route leads here).
    match (method.as_str(), path.as_str()) {
        ("POST", "/private/deliver") => {
            return admin::deliver_after_write(request, request_id, &config);
        }
        ("GET", "/private/health") => return probe::health(request_id, &config),
        _ => {}
    }
    let (template, id) = match_admin_path(&path)
        .ok_or_else(|| ApiError::NotFound(format!("No route matches {path}.")))?;
    let allowed = admin_methods_of(template);
    if !allowed.contains(&method.as_str()) {
        return Err(ApiError::MethodNotAllowed { method, allowed });
    }
    let guard = if template == "/api/loops/drain" {
        Guard::AdminOrDrainToken
    } else {
        Guard::Admin
    };
    let subject = match guard {
        Guard::AdminOrDrainToken if presents_drain_token(request, &config) => {
            "drain-token".to_owned()
        }
        _ => {
            let principal = auth::authenticate(request).await?;
            auth::require(&principal, Role::Admin)?;
            principal.subject
        }
    };
    let db = Database::open()?;
    let shared = Shared::open(&config)
        .map_err(|e| ApiError::dependency_unavailable("The key-value store is unavailable.", e))?;
    let call = admin::Call {
        request,
        request_id,
        config: &config,
        db: &db,
        shared: &shared,
        subject: &subject,
    };
    let id = id.unwrap_or_default();
    match template {
        "/api/loops/drain" => admin::drain(&call),
        "/api/loops/status" => admin::status(&call),
        "/api/loops/dead-letters" => admin::dead_letters(&call),
        "/api/loops/dead-letters/{id}/replay" => admin::replay(&call, id),
        "/api/loops/backfill" => admin::backfill(&call),
        "/api/loops/backfill/{id}" => admin::job(&call, id),
        _ => Err(ApiError::internal("Route without a handler", template)),
    }
}

/// `Authorization: Bearer <loops_drain_token>` (compared in constant time).
fn presents_drain_token(request: &Request, config: &Config) -> bool {
    request
        .header("authorization")
        .and_then(|value| value.as_str())
        .and_then(crm_domain::auth::bearer_token)
        .is_some_and(|token| config.is_drain_token(token))
}
