//! `GET /api/admin/errors` (admins): the latest server errors (5xx) of every component,
//! newest first, from the ring the platform keeps in the shared store — what the
//! `/admin/status` page lists. Each is `{ts, component, method, route, status, request_id,
//! correlation_id}`: enough to find its log lines, nothing of the request itself.

use super::Call;
use crm_platform::http_kit::{ApiError, json_response};
use serde_json::json;
use spin_sdk::http::Response;

pub fn list_recent_errors(call: &Call<'_>) -> Result<Response, ApiError> {
    let errors = crm_platform::metrics::recent_errors().map_err(|error| {
        ApiError::dependency_unavailable("The key-value store is unavailable.", error)
    })?;
    json_response(200, &json!({ "data": errors }), call.request_id)
}
