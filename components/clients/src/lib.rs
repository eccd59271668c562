//! Clients component: the organisation's client book (docs/clients.md). Routes
//! `crm_domain::clients::routes::ROUTES` after the verification kit has established the
//! caller and the route's least role; every write keeps the Loops outbox and the audit
//! trail in its transaction.
#![deny(unsafe_code)]

mod body;
mod conditional;
mod export;
mod handlers;
mod import;
mod loops;
mod store;

use body::ReadBody;
use crm_domain::RequestId;
use crm_domain::auth::Principal;
use crm_domain::clients::routes::{CACHED_ROUTES, match_path, methods_of, required_role};
use crm_domain::timestamp::rfc3339_utc_from_unix_millis;
use crm_platform::auth;
use crm_platform::clock::unix_millis_now;
use crm_platform::db::Database;
use crm_platform::http_kit::{self, ApiError};
use crm_platform::response_cache;
use spin_sdk::http::{IncomingRequest, Method, Request, Response, ResponseOutparam};

/// Name written as `component` in every log line.
const COMPONENT: &str = "clients";

/// The wasi:http export. `#[http_component]` expands to FFI glue that needs `unsafe`;
/// our own code stays under `deny(unsafe_code)`.
#[allow(unsafe_code)]
mod wasi_export {
    use spin_sdk::http::{IncomingRequest, ResponseOutparam};

    #[spin_sdk::http_component]
    async fn handle_clients(request: IncomingRequest, response_out: ResponseOutparam) {
        super::handle_clients(request, response_out).await
    }
}

/// The export streams its body; everything else reads a bounded body, answers through
/// `serve_async` (request id, problems, access log) and sends the response whole.
async fn handle_clients(incoming: IncomingRequest, response_out: ResponseOutparam) {
    let path = incoming.path_with_query().unwrap_or_default();
    let path = path.split('?').next().unwrap_or_default().to_owned();
    let path = path.as_str();
    let method = incoming.method();
    // The route is matched once, here; `route` gets the template and the `{id}`.
    let matched = match_path(path).map(|(template, id)| (template, id.map(str::to_owned)));
    let template = matched.as_ref().map(|(template, _)| *template);
    if matches!(method, Method::Post) && path == loops::BACKFILL_PATH {
        let (request, read) = body::read(incoming, body::MAX_JSON_BYTES).await;
        let response = http_kit::serve(COMPONENT, request, |request, request_id| match read {
            ReadBody::Complete => loops::backfill_page(request, request_id),
            _ => Err(ApiError::BadRequest(
                "The request body could not be read.".into(),
            )),
        });
        body::send(response_out, response).await;
        return;
    }
    if matches!(method, Method::Get) && template == Some("/api/clients/export") {
        export::stream(incoming, response_out).await;
        return;
    }
    let limit = if template == Some("/api/clients/import") {
        import::MAX_BYTES
    } else {
        body::MAX_JSON_BYTES
    };
    let (request, read) = body::read(incoming, limit).await;
    let path_id = matched.as_ref().and_then(|(_, id)| id.clone());
    let response =
        http_kit::serve_public_async(COMPONENT, request, async |request, request_id| match read {
            ReadBody::Complete => route(request, request_id, matched).await,
            ReadBody::TooLarge => Err(ApiError::ContentTooLarge {
                limit_bytes: limit as u64,
            }),
            ReadBody::Failed(cause) => Err(ApiError::BadRequest(format!(
                "The request body could not be read: {cause}"
            ))),
        })
        .await;
    if !matches!(method, Method::Get | Method::Head | Method::Options)
        && !(400..500).contains(response.status())
    {
        // A write (or one that failed after it may have committed): before the answer
        // leaves, every cached read of the client book stops answering, on every replica.
        response_cache::invalidate(handlers::read::CACHE_NAMESPACE);
    }
    let written = loops::written_clients(&method, template, path_id, &response);
    body::send(response_out, response).await;
    // After the answer is out: ask loops-sync to deliver what this write enqueued.
    if let Some(client_ids) = written {
        loops::deliver(client_ids).await;
    }
}

/// A call to a route: the request, its id, the caller, the open database, the `{id}` of
/// the path and one reading of the clock.
pub struct Call<'a> {
    pub request: &'a Request,
    pub request_id: &'a RequestId,
    pub principal: &'a Principal,
    pub db: &'a Database,
    pub path_id: Option<&'a str>,
    pub now_millis: u64,
    pub now: String,
}

impl Call<'_> {
    /// The `{id}` of the path when it is a canonical UUID; anything else names no client.
    pub fn client_id(&self) -> Result<&str, ApiError> {
        canonical_client_id(self.path_id)
    }

    pub fn actor(&self) -> store::writes::Actor<'_> {
        store::writes::Actor {
            principal: self.principal,
            request_id: self.request_id,
            now: &self.now,
        }
    }
}

/// `path_id` when it is a canonical UUID (lower-case, hyphenated); anything else names
/// no client (404).
pub fn canonical_client_id(path_id: Option<&str>) -> Result<&str, ApiError> {
    let id = path_id.unwrap_or_default();
    match uuid::Uuid::parse_str(id) {
        Ok(uuid) if uuid.hyphenated().to_string() == id => Ok(id),
        _ => Err(not_found(id)),
    }
}

/// 404 for a client id.
pub fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("No client has the id {id}."))
}

/// Verifies the caller and its role for the matched route (`template` and the path's
/// `{id}`), then hands over to the handler.
async fn route(
    request: &Request,
    request_id: &RequestId,
    matched: Option<(&'static str, Option<String>)>,
) -> Result<Response, ApiError> {
    let (template, path_id) = matched
        .ok_or_else(|| ApiError::NotFound(format!("No route matches {}.", request.path())))?;
    let path_id = path_id.as_deref();
    let method = request.method().to_string();
    let role = required_role(&method, template).ok_or_else(|| ApiError::MethodNotAllowed {
        method: method.clone(),
        allowed: methods_of(template),
    })?;
    let principal = auth::authenticate(request).await?;
    auth::require(&principal, role)?;
    if method == "GET" && CACHED_ROUTES.contains(&template) {
        // Answered from the response cache when it can: the database is opened on a miss.
        return handlers::read::cached(request, request_id, &principal, template, path_id);
    }
    let db = Database::open()?;
    let now_millis = unix_millis_now();
    let call = Call {
        request,
        request_id,
        principal: &principal,
        db: &db,
        path_id,
        now_millis,
        now: rfc3339_utc_from_unix_millis(now_millis),
    };
    use handlers::{changes, history};
    match (method.as_str(), template) {
        ("POST", "/api/clients") => changes::create(&call),
        ("POST", "/api/clients/import") => import::import(&call),
        ("PUT", "/api/clients/{id}") => changes::replace(&call),
        ("PATCH", "/api/clients/{id}") => changes::patch(&call),
        ("DELETE", "/api/clients/{id}") => changes::delete(&call),
        ("GET", "/api/clients/{id}/history") => history::history(&call),
        _ => Err(ApiError::internal(
            "Route without a handler",
            format!("{method} {template}"),
        )),
    }
}
