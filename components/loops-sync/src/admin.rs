//! The admin API (`/api/loops/*`, admin role; the drain also takes `loops_drain_token`)
//! and the delivery `clients` asks for after each write.

use crate::config::Config;
use crate::deliver::{Report, Run};
use crate::loops_http;
use crate::shared::Shared;
use crate::store;
use crm_domain::RequestId;
use crm_domain::timestamp::{rfc3339_utc_from_unix_millis, unix_millis_from_rfc3339};
use crm_platform::clock::unix_millis_now;
use crm_platform::db::Database;
use crm_platform::http_kit::{self, ApiError};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Request, Response};

/// Where `clients` enqueues a backfill page (service chaining).
const CLIENTS_SERVICE: &str = "http://clients.spin.internal";
/// Clients enqueued per page.
const BACKFILL_PAGE: u64 = 500;
/// Longest wait for one page.
const PAGE_TIMEOUT_MS: u64 = 10_000;
/// Most dead letters per page.
const MAX_PAGE: i64 = 100;

pub struct Call<'a> {
    pub request: &'a Request,
    pub request_id: &'a RequestId,
    pub config: &'a Config,
    pub db: &'a Database,
    pub shared: &'a Shared,
    pub subject: &'a str,
}

fn now() -> String {
    rfc3339_utc_from_unix_millis(unix_millis_now())
}

/// Why nothing is sent, if nothing may be.
fn paused(config: &Config) -> Option<&'static str> {
    if !config.enabled {
        Some("disabled")
    } else if !config.configured() {
        Some("not_configured")
    } else {
        None
    }
}

fn report_json(report: &Report, paused: Option<&str>) -> serde_json::Value {
    let mut value = serde_json::to_value(report).unwrap_or_default();
    value["paused"] = paused.into();
    value
}

/// Rows pruned per drain at most (the rest go on the next one).
const PRUNE_BATCH: i64 = 1_000;
/// A lease this long expired belongs to a drain that died.
const STALE_LEASE_MS: u64 = 3_600_000;

/// `POST /api/loops/drain`: prunes what retention allows, continues running backfill jobs,
/// then delivers everything due within `loops_drain_budget_ms`; answers with counts.
pub fn drain(call: &Call<'_>) -> Result<Response, ApiError> {
    let now_ms = unix_millis_now();
    let done_before = rfc3339_utc_from_unix_millis(
        now_ms.saturating_sub(call.config.retention_days * 86_400_000),
    );
    let leases_before = rfc3339_utc_from_unix_millis(now_ms.saturating_sub(STALE_LEASE_MS));
    let (pruned, stale_leases) = store::prune(call.db, &done_before, &leases_before, PRUNE_BATCH)?;
    if let Some(why) = paused(call.config) {
        let mut body = report_json(&Report::default(), Some(why));
        body["pruned"] = pruned.into();
        body["stale_leases_removed"] = stale_leases.into();
        return http_kit::json_response(200, &body, call.request_id);
    }
    let mut run = Run::new(
        call.db,
        call.config,
        call.shared,
        call.request_id,
        call.config.drain_budget_ms,
    );
    let enqueued = continue_jobs(call, &run)?;
    run.deliver(None)?;
    let mut body = report_json(&run.report, None);
    body["backfill_enqueued"] = enqueued.into();
    body["pruned"] = pruned.into();
    body["stale_leases_removed"] = stale_leases.into();
    http_kit::json_response(200, &body, call.request_id)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DeliverBody {
    #[serde(default)]
    client_ids: Option<Vec<String>>,
}

/// `POST /private/deliver` (from `clients`, after a write): delivers those clients' due
/// rows (all due rows without `client_ids`) within `loops_inline_budget_ms`.
pub fn deliver_after_write(
    request: &Request,
    request_id: &RequestId,
    config: &Config,
) -> Result<Response, ApiError> {
    if let Some(why) = paused(config) {
        return http_kit::json_response(
            200,
            &report_json(&Report::default(), Some(why)),
            request_id,
        );
    }
    let body: DeliverBody = if request.body().is_empty() {
        DeliverBody::default()
    } else {
        serde_json::from_slice(request.body())
            .map_err(|e| ApiError::BadRequest(format!("The body is not a delivery request: {e}")))?
    };
    let ids = body.client_ids.map(|mut ids| {
        ids.truncate(100);
        ids
    });
    let db = Database::open()?;
    let shared = Shared::open(config)
        .map_err(|e| ApiError::dependency_unavailable("The key-value store is unavailable.", e))?;
    let mut run = Run::new(&db, config, &shared, request_id, config.inline_budget_ms);
    run.deliver(ids.as_deref())?;
    http_kit::json_response(200, &report_json(&run.report, None), request_id)
}

/// `GET /api/loops/status`.
pub fn status(call: &Call<'_>) -> Result<Response, ApiError> {
    let now_ms = unix_millis_now();
    let hour_ago = rfc3339_utc_from_unix_millis(now_ms.saturating_sub(3_600_000));
    let status = store::status(call.db, &hour_ago)?;
    let oldest_age_seconds = status
        .oldest_pending_at
        .as_deref()
        .and_then(unix_millis_from_rfc3339)
        .map(|at| now_ms.saturating_sub(at) / 1000);
    let body = json!({
        "enabled": call.config.enabled,
        "configured": call.config.configured(),
        "pending": status.pending,
        "in_flight": status.in_flight,
        "failed": status.retrying,
        "dead_lettered": status.dead_lettered,
        "sent_last_hour": status.sent_last_hour,
        "oldest_pending_age_seconds": oldest_age_seconds,
        "last_error": status.last_error,
        "last_error_at": status.last_error_at,
        "paused_for_ms": call.shared.paused_for_ms().unwrap_or(0),
        "counters": {
            "sent": call.shared.counter("sent"),
            "failed": call.shared.counter("failed"),
            "dead_lettered": call.shared.counter("dead_lettered"),
        },
    });
    http_kit::json_response(200, &body, call.request_id)
}

fn query_param(request: &Request, name: &str) -> Option<String> {
    let query = request.query();
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// `GET /api/loops/dead-letters?limit=&after=`.
pub fn dead_letters(call: &Call<'_>) -> Result<Response, ApiError> {
    let limit = match query_param(call.request, "limit") {
        None => 50,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "`limit` must be a number from 1 to {MAX_PAGE}."
                )));
            }
        },
    };
    let after = query_param(call.request, "after").unwrap_or_default();
    let rows = store::dead_letters(call.db, &after, limit)?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|row| row.id.clone()))
        .flatten();
    http_kit::json_response(
        200,
        &json!({ "data": rows, "next_after": next }),
        call.request_id,
    )
}

fn outbox_id(id: &str) -> Result<&str, ApiError> {
    match uuid::Uuid::parse_str(id) {
        Ok(uuid) if uuid.hyphenated().to_string() == id => Ok(id),
        _ => Err(ApiError::NotFound(format!(
            "No dead letter has the id {id}."
        ))),
    }
}

/// `POST /api/loops/dead-letters/{id}/replay`: pending again, attempts reset, and tried at
/// once within the inline budget.
pub fn replay(call: &Call<'_>, id: &str) -> Result<Response, ApiError> {
    let id = outbox_id(id)?;
    let Some((status, client_id)) = store::row_status(call.db, id)? else {
        return Err(ApiError::NotFound(format!(
            "No dead letter has the id {id}."
        )));
    };
    if !store::replay(call.db, id, &now())? {
        return Err(ApiError::Conflict(format!(
            "The outbox row {id} is {status}, not a dead letter."
        )));
    }
    crm_platform::log::emit(
        crm_domain::LogLine::new(
            crm_domain::Level::Info,
            crate::COMPONENT,
            "dead letter replayed",
        )
        .field("request_id", call.request_id.as_str())
        .field("outbox_id", id)
        .field("client_id", client_id.as_str())
        .field("by", call.subject),
    );
    let mut report = Report::default();
    if paused(call.config).is_none() {
        let mut run = Run::new(
            call.db,
            call.config,
            call.shared,
            call.request_id,
            call.config.inline_budget_ms,
        );
        run.deliver(Some(std::slice::from_ref(&client_id)))?;
        report = run.report;
    }
    let status = store::row_status(call.db, id)?.map(|(status, _)| status);
    let body = json!({ "id": id, "status": status, "delivery": report_json(&report, paused(call.config)) });
    http_kit::json_response(200, &body, call.request_id)
}

/// `POST /api/loops/backfill`: a job that enqueues every live client (by pages, through
/// `clients`); pages left when the request's budget ends continue on the next drain.
pub fn backfill(call: &Call<'_>) -> Result<Response, ApiError> {
    let job_id = uuid::Uuid::now_v7().to_string();
    store::create_job(call.db, &job_id, call.subject, &now())?;
    let run = Run::new(
        call.db,
        call.config,
        call.shared,
        call.request_id,
        call.config.drain_budget_ms,
    );
    enqueue_pages(&run, &job_id)?;
    let job = store::job(call.db, &job_id)?
        .ok_or_else(|| ApiError::internal("Backfill job vanished", &job_id))?;
    let mut response = http_kit::json_response(202, &job, call.request_id)?;
    response.set_header("location", format!("/api/loops/backfill/{job_id}"));
    Ok(response)
}

/// `GET /api/loops/backfill/{job}`.
pub fn job(call: &Call<'_>, id: &str) -> Result<Response, ApiError> {
    let job = store::job(call.db, id)?
        .ok_or_else(|| ApiError::NotFound(format!("No backfill job has the id {id}.")))?;
    http_kit::json_response(200, &job, call.request_id)
}

/// Continues every running job; the clients enqueued.
fn continue_jobs(call: &Call<'_>, run: &Run<'_>) -> Result<u64, ApiError> {
    let mut enqueued = 0;
    for job_id in store::running_jobs(call.db)? {
        // A job whose pages fail (clients unreachable) must not stop delivery: it is
        // logged and tried again on the next drain.
        match enqueue_pages(run, &job_id) {
            Ok(added) => enqueued += added,
            Err(error) => crm_platform::log::emit(
                crm_domain::LogLine::new(
                    crm_domain::Level::Warn,
                    crate::COMPONENT,
                    "backfill page failed; the job continues on the next drain",
                )
                .field("request_id", call.request_id.as_str())
                .field("job_id", job_id.as_str())
                .field("error", error.to_problem().detail().to_owned()),
            ),
        }
    }
    Ok(enqueued)
}

/// Asks `clients` for pages of job `job_id` while half the run's budget is left.
fn enqueue_pages(run: &Run<'_>, job_id: &str) -> Result<u64, ApiError> {
    let mut enqueued = 0;
    // At least one page; more while over half the budget is left for delivering.
    let keep = run.remaining_ms() / 2;
    for page in 0.. {
        if page > 0 && run.remaining_ms() <= keep {
            break;
        }
        let body = json!({ "job_id": job_id, "limit": BACKFILL_PAGE }).to_string();
        let answer = loops_http::send(
            CLIENTS_SERVICE,
            None,
            "POST",
            "/private/loops-backfill",
            Some(body.as_bytes()),
            PAGE_TIMEOUT_MS.min(run.remaining_ms()),
        )
        .map_err(|e| {
            ApiError::dependency_unavailable("The clients component is unreachable.", e)
        })?;
        if answer.status != 200 {
            return Err(ApiError::dependency_unavailable(
                "The clients component refused the backfill page.",
                format!("status {}", answer.status),
            ));
        }
        let page: serde_json::Value = serde_json::from_slice(&answer.body)
            .map_err(|e| ApiError::internal("Unreadable backfill page answer", e))?;
        enqueued += page["enqueued"].as_u64().unwrap_or(0);
        if page["finished"].as_bool() != Some(false) {
            break;
        }
    }
    Ok(enqueued)
}
