//! The clients side of the Loops sync (components/loops-sync): after a write has answered,
//! ask `loops-sync` (service chaining) to deliver the client's outbox rows within its
//! short budget — rows it cannot deliver now stay pending for the next drain; and the
//! private page of a backfill job that `loops-sync` asks for.

use crate::store;
use crm_domain::RequestId;
use crm_domain::correlation::CORRELATION_ID_HEADER;
use crm_domain::timestamp::rfc3339_utc_from_unix_millis;
use crm_platform::clock::unix_millis_now;
use crm_platform::db::Database;
use crm_platform::http_kit::{self, ApiError};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Method, Request, Response};

/// The private path of a backfill page; no route leads here from outside (spin.toml
/// routes only `/api/clients/...` to this component), only service chaining does.
pub const BACKFILL_PATH: &str = "/private/loops-backfill";

const DELIVER_URL: &str = "http://loops-sync.spin.internal/private/deliver";

/// The clients a successful write changed: `Some(ids)` (empty: whatever is due, as after
/// an import), `None` when nothing was written.
pub fn written_clients(
    method: &Method,
    template: Option<&str>,
    path_id: Option<String>,
    response: &Response,
) -> Option<Vec<String>> {
    if matches!(method, Method::Get | Method::Head | Method::Options)
        || !(200..300).contains(response.status())
    {
        return None;
    }
    match (template?, path_id) {
        ("/api/clients/{id}", Some(id)) => Some(vec![id]),
        ("/api/clients", _) => {
            let location = response.header("location")?.as_str()?;
            Some(vec![location.rsplit('/').next()?.to_owned()])
        }
        ("/api/clients/import", _) => Some(Vec::new()),
        _ => None,
    }
}

/// Asks `loops-sync` to deliver; failures only mean the rows wait for the next drain.
pub async fn deliver(client_ids: Vec<String>) {
    let body = if client_ids.is_empty() {
        json!({})
    } else {
        json!({ "client_ids": client_ids })
    };
    let request = Request::builder()
        .method(Method::Post)
        .uri(DELIVER_URL)
        .header("content-type", "application/json")
        .header(CORRELATION_ID_HEADER, crm_platform::log::correlation_id())
        .body(body.to_string())
        .build();
    let sent: Result<Response, _> = spin_sdk::http::send(request).await;
    let trouble = match sent {
        Ok(response) if (200..300).contains(response.status()) => None,
        Ok(response) => Some(format!("loops-sync answered {}", response.status())),
        Err(error) => Some(format!("loops-sync is unreachable: {error}")),
    };
    if let Some(trouble) = trouble {
        crm_platform::log::emit(
            crm_domain::LogLine::new(
                crm_domain::Level::Warn,
                crate::COMPONENT,
                "delivery after write not started; the rows wait for the next drain",
            )
            .field("error", trouble),
        );
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageRequest {
    job_id: String,
    limit: i64,
}

/// `POST /private/loops-backfill` `{job_id, limit}` → `{enqueued, finished}`.
pub fn backfill_page(request: &Request, request_id: &RequestId) -> Result<Response, ApiError> {
    let page: PageRequest = serde_json::from_slice(request.body())
        .map_err(|e| ApiError::BadRequest(format!("Not a backfill page request: {e}")))?;
    if !(1..=1000).contains(&page.limit) {
        return Err(ApiError::BadRequest("`limit` must be 1 to 1000.".into()));
    }
    let db = Database::open()?;
    let now = rfc3339_utc_from_unix_millis(unix_millis_now());
    let done = store::backfill::page(&db, &page.job_id, page.limit, &now)?;
    http_kit::json_response(
        200,
        &json!({ "enqueued": done.enqueued, "finished": done.finished }),
        request_id,
    )
}
