//! Health handlers: full report, liveness and readiness.

use crate::{COMPONENT, checks};
use crm_domain::{HealthReport, Level, LivenessReport, LogLine, RequestId};
use crm_platform::http_kit::{self, ApiError};
use crm_platform::log;
use spin_sdk::http::Response;

/// `GET /health`: the report with the Loops check, always 200; its `status` says pass,
/// warn or fail.
pub fn full_report(request_id: &RequestId) -> Result<Response, ApiError> {
    let report = checked_report(request_id, true);
    http_kit::json_response(200, &report, request_id)
}

/// `GET /health/live`: 200 as long as the component answers.
pub fn liveness(request_id: &RequestId) -> Result<Response, ApiError> {
    http_kit::json_response(200, &LivenessReport::alive(), request_id)
}

/// `GET /health/ready`: the instance's own dependencies (not Loops), 200 when none
/// fails, else 503.
pub fn readiness(request_id: &RequestId) -> Result<Response, ApiError> {
    let report = checked_report(request_id, false);
    let status = if report.is_ready() { 200 } else { 503 };
    http_kit::json_response(status, &report, request_id)
}

/// Runs the checks and logs a warning naming the failed ones.
fn checked_report(request_id: &RequestId, with_loops: bool) -> HealthReport {
    let report = checks::run_all(env!("CARGO_PKG_VERSION"), with_loops);
    if !report.is_ready() {
        let checks = serde_json::to_value(report.checks()).unwrap_or_default();
        log::emit(
            LogLine::new(Level::Warn, COMPONENT, "health checks failed")
                .field("request_id", request_id.as_str())
                .field("checks", checks),
        );
    }
    report
}
