//! The OpenAPI 3.1 document `openapi/crm-api.json`, which `docs` serves at
//! `GET /api/openapi.json` with its Swagger UI page at `/docs`: it describes exactly the
//! routes of `auth` (`crm_domain::auth::routes::ROUTES`), `clients`
//! (`crm_domain::clients::routes::ROUTES`), `loops-sync` (`crm_domain::loops::ADMIN_ROUTES`),
//! `health` and `docs` (the two tables below),
//! secured as those tables say; the running app serves every operation it describes, the
//! document itself byte for byte and the page from its own origin; real answers match the
//! documented schemas; and a real browser renders the page.

mod browser;
mod conformance;
mod document;
mod served;

use crate::auth::support::{Auth, Reply};
use crm_domain::auth::Role;
use crm_domain::auth::routes::{Access, ROUTES as AUTH_ROUTES};
use crm_domain::clients::routes::ROUTES as CLIENT_ROUTES;
use crm_domain::loops::ADMIN_ROUTES as LOOPS_ROUTES;
use serde_json::Value;
use std::collections::BTreeSet;

/// What `health` serves (components/health): public.
pub const HEALTH_ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
];

/// What `docs` serves and documents (components/docs; `/docs/` and the page's assets are
/// not API operations): public.
pub const DOCS_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/admin/status"),
    ("GET", "/admin/flags"),
];

/// Who may call a route, from the route tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// No credentials: the operation says `security: []`.
    Public,
    /// An `auth` route for signed-in users (a user's access token).
    User,
    /// An `auth` route for admins.
    Admin,
    /// A `clients` route: an access token or an API key, with at least this role.
    Role(Role),
    /// The scraper's bearer `metrics_token` (`GET /metrics`).
    ScrapeToken,
}

/// Every route of the app with its guard: the five tables.
pub fn app_routes() -> Vec<(&'static str, &'static str, Guard)> {
    let auth = AUTH_ROUTES.iter().map(|(method, path, access)| {
        let guard = match access {
            Access::Anyone => Guard::Public,
            Access::User => Guard::User,
            Access::Admin => Guard::Admin,
        };
        (*method, *path, guard)
    });
    let clients = CLIENT_ROUTES
        .iter()
        .map(|(method, path, role)| (*method, *path, Guard::Role(*role)));
    let loops = LOOPS_ROUTES
        .iter()
        .map(|(method, path)| (*method, *path, Guard::Role(Role::Admin)));
    let public = HEALTH_ROUTES
        .iter()
        .chain(DOCS_ROUTES)
        .map(|(method, path)| (*method, *path, Guard::Public));
    let scraped = [("GET", "/metrics", Guard::ScrapeToken)];
    auth.chain(clients)
        .chain(loops)
        .chain(public)
        .chain(scraped)
        .collect()
}

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The document, parsed.
pub fn document() -> Value {
    serde_json::from_slice(&document_bytes()).unwrap_or_else(|e| panic!("the document: {e}"))
}

/// The document's bytes, as in the repository.
pub fn document_bytes() -> Vec<u8> {
    let path = crm_tests::repo_root().join("openapi/crm-api.json");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(METHOD, path)` of every operation the document describes.
pub fn documented(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    paths
        .iter()
        .flat_map(|(path, item)| {
            HTTP_METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(|method| (method.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

pub fn operation<'a>(document: &'a Value, method: &str, path: &str) -> &'a Value {
    &document["paths"][path][method.to_lowercase()]
}

/// A local reference (`#/components/...`) resolved in `document`, following chained
/// references; any other value is returned as it is.
pub fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    for _ in 0..8 {
        let Some(pointer) = value.get("$ref").and_then(Value::as_str) else {
            return value;
        };
        let pointer = pointer.strip_prefix('#').unwrap_or(pointer);
        value = document
            .pointer(pointer)
            .unwrap_or_else(|| panic!("unresolved reference #{pointer}"));
    }
    value
}

/// The documented response of an operation for `status`, resolved.
pub fn documented_response<'a>(
    document: &'a Value,
    method: &str,
    path: &str,
    status: &str,
) -> Option<&'a Value> {
    let response = operation(document, method, path)["responses"].get(status)?;
    Some(resolve(document, response))
}

/// The parameters of an operation (its path item's and its own), resolved.
pub fn parameters<'a>(document: &'a Value, method: &str, path: &str) -> Vec<&'a Value> {
    let item = &document["paths"][path];
    let shared = item["parameters"].as_array().into_iter().flatten();
    let own = item[method.to_lowercase()]["parameters"]
        .as_array()
        .into_iter()
        .flatten();
    shared.chain(own).map(|p| resolve(document, p)).collect()
}

/// A request with any headers and an optional raw body, read whole.
pub async fn fetch(
    app: &crm_tests::TestApp,
    method: &str,
    path: &str,
    auth: Auth<'_>,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = app.client.request(method.clone(), app.url(path));
    request = match auth {
        Auth::Anonymous => request,
        Auth::Bearer(token) => request.bearer_auth(token),
        Auth::ApiKey(key) => request.header("x-api-key", key),
    };
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some((content_type, bytes)) = body {
        request = request.header("content-type", content_type).body(bytes);
    }
    let label = format!("{method} {path}");
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        request: label,
        status,
        headers,
        text,
        body,
    }
}
