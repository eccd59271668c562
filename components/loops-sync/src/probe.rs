//! The Loops health probe (`GET /private/health`, for `health`): `GET /v1/api-key` with
//! the key, its result cached 60 s in the shared store so a busy `/health` does not spend
//! Loops' rate limit. Loops down is `warn` (the API keeps serving), never `fail`.

use crate::config::Config;
use crate::loops_http;
use crate::shared::Shared;
use crm_domain::RequestId;
use crm_platform::clock::unix_millis_now;
use crm_platform::http_kit::{self, ApiError};
use serde_json::{Value, json};
use spin_sdk::http::Response;

const CACHE_MS: u64 = 60_000;
const PROBE_TIMEOUT_MS: u64 = 2_000;

pub fn health(request_id: &RequestId, config: &Config) -> Result<Response, ApiError> {
    let report = if !config.configured() {
        json!({ "status": "warn", "state": "not_configured",
                "error": "loops_api_key is not set: the sync is paused" })
    } else {
        let shared = Shared::open(config).ok();
        let now = unix_millis_now();
        let cached = shared
            .as_ref()
            .and_then(Shared::cached_probe)
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .filter(|v| {
                v.get("checked_at_ms")
                    .and_then(Value::as_u64)
                    .is_some_and(|at| now.saturating_sub(at) < CACHE_MS && at <= now)
            });
        match cached {
            Some(mut report) => {
                report["cached"] = true.into();
                report
            }
            None => {
                let report = probe(config, now);
                if let Some(shared) = &shared {
                    shared.cache_probe(report.to_string().as_bytes());
                }
                report
            }
        }
    };
    let mut report = report;
    report["sync_enabled"] = config.enabled.into();
    http_kit::json_response(200, &report, request_id)
}

fn probe(config: &Config, now: u64) -> Value {
    let answer = loops_http::send(
        &config.base_url,
        Some(&config.api_key),
        "GET",
        "/api/v1/api-key",
        None,
        PROBE_TIMEOUT_MS,
    );
    let (status, state, error) = match answer {
        Ok(answer) if answer.status == 200 => ("pass", "reachable", None),
        Ok(answer) if answer.status == 401 => (
            "warn",
            "unauthorized",
            Some("Loops refused the API key (401)".to_owned()),
        ),
        Ok(answer) => (
            "warn",
            "degraded",
            Some(format!("Loops answered {}", answer.status)),
        ),
        Err(why) => (
            "warn",
            "unreachable",
            Some(format!("Loops is unreachable: {why}")),
        ),
    };
    json!({
        "status": status,
        "state": state,
        "error": error,
        "checked_at_ms": now,
        "duration_ms": unix_millis_now().saturating_sub(now),
        "cached": false,
    })
}
