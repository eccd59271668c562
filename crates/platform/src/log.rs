//! Log writer: JSON lines to stdout (debug, info) or stderr (warn, error), filtered by the
//! Spin variable `log_level`; plus the per-request access line.

use crate::clock::unix_millis_now;
use crm_domain::{Level, LogLine, RequestId};
use spin_sdk::http::Request;
use std::cell::RefCell;
#[cfg(not(test))]
use std::io::Write;
use std::sync::OnceLock;

/// Spin variable holding the minimum level (`debug`, `info`, `warn`, `error`).
pub const LOG_LEVEL_VARIABLE: &str = "log_level";

/// Level used when `log_level` is not granted, not set or not a level name.
pub const DEFAULT_LEVEL: Level = Level::Info;

/// Header in which Spin passes the route pattern that matched (e.g. `/health/...`).
const MATCHED_ROUTE_HEADER: &str = "spin-matched-route";

static MINIMUM_LEVEL: OnceLock<Level> = OnceLock::new();

/// What every line written while a request is served carries about it.
#[derive(Debug, Clone, Default)]
struct RequestContext {
    request_id: String,
    correlation_id: String,
    /// The verified caller (`user:<id>`, `key:<id>`), once known.
    subject: Option<String>,
}

thread_local! {
    // A Spin component instance serves one request, so one context per thread is enough;
    // `begin_request` replaces the previous one.
    static CONTEXT: RefCell<Option<RequestContext>> = const { RefCell::new(None) };
}

/// Starts a request's context: every line emitted until the next one carries `request_id`
/// and `correlation_id` ([`crm_domain::correlation::correlation_id`] of the request).
pub fn begin_request(request: &Request, request_id: &RequestId) {
    let header = |name: &str| request.header(name).and_then(|value| value.as_str());
    // A request from another component carries its caller's id in x-correlation-id; its
    // traceparent may be one Spin injected for its own outbound span (factor-outbound-http
    // `inject_trace_context`), which is not what the first component logged.
    let chained = crate::rate_limit::is_chained(header(crate::rate_limit::CLIENT_ADDR_HEADER))
        && header(crm_domain::correlation::CORRELATION_ID_HEADER).is_some();
    let traceparent = if chained {
        None
    } else {
        header(crm_domain::correlation::TRACEPARENT_HEADER)
    };
    let correlation_id = crm_domain::correlation::correlation_id(
        traceparent,
        header(crm_domain::correlation::CORRELATION_ID_HEADER),
        request_id.as_str(),
    );
    CONTEXT.with(|context| {
        *context.borrow_mut() = Some(RequestContext {
            request_id: request_id.as_str().to_owned(),
            correlation_id,
            subject: None,
        })
    });
}

/// Records the verified caller of the current request (`kind:id`, never a credential).
pub fn set_subject(subject: String) {
    CONTEXT.with(|context| {
        if let Some(context) = context.borrow_mut().as_mut() {
            context.subject = Some(subject);
        }
    });
}

/// The current request's correlation id, to pass on (`x-correlation-id`) to the components
/// it calls; empty outside a request.
pub fn correlation_id() -> String {
    CONTEXT.with(|context| {
        context
            .borrow()
            .as_ref()
            .map(|context| context.correlation_id.clone())
            .unwrap_or_default()
    })
}

fn subject() -> Option<String> {
    CONTEXT.with(|context| context.borrow().as_ref()?.subject.clone())
}

/// The configured minimum level, read once per component instance.
pub fn minimum_level() -> Level {
    *MINIMUM_LEVEL.get_or_init(read_configured_level)
}

#[cfg(target_arch = "wasm32")]
fn read_configured_level() -> Level {
    spin_sdk::variables::get(LOG_LEVEL_VARIABLE)
        .ok()
        .and_then(|name| Level::parse(&name).ok())
        .unwrap_or(DEFAULT_LEVEL)
}

/// Natively (unit tests) there is no Spin host to ask: a Spin import would abort the process.
#[cfg(not(target_arch = "wasm32"))]
fn read_configured_level() -> Level {
    DEFAULT_LEVEL
}

/// Writes `line` if its level is enabled; write failures are ignored (nowhere to report them).
pub fn emit(line: LogLine) {
    if !line.level().is_enabled_at(minimum_level()) {
        return;
    }
    let line = CONTEXT.with(|context| match context.borrow().as_ref() {
        Some(context) => {
            let mut line = line;
            if !line.has_field("request_id") {
                line = line.field("request_id", context.request_id.as_str());
            }
            if !line.has_field("correlation_id") {
                line = line.field("correlation_id", context.correlation_id.as_str());
            }
            line
        }
        None => line,
    });
    write_line(line.level(), &line.to_json_line(unix_millis_now()));
}

#[cfg(not(test))]
fn write_line(level: Level, rendered: &str) {
    let _ignored = match level {
        Level::Debug | Level::Info => writeln!(std::io::stdout().lock(), "{rendered}"),
        Level::Warn | Level::Error => writeln!(std::io::stderr().lock(), "{rendered}"),
    };
}

#[cfg(test)]
fn write_line(_level: Level, rendered: &str) {
    captured::LINES.with(|lines| lines.borrow_mut().push(rendered.to_owned()));
}

/// In unit tests, lines are kept per thread instead of written, so tests can read them.
#[cfg(test)]
pub(crate) mod captured {
    use std::cell::RefCell;

    thread_local! {
        pub(super) static LINES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    /// The lines this thread emitted since the last call, parsed as JSON.
    pub fn take() -> Vec<serde_json::Value> {
        LINES
            .with(|lines| lines.take())
            .iter()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

/// What the access line records about a request, captured before the request is consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSummary {
    method: String,
    route: String,
    path: String,
}

impl RequestSummary {
    /// Spin's matched route pattern (the path when Spin did not say).
    pub fn route(&self) -> &str {
        &self.route
    }

    pub fn method(&self) -> &str {
        &self.method
    }

    /// `route` is Spin's matched route pattern, or the path when the header is absent.
    pub fn of(request: &Request) -> Self {
        let path = request.path().to_owned();
        let route = request
            .header(MATCHED_ROUTE_HEADER)
            .and_then(|value| value.as_str())
            .map_or_else(|| path.clone(), str::to_owned);
        Self {
            method: request.method().to_string(),
            route,
            path,
        }
    }
}

/// One access line per request: info below 500, warn from 500 on.
pub fn access(
    component: &str,
    request: &RequestSummary,
    status: u16,
    duration_ms: u64,
    request_id: &RequestId,
) {
    let level = if status >= 500 {
        Level::Warn
    } else {
        Level::Info
    };
    emit(
        LogLine::new(level, component, "request handled")
            .field("request_id", request_id.as_str())
            .field("correlation_id", correlation_id())
            .field("method", request.method.as_str())
            .field("route", request.route.as_str())
            .field("path", request.path.as_str())
            .field("status", status)
            .field("duration_ms", duration_ms)
            .field(
                "subject",
                subject().map_or(serde_json::Value::Null, Into::into),
            ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::http::Method;

    #[test]
    fn request_summary_prefers_the_matched_route_header() {
        let mut request = Request::new(Method::Get, "/health/ready?x=1");
        request.set_header(MATCHED_ROUTE_HEADER, "/health/...");

        let summary = RequestSummary::of(&request);

        assert_eq!(summary.route, "/health/...");
        assert_eq!(summary.path, "/health/ready");
        assert_eq!(summary.method, "GET");
    }

    #[test]
    fn request_summary_falls_back_to_the_path() {
        let request = Request::new(Method::Post, "/health");

        let summary = RequestSummary::of(&request);

        assert_eq!(summary.route, "/health");
    }
}
